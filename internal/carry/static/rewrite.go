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

// An exported page is opened from file://, where no content security
// policy protects the reader: a hostile archive's page could run script or
// fetch from a server elsewhere, telling it what is read and where. So the
// export drops what runs or loads by itself from outside the folder.
var (
	// dropElems are removed with their content (scripts, frames, plugins,
	// <base> that would re-point every link).
	dropElems = map[string]bool{"script": true, "iframe": true, "frame": true, "frameset": true,
		"object": true, "embed": true, "applet": true, "base": true, "portal": true}
	voidElems = map[string]bool{"embed": true, "base": true, "frame": true}
)

// outside reports a URL that points off the export (a scheme and host, a
// scheme-relative "//host", a Windows "\\host" share) or runs script.
func outside(u string) bool {
	u = strings.ToLower(strings.TrimSpace(u))
	return strings.Contains(u, "://") || strings.HasPrefix(u, "//") || strings.HasPrefix(u, `\\`) ||
		strings.HasPrefix(u, `/\`) || strings.HasPrefix(u, `\/`) ||
		strings.HasPrefix(u, "javascript:") || strings.HasPrefix(u, "vbscript:")
}

// rewriteHTML rewrites the links of an HTML page with link and drops what
// would run or load from outside (see dropElems, outside), leaving every
// other byte as it was (tags without changes are copied raw). Links a
// reader follows by clicking (<a href>) to outside addresses are kept.
func rewriteHTML(page []byte, link func(string) (string, bool)) []byte {
	z := xhtml.NewTokenizer(bytes.NewReader(page))
	var out bytes.Buffer
	out.Grow(len(page) + len(page)/16)
	inStyle := false
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
			if dropElems[tok.Data] {
				if tt == xhtml.StartTagToken && !voidElems[tok.Data] {
					skip, skipName = 1, tok.Data
				}
				continue
			}
			if tok.Data == "meta" && metaRefresh(tok) {
				continue
			}
			inStyle = tok.Data == "style" && tt == xhtml.StartTagToken
			changed := false
			kept := tok.Attr[:0]
			for _, a := range tok.Attr {
				key := strings.ToLower(a.Key)
				switch {
				case strings.HasPrefix(key, "on"), key == "formaction", key == "ping":
					changed = true
					continue // event handlers, and requests a click would send elsewhere
				case linkAttrs[key] || key == "action" || key == "xlink:href":
					if v, ok := link(a.Val); ok {
						a.Val, changed = v, true
					} else if outside(a.Val) && !(key == "href" && (tok.Data == "a" || tok.Data == "area") && !scriptURL(a.Val)) {
						changed = true
						if tok.Data == "link" {
							kept = nil
							tok.Data = "" // a <link> to outside goes whole
						}
						continue
					}
				case key == "srcset":
					v, ok := rewriteSrcset(a.Val, link)
					if ok {
						a.Val, changed = v, true
					}
				case key == "style":
					if v := rewriteCSS([]byte(a.Val), link); string(v) != a.Val {
						a.Val, changed = string(v), true
					}
				}
				kept = append(kept, a)
			}
			if tok.Data == "" {
				continue
			}
			tok.Attr = kept
			if changed {
				out.WriteString(tagString(tok, tt == xhtml.SelfClosingTagToken))
				continue
			}
		case xhtml.EndTagToken:
			inStyle = false
			if name, _ := z.TagName(); dropElems[string(name)] {
				continue
			}
		case xhtml.TextToken:
			if inStyle {
				out.Write(rewriteCSS(raw, link))
				continue
			}
		}
		out.Write(raw)
	}
}

// scriptURL reports a javascript: or vbscript: URL.
func scriptURL(u string) bool {
	u = strings.ToLower(strings.TrimSpace(u))
	return strings.HasPrefix(u, "javascript:") || strings.HasPrefix(u, "vbscript:")
}

// metaRefresh reports <meta http-equiv="refresh">, which would move the
// page (to anywhere) without a click.
func metaRefresh(t xhtml.Token) bool {
	for _, a := range t.Attr {
		if strings.EqualFold(a.Key, "http-equiv") && strings.EqualFold(strings.TrimSpace(a.Val), "refresh") {
			return true
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
		} else if outside(f[0]) {
			changed = true
			continue
		}
		kept = append(kept, p)
	}
	return strings.TrimSpace(strings.Join(kept, ",")), changed
}

var cssURL = regexp.MustCompile(`url\(\s*(['"]?)([^'")]+)(['"]?)\s*\)`)

// cssImport matches an @import of a quoted URL (url(...) imports are
// handled by cssURL).
var cssImport = regexp.MustCompile(`@import\s+(['"])([^'"]*)(['"])`)

// rewriteCSS rewrites url(...) references in a style sheet and empties
// those that point outside (a style sheet opened from file:// would fetch
// them).
func rewriteCSS(css []byte, link func(string) (string, bool)) []byte {
	css = cssURL.ReplaceAllFunc(css, func(m []byte) []byte {
		sub := cssURL.FindSubmatch(m)
		if nu, ok := link(string(sub[2])); ok {
			return []byte(`url("` + strings.ReplaceAll(nu, `"`, "%22") + `")`)
		}
		if outside(string(sub[2])) {
			return []byte(`url("")`)
		}
		return m
	})
	return cssImport.ReplaceAllFunc(css, func(m []byte) []byte {
		if outside(string(cssImport.FindSubmatch(m)[2])) {
			return []byte(`@import ""`)
		}
		return m
	})
}
