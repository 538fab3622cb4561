package search

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MaxTermLen is the longest term, in bytes, the analyzer emits; longer words
// are cut at the last whole rune that fits. Readers rely on it to bound the
// size of a dictionary block's first term.
const MaxTermLen = 64

// rune classes of the tokenizer (docs/search-index.md, "Tokenisation").
const (
	clsSep    = iota // separator: space, punctuation, symbols, anything else
	clsHangul        // precomposed Hangul syllable U+AC00..U+D7A3
	clsCJK           // Han, Hiragana, Katakana (and the prolonged sound mark)
	clsWord          // other letters, digits and combining marks
)

// classify returns the class of r and the rune to use in a term (folded).
// The mark result reports a combining mark, which continues a word but never
// starts one.
func classify(r rune) (cls int, folded rune, mark bool) {
	switch {
	case r < 0x80:
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			return clsWord, r, false
		case 'A' <= r && r <= 'Z':
			return clsWord, r + ('a' - 'A'), false
		}
		return clsSep, r, false
	case 0xAC00 <= r && r <= 0xD7A3:
		return clsHangul, r, false
	case 0xFF01 <= r && r <= 0xFF5E: // fullwidth ASCII forms
		return classify(r - 0xFEE0)
	case 0x0660 <= r && r <= 0x0669: // Arabic-Indic digits
		return clsWord, '0' + r - 0x0660, false
	case 0x06F0 <= r && r <= 0x06F9: // extended Arabic-Indic digits
		return clsWord, '0' + r - 0x06F0, false
	case r == 0x0640 || (0x064B <= r && r <= 0x0652) || r == 0x0670:
		// Arabic tatweel and harakat: dropped inside words so that vocalised
		// and unvocalised spellings meet.
		return clsWord, -1, true
	case r == 0x0622 || r == 0x0623 || r == 0x0625: // alef with madda/hamza
		return clsWord, 0x0627, false
	case r == 0x30FC || (0xFF66 <= r && r <= 0xFF9F):
		return clsCJK, r, false
	case unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r):
		return clsCJK, r, false
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		return clsWord, unicode.ToLower(r), false
	case unicode.IsMark(r):
		return clsWord, r, true
	}
	return clsSep, r, false
}

func isApostrophe(r rune) bool { return r == '\'' || r == 0x2019 }

// Korean particles (josa) and copula endings stripped from the end of a
// Hangul word when at least two syllables remain; longest match first. Both
// documents and queries go through the same rule, so "대통령이" and
// "대통령의" both index as 대통·통령.
var particles = func() map[rune][][]rune {
	list := []string{
		"에서는", "에서도", "에서의", "에게는", "에게서", "으로서", "으로써", "으로는", "으로도", "으로의",
		"이라는", "이라고", "이었다", "이었던", "이지만",
		"에서", "에게", "께서", "한테", "으로", "로서", "로써", "로는", "부터", "까지", "마저", "조차",
		"처럼", "보다", "이나", "이며", "이다", "이고", "이란", "에는", "에도", "에의", "와의", "과의",
		"와는", "과는", "만의", "만을", "만이", "라는", "라고", "이라", "들이", "들은", "들을", "들의",
		"은", "는", "이", "가", "을", "를", "의", "에", "와", "과", "도", "로", "만", "께",
	}
	out := map[rune][][]rune{} // by last syllable, longest first (list order)
	for _, s := range list {
		r := []rune(s)
		out[r[len(r)-1]] = append(out[r[len(r)-1]], r)
	}
	return out
}()

// stripParticles switches particle stripping; it was measured against
// plain bigrams on KorQuAD (docs/search-index.md) and stays on.
const stripParticles = true

// stemLen reports how many syllables of w form the stem: w minus its
// longest particle suffix, if at least two syllables remain.
func stemLen(w []rune) int {
	if !stripParticles {
		return len(w)
	}
	if len(w) < 3 {
		return len(w)
	}
	for _, p := range particles[w[len(w)-1]] {
		n := len(w) - len(p)
		if n < 2 {
			continue
		}
		match := true
		for i, r := range p {
			if w[n+i] != r {
				match = false
				break
			}
		}
		if match {
			return n
		}
	}
	return len(w)
}

// tokenizer turns text into terms. It keeps scratch buffers, so one
// tokenizer must not be used by two goroutines at once.
type tokenizer struct {
	runes []rune // current run's folded runes
	offs  []int  // byte offset of each rune in the run, plus the end
	term  []byte
}

// emitFunc receives each term with its byte span in the NFC form of the
// text. term is only valid during the call.
type emitFunc func(term []byte, start, end int)

// tokenize normalises s to NFC and calls emit for every term in order. It
// returns the NFC text the offsets refer to.
func (t *tokenizer) tokenize(s string, emit emitFunc) string {
	s = norm.NFC.String(s)
	cls := clsSep
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		c, f, mark := classify(r)
		if mark && cls == clsWord {
			if f >= 0 {
				t.runes = append(t.runes, f)
				t.offs = append(t.offs, i)
			}
			i += size
			continue
		}
		if c == clsSep && cls == clsWord && isApostrophe(r) && len(t.runes) > 0 {
			// An apostrophe between two letters stays in the word ("don't").
			if r2, _ := utf8.DecodeRuneInString(s[i+size:]); i+size < len(s) {
				if c2, _, m2 := classify(r2); c2 == clsWord && !m2 {
					t.runes = append(t.runes, '\'')
					t.offs = append(t.offs, i)
					i += size
					continue
				}
			}
		}
		if mark {
			c = clsSep
		}
		if c != cls {
			t.flush(cls, i, emit)
			cls = c
		}
		if c != clsSep {
			t.runes = append(t.runes, f)
			t.offs = append(t.offs, i)
		}
		i += size
	}
	t.flush(cls, len(s), emit)
	return s
}

// flush emits the terms of the run collected so far, which ends at byte end.
func (t *tokenizer) flush(cls int, end int, emit emitFunc) {
	n := len(t.runes)
	if n == 0 {
		return
	}
	t.offs = append(t.offs, end)
	switch cls {
	case clsHangul, clsCJK:
		if cls == clsHangul {
			n = stemLen(t.runes)
		}
		if n == 1 {
			t.emitRunes(0, 1, emit)
		}
		for i := 0; i+1 < n; i++ {
			t.emitRunes(i, i+2, emit)
		}
	case clsWord:
		t.term = t.term[:0]
		ascii := true
		for _, r := range t.runes {
			if !('a' <= r && r <= 'z' || r == '\'') {
				ascii = false
			}
			t.term = utf8.AppendRune(t.term, r)
		}
		if ascii {
			t.term = stemEnglish(t.term)
		}
		if len(t.term) > 0 {
			emit(truncTerm(t.term), t.offs[0], end)
		}
	}
	t.runes = t.runes[:0]
	t.offs = t.offs[:0]
}

func (t *tokenizer) emitRunes(i, j int, emit emitFunc) {
	t.term = t.term[:0]
	for _, r := range t.runes[i:j] {
		t.term = utf8.AppendRune(t.term, r)
	}
	emit(t.term, t.offs[i], t.offs[j])
}

// truncTerm cuts b to at most MaxTermLen bytes at a rune boundary.
func truncTerm(b []byte) []byte {
	if len(b) <= MaxTermLen {
		return b
	}
	n := MaxTermLen
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return b[:n]
}

// Terms returns the index terms of s in order, as the index and queries see
// them: NFC, case-folded, English words stemmed, Hangul words as syllable
// bigrams without trailing particles, Han/Kana runs as bigrams. It is exposed
// so that other tools (and tests) can check tokenisation.
func Terms(s string) []string {
	var t tokenizer
	var out []string
	t.tokenize(s, func(term []byte, _, _ int) { out = append(out, string(term)) })
	return out
}
