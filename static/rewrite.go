package static

import (
	"bytes"
	"html"
	"regexp"
	"strings"

	xhtml "golang.org/x/net/html"
)

// linkAttrs are the attributes whose value is one URL.
var linkAttrs = map[string]bool{"href": true, "src": true, "poster": true, "data": true, "background": true}

// rewriteHTML rewrites the links of an HTML page with link, leaving every
// other byte as it was (tags without rewritten links are copied raw).
func rewriteHTML(page []byte, link func(string) (string, bool)) []byte {
	z := xhtml.NewTokenizer(bytes.NewReader(page))
	var out bytes.Buffer
	out.Grow(len(page) + len(page)/16)
	inStyle := false
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return out.Bytes()
		}
		raw := z.Raw()
		switch tt {
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			tok := z.Token()
			inStyle = tok.Data == "style" && tt == xhtml.StartTagToken
			changed := false
			for i, a := range tok.Attr {
				switch {
				case linkAttrs[a.Key]:
					if v, ok := link(a.Val); ok {
						tok.Attr[i].Val, changed = v, true
					}
				case a.Key == "srcset":
					if v, ok := rewriteSrcset(a.Val, link); ok {
						tok.Attr[i].Val, changed = v, true
					}
				case a.Key == "style":
					if v := rewriteCSS([]byte(a.Val), link); string(v) != a.Val {
						tok.Attr[i].Val, changed = string(v), true
					}
				}
			}
			if changed {
				out.WriteString(tagString(tok, tt == xhtml.SelfClosingTagToken))
				continue
			}
		case xhtml.EndTagToken:
			inStyle = false
		case xhtml.TextToken:
			if inStyle {
				out.Write(rewriteCSS(raw, link))
				continue
			}
		}
		out.Write(raw)
	}
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

func rewriteSrcset(v string, link func(string) (string, bool)) (string, bool) {
	parts := strings.Split(v, ",")
	changed := false
	for i, p := range parts {
		f := strings.Fields(p)
		if len(f) == 0 {
			continue
		}
		if nu, ok := link(f[0]); ok {
			f[0], changed = nu, true
			parts[i] = " " + strings.Join(f, " ")
		}
	}
	return strings.TrimSpace(strings.Join(parts, ",")), changed
}

var cssURL = regexp.MustCompile(`url\(\s*(['"]?)([^'")]+)(['"]?)\s*\)`)

// rewriteCSS rewrites url(...) references in a style sheet.
func rewriteCSS(css []byte, link func(string) (string, bool)) []byte {
	return cssURL.ReplaceAllFunc(css, func(m []byte) []byte {
		sub := cssURL.FindSubmatch(m)
		if nu, ok := link(string(sub[2])); ok {
			return []byte(`url("` + strings.ReplaceAll(nu, `"`, "%22") + `")`)
		}
		return m
	})
}
