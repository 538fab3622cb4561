package glossary

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"slices"
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
//
// Annotate is FindMarks followed by AppendMarked; a server that shows a
// page more than once can keep the Marks and pay only for AppendMarked.
func (g *Glossary) Annotate(page []byte, opt Options) ([]byte, int) {
	return g.AppendAnnotated(make([]byte, 0, len(page)+len(page)/8+1024), page, opt)
}

// AppendAnnotated is Annotate appending to dst.
func (g *Glossary) AppendAnnotated(dst, page []byte, opt Options) ([]byte, int) {
	m := g.FindMarks(page, opt)
	out, err := g.AppendMarked(dst, page, m, opt)
	if err != nil {
		panic("glossary: internal error: fresh marks rejected: " + err.Error())
	}
	return out, len(m.Words)
}

// Marks says where Annotate marks one page: the costly part of glossing
// (tokenizing the page and finding its words), computed once by
// FindMarks, applied by AppendMarked at the cost of a copy. Marks are
// valid for the exact page bytes and the glossary that found them
// (Glossary.Fingerprint); AppendMarked checks what it can.
type Marks struct {
	Words []Mark // in page order, not overlapping
	// HeadAt is the byte offset of the first </head> end tag, where the
	// style goes, or -1. ListAt is where the list of words goes: the
	// first </body> (else </html>) end tag, or the end of the page, or
	// before an unfinished tag, comment or raw-text element that the page
	// ends in (so that the list is not swallowed by it); -1 if a link,
	// form control or other skipped element is still open there (the
	// list's own links would nest in it), and the page gets no list.
	HeadAt, ListAt int
}

// Mark is one marked word: page[Start:End] is the headword of entry Entry.
type Mark struct {
	Start, End int32
	Entry      int32
}

// FindMarks finds what Annotate marks in page, with opt's PerWord and
// MaxPerPage (the other options apply in AppendMarked).
func (g *Glossary) FindMarks(page []byte, opt Options) Marks {
	f := finder{g: g, m: Marks{HeadAt: -1, ListAt: len(page)}, perWord: opt.PerWord, max: opt.MaxPerPage, bodyAt: -1, htmlAt: -1, openAt: -1}
	if f.perWord <= 0 {
		f.perWord = 1
	}
	if f.max <= 0 {
		f.max = DefaultMaxPerPage
	}
	if len(page) > maxPage {
		return f.m // offsets are int32; such pages are left unmarked
	}
	f.counts = g.getCounts()
	defer func() { g.putCounts(f.counts, f.used) }()
	end := f.run(page)
	// A skipped element, or a formatting element (b, i, a, …) open at the
	// end: a browser would carry the latter into the list and into what
	// follows it, so no list is added there.
	open := f.depth > 0 || f.fmtOpen > 0
	last := 0
	if k := len(f.m.Words); k > 0 {
		last = int(f.m.Words[k-1].End)
	}
	// The list goes before </body>, else </html>, else at the end; text
	// after </body> (browsers show it in the body) moves it on.
	switch {
	case f.bodyAt >= last:
		f.m.ListAt, open = f.bodyAt, f.bodyOpen
	case f.htmlAt >= last:
		f.m.ListAt, open = f.htmlAt, f.htmlOpen
	default:
		f.m.ListAt = end
	}
	if open {
		f.m.ListAt = -1
	}
	return f.m
}

// maxPage is the largest page FindMarks marks.
const maxPage = 1 << 30

const defaultNKLabel = "조선말"

// finder walks a page's tokens for FindMarks.
type finder struct {
	bodyAt, htmlAt int // offsets of the first </body>, </html>, or -1
	// bodyOpen, htmlOpen: a skipped element was open there.
	bodyOpen, htmlOpen bool
	openAt             int // offset of an open raw-text element, or -1
	fmtOpen            int // formatting elements started and not ended
	tables             tableStack
	textEnd            int // where the last token's complete part ends
	g                  *Glossary
	m                  Marks
	perWord, max       int
	counts             []uint16 // marks per entry on this page
	used               []int32  // entries marked
	stack              [maxDepth]stackName
	depth              int
	sc                 scanner
	ms                 [64]Match
}

// maxDepth bounds the skipped elements tracked; deeper nesting inside a
// skipped element stays skipped.
const maxDepth = 64

type stackName struct {
	b [12]byte
	n uint8
}

// run walks page and returns where the page's complete part ends: its
// length, or the start of an unfinished tag, comment or raw-text element
// at its end.
func (f *finder) run(page []byte) int {
	z := xhtml.NewTokenizer(bytes.NewReader(page))
	at := 0 // page offset of the current token: raw tokens partition the input
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			// io.EOF, or the tokenizer gave up: the rest stays as is.
			if f.openAt >= 0 {
				return f.openAt
			}
			return min(at, f.textEnd)
		}
		raw := z.Raw()
		f.textEnd = at + len(raw)
		switch tt {
		case xhtml.TextToken:
			// Text ending in "<", "</", "<!" or "<?" would swallow what is
			// appended after it: the complete part ends before the "<".
			if i := bytes.LastIndexByte(raw, '<'); i >= 0 && len(raw)-i <= 3 && bytes.IndexByte(raw[i:], '>') < 0 {
				f.textEnd = at + i
			}
			if f.depth == 0 && f.tables.textAllowed() && len(f.m.Words) < f.max && hasHangulLead(raw) {
				f.text(raw, at)
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name := tagName(raw)
			if tt == xhtml.StartTagToken && isRawText(name) && f.openAt < 0 {
				f.openAt = at
			}
			if raw[len(raw)-1] != '>' {
				return at // the page ends inside this tag
			}
			if tt == xhtml.StartTagToken && isFormatting(name) {
				f.fmtOpen++
			}
			f.tables.start(name)
			f.start(z, raw, tt == xhtml.SelfClosingTagToken)
		case xhtml.EndTagToken:
			name := tagName(raw)
			if isRawText(name) {
				f.openAt = -1
			}
			if raw[len(raw)-1] != '>' {
				return at
			}
			switch {
			case equalFold(name, "head") && f.m.HeadAt < 0:
				f.m.HeadAt = at
			case equalFold(name, "body") && f.bodyAt < 0:
				f.bodyAt, f.bodyOpen = at, f.depth > 0 || f.fmtOpen > 0
			case equalFold(name, "html") && f.htmlAt < 0:
				f.htmlAt, f.htmlOpen = at, f.depth > 0 || f.fmtOpen > 0
			}
			if isFormatting(name) && f.fmtOpen > 0 {
				f.fmtOpen--
			}
			f.tables.end(name)
			f.end(name)
		case xhtml.CommentToken, xhtml.DoctypeToken:
			if raw[len(raw)-1] != '>' {
				return at // an unfinished comment runs to the end
			}
		}
		at += len(raw)
	}
}

// tableStack follows tables well enough to know whether text sits in a
// cell: text directly in a table, outside cells, is moved out of it by
// browsers ("foster parenting"), and a mark there would change how the
// page parses, so none is made.
type tableStack struct {
	s [32]uint8
	n int
}

// Kinds of table elements on a tableStack.
const (
	tTable uint8 = iota + 1
	tSection
	tRow
	tCell
)

func tableKind(name []byte) uint8 {
	switch {
	case equalFold(name, "table"):
		return tTable
	case equalFold(name, "tbody"), equalFold(name, "thead"), equalFold(name, "tfoot"):
		return tSection
	case equalFold(name, "tr"):
		return tRow
	case equalFold(name, "td"), equalFold(name, "th"), equalFold(name, "caption"):
		return tCell
	}
	return 0
}

func (t *tableStack) textAllowed() bool { return t.n == 0 || t.s[min(t.n, len(t.s))-1] == tCell }

func (t *tableStack) start(name []byte) {
	k := tableKind(name)
	if k == 0 {
		return
	}
	if k != tTable {
		// A cell closes the cell before it, a row the row before it…
		for t.n > 0 && t.n <= len(t.s) && t.s[t.n-1] >= k {
			t.n--
		}
	}
	if t.n < len(t.s) {
		t.s[t.n] = k
	}
	t.n++
}

func (t *tableStack) end(name []byte) {
	k := tableKind(name)
	if k == 0 {
		return
	}
	for i := min(t.n, len(t.s)) - 1; i >= 0; i-- {
		if t.s[i] == k {
			t.n = i
			return
		}
		if t.s[i] == tTable && k != tTable {
			return // no such element open in this table
		}
	}
}

// isRawText reports whether a tag name starts text the tokenizer reads
// raw up to its end tag (a list appended inside one would not show).
// isFormatting reports whether name is one of the elements an HTML parser
// reopens after a block that interrupted them (its "active formatting
// elements").
func isFormatting(name []byte) bool {
	for _, t := range [...]string{"a", "b", "big", "code", "em", "font", "i", "nobr", "s", "small", "strike", "strong", "tt", "u"} {
		if equalFold(name, t) {
			return true
		}
	}
	return false
}

func isRawText(name []byte) bool {
	for _, t := range [...]string{"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext"} {
		if equalFold(name, t) {
			return true
		}
	}
	return false
}

// text finds the words to mark in one text token at page offset base.
func (f *finder) text(raw []byte, base int) {
	for _, m := range f.sc.find(f.g, raw, true, f.ms[:0]) {
		c := &f.counts[m.Entry]
		if int(*c) >= f.perWord || len(f.m.Words) >= f.max {
			continue
		}
		if *c == 0 {
			f.used = append(f.used, int32(m.Entry))
		}
		*c++
		f.m.Words = append(f.m.Words, Mark{int32(base + m.Start), int32(base + m.End), int32(m.Entry)})
	}
}

// ErrMarks is wrapped by AppendMarked and ParseMarks errors: the marks do
// not fit the page or the glossary (stale or corrupted); find them again.
var ErrMarks = errors.New("glossary: marks do not fit the page")

// AppendMarked appends page to dst with the marks m inserted as Annotate
// describes, with opt's NoList, NoStyle and NKLabel. It returns an error
// wrapping ErrMarks, and dst unchanged, if m does not fit page.
func (g *Glossary) AppendMarked(dst, page []byte, m Marks, opt Options) ([]byte, error) {
	if err := g.checkMarks(page, m); err != nil {
		return dst, err
	}
	if len(m.Words) == 0 {
		return append(dst, page...), nil
	}
	label := opt.NKLabel
	if label == "" {
		label = defaultNKLabel
	}
	style := !opt.NoStyle
	list := !opt.NoList && m.ListAt >= 0
	w := writer{g: g, label: label}
	if label != defaultNKLabel {
		w.label = html.EscapeString(label)
	}
	if list {
		// Only the list numbers marks (the first of each entry gets an id).
		w.first = g.getFirst()
		defer func() { g.putFirst(w.first, m.Words) }()
	}
	// The style goes before </head>, else inside the list, else before the
	// first mark.
	styleAt := -1
	if style {
		switch {
		case m.HeadAt >= 0:
			styleAt = m.HeadAt
		case !list:
			styleAt = int(m.Words[0].Start)
		}
	}
	listAt := m.ListAt
	styleInList := style && list && m.HeadAt < 0
	if list && styleAt > listAt {
		styleAt, styleInList = -1, true // a </head> after the list's place: keep the order
	}
	out := dst
	at := 0
	g.rendered()
	for _, mk := range m.Words {
		s := int(mk.Start)
		if styleAt >= 0 && styleAt <= s {
			out = append(out, page[at:styleAt]...)
			out = append(out, "<style>"+Style+"</style>\n"...)
			at, styleAt = styleAt, -1
		}
		out = append(out, page[at:s]...)
		if !list && w.label == defaultNKLabel {
			// The common case of a server, in one piece.
			out = append(out, `<abbr class="fg" tabindex="0" title="`...)
			out = append(out, g.titles[g.titleAt[mk.Entry]:g.titleAt[mk.Entry+1]]...)
			out = append(out, `">`...)
		} else {
			out = w.open(out, mk.Entry, list)
		}
		out = append(out, page[s:mk.End]...)
		out = append(out, "</abbr>"...)
		at = int(mk.End)
	}
	if styleAt >= 0 {
		out = append(out, page[at:styleAt]...)
		out = append(out, "<style>"+Style+"</style>\n"...)
		at = styleAt
	}
	if list {
		out = append(out, page[at:listAt]...)
		out = w.list(out, styleInList)
		at = listAt
	}
	return append(out, page[at:]...), nil
}

// checkMarks reports whether m can be applied to page.
func (g *Glossary) checkMarks(page []byte, m Marks) error {
	n := len(page)
	if m.HeadAt < -1 || m.HeadAt > n || m.ListAt < -1 || m.ListAt > n {
		return fmt.Errorf("an insertion offset outside the page of %d bytes: %w", n, ErrMarks)
	}
	prev := 0
	g.probes() // the packed headwords
	for _, w := range m.Words {
		s, e := int(w.Start), int(w.End)
		if s < prev || e <= s || e > n {
			return fmt.Errorf("mark %d-%d out of order or outside the page of %d bytes: %w", s, e, n, ErrMarks)
		}
		if w.Entry < 0 || int(w.Entry) >= len(g.entries) || string(g.headword(int(w.Entry))) != string(page[s:e]) {
			return fmt.Errorf("mark %d-%d is not the headword of entry %d: %w", s, e, w.Entry, ErrMarks)
		}
		if m.HeadAt > s && m.HeadAt < e {
			return fmt.Errorf("the style's place inside mark %d-%d: %w", s, e, ErrMarks)
		}
		prev = e
	}
	if m.ListAt >= 0 && m.ListAt < prev {
		return fmt.Errorf("the list's place before a mark: %w", ErrMarks)
	}
	return nil
}

// writer renders marks for AppendMarked.
type writer struct {
	g     *Glossary
	label string
	first []uint16 // entry → 1 + its number in the list, 0 if not yet marked
	used  []int32
}

// open appends the opening tag of a mark of entry i.
func (w *writer) open(out []byte, i int32, list bool) []byte {
	out = append(out, `<abbr class="fg" tabindex="0" title="`...)
	out = w.title(out, int(i))
	if list && w.first[i] == 0 {
		w.used = append(w.used, i)
		w.first[i] = uint16(min(len(w.used), 65535))
		if list {
			out = append(out, `" id="fg-w`...)
			out = strconv.AppendInt(out, int64(len(w.used)), 10)
		}
	}
	return append(out, `">`...)
}

// title appends the escaped title text of entry i.
func (w *writer) title(out []byte, i int) []byte {
	if w.label == defaultNKLabel {
		return append(out, w.g.rendered()[i].title...)
	}
	return appendTitle(out, &w.g.entries[i], w.label)
}

// appendTitle appends the escaped title text of e with the North Korean
// word after label (escaped).
func appendTitle(out []byte, e *Entry, label string) []byte {
	out = append(out, html.EscapeString(e.Explanation)...)
	if e.SameInNorth() {
		out = append(out, " ("...)
		out = append(out, label...)
		out = append(out, "에서도 같은 말)"...)
	} else if e.NK != "" {
		out = append(out, " ("...)
		out = append(out, label...)
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

func (a *finder) start(z *xhtml.Tokenizer, raw []byte, selfClosing bool) {
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

func (a *finder) end(rawName []byte) {
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

// list renders the marked words with origins and explanations, each
// linking back to its first mark, with the style inside when asked.
func (w *writer) list(out []byte, style bool) []byte {
	out = append(out, "\n<aside class=\"fg-list\" lang=\"ko\">"...)
	if style {
		out = append(out, "<style>"+Style+"</style>"...)
	}
	out = append(out, "<h2>"+ListHeading+"</h2><dl>\n"...)
	rend := w.g.rendered()
	for k, i := range w.used {
		e := &w.g.entries[i]
		r := &rend[i]
		out = append(out, `<dt><a href="#fg-w`...)
		out = strconv.AppendInt(out, int64(k+1), 10)
		out = append(out, `">`...)
		out = append(out, r.head...)
		out = append(out, r.explanation...)
		if e.SameInNorth() {
			out = append(out, ". "...)
			out = append(out, w.label...)
			out = append(out, "에서도 같은 말"...)
		} else if e.NK != "" {
			out = append(out, ". "...)
			out = append(out, w.label...)
			out = append(out, ": "...)
			out = append(out, r.nk...)
			if e.NKConf == Uncertain {
				out = append(out, " (확실하지 않음)"...)
			}
		}
		out = append(out, "</dd>\n"...)
	}
	return append(out, "</dl></aside>\n"...)
}

// renderedEntry is an entry's text as AppendMarked writes it, escaped
// once: the title with the default label, the explanation, the North
// Korean word, and the list's term up to its <dd>.
type renderedEntry struct {
	title, explanation, nk, head string
}

// rendered returns every entry's rendered text, made on first use.
func (g *Glossary) rendered() []renderedEntry {
	g.renderOnce.Do(func() {
		g.rend = make([]renderedEntry, len(g.entries))
		label := html.EscapeString(defaultNKLabel)
		for i := range g.entries {
			e := &g.entries[i]
			r := &g.rend[i]
			r.explanation = html.EscapeString(e.Explanation)
			r.nk = html.EscapeString(e.NK)
			head := html.EscapeString(e.Headword) + `</a>`
			if o := originText(e); o != "" {
				head += ` <small>` + html.EscapeString(o) + `</small>`
			}
			r.head = head + "</dt><dd>"
			r.title = string(appendTitle(nil, e, label))
		}
		g.titleAt = make([]uint32, len(g.entries)+1)
		for i := range g.rend {
			g.titles = append(g.titles, g.rend[i].title...)
			g.titleAt[i+1] = uint32(len(g.titles))
		}
	})
	return g.rend
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

// getFirst/putFirst pool the per-entry list numbers of AppendMarked.
func (g *Glossary) getFirst() []uint16 {
	if c, ok := g.firstPool.Get().(*[]uint16); ok {
		return *c
	}
	return make([]uint16, len(g.entries))
}

func (g *Glossary) putFirst(c []uint16, words []Mark) {
	for _, w := range words {
		c[w.Entry] = 0
	}
	g.firstPool.Put(&c)
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

// MarkedSize is about the size of AppendMarked's output for page and m
// (at least it, but for a label longer than 16 bytes), for callers to
// size its buffer: a few hundred bytes a mark less than a blind guess,
// which the allocator would otherwise clear for nothing.
func (g *Glossary) MarkedSize(page []byte, m Marks, opt Options) int {
	n := len(page) + len("<style>"+Style+"</style>\n")
	rend := g.rendered()
	list := !opt.NoList && m.ListAt >= 0
	if list {
		n += len("\n<aside class=\"fg-list\" lang=\"ko\"><h2>"+ListHeading+"</h2><dl>\n</dl></aside>\n") + 64
	}
	for _, w := range m.Words {
		if w.Entry < 0 || int(w.Entry) >= len(rend) {
			continue
		}
		n += len(`<abbr class="fg" tabindex="0" title="" id="fg-w65535"></abbr>`) + int(g.titleAt[w.Entry+1]-g.titleAt[w.Entry]) + 16
		if list {
			r := &rend[w.Entry]
			n += len(`<dt><a href="#fg-w65535"></dt><dd>. : (확실하지 않음)</dd>`+"\n") + len(r.head) + len(r.explanation) + len(r.nk) + 3*16
		}
	}
	return n
}

// MarkedOffset returns where offset off of page (a place between bytes)
// lands in AppendMarked's output for the same page, marks and options:
// after all the markup inserted at places before off, before any inserted
// at off itself; -1 for an offset past the list's place. A caller that
// located something in the page (where a bar goes) finds it in the output
// without scanning it again. m must fit the page (AppendMarked accepts it).
func (g *Glossary) MarkedOffset(m Marks, opt Options, off int) int {
	if len(m.Words) == 0 {
		return off
	}
	label := opt.NKLabel
	if label == "" {
		label = defaultNKLabel
	}
	list := !opt.NoList && m.ListAt >= 0
	if list && off > m.ListAt {
		return -1
	}
	styleAt := -1
	if !opt.NoStyle {
		switch {
		case m.HeadAt >= 0:
			styleAt = m.HeadAt
		case !list:
			styleAt = int(m.Words[0].Start)
		}
	}
	if list && styleAt > m.ListAt {
		styleAt = -1 // it goes into the list
	}
	n := off
	if styleAt >= 0 && styleAt < off {
		n += len("<style>" + Style + "</style>\n")
	}
	w := writer{g: g, label: label}
	if label != defaultNKLabel {
		w.label = html.EscapeString(label)
	}
	g.rendered()
	var used []int32 // entries marked so far, when the list numbers them
	var scratch []byte
	for _, mk := range m.Words {
		if int(mk.Start) >= off {
			break
		}
		if mk.Entry < 0 || int(mk.Entry) >= len(g.entries) {
			continue // marks that do not fit: AppendMarked refuses them
		}
		if w.label == defaultNKLabel {
			n += int(g.titleAt[mk.Entry+1] - g.titleAt[mk.Entry])
		} else {
			scratch = appendTitle(scratch[:0], &g.entries[mk.Entry], w.label)
			n += len(scratch)
		}
		n += len(`<abbr class="fg" tabindex="0" title="">`)
		if list && !slices.Contains(used, mk.Entry) {
			used = append(used, mk.Entry)
			n += len(` id="fg-w"`) + len(strconv.Itoa(len(used)))
		}
		if int(mk.End) < off {
			n += len("</abbr>")
		}
	}
	return n
}

// MarkedLen is the exact length of AppendMarked's output for page and m
// without the list (opt.NoList, or no place for it); with the list it is
// MarkedSize, an upper bound.
func (g *Glossary) MarkedLen(page []byte, m Marks, opt Options) int {
	if len(m.Words) == 0 {
		return len(page)
	}
	if !opt.NoList && m.ListAt >= 0 {
		return g.MarkedSize(page, m, opt)
	}
	n := g.MarkedOffset(m, opt, len(page))
	if int(m.Words[len(m.Words)-1].End) == len(page) {
		n += len("</abbr>") // inserted at the very end
	}
	return n
}
