package glossary

import (
	"bytes"
	"html"
	"strconv"
	"strings"

	xhtml "golang.org/x/net/html"
)

// Options controls Annotate. The zero value gives the defaults.
type Options struct {
	// PerWord is how many occurrences of one headword are marked per page;
	// 0 means 1 (only the first: a reader who has seen it once knows it).
	PerWord int
	// MaxPerPage bounds the marks on one page; 0 means DefaultMaxPerPage.
	MaxPerPage int
	// NoList leaves out the list of the page's words at the end of the body.
	NoList bool
	// NoStyle leaves out the <style> element; the caller's style sheet
	// must then carry Style.
	NoStyle bool
	// NKLabel is written before the North Korean word; "" means "조선말".
	NKLabel string
}

// DefaultMaxPerPage is the number of marks on one page when
// Options.MaxPerPage is 0.
const DefaultMaxPerPage = 300

// Style makes a marked word show its explanation in place when it is
// tapped or reached with the keyboard (it has tabindex, so it takes
// focus): title tooltips only show on hover, which touch screens lack.
// Only CSS 2.1 (:focus, :after, attr()), so it works in the browsers of
// the Windows XP era and IE 8 and later.
const Style = `abbr.fg{text-decoration:none;border-bottom:1px dotted #777;cursor:help}` +
	`abbr.fg:focus{outline:none;background:#ffd}` +
	`abbr.fg:focus:after{content:" [" attr(title) "]";background:#ffd;color:#222;font-size:90%}` +
	`.fg-list{margin:2em 0 1em;padding-top:.5em;border-top:1px solid #bbb;font-size:90%}` +
	`.fg-list dt{font-weight:bold;margin-top:.4em}.fg-list dd{margin:0 0 0 1.5em}`

// ListHeading is the heading of the list of words at the end of a page.
const ListHeading = "낱말 풀이"

// Annotate returns page with the glossary's words marked, and how many
// marks it made. A mark is
//
//	<abbr class="fg" tabindex="0" title="풀이 (조선말: 손전화기)">스마트폰</abbr>
//
// and, unless turned off, a <style> with Style goes before </head> and a
// list of the marked words with their explanations before </body>
// (docs/glossary.md, "Marking pages"). Nothing is marked inside
// attributes, links, code, scripts, form controls, existing <abbr> or
// <dfn>, or elements with translate="no" or class notranslate. Outside the
// inserted markup the output is byte for byte the input.
func (g *Glossary) Annotate(page []byte, opt Options) ([]byte, int) {
	return g.AppendAnnotated(make([]byte, 0, len(page)+len(page)/8+1024), page, opt)
}

// AppendAnnotated is Annotate appending to dst.
func (g *Glossary) AppendAnnotated(dst, page []byte, opt Options) ([]byte, int) {
	a := annotator{g: g, opt: opt, base: len(dst), headAt: -1, bodyAt: -1, htmlAt: -1, firstAt: -1}
	if a.opt.PerWord <= 0 {
		a.opt.PerWord = 1
	}
	if a.opt.MaxPerPage <= 0 {
		a.opt.MaxPerPage = DefaultMaxPerPage
	}
	if a.opt.NKLabel == "" {
		a.opt.NKLabel = defaultNKLabel
	}
	a.counts = g.getCounts()
	defer func() { g.putCounts(a.counts, a.used) }()
	return a.run(dst, page)
}

const defaultNKLabel = "조선말"

type annotator struct {
	g      *Glossary
	opt    Options
	counts []uint16 // marks per entry on this page
	used   []int32  // entries marked, in order of their first mark
	marks  int
	base   int // where the page starts in the output
	// Output offsets where </head>, </body>, </html> and the first mark
	// were written (-1: not seen).
	headAt, bodyAt, htmlAt, firstAt int
	stack                           [maxDepth]stackName
	depth                           int
	sc                              scanner
	ms                              [64]Match
}

// maxDepth bounds the skipped elements tracked; deeper nesting inside a
// skipped element stays skipped.
const maxDepth = 64

type stackName struct {
	b [12]byte
	n uint8
}

func (a *annotator) run(out, page []byte) ([]byte, int) {
	z := xhtml.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			// io.EOF, or the tokenizer gave up: the rest is copied as is.
			out = append(out, z.Raw()...)
			break
		}
		raw := z.Raw()
		switch tt {
		case xhtml.TextToken:
			if a.depth == 0 && a.marks < a.opt.MaxPerPage && hasHangulLead(raw) {
				out = a.text(out, raw)
				continue
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			a.start(z, raw, tt == xhtml.SelfClosingTagToken)
		case xhtml.EndTagToken:
			name := tagName(raw)
			switch {
			case equalFold(name, "head") && a.headAt < 0:
				a.headAt = len(out)
			case equalFold(name, "body") && a.bodyAt < 0:
				a.bodyAt = len(out)
			case equalFold(name, "html") && a.htmlAt < 0:
				a.htmlAt = len(out)
			}
			a.end(name)
		}
		out = append(out, raw...)
	}
	if a.marks == 0 {
		return out, 0
	}
	return a.finish(out), a.marks
}

// text writes one text token with its words marked.
func (a *annotator) text(out, raw []byte) []byte {
	ms := a.sc.find(a.g, raw, true, a.ms[:0])
	at := 0
	for _, m := range ms {
		c := &a.counts[m.Entry]
		if int(*c) >= a.opt.PerWord || a.marks >= a.opt.MaxPerPage {
			continue
		}
		out = append(out, raw[at:m.Start]...)
		if a.firstAt < 0 {
			a.firstAt = len(out)
		}
		out = append(out, `<abbr class="fg" tabindex="0" title="`...)
		out = a.title(out, m.Entry)
		if *c == 0 {
			a.used = append(a.used, int32(m.Entry))
			if !a.opt.NoList {
				out = append(out, `" id="fg-w`...)
				out = strconv.AppendInt(out, int64(len(a.used)), 10)
			}
		}
		out = append(out, `">`...)
		out = append(out, raw[m.Start:m.End]...)
		out = append(out, `</abbr>`...)
		at = m.End
		*c++
		a.marks++
	}
	return append(out, raw[at:]...)
}

// title appends the escaped title text of entry i.
func (a *annotator) title(out []byte, i int) []byte {
	e := &a.g.entries[i]
	out = append(out, html.EscapeString(e.Explanation)...)
	if e.SameInNorth() {
		out = append(out, " ("...)
		out = append(out, html.EscapeString(a.opt.NKLabel)...)
		out = append(out, "에서도 같은 말)"...)
	} else if e.NK != "" {
		out = append(out, " ("...)
		out = append(out, html.EscapeString(a.opt.NKLabel)...)
		out = append(out, ": "...)
		out = append(out, html.EscapeString(e.NK)...)
		if e.NKConf == Uncertain {
			out = append(out, '?')
		}
		out = append(out, ')')
	}
	return out
}

// skipTags are the elements whose text is never marked: code and
// computer text, scripts and styles, links and form controls (a mark
// there would be a control inside a control), the page title, existing
// abbreviations and defined terms, and foreign content (SVG, MathML).
var skipTags = map[string]bool{
	"a": true, "abbr": true, "acronym": true, "dfn": true, "code": true, "pre": true, "kbd": true,
	"samp": true, "var": true, "tt": true, "listing": true, "xmp": true, "plaintext": true,
	"script": true, "style": true, "noscript": true, "template": true, "title": true,
	"textarea": true, "select": true, "option": true, "optgroup": true, "datalist": true,
	"button": true, "summary": true, "iframe": true, "noembed": true, "noframes": true,
	"object": true, "svg": true, "math": true, "rt": true, "rp": true,
}

var voidTags = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "param": true, "source": true, "track": true,
	"wbr": true, "keygen": true, "basefont": true, "bgsound": true, "frame": true, "image": true,
}

func (a *annotator) start(z *xhtml.Tokenizer, raw []byte, selfClosing bool) {
	var buf [12]byte
	name := lowerName(tagName(raw), &buf)
	if name == "" || voidTags[name] {
		return
	}
	if selfClosing && (name == "svg" || name == "math" || a.depth > 0) {
		return // closed at once in foreign content; HTML ignores the slash elsewhere
	}
	if a.depth == 0 && !skipTags[name] && !noTranslate(z, raw) {
		return
	}
	if a.depth < maxDepth {
		s := &a.stack[a.depth]
		s.n = uint8(copy(s.b[:], name))
	}
	a.depth++
}

func (a *annotator) end(rawName []byte) {
	if a.depth == 0 {
		return
	}
	var buf [12]byte
	name := lowerName(rawName, &buf)
	top := min(a.depth, maxDepth)
	for k := top - 1; k >= 0; k-- {
		if string(a.stack[k].b[:a.stack[k].n]) == name {
			a.depth = k
			return
		}
	}
}

// noTranslate reports whether a start tag has translate="no" or the class
// notranslate, the marks of text not to be translated (names, code).
func noTranslate(z *xhtml.Tokenizer, raw []byte) bool {
	if !containsFold(raw, "translate") {
		return false
	}
	for {
		k, v, more := z.TagAttr()
		switch string(k) {
		case "translate":
			if strings.EqualFold(strings.TrimSpace(string(v)), "no") {
				return true
			}
		case "class":
			for _, c := range strings.Fields(string(v)) {
				if c == "notranslate" {
					return true
				}
			}
		}
		if !more {
			return false
		}
	}
}

// finish inserts the style element and the list of words.
func (a *annotator) finish(out []byte) []byte {
	var list []byte
	if !a.opt.NoList {
		list = a.list()
	}
	styleAt := a.headAt
	if !a.opt.NoStyle && styleAt < 0 {
		if list != nil {
			list = insert(list, bytes.IndexByte(list, '>')+1, []byte("<style>"+Style+"</style>"))
		} else {
			styleAt = a.firstAt
		}
	}
	if list != nil {
		at := a.bodyAt
		if at < 0 {
			at = a.htmlAt
		}
		if at < 0 {
			at = len(out)
		}
		out = insert(out, at, list)
	}
	if !a.opt.NoStyle && styleAt >= 0 {
		out = insert(out, styleAt, []byte("<style>"+Style+"</style>\n"))
	}
	return out
}

// list renders the marked words with origins and explanations, each
// linking back to its first mark.
func (a *annotator) list() []byte {
	var b []byte
	b = append(b, "\n<aside class=\"fg-list\" lang=\"ko\"><h2>"+ListHeading+"</h2><dl>\n"...)
	for k, i := range a.used {
		e := &a.g.entries[i]
		b = append(b, `<dt><a href="#fg-w`...)
		b = strconv.AppendInt(b, int64(k+1), 10)
		b = append(b, `">`...)
		b = append(b, html.EscapeString(e.Headword)...)
		b = append(b, `</a>`...)
		if o := originText(e); o != "" {
			b = append(b, ` <small>`...)
			b = append(b, html.EscapeString(o)...)
			b = append(b, `</small>`...)
		}
		b = append(b, "</dt><dd>"...)
		b = append(b, html.EscapeString(e.Explanation)...)
		if e.SameInNorth() {
			b = append(b, ". "...)
			b = append(b, html.EscapeString(a.opt.NKLabel)...)
			b = append(b, "에서도 같은 말"...)
		} else if e.NK != "" {
			b = append(b, ". "...)
			b = append(b, html.EscapeString(a.opt.NKLabel)...)
			b = append(b, ": "...)
			b = append(b, html.EscapeString(e.NK)...)
			if e.NKConf == Uncertain {
				b = append(b, " (확실하지 않음)"...)
			}
		}
		b = append(b, "</dd>\n"...)
	}
	return append(b, "</dl></aside>\n"...)
}

// languages names the source languages of foreign loanwords in Korean.
var languages = map[string]string{
	"de": "독일어", "fr": "프랑스어", "it": "이탈리아어", "pt": "포르투갈어", "es": "에스파냐어",
	"nl": "네덜란드어", "ru": "러시아어", "ja": "일본어", "la": "라틴어", "el": "그리스어",
	"zh": "중국어", "ar": "아랍어", "sa": "범어", "hi": "힌디어", "tr": "터키어", "fa": "페르시아어",
	"he": "히브리어", "sv": "스웨덴어", "no": "노르웨이어", "pl": "폴란드어", "cs": "체코어",
	"ms": "말레이어", "mn": "몽골어", "ty": "타히티어", "haw": "하와이어", "sw": "스와힐리어",
}

// originText says where a headword comes from, in Korean.
func originText(e *Entry) string {
	switch e.Kind {
	case English:
		return "영어 " + e.Origin
	case Foreign:
		lang, word, _ := strings.Cut(e.Origin, ":")
		if n, ok := languages[lang]; ok {
			return n + " " + word
		}
		return word
	case Konglish:
		return "영어 낱말로 남쪽에서 만든 말 (" + e.Origin + ")"
	case Abbreviation:
		return "줄인 말: " + e.Origin
	case Southern:
		if e.Origin != "" {
			return "남쪽 말: " + e.Origin
		}
		return "남쪽 말"
	}
	return ""
}

func insert(b []byte, at int, s []byte) []byte {
	b = append(b, s...)
	copy(b[at+len(s):], b[at:len(b)-len(s)])
	copy(b[at:], s)
	return b
}

// tagName returns the name in a raw start or end tag, as written.
func tagName(raw []byte) []byte {
	i := 1
	if i < len(raw) && raw[i] == '/' {
		i++
	}
	j := i
	for j < len(raw) {
		c := raw[j]
		if c == ' ' || c == '/' || c == '>' || c == '\t' || c == '\n' || c == '\r' || c == '\f' {
			break
		}
		j++
	}
	return raw[i:j]
}

// lowerName lower-cases a tag name into buf; names longer than buf are
// not ones this file knows and come back as "".
func lowerName(name []byte, buf *[12]byte) string {
	if len(name) > len(buf) {
		return ""
	}
	for i, c := range name {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return string(buf[:len(name)]) // the compiler does not allocate for map lookups and compares
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}

func containsFold(b []byte, s string) bool {
	for i := 0; i+len(s) <= len(b); i++ {
		if equalFold(b[i:i+len(s)], s) {
			return true
		}
	}
	return false
}

// hasHangulLead reports whether b may hold a Hangul syllable (UTF-8 lead
// bytes EA–ED), a cheap test before matching.
func hasHangulLead(b []byte) bool {
	for _, c := range b {
		if c >= 0xEA && c <= 0xED {
			return true
		}
	}
	return false
}

// counts pool: one counter per entry, reset after use.
func (g *Glossary) getCounts() []uint16 {
	if c, ok := g.countPool.Get().(*[]uint16); ok {
		return *c
	}
	return make([]uint16, len(g.entries))
}

func (g *Glossary) putCounts(c []uint16, used []int32) {
	for _, i := range used {
		c[i] = 0
	}
	g.countPool.Put(&c)
}
