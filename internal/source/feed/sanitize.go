package feed

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// allowed lists the elements kept in item content, with the attributes
// each may keep (besides the global ones in globalAttrs). Everything else
// is unwrapped (its children kept) or, for dropped, removed with its
// content.
var allowed = map[atom.Atom][]string{
	atom.P: nil, atom.Br: nil, atom.Hr: nil, atom.Div: nil, atom.Span: nil,
	atom.H1: nil, atom.H2: nil, atom.H3: nil, atom.H4: nil, atom.H5: nil, atom.H6: nil,
	atom.B: nil, atom.I: nil, atom.U: nil, atom.S: nil, atom.Em: nil, atom.Strong: nil,
	atom.Small: nil, atom.Sub: nil, atom.Sup: nil, atom.Mark: nil, atom.Del: nil, atom.Ins: nil,
	atom.Abbr: nil, atom.Cite: nil, atom.Q: nil, atom.Time: nil, atom.Code: nil, atom.Pre: nil,
	atom.Kbd: nil, atom.Samp: nil, atom.Var: nil, atom.Blockquote: nil,
	atom.Ul: nil, atom.Ol: {"start", "type"}, atom.Li: nil, atom.Dl: nil, atom.Dt: nil, atom.Dd: nil,
	atom.Table: nil, atom.Caption: nil, atom.Thead: nil, atom.Tbody: nil, atom.Tfoot: nil,
	atom.Tr: nil, atom.Td: {"colspan", "rowspan"}, atom.Th: {"colspan", "rowspan", "scope"},
	atom.Figure: nil, atom.Figcaption: nil, atom.Ruby: nil, atom.Rt: nil, atom.Rp: nil,
	atom.A: {"href"}, atom.Img: {"src", "alt", "width", "height"},
}

// dropped elements are removed together with everything inside them.
var dropped = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Iframe: true, atom.Frame: true, atom.Frameset: true,
	atom.Object: true, atom.Embed: true, atom.Applet: true, atom.Noscript: true, atom.Template: true,
	atom.Svg: true, atom.Math: true, atom.Form: true, atom.Input: true, atom.Button: true,
	atom.Select: true, atom.Textarea: true, atom.Link: true, atom.Meta: true, atom.Base: true,
	atom.Head: true, atom.Title: true, atom.Audio: true, atom.Video: true, atom.Source: true,
	atom.Track: true, atom.Canvas: true, atom.Dialog: true,
}

var globalAttrs = []string{"title", "lang", "dir"}

// maxDepth bounds element nesting in sanitized output; deeper content is
// flattened so rendering cannot be made to recurse without end.
const maxDepth = 100

// Sanitize reduces an HTML fragment to safe, self-contained markup: only
// allowlisted elements and attributes survive, no scripts, styles, frames,
// forms or event handlers, and no reference that would load or open
// anything off the device. Link and image URLs are passed to local, which
// returns a local replacement or "" to drop the reference (links keep their
// text, images become their alt text). Plain text input is escaped.
func Sanitize(fragment string, local func(ref string) string) string {
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(fragment), body)
	if err != nil {
		return html.EscapeString(fragment)
	}
	var b strings.Builder
	for _, n := range nodes {
		render(&b, n, local, 0)
	}
	return b.String()
}

func render(b *strings.Builder, n *html.Node, local func(string) string, depth int) {
	switch n.Type {
	case html.TextNode:
		b.WriteString(html.EscapeString(n.Data))
		return
	case html.ElementNode:
	default:
		return // comments, doctypes
	}
	if dropped[n.DataAtom] {
		return
	}
	if depth > maxDepth {
		flatText(b, n)
		return
	}
	keep, ok := allowed[n.DataAtom]
	if n.Namespace != "" {
		ok = false
	}
	if !ok {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			render(b, c, local, depth+1)
		}
		return
	}
	var attrs []html.Attribute
	for _, a := range n.Attr {
		if a.Namespace != "" || !(has(keep, a.Key) || has(globalAttrs, a.Key)) {
			continue // on*, style, class, id, srcset...: gone
		}
		switch a.Key {
		case "href":
			v := strings.TrimSpace(a.Val)
			if strings.HasPrefix(v, "#") {
				break
			}
			if v = local(v); v == "" {
				continue
			}
			a.Val = v
		case "src":
			v := strings.TrimSpace(a.Val)
			if !strings.HasPrefix(strings.ToLower(v), "data:image/") || strings.HasPrefix(strings.ToLower(v), "data:image/svg") {
				v = local(v)
			}
			if v == "" {
				// An image that would load from the network becomes its alt text.
				for _, x := range n.Attr {
					if x.Key == "alt" && strings.TrimSpace(x.Val) != "" {
						b.WriteString("[" + html.EscapeString(strings.TrimSpace(x.Val)) + "]")
					}
				}
				return
			}
			a.Val = v
		}
		attrs = append(attrs, html.Attribute{Key: a.Key, Val: a.Val})
	}
	b.WriteByte('<')
	b.WriteString(n.Data)
	for _, a := range attrs {
		b.WriteByte(' ')
		b.WriteString(a.Key)
		b.WriteString(`="`)
		b.WriteString(html.EscapeString(a.Val))
		b.WriteByte('"')
	}
	b.WriteByte('>')
	if n.DataAtom == atom.Br || n.DataAtom == atom.Hr || n.DataAtom == atom.Img {
		return
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		render(b, c, local, depth+1)
	}
	b.WriteString("</")
	b.WriteString(n.Data)
	b.WriteByte('>')
}

// flatText writes the escaped text below n without recursion.
func flatText(b *strings.Builder, n *html.Node) {
	stack := []*html.Node{n}
	for len(stack) > 0 {
		x := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if x.Type == html.TextNode {
			b.WriteString(html.EscapeString(x.Data))
			continue
		}
		if x.Type == html.ElementNode && dropped[x.DataAtom] {
			continue
		}
		for c := x.LastChild; c != nil; c = c.PrevSibling {
			stack = append(stack, c)
		}
	}
}

// tokenText extracts the text of HTML in linear time (tokenizer only),
// skipping the content of dropped elements; block ends become blank lines.
func tokenText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := atom.Atom(0)
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken:
			name, _ := z.TagName()
			if a := atom.Lookup(name); skip == 0 && dropped[a] {
				skip = a
			}
		case html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			if a == skip {
				skip = 0
			}
			switch a {
			case atom.P, atom.Div, atom.Li, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6, atom.Tr, atom.Blockquote, atom.Pre:
				b.WriteString("\n\n")
			}
		}
	}
}

// textToHTML turns plain text into paragraphs at blank lines.
func textToHTML(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	for _, para := range strings.Split(s, "\n\n") {
		if para = strings.TrimSpace(para); para != "" {
			b.WriteString("<p>")
			b.WriteString(html.EscapeString(para))
			b.WriteString("</p>\n")
		}
	}
	return b.String()
}

func has(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// plainText returns the text of an HTML fragment (titles and descriptions
// may hold markup or entities), in linear time.
func plainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	return tokenText(s)
}

// inlineTags are the formatting elements feeds put in titles meant as
// HTML ("<b>New</b> release"); a title with any other tag-like text is
// plain text that happens to mention markup ("Use <div> wisely").
var inlineTags = map[atom.Atom]bool{
	atom.B: true, atom.I: true, atom.Em: true, atom.Strong: true, atom.Code: true, atom.Sub: true,
	atom.Sup: true, atom.Span: true, atom.Small: true, atom.U: true, atom.S: true, atom.Q: true,
	atom.Abbr: true, atom.Cite: true, atom.Mark: true, atom.Br: true, atom.A: true, atom.Tt: true, atom.Kbd: true,
}

// titleText turns a feed or item title (as the feed parser decoded it) into
// display text. A title whose only tags are inline formatting is HTML and
// is reduced to its text; any other "<" is the title's own text and stays
// (an escaped "&lt;div&gt;" in RSS, or an Atom type="text" title, arrives
// as "<div>"), so the words after it are never lost.
func titleText(s string) string {
	if !strings.Contains(s, "<") {
		return clean(html.UnescapeString(s))
	}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return clean(tokenText(s))
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			if !inlineTags[atom.Lookup(name)] {
				return clean(s)
			}
		case html.CommentToken, html.DoctypeToken:
			return clean(s)
		}
	}
}
