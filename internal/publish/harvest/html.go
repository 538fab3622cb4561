package harvest

import (
	"bytes"
	"io"
	"mime"
	"net/url"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/transform"
)

// mediaType is the lowercased media type of a Content-Type, "" if none.
func mediaType(ctype string) string {
	mt, _, err := mime.ParseMediaType(ctype)
	if err != nil {
		mt, _, _ = strings.Cut(ctype, ";")
	}
	return strings.ToLower(strings.TrimSpace(mt))
}

// isHTML says whether a response is a page to parse: by its type, or, when
// the type is missing or generic, by its first bytes.
func isHTML(ctype string, body []byte) bool {
	switch mediaType(ctype) {
	case "text/html", "application/xhtml+xml":
		return true
	case "", "application/octet-stream", "text/plain":
		head := bytes.ToLower(bytes.TrimSpace(body[:min(len(body), 512)]))
		return bytes.HasPrefix(head, []byte("<!doctype html")) || bytes.HasPrefix(head, []byte("<html"))
	}
	return false
}

// toUTF8 converts a text body to UTF-8. The order of trust: a byte-order
// mark, the Content-Type charset, a <meta> charset, then a guess. A body
// that claims UTF-8 but is not gets its bad bytes replaced; one with no
// declaration that is not UTF-8 is tried as EUC-KR (common on Korean sites
// and misread as windows-1252 by the standard guess) before the guess.
func toUTF8(body []byte, ctype string) []byte {
	enc, name, certain := charset.DetermineEncoding(body, ctype)
	if name == "utf-8" || (!certain && utf8.Valid(body)) {
		b := bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
		if !utf8.Valid(b) {
			b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
		}
		return b
	}
	if !certain {
		if out, err := io.ReadAll(transform.NewReader(bytes.NewReader(body), korean.EUCKR.NewDecoder())); err == nil &&
			!bytes.ContainsRune(out, utf8.RuneError) && hasHangul(out) {
			return out
		}
	}
	out, err := io.ReadAll(transform.NewReader(bytes.NewReader(body), enc.NewDecoder()))
	if err != nil {
		return bytes.ToValidUTF8(body, []byte("\uFFFD"))
	}
	return bytes.ToValidUTF8(out, []byte("\uFFFD"))
}

func hasHangul(b []byte) bool {
	n := 0
	for _, r := range string(b) {
		if r >= 0xAC00 && r <= 0xD7A3 {
			n++
			if n >= 4 {
				return true
			}
		}
	}
	return false
}

// refs are the URLs a page points to.
type refs struct {
	title     string
	links     []*url.URL // a and area hrefs: other pages
	resources []*url.URL // img src, stylesheets, icons: things the page shows
}

// maxRefs bounds the links taken from one page.
const maxRefs = 20000

// extract finds a page's title, links and resources. base is the page's URL;
// a <base href> changes it as browsers do.
func extract(body []byte, base *url.URL) refs {
	var r refs
	z := html.NewTokenizer(bytes.NewReader(body))
	z.SetMaxBuf(0)
	inTitle := false
	seen := map[string]bool{}
	add := func(list *[]*url.URL, v string) {
		if len(*list) >= maxRefs {
			return
		}
		u := resolve(base, v)
		if u == nil || seen[u.String()] {
			return
		}
		seen[u.String()] = true
		*list = append(*list, u)
	}
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return r
		case html.TextToken:
			if inTitle && len(r.title) < 500 {
				r.title += string(z.Text())
			}
		case html.EndTagToken:
			if tn, _ := z.TagName(); atom.Lookup(tn) == atom.Title {
				inTitle = false
				r.title = strings.Join(strings.Fields(r.title), " ")
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			tn, hasAttr := z.TagName()
			a := atom.Lookup(tn)
			if a == atom.Title && tt == html.StartTagToken && r.title == "" {
				inTitle = true
			}
			if !hasAttr {
				continue
			}
			attrs := map[string]string{}
			for {
				k, v, more := z.TagAttr()
				if _, dup := attrs[string(k)]; !dup {
					attrs[string(k)] = string(v)
				}
				if !more {
					break
				}
			}
			switch a {
			case atom.Base:
				if u := resolve(base, attrs["href"]); u != nil {
					base = u
				}
			case atom.A, atom.Area:
				if v, ok := attrs["href"]; ok {
					add(&r.links, v)
				}
			case atom.Img:
				if v, ok := attrs["src"]; ok {
					add(&r.resources, v)
				}
			case atom.Link:
				rel := " " + strings.ToLower(attrs["rel"]) + " "
				if strings.Contains(rel, " stylesheet ") || strings.Contains(rel, " icon ") {
					add(&r.resources, attrs["href"])
				}
			}
		}
	}
}

// resolve makes a reference absolute; nil for what cannot be fetched
// (javascript:, data:, mailto:, empty, malformed).
func resolve(base *url.URL, ref string) *url.URL {
	ref = strings.TrimSpace(ref)
	if ref == "" || strings.HasPrefix(ref, "#") {
		return nil
	}
	u, err := base.Parse(ref)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return nil
	}
	u.Fragment, u.RawFragment = "", ""
	return u
}

// rewrite writes a page for Out: references to what this run has are made
// relative paths to those files, all others absolute URLs (so nothing points
// at a missing local file), <base> is removed, srcset is dropped where src
// was made local (its other sizes were not fetched), and the charset
// declaration says UTF-8, which the body now is.
func rewrite(body []byte, base *url.URL, local func(*url.URL) (string, bool)) []byte {
	var out bytes.Buffer
	out.Grow(len(body) + 256)
	z := html.NewTokenizer(bytes.NewReader(body))
	z.SetMaxBuf(0)
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out.Bytes()
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			out.Write(z.Raw())
			continue
		}
		tok := z.Token()
		switch tok.DataAtom {
		case atom.Base:
			if u := resolve(base, attr(tok, "href")); u != nil {
				base = u
			}
			continue // dropped
		case atom.Meta:
			if attr(tok, "charset") != "" {
				setAttr(&tok, "charset", "utf-8")
			} else if strings.EqualFold(attr(tok, "http-equiv"), "content-type") {
				setAttr(&tok, "content", "text/html; charset=utf-8")
			}
		case atom.A, atom.Area, atom.Link:
			rewriteAttr(&tok, "href", base, local)
		case atom.Img:
			if rewriteAttr(&tok, "src", base, local) {
				delAttr(&tok, "srcset")
				delAttr(&tok, "sizes")
			}
		case atom.Script, atom.Iframe, atom.Source, atom.Video, atom.Audio, atom.Embed:
			rewriteAttr(&tok, "src", base, local)
		case atom.Form:
			rewriteAttr(&tok, "action", base, local)
		}
		out.WriteString(tok.String())
	}
}

// rewriteAttr rewrites one URL attribute; true if it now points at a local file.
func rewriteAttr(tok *html.Token, key string, base *url.URL, local func(*url.URL) (string, bool)) bool {
	for i, a := range tok.Attr {
		if a.Namespace != "" || a.Key != key {
			continue
		}
		v := strings.TrimSpace(a.Val)
		if v == "" || strings.HasPrefix(v, "#") {
			return false
		}
		u, err := base.Parse(v)
		if err != nil {
			return false
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return false // javascript:, data:, mailto: stay as they are
		}
		frag := u.EscapedFragment()
		u.Fragment, u.RawFragment = "", ""
		if p, ok := local(u); ok {
			if frag != "" {
				p += "#" + frag
			}
			tok.Attr[i].Val = p
			return true
		}
		if frag != "" {
			u.RawFragment = frag
			u.Fragment, _ = url.PathUnescape(frag)
		}
		tok.Attr[i].Val = u.String()
		return false
	}
	return false
}

func attr(tok html.Token, key string) string {
	for _, a := range tok.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val
		}
	}
	return ""
}

func setAttr(tok *html.Token, key, val string) {
	for i, a := range tok.Attr {
		if a.Namespace == "" && a.Key == key {
			tok.Attr[i].Val = val
			return
		}
	}
}

func delAttr(tok *html.Token, key string) {
	out := tok.Attr[:0]
	for _, a := range tok.Attr {
		if a.Namespace != "" || a.Key != key {
			out = append(out, a)
		}
	}
	tok.Attr = out
}
