package search

import (
	"iter"
	"unicode"
	"unicode/utf8"
)

// A search result's snippet is cut from the page's visible text while it is
// being extracted: the text is read piece by piece, white space collapsed,
// only as far as the first word that matches the query plus the snippet
// window. Most pages match near the top, so most of a result page is never
// parsed. The web reader and the command line cut snippets here, so they
// show the same snippet for the same hit.

// Fragment is a piece of a snippet. Match marks a word that shares an
// index term with the query; callers escape Text and highlight matches as
// their medium needs.
type Fragment struct {
	Text  string
	Match bool
}

// SnippetRunes is the usual length of a result's snippet, in runes.
const SnippetRunes = 220

const (
	// maxSnippetScan bounds the text searched for the first match (bytes
	// of collapsed text) and the words looked at.
	maxSnippetScan  = 256 << 10
	maxSnippetWords = 20000
	// maxStreamText bounds the text a stream reads, whatever the page.
	maxStreamText = maxSnippetScan + 16<<10
	// titleLead: a copy of the title within this many bytes of the start
	// (the page's own heading) is dropped with what precedes it.
	titleLead = 400
)

// Snippet cuts about max runes of text around the first word that shares
// an index term with the query, and marks every such word in the window.
// Words are matched through the same analyzer as the index, so "cards"
// marks "card" and "라지오" marks "라지오를".
func Snippet(text, query string, max int) []Fragment {
	s := NewText(func() (iter.Seq[string], error) {
		return func(yield func(string) bool) { yield(text) }, nil
	}, "", nil, false)
	defer s.Close()
	return s.Snippet(NewMatcher(query), max)
}

// Snippet cuts about max runes of the text around the first word that
// shares an index term with m's query and marks every such word in the
// window (see the package function Snippet), reading only as much of the
// text as it needs.
func (s *Text) Snippet(m *Matcher, max int) []Fragment {
	if max < 1 {
		return nil
	}
	s.fillTo(titleLead + len(s.title)) // the title cut is settled

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
	more := end < len(s.buf) || s.fill() || s.truncated

	var out []Fragment
	if start > 0 {
		out = append(out, Fragment{Text: "… "})
	}
	pos = start
	for p := start; ; {
		ws, we, ok := s.word(p)
		if !ok || we > end {
			break
		}
		if m.match(s.buf[ws:we]) {
			if ws > pos {
				out = append(out, Fragment{Text: string(s.buf[pos:ws])})
			}
			out = append(out, Fragment{Text: string(s.buf[ws:we]), Match: true})
			pos = we
		}
		p = we
	}
	if pos < end {
		out = append(out, Fragment{Text: string(s.buf[pos:end])})
	}
	if more {
		out = append(out, Fragment{Text: " …"})
	}
	return out
}

// Text is a page's visible text as far as it has been read, white
// space runs collapsed to one space and, when title occurs within the first
// titleLead bytes, the text up to and including it dropped (it is the
// page's own heading), so a snippet shows the article's own words. It can
// start from text held from an earlier read of the same page and parses the
// page again only if it needs more.
type Text struct {
	open      func() (iter.Seq[string], error) // the page's text from its start, in pieces
	title     string
	buf       []byte
	done      bool  // buf holds all the text (or all it may hold)
	truncated bool  // the text goes on past maxStreamText
	err       error // open failed

	next  func() (string, bool) // the parse in progress, if any
	stop  func()
	space bool // white space seen since the last word character
	cut   bool // the title cut is settled
}

// NewText returns a stream over open's text that already holds held
// (from an earlier stream over the same page and title; done if it was
// all). held is not modified.
func NewText(open func() (iter.Seq[string], error), title string, held []byte, done bool) *Text {
	return &Text{open: open, title: title, buf: held[:len(held):len(held)], done: done, cut: len(held) > 0 || done}
}

// Held returns the text read so far (collapsed, title cut) and whether it
// is all of it, for a cache to hand to the next NewText over the same page.
// The bytes must not be modified.
func (s *Text) Held() (text []byte, done bool) { return s.buf, s.done }

// Err returns the error of reading the page, if its text could not be read
// (what was held is still used).
func (s *Text) Err() error { return s.err }

// Close ends the parse in progress (a Text may be used again after it).
func (s *Text) Close() {
	if s.stop != nil {
		s.stop()
		s.next, s.stop = nil, nil
	}
}

// fill appends more text; it reports false when none is left.
func (s *Text) fill() bool {
	if s.done {
		return false
	}
	if s.next == nil {
		// Parse from the start; the text regenerated is what is held.
		held := s.buf
		seq, err := s.open()
		if err != nil {
			s.err, s.done = err, true // keep what is held
			return false
		}
		s.next, s.stop = iter.Pull(seq)
		s.buf, s.space, s.cut = nil, false, false
		for len(s.buf) <= len(held) {
			if !s.pull() {
				if len(s.buf) < len(held) {
					// The page read back shorter than before (it should
					// not): keep the positions already taken valid.
					s.buf, s.cut = held, true
				}
				return len(s.buf) > len(held)
			}
		}
		return true
	}
	return s.pull()
}

// pull appends the next non-empty piece of the parse.
func (s *Text) pull() bool {
	for !s.done {
		piece, ok := s.next()
		if !ok {
			s.done = true
			s.settleCut()
			break
		}
		n := len(s.buf)
		for i := 0; i < len(piece) && len(s.buf) < maxStreamText; {
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
		if len(s.buf) >= maxStreamText {
			// Enough for any snippet: read no further.
			s.done, s.truncated = true, true
			s.settleCut()
			return len(s.buf) > n
		}
		if len(s.buf) > n && s.cut {
			return true
		}
	}
	return false
}

// settleCut drops the title and what precedes it, once enough text is in.
func (s *Text) settleCut() {
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

func (s *Text) add(b string) {
	if s.space && len(s.buf) > 0 {
		s.buf = append(s.buf, ' ')
	}
	s.space = false
	s.buf = append(s.buf, b...)
}

// fillTo reads until n bytes are held or the text ends.
func (s *Text) fillTo(n int) {
	for len(s.buf) < n && s.fill() {
	}
}

// runeAt decodes the rune at i, reading more text if needed; ok is false
// at the end of the text.
func (s *Text) runeAt(i int) (r rune, size int, ok bool) {
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
func (s *Text) word(i int) (start, end int, ok bool) {
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
func (s *Text) wordStartFrom(p int) int {
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

// Matcher tells whether a word shares an index term with the query,
// remembering its answer per distinct word (one Matcher serves all the
// snippets of a result page; it is not safe for concurrent use). A quick pre-test (mayMatch)
// skips most words without running the analyzer.
type Matcher struct {
	terms  map[string]bool
	seen   map[string]bool
	filter bool            // the pre-test applies to every term
	lead   [128]bool       // first letters of the ASCII terms
	hangul map[string]bool // the Hangul terms (syllables and bigrams)
}

// NewMatcher returns the matcher of a query's index terms.
func NewMatcher(query string) *Matcher {
	terms := map[string]bool{}
	for _, t := range Terms(query) {
		terms[t] = true
	}
	return newMatcher(terms)
}

func newMatcher(terms map[string]bool) *Matcher {
	m := &Matcher{terms: terms, seen: map[string]bool{}, hangul: map[string]bool{}, filter: len(terms) > 0}
	for t := range terms {
		switch r, _ := utf8.DecodeRuneInString(t); {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			m.lead[r] = true
		case isSyllables(t):
			m.hangul[t] = true
		default:
			m.filter = false
		}
	}
	return m
}

func (m *Matcher) match(b []byte) bool {
	if m.filter && !m.mayMatch(b) {
		return false
	}
	if v, ok := m.seen[string(b)]; ok {
		return v
	}
	v := m.exact(b)
	m.seen[string(b)] = v
	return v
}

// exact runs the analyzer on the word.
func (m *Matcher) exact(b []byte) bool {
	for _, t := range Terms(string(b)) {
		if m.terms[t] {
			return true
		}
	}
	return false
}

// mayMatch is false only for words that cannot produce a query term. The
// analyzer folds case and full-width forms, stems English words from their
// end, and cuts Hangul words into syllables or bigrams of syllables: so an
// ASCII term starts where a run of ASCII letters and digits starts (the
// word's start, or after a non-ASCII rune), and a Hangul term is in its
// word as it is, unless the word holds conjoining jamo (which NFC would
// compose into syllables) or full-width forms.
func (m *Matcher) mayMatch(word []byte) bool {
	runStart := true
	for i := 0; i < len(word); {
		c := word[i]
		if c < utf8.RuneSelf {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if runStart && m.lead[c] {
				return true
			}
			runStart = false
			i++
			continue
		}
		r, sz := utf8.DecodeRune(word[i:])
		switch {
		case r >= 0xAC00 && r <= 0xD7A3:
			// A term of one syllable, or of two, starting here.
			if m.hangul[string(word[i:i+sz])] || i+2*sz <= len(word) && m.hangul[string(word[i:i+2*sz])] {
				return true
			}
		case r >= 0xFF01 && r <= 0xFF5E, r >= 0x1100 && r <= 0x11FF, r >= 0xA960 && r <= 0xA97F, r >= 0xD7B0 && r <= 0xD7FF,
			r == 0x0130, r == 0x212A, r >= 0x0660 && r <= 0x0669, r >= 0x06F0 && r <= 0x06F9:
			// Full-width forms, conjoining jamo, and the letters and digits
			// the analyzer folds to ASCII (İ, the Kelvin sign, Arabic-Indic
			// digits): the analyzer decides.
			return true
		}
		runStart = true
		i += sz
	}
	return false
}

// isSyllables reports whether s is all precomposed Hangul syllables.
func isSyllables(s string) bool {
	for _, r := range s {
		if r < 0xAC00 || r > 0xD7A3 {
			return false
		}
	}
	return s != ""
}
