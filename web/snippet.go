package web

import (
	"bytes"
	"iter"
	"sync"
	"unicode"
	"unicode/utf8"

	"ferry/archive"
	"ferry/htmltext"
	"ferry/search"
)

// A search result's snippet is cut from the page's visible text while it is
// being extracted: the text is read piece by piece, white space collapsed,
// only as far as the first word that matches the query plus the snippet
// window. Most pages match near the top, so most of each result page is
// never parsed; this keeps the search page cheap without a text cache.

// fragment is a piece of a snippet; Match marks a query word.
type fragment struct {
	Text  string
	Match bool
}

// queryTerms returns the index terms of the query, as a set.
func queryTerms(q string) map[string]bool {
	set := map[string]bool{}
	for _, t := range search.Terms(q) {
		set[t] = true
	}
	return set
}

const (
	// maxSnippetScan bounds the text searched for the first match (bytes
	// of collapsed text) and the words looked at.
	maxSnippetScan  = 256 << 10
	maxSnippetWords = 20000
	// titleLead: a copy of the title within this many bytes of the start
	// (the page's own heading) is dropped with what precedes it.
	titleLead = 400
)

// snippet cuts about max runes of text around the first word that shares
// an index term with the query, and marks every such word in the window.
// Words are matched through the same analyzer as the index, so "cards"
// marks "card" and "라지오" marks "라지오를".
func snippet(text string, terms map[string]bool, max int) []fragment {
	s := newTextStream(func() iter.Seq[string] {
		return func(yield func(string) bool) { yield(text) }
	}, "", nil, false)
	defer s.close()
	return s.snippet(terms, max)
}

// snippet cuts the snippet from the stream's text (see the package
// function), reading only as much of it as it needs.
func (s *textStream) snippet(terms map[string]bool, max int) []fragment {
	if max < 1 {
		return nil
	}
	s.fillTo(titleLead + len(s.title)) // the title cut is settled
	m := newMatcher(terms)

	// The first matching word.
	fs, first := -1, false
	pos := 0
	for n := 0; n < maxSnippetWords; n++ {
		ws, we, ok := s.word(pos)
		if !ok || ws >= maxSnippetScan {
			break
		}
		if m.match(s.buf[ws:we]) {
			fs, first = ws, n == 0
			break
		}
		pos = we
	}

	// Start a little before it, at a word boundary.
	start := 0
	if fs > 0 && !first {
		p := fs
		for n := 0; n < max/4-1 && p > 0; n++ {
			_, sz := utf8.DecodeLastRune(s.buf[:p])
			p -= sz
		}
		start = s.wordStartFrom(p)
	}

	// End after max runes.
	end, runes := start, 0
	for runes < max {
		if end == len(s.buf) && !s.fill() {
			break
		}
		_, sz := utf8.DecodeRune(s.buf[end:])
		end += sz
		runes++
	}
	more := end < len(s.buf) || s.fill()

	var out []fragment
	if start > 0 {
		out = append(out, fragment{Text: "… "})
	}
	pos = start
	for p := start; ; {
		ws, we, ok := s.word(p)
		if !ok || we > end {
			break
		}
		if m.match(s.buf[ws:we]) {
			if ws > pos {
				out = append(out, fragment{Text: string(s.buf[pos:ws])})
			}
			out = append(out, fragment{Text: string(s.buf[ws:we]), Match: true})
			pos = we
		}
		p = we
	}
	if pos < end {
		out = append(out, fragment{Text: string(s.buf[pos:end])})
	}
	if more {
		out = append(out, fragment{Text: " …"})
	}
	return out
}

// textStream is a page's visible text as far as it has been read, white
// space runs collapsed to one space and, when title occurs within the first
// titleLead bytes, the text up to and including it dropped (it is the
// page's own heading), so a snippet shows the article's own words. It can
// start from text held from an earlier read of the same page and parses the
// page again only if it needs more.
type textStream struct {
	open  func() iter.Seq[string] // the page's text from its start, in pieces
	title string
	buf   []byte
	done  bool // buf holds all the text

	next  func() (string, bool) // the parse in progress, if any
	stop  func()
	space bool // white space seen since the last word character
	cut   bool // the title cut is settled
}

// newTextStream returns a stream over open's text that already holds held
// (from an earlier stream over the same page and title; done if it was
// all). held is not modified.
func newTextStream(open func() iter.Seq[string], title string, held []byte, done bool) *textStream {
	return &textStream{open: open, title: title, buf: held[:len(held):len(held)], done: done, cut: len(held) > 0 || done}
}

// close ends the parse in progress.
func (s *textStream) close() {
	if s.stop != nil {
		s.stop()
		s.next, s.stop = nil, nil
	}
}

// fill appends more text; it reports false when none is left.
func (s *textStream) fill() bool {
	if s.done {
		return false
	}
	if s.next == nil {
		// Parse from the start; the text regenerated is what is held.
		held := len(s.buf)
		s.next, s.stop = iter.Pull(s.open())
		s.buf, s.space, s.cut = nil, false, false
		for len(s.buf) <= held {
			if !s.pull() {
				return len(s.buf) > held
			}
		}
		return true
	}
	return s.pull()
}

// pull appends the next non-empty piece of the parse.
func (s *textStream) pull() bool {
	for !s.done {
		piece, ok := s.next()
		if !ok {
			s.done = true
			s.settleCut()
			break
		}
		n := len(s.buf)
		for i := 0; i < len(piece); {
			c := piece[i]
			if c < utf8.RuneSelf {
				if c == ' ' || c >= '\t' && c <= '\r' {
					s.space = true
				} else {
					s.add(piece[i : i+1])
				}
				i++
				continue
			}
			r, sz := utf8.DecodeRuneInString(piece[i:])
			if unicode.IsSpace(r) {
				s.space = true
			} else {
				s.add(piece[i : i+sz])
			}
			i += sz
		}
		if len(s.buf) >= titleLead+len(s.title) {
			s.settleCut()
		}
		if len(s.buf) > n && s.cut {
			return true
		}
	}
	return false
}

// settleCut drops the title and what precedes it, once enough text is in.
func (s *textStream) settleCut() {
	if s.cut {
		return
	}
	s.cut = true
	if s.title == "" {
		return
	}
	if i := indexPrefix(s.buf, s.title, titleLead-1+len(s.title)); i >= 0 {
		rest := s.buf[i+len(s.title):]
		for len(rest) > 0 && rest[0] == ' ' {
			rest = rest[1:]
		}
		s.buf = append(s.buf[:0], rest...)
	}
}

func (s *textStream) add(b string) {
	if s.space && len(s.buf) > 0 {
		s.buf = append(s.buf, ' ')
	}
	s.space = false
	s.buf = append(s.buf, b...)
}

// fillTo reads until n bytes are held or the text ends.
func (s *textStream) fillTo(n int) {
	for len(s.buf) < n && s.fill() {
	}
}

// runeAt decodes the rune at i, reading more text if needed; ok is false
// at the end of the text.
func (s *textStream) runeAt(i int) (r rune, size int, ok bool) {
	for i >= len(s.buf) || !utf8.FullRune(s.buf[i:]) {
		if !s.fill() {
			if i >= len(s.buf) {
				return 0, 0, false
			}
			break
		}
	}
	if c := s.buf[i]; c < utf8.RuneSelf {
		return rune(c), 1, true
	}
	r, size = utf8.DecodeRune(s.buf[i:])
	return r, size, true
}

// word returns the next word at or after byte i: a run of letters, digits
// and marks.
func (s *textStream) word(i int) (start, end int, ok bool) {
	for {
		r, sz, ok := s.runeAt(i)
		if !ok {
			return 0, 0, false
		}
		if wordRune(r) {
			break
		}
		i += sz
	}
	start = i
	for {
		r, sz, ok := s.runeAt(i)
		if !ok || !wordRune(r) {
			return start, i, true
		}
		i += sz
	}
}

// wordStartFrom returns the first word start at or after p (p itself if a
// word starts there); p is at most a word start already held.
func (s *textStream) wordStartFrom(p int) int {
	if p > 0 {
		if prev, _ := utf8.DecodeLastRune(s.buf[:p]); wordRune(prev) {
			// p may be inside a word: go past it.
			for {
				r, sz, ok := s.runeAt(p)
				if !ok || !wordRune(r) {
					break
				}
				p += sz
			}
		}
	}
	ws, _, ok := s.word(p)
	if !ok {
		return p
	}
	return ws
}

// wordRune reports whether r belongs to a word: a letter, digit or mark.
func wordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r|0x20 >= 'a' && r|0x20 <= 'z' || r >= '0' && r <= '9'
	}
	if r >= 0xAC00 && r <= 0xD7A3 { // Hangul syllables
		return true
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
}

// indexPrefix is the index of sub in b[:n], or -1.
func indexPrefix(b []byte, sub string, n int) int {
	if n > len(b) {
		n = len(b)
	}
	for i := 0; i+len(sub) <= n; i++ {
		if string(b[i:i+len(sub)]) == sub {
			return i
		}
	}
	return -1
}

// matcher tells whether a word shares an index term with the query,
// remembering its answer per distinct word.
type matcher struct {
	terms  map[string]bool
	seen   map[string]bool
	lead   map[rune]bool
	filter bool
}

func newMatcher(terms map[string]bool) *matcher {
	lead, filter := firstRunes(terms)
	return &matcher{terms: terms, seen: map[string]bool{}, lead: lead, filter: filter}
}

func (m *matcher) match(b []byte) bool {
	if m.filter && !hasAny(b, m.lead) {
		return false
	}
	if v, ok := m.seen[string(b)]; ok {
		return v
	}
	w := string(b)
	v := false
	for _, t := range search.Terms(w) {
		if m.terms[t] {
			v = true
			break
		}
	}
	m.seen[w] = v
	return v
}

// firstRunes returns the first rune of every term, for a cheap test that
// skips words which cannot produce any of them. The analyzer only folds
// case (and full-width forms) and trims endings, so a term's first rune is
// in its word when it is an ASCII letter or digit or a Hangul syllable; for
// any other first rune the filter is off (ok false).
func firstRunes(terms map[string]bool) (set map[rune]bool, ok bool) {
	set = map[rune]bool{}
	for t := range terms {
		r, _ := utf8.DecodeRuneInString(t)
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 0xAC00 && r <= 0xD7A3) {
			return nil, false
		}
		set[r] = true
	}
	return set, len(set) > 0
}

// hasAny reports whether word holds one of the runes, after the
// analyzer's case and width folding.
func hasAny(word []byte, set map[rune]bool) bool {
	for i := 0; i < len(word); {
		r, sz := rune(word[i]), 1
		if r >= utf8.RuneSelf {
			r, sz = utf8.DecodeRune(word[i:])
		}
		i += sz
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		if set[r] {
			return true
		}
	}
	return false
}

// heldTexts keeps the text that snippets of recent results have read, so a
// page shown again (the next page of results, a repeated search) is not
// read and parsed again. It holds at most heldTextBytes; a page whose
// snippet needed more than maxHeldText is not kept.
type heldTexts struct {
	mu    sync.Mutex
	m     map[textKey]heldText
	order []textKey
	bytes int
}

type textKey struct {
	lib   *lib
	index int
}

type heldText struct {
	buf  []byte
	done bool
}

const (
	heldTextBytes = 4 << 20
	maxHeldText   = 128 << 10
)

// snippet cuts the snippet of entry e of l (see snippet).
func (c *heldTexts) snippet(l *lib, e archive.Entry, terms map[string]bool, max int) []fragment {
	k := textKey{l, e.Index}
	c.mu.Lock()
	t := c.m[k]
	c.mu.Unlock()
	s := newTextStream(func() iter.Seq[string] {
		b, err := l.Reader.ReadAll(e)
		if err != nil {
			return func(func(string) bool) {}
		}
		return htmltext.Pieces(b)
	}, e.Title, t.buf, t.done)
	defer s.close()
	frags := s.snippet(terms, max)
	if len(s.buf) > len(t.buf) && len(s.buf) <= maxHeldText || s.done && !t.done {
		c.put(k, heldText{bytes.Clone(s.buf), s.done})
	}
	return frags
}

func (c *heldTexts) put(k textKey, t heldText) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[textKey]heldText{}
	}
	if old, ok := c.m[k]; ok {
		if len(old.buf) >= len(t.buf) && (old.done || !t.done) {
			return // another request kept as much
		}
		c.bytes -= len(old.buf)
	} else {
		c.order = append(c.order, k)
	}
	c.m[k] = t
	c.bytes += len(t.buf)
	for c.bytes > heldTextBytes && len(c.order) > 1 {
		old := c.order[0]
		c.order = c.order[1:]
		c.bytes -= len(c.m[old].buf)
		delete(c.m, old)
	}
}
