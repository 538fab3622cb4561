package source

import (
	"bytes"
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// RelLink returns the relative reference from the entry at path from to
// the entry at path to (both archive paths), each segment percent-escaped:
// what sources write into pages they generate or rewrite.
func RelLink(from, to string) string {
	fs := strings.Split(from, "/")
	fs = fs[:len(fs)-1] // directory of from
	ts := strings.Split(to, "/")
	common := 0
	for common < len(fs) && common < len(ts)-1 && fs[common] == ts[common] {
		common++
	}
	var b strings.Builder
	for i := common; i < len(fs); i++ {
		b.WriteString("../")
	}
	for i, s := range ts[common:] {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(url.PathEscape(s))
	}
	out := b.String()
	// A first segment with a colon would be read as a URL scheme.
	if first, _, _ := strings.Cut(out, "/"); strings.Contains(first, ":") {
		out = "./" + out
	}
	return out
}

// Unclosed counts start tags of non-void elements minus end tags, in linear
// time: well-formed markup stays near zero, while markup that would make a
// full HTML parse superlinear (thousands of unclosed elements) scores high.
func Unclosed(data []byte) int {
	z := html.NewTokenizer(bytes.NewReader(data))
	n := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return n
		case html.StartTagToken:
			name, _ := z.TagName()
			switch atom.Lookup(name) {
			case atom.Br, atom.Hr, atom.Img, atom.Input, atom.Meta, atom.Link, atom.Wbr, atom.Area, atom.Base, atom.Col, atom.Embed, atom.Source, atom.Track, atom.Param:
			default:
				n++
			}
		case html.EndTagToken:
			n--
		}
	}
}
