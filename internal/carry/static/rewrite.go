package static

import (
	"bytes"
	"html"
	"strings"

	xhtml "golang.org/x/net/html"
)

// linkAttrs are the attributes whose value is one URL the browser loads
// or follows.
var linkAttrs = map[string]bool{"href": true, "src": true, "poster": true, "data": true, "background": true,
	"action": true, "xlink:href": true, "lowsrc": true, "dynsrc": true, "longdesc": true, "cite": true,
	"codebase": true, "archive": true, "icon": true, "manifest": true, "profile": true, "usemap": false}

// An exported page is opened from file://, where no content security
// policy protects the reader: a hostile archive's page could run script or
// fetch from a server elsewhere, telling it what is read and where. So the
// export drops what runs or loads by itself from outside the folder.
var (
	// dropElems are removed with their content (scripts, frames, plugins,
	// <base> that would re-point every link, <noscript>, whose content a
	// browser with scripts off reads as markup this tokenizer sees as
	// text).
	dropElems = map[string]bool{"script": true, "iframe": true, "frame": true, "frameset": true,
		"object": true, "embed": true, "applet": true, "base": true, "portal": true, "noscript": true,
		"noembed": true, "fencedframe": true}
	voidElems = map[string]bool{"embed": true, "base": true, "frame": true}
	// breakout tags end SVG or MathML content in the HTML parser.
	breakout = map[string]bool{"b": true, "big": true, "blockquote": true, "body": true, "br": true, "center": true,
		"code": true, "dd": true, "div": true, "dl": true, "dt": true, "em": true, "embed": true, "h1": true, "h2": true,
		"h3": true, "h4": true, "h5": true, "h6": true, "head": true, "hr": true, "i": true, "img": true, "li": true,
		"listing": true, "menu": true, "meta": true, "nobr": true, "ol": true, "p": true, "pre": true, "ruby": true,
		"s": true, "small": true, "span": true, "strong": true, "strike": true, "sub": true, "sup": true, "table": true,
		"tt": true, "u": true, "ul": true, "var": true, "font": true}
	// rawText are the elements the tokenizer reads as raw text outside
	// SVG and MathML; inside them a browser reads markup.
	rawText = map[string]bool{"style": true, "title": true, "textarea": true, "xmp": true, "iframe": true,
		"noembed": true, "noframes": true, "noscript": true, "script": true, "plaintext": true}
	// hintRels are <link> types that fetch or connect by themselves.
	hintRels = []string{"dns-prefetch", "preconnect", "prefetch", "preload", "prerender", "modulepreload", "import", "manifest"}
)

// rewriteHTML rewrites the links of an HTML page with link and drops what
// would run or load from outside (see dropElems, outside), leaving every
// other byte as it was (tags without changes are copied raw). Links a
// reader follows by clicking (<a href>) to outside addresses are kept.
func rewriteHTML(page []byte, link func(string) (string, bool)) []byte {
	z := xhtml.NewTokenizer(bytes.NewReader(page))
	var out bytes.Buffer
	out.Grow(len(page) + len(page)/16)
	inStyle := false
	foreign := 0 // depth of <svg> and <math>
	skip, skipName := 0, ""
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return out.Bytes()
		}
		raw := z.Raw()
		if skip > 0 {
			switch tt {
			case xhtml.StartTagToken:
				if name, _ := z.TagName(); string(name) == skipName {
					skip++
				}
			case xhtml.EndTagToken:
				if name, _ := z.TagName(); string(name) == skipName {
					skip--
				}
			}
			continue
		}
		switch tt {
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			tok := z.Token()
			if foreign > 0 && breakout[tok.Data] {
				foreign = 0
			}
			if (tok.Data == "svg" || tok.Data == "math") && tt == xhtml.StartTagToken {
				foreign++
			}
			if foreign > 0 && rawText[tok.Data] && tt == xhtml.StartTagToken {
				z.NextIsNotRawText()
			}
			if dropElems[tok.Data] {
				if tt == xhtml.StartTagToken && !voidElems[tok.Data] {
					skip, skipName = 1, tok.Data
				}
				continue
			}
			if tok.Data == "meta" && metaDrop(tok) {
				continue
			}
			if tok.Data == "link" && linkDrop(tok) {
				continue
			}
			if tok.Data == "style" && tt == xhtml.StartTagToken {
				inStyle = true
			}
			changed := false
			kept := tok.Attr[:0]
			for _, a := range tok.Attr {
				key := strings.ToLower(a.Key)
				if a.Namespace != "" {
					key = a.Namespace + ":" + key
				}
				switch {
				case strings.HasPrefix(key, "on"), key == "formaction", key == "ping", key == "srcdoc":
					changed = true
					continue // event handlers, and requests a click would send elsewhere
				case linkAttrs[key]:
					if v, ok := link(a.Val); ok {
						a.Val, changed = v, true
					} else if scriptURL(a.Val) || outside(a.Val) && !(key == "href" && (tok.Data == "a" || tok.Data == "area") && clickable(a.Val)) {
						changed = true
						continue
					}
				case key == "srcset" || key == "imagesrcset":
					if v, ok := rewriteSrcset(a.Val, link); ok {
						a.Val, changed = v, true
					}
				case key == "style":
					if v := rewriteCSS([]byte(a.Val), link); string(v) != a.Val {
						a.Val, changed = string(v), true
					}
				}
				kept = append(kept, a)
			}
			tok.Attr = kept
			if changed {
				out.WriteString(tagString(tok, tt == xhtml.SelfClosingTagToken))
				continue
			}
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			n := string(name)
			if n == "style" {
				inStyle = false
			}
			if (n == "svg" || n == "math") && foreign > 0 {
				foreign--
			}
			if dropElems[n] {
				continue
			}
		case xhtml.TextToken:
			if inStyle {
				out.Write(rewriteCSS(raw, link))
				continue
			}
		case xhtml.CommentToken:
			if foreign > 0 && bytes.HasPrefix(raw, []byte("<![CDATA[")) {
				// A CDATA section in SVG or MathML is text to a browser
				// (in a <style>, a style sheet).
				inner := bytes.TrimSuffix(bytes.TrimPrefix(raw, []byte("<![CDATA[")), []byte("]]>"))
				if inStyle {
					inner = rewriteCSS(inner, link)
				}
				out.WriteString(html.EscapeString(string(inner)))
				continue
			}
			if isConditionalComment(raw) {
				continue // <!--[if IE]>...<![endif]-->: markup that old IE reads
			}
		}
		out.Write(raw)
	}
}

// isConditionalComment reports an Internet Explorer conditional comment,
// whose content IE 5–9 parse as markup (this tokenizer, as text).
func isConditionalComment(raw []byte) bool {
	r := bytes.ToLower(raw)
	return bytes.Contains(r, []byte("[if")) || bytes.Contains(r, []byte("<![endif")) || bytes.Contains(r, []byte("<!"+"[endif"))
}

// metaDrop reports a <meta> that acts by itself: a refresh (which would
// move the page, to anywhere, without a click), or a header a browser
// applies (cookies, link prefetch).
func metaDrop(t xhtml.Token) bool {
	for _, a := range t.Attr {
		if strings.EqualFold(a.Key, "http-equiv") {
			switch strings.ToLower(strings.TrimSpace(a.Val)) {
			case "content-type", "content-language", "x-ua-compatible", "content-style-type":
			default:
				return true
			}
		}
	}
	return false
}

// linkDrop reports a <link> that fetches or connects by itself to
// anything but a style sheet or icon of the archive.
func linkDrop(t xhtml.Token) bool {
	for _, a := range t.Attr {
		if strings.EqualFold(a.Key, "rel") {
			for _, r := range strings.Fields(strings.ToLower(a.Val)) {
				for _, h := range hintRels {
					if r == h {
						return true
					}
				}
			}
		}
	}
	return false
}

func tagString(t xhtml.Token, selfClosing bool) string {
	var b strings.Builder
	b.WriteByte('<')
	b.WriteString(t.Data)
	for _, a := range t.Attr {
		b.WriteByte(' ')
		if a.Namespace != "" {
			b.WriteString(a.Namespace + ":")
		}
		b.WriteString(a.Key)
		b.WriteString(`="`)
		b.WriteString(html.EscapeString(a.Val))
		b.WriteByte('"')
	}
	if selfClosing {
		b.WriteString(" /")
	}
	b.WriteByte('>')
	return b.String()
}

// rewriteSrcset rewrites the URLs of a srcset and drops outside ones.
func rewriteSrcset(v string, link func(string) (string, bool)) (string, bool) {
	parts := strings.Split(v, ",")
	changed := false
	kept := parts[:0]
	for _, p := range parts {
		f := strings.Fields(p)
		if len(f) == 0 {
			continue
		}
		if nu, ok := link(f[0]); ok {
			f[0], changed = nu, true
			p = " " + strings.Join(f, " ")
		} else if outside(f[0]) || scriptURL(f[0]) {
			changed = true
			continue
		}
		kept = append(kept, p)
	}
	return strings.TrimSpace(strings.Join(kept, ",")), changed
}
