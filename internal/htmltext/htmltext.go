// Package htmltext extracts what a reader sees from an HTML page: its title
// and its visible text, without scripts, styles and navigation boilerplate.
// The packer indexes this text for search, and the reader builds search
// snippets from it.
package htmltext

import (
	"bytes"
	"io"
	"iter"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/transform"
)

// skipped elements hold no reader-visible text, or only site boilerplate.
var skipped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Nav: true, atom.Footer: true, atom.Aside: true, atom.Svg: true, atom.Math: true,
	atom.Select: true, atom.Button: true, atom.Iframe: true, atom.Object: true, atom.Head: true,
}

// block elements end a line of text.
var block = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Br: true, atom.Li: true, atom.Tr: true, atom.Td: true, atom.Th: true,
	atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Section: true, atom.Article: true, atom.Header: true, atom.Blockquote: true, atom.Pre: true,
	atom.Dt: true, atom.Dd: true, atom.Figcaption: true, atom.Caption: true, atom.Table: true, atom.Ul: true, atom.Ol: true,
	atom.Hr: true, atom.Main: true, atom.Figure: true, atom.Dl: true, atom.Details: true, atom.Summary: true,
}

// boilerplateAttr reports whether one attribute marks MediaWiki-style
// navigation that carries no article text.
func boilerplateAttr(key, val []byte) bool {
	switch string(key) {
	case "role":
		switch string(val) {
		case "navigation", "banner", "contentinfo":
			return true
		}
	case "class":
		for _, c := range bytes.Fields(val) {
			switch string(c) {
			case "navbox", "mw-editsection", "noprint", "mw-jump-link", "catlinks", "printfooter", "mw-indicators":
				return true
			}
		}
	case "hidden":
		return true
	}
	return false
}

// MaxInput bounds the HTML bytes examined; text past it is not indexed.
const MaxInput = 32 << 20

// Extract returns the page title (from <title>, else the first <h1>) and the
// visible text, one block per line. Non-UTF-8 pages declared in a <meta>
// charset are decoded.
func Extract(page []byte) (title, text string) {
	var b strings.Builder
	title = walk(page, &b, nil)
	return title, strings.TrimSpace(b.String())
}

// Pieces yields the visible text of page in document order, a piece at a
// time; joined, the pieces are Extract's text (plus any trailing white
// space). A caller that needs only the start of a long page stops early and
// the rest is never parsed: the reader cuts search snippets this way.
func Pieces(page []byte) iter.Seq[string] {
	return func(yield func(string) bool) {
		var b strings.Builder
		walk(page, &b, func() bool {
			s := b.String()
			b.Reset()
			return yield(s)
		})
	}
}

// minPiece is the least text Pieces hands over at a time (but the last).
const minPiece = 256

// walk parses page, writing the visible text to b, and returns the title.
// If flush is not nil it is called whenever b holds text; walk stops when
// flush returns false.
func walk(page []byte, b *strings.Builder, flush func() bool) (title string) {
	if len(page) > MaxInput {
		page = page[:MaxInput]
	}
	var r io.Reader = bytes.NewReader(page)
	if enc, name, _ := charset.DetermineEncoding(page, "text/html"); name != "utf-8" && name != "windows-1252" {
		r = transform.NewReader(r, enc.NewDecoder())
	}
	z := html.NewTokenizer(r)
	var (
		skip     int // depth inside skipped elements
		skipTag  []atom.Atom
		inTitle  bool
		inH1     bool
		titleBuf strings.Builder
		h1Buf    strings.Builder
		lineOpen bool
		space    bool
	)
	emit := func(s string) {
		if s == "" {
			return
		}
		if isSpace(s[0]) {
			space = true
		}
		for _, f := range strings.Fields(s) {
			if space && lineOpen {
				b.WriteByte(' ')
			}
			b.WriteString(f)
			lineOpen, space = true, true
		}
		space = isSpace(s[len(s)-1])
	}
	newline := func() {
		if lineOpen {
			b.WriteByte('\n')
			lineOpen, space = false, false
		}
	}
	for {
		if flush != nil && b.Len() >= minPiece && !flush() {
			return ""
		}
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			t := strings.Join(strings.Fields(titleBuf.String()), " ")
			if t == "" {
				t = strings.Join(strings.Fields(h1Buf.String()), " ")
			}
			if flush != nil && b.Len() > 0 {
				flush()
			}
			return t
		case html.StartTagToken, html.SelfClosingTagToken:
			// Tag name and attributes are read in place (z.Token would
			// copy every attribute of every tag).
			name, hasAttr := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Title {
				inTitle = tt == html.StartTagToken
				continue
			}
			if skip > 0 {
				if tt == html.StartTagToken && a == skipTag[len(skipTag)-1] {
					skip++
				}
				continue
			}
			nav := false
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				if boilerplateAttr(k, v) {
					nav = true
				}
				if a == atom.Img && string(k) == "alt" && len(v) > 0 {
					emit(" " + string(v) + " ") // img is void: never skipped
				}
			}
			if tt == html.StartTagToken && (skipped[a] || nav) && !voidElement(a) {
				skip = 1
				skipTag = append(skipTag, a)
				continue
			}
			if a == atom.H1 && tt == html.StartTagToken {
				inH1 = h1Buf.Len() == 0
			}
			if block[a] {
				newline()
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if a == atom.Title {
				inTitle = false
				continue
			}
			if skip > 0 {
				if a == skipTag[len(skipTag)-1] {
					skip--
					if skip == 0 {
						skipTag = skipTag[:len(skipTag)-1]
					}
				}
				continue
			}
			if a == atom.H1 {
				inH1 = false
			}
			if block[a] {
				newline()
			}
		case html.TextToken:
			if inTitle {
				titleBuf.Write(z.Text())
				continue
			}
			if skip > 0 {
				continue
			}
			s := string(z.Text())
			if inH1 {
				h1Buf.WriteString(s)
			}
			emit(s)
		}
	}
}

func voidElement(a atom.Atom) bool {
	switch a {
	case atom.Br, atom.Hr, atom.Img, atom.Input, atom.Meta, atom.Link, atom.Wbr, atom.Source, atom.Track, atom.Area, atom.Col, atom.Embed:
		return true
	}
	return false
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' }

// IsHTML reports whether a MIME type (parameters allowed, any case) is an
// HTML page: text/html or application/xhtml+xml.
func IsHTML(mime string) bool {
	m, _, _ := strings.Cut(mime, ";")
	m = strings.ToLower(strings.TrimSpace(m))
	return m == "text/html" || m == "application/xhtml+xml"
}
