package seal

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Strength is the verdict of RatePassphrase.
type Strength int

const (
	// Weak passphrases fall to a guessing attack within days to months.
	Weak Strength = iota
	// Fair passphrases hold for years against one machine, not against a
	// state's cluster.
	Fair
	// Strong passphrases hold against a state's cluster for decades.
	Strong
)

func (s Strength) String() string {
	switch s {
	case Weak:
		return "weak"
	case Fair:
		return "fair"
	}
	return "strong"
}

// Thresholds of the estimate, in bits (docs/seal.md, "Passphrase strength").
const (
	fairBits   = 45
	strongBits = 65
	// minRunes is the shortest passphrase not called weak whatever it holds.
	minRunes = 10
	// maxRated bounds the characters rated (and the work).
	maxRated = 256
)

// isSeparator reports the characters people put between words.
func isSeparator(c rune) bool { return c == ' ' || c == '-' || c == '_' || c == '.' || c == ',' }

// A Rating is an estimate of how hard a passphrase is to guess.
type Rating struct {
	// Bits estimates the guesses needed as a power of two (about half of
	// 2^Bits on average). It is meant to err low.
	Bits float64
	// Strength is Weak, Fair or Strong, from Bits and the length.
	Strength Strength
	// Advice says, in plain words, what makes it weak and what would help
	// (empty for a strong passphrase).
	Advice []string
}

// RatePassphrase estimates the strength of a passphrase for a sealed
// container, so that a command can warn before it locks a library with one
// that an adversary holding the card could guess. The estimate (written
// down in docs/seal.md) charges each part of the passphrase by the cheapest
// way a guesser would produce it: a common password or word from a small
// built-in list, a run of one character, a sequence (abcd, 4321, qwerty,
// a Korean keyboard row), a year or date, a run of letters (taken to form
// words), and otherwise each character by the classes the passphrase
// uses. It never looks anything up outside the program and keeps nothing.
func RatePassphrase(pass string) Rating {
	p := []rune(norm.NFC.String(pass))
	if len(p) > maxRated {
		p = p[:maxRated] // longer ones are strong on their first part alone
	}
	pool := classPool(p)
	var bits float64
	var advice []string
	note := func(s string) {
		for _, a := range advice {
			if a == s {
				return
			}
		}
		advice = append(advice, s)
	}
	// lower is p in lower case, plain also with look-alike digits and
	// signs read as the letters they stand for (p4ssw0rd): rune for rune.
	lower, plain := make([]rune, len(p)), make([]rune, len(p))
	for i, c := range p {
		lower[i] = unicode.ToLower(c)
		plain[i] = lower[i]
		if l, ok := leet[c]; ok {
			plain[i] = l
		}
	}
	for i := 0; i < len(p); {
		n := commonAt(lower, i)
		if n == 0 {
			n = commonAt(plain, i)
		}
		if n > 0 {
			bits += commonBits
			note(fmt.Sprintf("%q is a common password or word", string(p[i:i+n])))
			i += n
			continue
		}
		if n := repeatAt(p, i); n >= 3 {
			bits += math.Log2(pool) + math.Log2(float64(n))
			note("avoid repeated characters")
			i += n
			continue
		}
		if n := sequenceAt(lower, i); n >= 3 {
			bits += math.Log2(pool) + math.Log2(float64(n)) + 1
			note(fmt.Sprintf("%q is a sequence on the keyboard or in the alphabet", string(p[i:i+n])))
			i += n
			continue
		}
		if n, b := dateAt(p, i); n > 0 {
			bits += b
			note("avoid years and dates")
			i += n
			continue
		}
		if n := wordRunAt(lower, plain, i); n >= 3 || (n > 0 && unicode.Is(unicode.Hangul, p[i])) {
			// Letters that run on are most likely words: charged at what
			// text carries per letter (2 bits a Latin letter, 6 a Hangul
			// syllable), not at the alphabet's size, plus a bit for each
			// capital and each look-alike substitution.
			per := 2.0
			if unicode.Is(unicode.Hangul, p[i]) {
				per = 6
			}
			bits += per * float64(n)
			for k := i; k < i+n; k++ {
				if p[k] != lower[k] || lower[k] != plain[k] {
					bits++
				}
			}
			i += n
			continue
		}
		if isSeparator(p[i]) && i > 0 && i+1 < len(p) && unicode.IsLetter(p[i-1]) && unicode.IsLetter(p[i+1]) {
			bits += 2 // a space or dash between words: one of a few
		} else {
			bits += math.Log2(pool)
		}
		i++
	}
	r := Rating{Bits: math.Round(bits*10) / 10}
	switch {
	case len(p) < minRunes || r.Bits < fairBits:
		r.Strength = Weak
	case r.Bits < strongBits:
		r.Strength = Fair
	default:
		r.Strength = Strong
	}
	if len(p) < minRunes {
		note(fmt.Sprintf("it is %d characters long; use at least %d", len(p), minRunes))
	}
	if r.Strength != Strong {
		note("several unrelated words, with a digit or sign between them, make a passphrase that is long, strong and easy to remember")
		r.Advice = advice
	}
	return r
}

// leet maps the digits and signs people put for look-alike letters.
var leet = map[rune]rune{'0': 'o', '1': 'l', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's', '!': 'i'}

// classPool is the number of characters a guesser must try for each
// position: the sizes of the classes the passphrase draws from.
func classPool(p []rune) float64 {
	var lower, upper, digit, symbol, hangul, other bool
	for _, c := range p {
		switch {
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= '0' && c <= '9':
			digit = true
		case c < utf8.RuneSelf:
			symbol = true
		case unicode.Is(unicode.Hangul, c):
			hangul = true
		default:
			other = true
		}
	}
	n := 0.0
	for _, c := range []struct {
		used bool
		size float64
	}{{lower, 26}, {upper, 26}, {digit, 10}, {symbol, 33}, {hangul, 2350}, {other, 100}} {
		if c.used {
			n += c.size
		}
	}
	return max(n, 2)
}

// commonBits is what one entry of the common list costs a guesser: such
// lists are tried first, and ours stands for lists of about 2^14 entries.
const commonBits = 14

// commonWords are passwords and words that guessers try first (the most
// common passwords of published leaks, Korean ones among them, and words a
// ferry user might pick). Matched in lower case, longest first.
var commonWords = func() [][]rune {
	w := strings.Fields(`password passw0rd p@ssw0rd passphrase qwerty qwertyuiop asdfgh zxcvbn
		123456 1234567 12345678 123456789 1234567890 123123 111111 000000 654321 112233 121212
		iloveyou letmein welcome monkey dragon master shadow sunshine princess football baseball
		superman batman trustno1 abc123 admin root secret default guest love hello freedom
		whatever computer internet samsung korea seoul pyongyang chosun ferry library hidden
		outer decoy seal 사랑 사랑해 사랑해요 비밀 비밀번호 암호 조선 평양 서울 한국 대한민국
		안녕 안녕하세요 자유 통일 행복 우리 김정은 김일성 김정일`)
	// Longest first, so "password" wins over "pass".
	for i := 1; i < len(w); i++ {
		for j := i; j > 0 && utf8.RuneCountInString(w[j]) > utf8.RuneCountInString(w[j-1]); j-- {
			w[j], w[j-1] = w[j-1], w[j]
		}
	}
	r := make([][]rune, len(w))
	for i, s := range w {
		r[i] = []rune(s)
	}
	return r
}()

// commonAt returns the length of the common word starting at p[i], or 0.
func commonAt(p []rune, i int) int {
	for _, w := range commonWords {
		if len(w) <= len(p)-i && slices.Equal(p[i:i+len(w)], w) {
			return len(w)
		}
	}
	return 0
}

// repeatAt returns how many times p[i] repeats from i on.
func repeatAt(p []rune, i int) int {
	n := 1
	for i+n < len(p) && p[i+n] == p[i] {
		n++
	}
	return n
}

// keyboardRows are rows of the US and Korean (2-set) keyboards, whose runs
// guessers try like alphabet runs.
var keyboardRows = [][]rune{[]rune("`1234567890-="), []rune("qwertyuiop[]"), []rune("asdfghjkl;'"), []rune("zxcvbnm,./"),
	[]rune("ㅂㅈㄷㄱㅅㅛㅕㅑㅐㅔ"), []rune("ㅁㄴㅇㄹㅎㅗㅓㅏㅣ"), []rune("ㅋㅌㅊㅍㅠㅜㅡ")}

// sequenceAt returns the length of the run from p[i] whose characters go up
// or down by one code point (abc, 987, 가각갂) or along a keyboard row,
// either way; 1 when there is none.
func sequenceAt(p []rune, i int) int {
	best := 1
	for _, step := range []rune{1, -1} {
		n := 1
		for i+n < len(p) && p[i+n]-p[i+n-1] == step {
			n++
		}
		best = max(best, n)
	}
	for _, r := range keyboardRows {
		for _, dir := range []int{1, -1} {
			for k := range r {
				if r[k] != p[i] {
					continue
				}
				n := 1
				for i+n < len(p) && k+dir*n >= 0 && k+dir*n < len(r) && p[i+n] == r[k+dir*n] {
					n++
				}
				best = max(best, n)
			}
		}
	}
	return best
}

// dateAt recognises a year (1900-2099) or an eight-digit date
// (YYYYMMDD or DDMMYYYY) at p[i] and returns its length and its cost: a
// year is one of 200, a date one of about 73,000.
func dateAt(p []rune, i int) (int, float64) {
	digits := 0
	for i+digits < len(p) && p[i+digits] >= '0' && p[i+digits] <= '9' {
		digits++
	}
	s := string(p[i : i+digits])
	switch {
	case digits == 8 && (yearLike(s[:4]) || yearLike(s[4:])):
		return 8, math.Log2(200 * 366)
	case digits >= 4 && yearLike(s[:4]):
		return 4, math.Log2(200)
	}
	return 0, 0
}

func yearLike(s string) bool {
	return len(s) == 4 && (s[:2] == "19" || s[:2] == "20")
}

// wordRunAt returns the length of the letter run at i, reading look-alikes
// as letters (plain) only where they are few among real letters (p4ssw0rd,
// not w9$Ra!2k): a word written in disguise, not random signs.
func wordRunAt(lower, plain []rune, i int) int {
	n := letterRunAt(plain, i)
	subs := 0
	for k := i; k < i+n; k++ {
		if lower[k] != plain[k] {
			subs++
		}
	}
	if subs == 0 || (n >= 4 && 3*subs <= n) {
		return n
	}
	return letterRunAt(lower, i)
}

// letterRunAt returns the length of the run of letters of one script (Latin
// or Hangul) starting at p[i].
func letterRunAt(p []rune, i int) int {
	script := func(c rune) int {
		switch {
		case c < utf8.RuneSelf && unicode.IsLetter(c):
			return 1
		case unicode.Is(unicode.Hangul, c) && unicode.IsLetter(c):
			return 2
		}
		return 0
	}
	s := script(p[i])
	if s == 0 {
		return 0
	}
	n := 1
	for i+n < len(p) && script(p[i+n]) == s {
		n++
	}
	return n
}
