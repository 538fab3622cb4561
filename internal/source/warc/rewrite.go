package warc

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"ferry/internal/source"
)

// linker turns a URL reference found in a page into the reference to write
// back: a relative link to a captured entry, or the absolute URL.
type linker struct {
	self string // path of the entry being rewritten
	base *url.URL
	has  func(path string) bool
}

// link rewrites one reference. References that are empty, fragment-only or
// not http(s) (data:, mailto:, javascript:...) are returned unchanged.
func (l *linker) link(ref string) string {
	t := strings.TrimSpace(ref)
	if t == "" || t[0] == '#' {
		return ref
	}
	u, err := url.Parse(t)
	if err != nil {
		return ref
	}
	abs := l.base.ResolveReference(u)
	if s := strings.ToLower(abs.Scheme); s != "http" && s != "https" {
		return ref
	}
	if p, ok := URLPath(abs); ok && l.has(p) {
		out := source.RelLink(l.self, p)
		if abs.Fragment != "" {
			out += "#" + abs.EscapedFragment()
		}
		return out
	}
	return abs.String()
}

// srcset rewrites each candidate URL of a srcset attribute.
func (l *linker) srcset(v string) string {
	if strings.Contains(v, "data:") {
		return v // data: URLs hold commas; splitting would corrupt them
	}
	parts := strings.Split(v, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		u, desc, _ := strings.Cut(p, " ")
		if u == "" {
			continue
		}
		parts[i] = l.link(u)
		if desc = strings.TrimSpace(desc); desc != "" {
			parts[i] += " " + desc
		}
	}
	return strings.Join(parts, ", ")
}

// urlAttrs names the attributes whose value is one URL, per element.
var urlAttrs = map[string]bool{
	"href": true, "src": true, "poster": true, "data": true, "background": true,
	"action": false, // forms cannot work offline; left as they are
}

// rewriteHTML rewrites the links of an HTML page so that links to captured
// URLs point at their entries, removes <base href> (after using it as the
// base URL), drops integrity attributes that rewritten resources would
// fail, and returns the page with its <title> text. src must be UTF-8;
// meta charset declarations are set to utf-8 to match.
func rewriteHTML(src []byte, l *linker) (out []byte, title string) {
	z := html.NewTokenizer(bytes.NewReader(src))
	var b bytes.Buffer
	b.Grow(len(src) + len(src)/8)
	inTitle, inStyle := false, false
	var tb strings.Builder
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		// Raw's bytes are the tokenizer's buffer, which Token and Text
		// unescape in place: copy them first, or a title's "&amp;" would
		// come out as "&" followed by shifted bytes, and an escaped
		// "&lt;/title&gt;&lt;script&gt;" as live markup.
		raw := bytes.Clone(z.Raw())
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			t := z.Token()
			if tt == html.StartTagToken {
				switch t.DataAtom {
				case atom.Title:
					inTitle = true
				case atom.Style:
					inStyle = true
				}
			}
			if changed := l.rewriteTag(&t); changed {
				b.WriteString(t.String())
			} else {
				b.Write(raw)
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "title":
				inTitle = false
			case "style":
				inStyle = false
			}
			b.Write(raw)
		case html.TextToken:
			switch {
			case inStyle:
				b.Write(rewriteCSS(raw, l))
			case inTitle:
				tb.Write(z.Text())
				b.Write(raw)
			default:
				b.Write(raw)
			}
		default:
			b.Write(raw)
		}
	}
	return b.Bytes(), strings.Join(strings.Fields(tb.String()), " ")
}

// rewriteTag rewrites the URL-bearing attributes of one tag in place and
// reports whether anything changed.
func (l *linker) rewriteTag(t *html.Token) bool {
	changed := false
	attrs := t.Attr[:0]
	for _, a := range t.Attr {
		key := strings.ToLower(a.Key)
		switch {
		case t.DataAtom == atom.Base && key == "href":
			if u, err := url.Parse(strings.TrimSpace(a.Val)); err == nil {
				l.base = l.base.ResolveReference(u)
			}
			changed = true
			continue // a live <base> would redirect every relative link
		case key == "integrity":
			changed = true
			continue
		case urlAttrs[key]:
			if v := l.link(a.Val); v != a.Val {
				a.Val, changed = v, true
			}
		case key == "srcset" || key == "imagesrcset":
			if v := l.srcset(a.Val); v != a.Val {
				a.Val, changed = v, true
			}
		case key == "style":
			if v := string(rewriteCSS([]byte(a.Val), l)); v != a.Val {
				a.Val, changed = v, true
			}
		case t.DataAtom == atom.Meta && key == "charset":
			if !strings.EqualFold(a.Val, "utf-8") {
				a.Val, changed = "utf-8", true
			}
		case t.DataAtom == atom.Meta && key == "content" && strings.Contains(strings.ToLower(a.Val), "charset="):
			a.Val, changed = "text/html; charset=utf-8", true
		}
		attrs = append(attrs, a)
	}
	t.Attr = attrs
	return changed
}

// rewriteCSS rewrites url(...) references and @import strings in CSS.
func rewriteCSS(css []byte, l *linker) []byte {
	var b bytes.Buffer
	i := 0
	// Next match positions (absolute), found again only once passed, so
	// the scan stays linear.
	nextU, nextI := -2, -2
	find := func(cur *int, needle string) int {
		if *cur != -1 && *cur < i {
			if k := indexFold(css[i:], needle); k >= 0 {
				*cur = i + k
			} else {
				*cur = -1
			}
		}
		if *cur < 0 {
			return -1
		}
		return *cur - i
	}
	for i < len(css) {
		rest := css[i:]
		j := find(&nextU, "url(")
		k := find(&nextI, "@import")
		if j < 0 && k < 0 {
			b.Write(rest)
			break
		}
		if k >= 0 && (j < 0 || k < j) {
			// @import "x" or @import 'x' (the url() form is handled below).
			p := k + len("@import")
			for p < len(rest) && isSpace(rest[p]) {
				p++
			}
			if p < len(rest) && (rest[p] == '"' || rest[p] == '\'') {
				q := rest[p]
				e := bytes.IndexByte(rest[p+1:], q)
				if e >= 0 {
					b.Write(rest[:p+1])
					b.WriteString(cssEscape(l.link(string(rest[p+1:p+1+e])), q))
					i += p + 1 + e
					continue
				}
			}
			b.Write(rest[:p])
			i += p
			continue
		}
		p := j + len("url(")
		b.Write(rest[:p])
		for p < len(rest) && isSpace(rest[p]) {
			b.WriteByte(rest[p])
			p++
		}
		var q byte
		if p < len(rest) && (rest[p] == '"' || rest[p] == '\'') {
			q = rest[p]
			b.WriteByte(q)
			p++
		}
		e := p
		for e < len(rest) && ((q != 0 && rest[e] != q) || (q == 0 && rest[e] != ')' && !isSpace(rest[e]))) {
			e++
		}
		if e >= len(rest) {
			b.Write(rest[p:])
			break
		}
		ref := string(rest[p:e])
		if q == 0 {
			q = '"' // unquoted url() may not hold every character: quote it
			if nv := l.link(ref); nv != ref {
				b.WriteByte(q)
				b.WriteString(cssEscape(nv, q))
				b.WriteByte(q)
			} else {
				b.WriteString(ref)
			}
		} else {
			b.WriteString(cssEscape(l.link(ref), q))
		}
		i += e
	}
	return b.Bytes()
}

// cssEscape escapes the quote character and backslashes of a URL written
// into a CSS string.
func cssEscape(s string, q byte) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return strings.ReplaceAll(s, string(q), `\`+string(q))
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// indexFold is an ASCII case-insensitive bytes.Index for a lower-case needle.
func indexFold(s []byte, needle string) int {
	n := len(needle)
	for i := 0; i+n <= len(s); i++ {
		match := true
		for k := 0; k < n; k++ {
			c := s[i+k]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != needle[k] {
				match = false
				break
			}
		}
		if match {
			return i
		}
	}
	return -1
}
