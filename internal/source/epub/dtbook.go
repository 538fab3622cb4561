package epub

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html"
	"io"
	"strings"

	"golang.org/x/net/html/charset"
)

// dtbookTags maps DTBook (ANSI/NISO Z39.86, a core media type of EPUB 2)
// elements to XHTML ones, so that a browser shows a DTBook chapter. Other
// elements become a span (their text is kept); head matter is dropped.
var dtbookTags = map[string]string{
	"book": "div", "frontmatter": "div", "bodymatter": "div", "rearmatter": "div",
	"level": "section", "level1": "section", "level2": "section", "level3": "section",
	"level4": "section", "level5": "section", "level6": "section",
	"h1": "h1", "h2": "h2", "h3": "h3", "h4": "h4", "h5": "h5", "h6": "h6", "hd": "h2",
	"doctitle": "h1", "docauthor": "p", "covertitle": "p", "bridgehead": "h3",
	"p": "p", "blockquote": "blockquote", "div": "div", "address": "address",
	"em": "em", "strong": "strong", "sub": "sub", "sup": "sup", "code": "code", "kbd": "kbd",
	"q": "q", "cite": "cite", "abbr": "abbr", "acronym": "abbr", "dfn": "dfn", "samp": "samp",
	"a": "a", "br": "br", "img": "img", "imggroup": "figure", "caption": "figcaption",
	"table": "table", "thead": "thead", "tbody": "tbody", "tfoot": "tfoot", "tr": "tr", "th": "th", "td": "td",
	"dl": "dl", "dt": "dt", "dd": "dd", "li": "li", "lic": "span",
	"linegroup": "div", "line": "p", "poem": "div", "epigraph": "blockquote", "byline": "p", "dateline": "p",
	"sidebar": "aside", "note": "aside", "annotation": "aside", "prodnote": "aside",
	"noteref": "sup", "annoref": "sup", "pagenum": "span", "sent": "span", "w": "span", "span": "span",
}

// dtbookAttrs are the attributes carried over, per XHTML element.
var dtbookAttrs = map[string]bool{"id": true, "href": true, "src": true, "alt": true, "colspan": true, "rowspan": true, "lang": true}

const maxDTBookDepth = 256

// dtbookToXHTML converts a DTBook document to an XHTML page.
func dtbookToXHTML(data []byte) ([]byte, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	d.CharsetReader = charset.NewReaderLabel
	var body strings.Builder
	var stack []string // XHTML element written for each open DTBook element ("" when none)
	title, inTitle, skip := "", false, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: DTBook document: %v", ErrInvalid, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if len(stack) >= maxDTBookDepth {
				return nil, fmt.Errorf("%w: DTBook document nested deeper than %d", ErrInvalid, maxDTBookDepth)
			}
			name := t.Name.Local
			if skip > 0 || name == "head" {
				skip++
				stack = append(stack, "")
				continue
			}
			tag := dtbookTags[name]
			if name == "dtbook" {
				tag = ""
			} else if tag == "" {
				tag = "span"
			}
			if name == "list" {
				tag = "ul"
				for _, a := range t.Attr {
					if a.Name.Local == "type" && a.Value == "ol" {
						tag = "ol"
					}
				}
			}
			if name == "doctitle" && title == "" {
				inTitle = true
			}
			stack = append(stack, tag)
			if tag == "" {
				continue
			}
			body.WriteString("<" + tag)
			if name == "pagenum" {
				body.WriteString(` class="pagenum"`)
			}
			for _, a := range t.Attr {
				if dtbookAttrs[a.Name.Local] {
					fmt.Fprintf(&body, ` %s="%s"`, a.Name.Local, html.EscapeString(a.Value))
				}
			}
			if tag == "br" || tag == "img" {
				body.WriteString("/>")
			} else {
				body.WriteString(">")
			}
		case xml.EndElement:
			if len(stack) == 0 {
				continue
			}
			tag := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if skip > 0 {
				skip--
				continue
			}
			if t.Name.Local == "doctitle" {
				inTitle = false
			}
			if tag != "" && tag != "br" && tag != "img" {
				body.WriteString("</" + tag + ">")
			}
		case xml.CharData:
			if skip > 0 {
				continue
			}
			if inTitle {
				title += string(t)
			}
			body.WriteString(html.EscapeString(string(t)))
		}
	}
	title = strings.Join(strings.Fields(title), " ")
	var out bytes.Buffer
	fmt.Fprintf(&out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\">\n<head>\n<meta charset=\"utf-8\"/>\n<title>%s</title>\n</head>\n<body>\n%s\n</body>\n</html>\n", html.EscapeString(title), body.String())
	return out.Bytes(), nil
}
