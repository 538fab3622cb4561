package search

import "bytes"

// stemEnglish reduces a lower-case ASCII word (letters and apostrophes) to
// its stem with the Porter2 ("English Snowball") algorithm, written from the
// published description. It may reuse w's storage.
func stemEnglish(w []byte) []byte {
	if len(w) <= 2 {
		return w
	}
	if s, ok := porterExceptions[string(w)]; ok {
		return append(w[:0], s...)
	}
	if w[0] == '\'' {
		w = w[1:]
	}
	// Mark y as consonant (Y) at the start and after a vowel.
	for i := range w {
		if w[i] == 'y' && (i == 0 || isVowel(w[i-1])) {
			w[i] = 'Y'
		}
	}
	r1, r2 := regions(w)

	// Step 0: apostrophe suffixes.
	for _, suf := range []string{"'s'", "'s", "'"} {
		if hasSuffix(w, suf) {
			w = w[:len(w)-len(suf)]
			break
		}
	}
	// Step 1a.
	switch {
	case hasSuffix(w, "sses"):
		w = w[:len(w)-2]
	case hasSuffix(w, "ied"), hasSuffix(w, "ies"):
		if len(w) > 4 {
			w = w[:len(w)-2]
		} else {
			w = w[:len(w)-1]
		}
	case hasSuffix(w, "us"), hasSuffix(w, "ss"):
	case hasSuffix(w, "s"):
		// delete if a vowel occurs before the letter preceding the s
		for i := 0; i+2 < len(w); i++ {
			if isVowel(w[i]) {
				w = w[:len(w)-1]
				break
			}
		}
	}
	switch string(w) {
	case "inning", "outing", "canning", "herring", "earring", "proceed", "exceed", "succeed":
		return fixY(w)
	}
	// Step 1b.
	if suf := longest(w, "eedly", "ingly", "edly", "eed", "ing", "ed"); suf != "" {
		stem := w[:len(w)-len(suf)]
		if suf == "eed" || suf == "eedly" {
			if len(stem) >= r1 {
				w = append(stem, "ee"...)
			}
		} else if hasVowel(stem) {
			w = stem
			switch {
			case hasSuffix(w, "at"), hasSuffix(w, "bl"), hasSuffix(w, "iz"):
				w = append(w, 'e')
			case endsDouble(w):
				w = w[:len(w)-1]
			case isShortWord(w, r1):
				w = append(w, 'e')
			}
		}
	}
	// Step 1c.
	if n := len(w); n > 2 && (w[n-1] == 'y' || w[n-1] == 'Y') && !isVowel(w[n-2]) {
		w[n-1] = 'i'
	}
	// Step 2.
	if suf := longest(w, step2Suffixes...); suf != "" && len(w)-len(suf) >= r1 {
		stem := w[:len(w)-len(suf)]
		switch suf {
		case "ogi":
			if hasSuffix(stem, "l") {
				w = append(stem, "og"...)
			}
		case "li":
			if n := len(stem); n > 0 && bytes.IndexByte([]byte("cdeghkmnrt"), stem[n-1]) >= 0 {
				w = stem
			}
		default:
			w = append(stem, step2[suf]...)
		}
	}
	// Step 3.
	if suf := longest(w, step3Suffixes...); suf != "" && len(w)-len(suf) >= r1 {
		stem := w[:len(w)-len(suf)]
		if suf == "ative" {
			if len(stem) >= r2 {
				w = stem
			}
		} else {
			w = append(stem, step3[suf]...)
		}
	}
	// Step 4.
	if suf := longest(w, step4Suffixes...); suf != "" && len(w)-len(suf) >= r2 {
		stem := w[:len(w)-len(suf)]
		if suf == "ion" {
			if hasSuffix(stem, "s") || hasSuffix(stem, "t") {
				w = stem
			}
		} else {
			w = stem
		}
	}
	// Step 5.
	if n := len(w); n > 0 {
		switch w[n-1] {
		case 'e':
			if n-1 >= r2 || (n-1 >= r1 && !endsShortSyllable(w[:n-1])) {
				w = w[:n-1]
			}
		case 'l':
			if n-1 >= r2 && n >= 2 && w[n-2] == 'l' {
				w = w[:n-1]
			}
		}
	}
	return fixY(w)
}

var porterExceptions = map[string]string{
	"skis": "ski", "skies": "sky", "dying": "die", "lying": "lie", "tying": "tie",
	"idly": "idl", "gently": "gentl", "ugly": "ugli", "early": "earli", "only": "onli",
	"singly": "singl", "sky": "sky", "news": "news", "howe": "howe", "atlas": "atlas",
	"cosmos": "cosmos", "bias": "bias", "andes": "andes",
}

var step2 = map[string]string{
	"tional": "tion", "enci": "ence", "anci": "ance", "abli": "able", "entli": "ent",
	"izer": "ize", "ization": "ize", "ational": "ate", "ation": "ate", "ator": "ate",
	"alism": "al", "aliti": "al", "alli": "al", "fulness": "ful", "ousli": "ous",
	"ousness": "ous", "iveness": "ive", "iviti": "ive", "biliti": "ble", "bli": "ble",
	"fulli": "ful", "lessli": "less", "ogi": "", "li": "",
}

var step3 = map[string]string{
	"tional": "tion", "ational": "ate", "alize": "al", "icate": "ic", "iciti": "ic",
	"ical": "ic", "ful": "", "ness": "", "ative": "",
}

var (
	step2Suffixes = keys(step2)
	step3Suffixes = keys(step3)
	step4Suffixes = []string{"al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement",
		"ment", "ent", "ism", "ate", "iti", "ous", "ive", "ize", "ion"}
)

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func isVowel(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}

func hasVowel(w []byte) bool {
	for _, c := range w {
		if isVowel(c) {
			return true
		}
	}
	return false
}

func hasSuffix(w []byte, s string) bool {
	return len(w) >= len(s) && string(w[len(w)-len(s):]) == s
}

// longest returns the longest of sufs that w ends with, or "".
func longest(w []byte, sufs ...string) string {
	best := ""
	for _, s := range sufs {
		if len(s) > len(best) && hasSuffix(w, s) {
			best = s
		}
	}
	return best
}

// regions returns the start of R1 and R2 (len(w) when empty).
func regions(w []byte) (r1, r2 int) {
	next := func(from int) int {
		for i := from + 1; i < len(w); i++ {
			if !isVowel(w[i]) && isVowel(w[i-1]) {
				return i + 1
			}
		}
		return len(w)
	}
	r1 = -1
	for _, p := range []string{"gener", "commun", "arsen"} {
		if len(w) >= len(p) && string(w[:len(p)]) == p {
			r1 = len(p)
		}
	}
	if r1 < 0 {
		r1 = next(0)
		if r1 > len(w) {
			r1 = len(w)
		}
	}
	r2 = next(r1)
	if r1 >= len(w) {
		r2 = len(w)
	}
	return r1, r2
}

func endsDouble(w []byte) bool {
	n := len(w)
	if n < 2 || w[n-1] != w[n-2] {
		return false
	}
	switch w[n-1] {
	case 'b', 'd', 'f', 'g', 'm', 'n', 'p', 'r', 't':
		return true
	}
	return false
}

// endsShortSyllable: a vowel followed by a non-vowel other than w, x, Y and
// preceded by a non-vowel; or a vowel at the start followed by a non-vowel.
func endsShortSyllable(w []byte) bool {
	n := len(w)
	if n == 2 {
		return isVowel(w[0]) && !isVowel(w[1])
	}
	if n < 3 {
		return false
	}
	c := w[n-1]
	return !isVowel(w[n-3]) && isVowel(w[n-2]) && !isVowel(c) && c != 'w' && c != 'x' && c != 'Y'
}

func isShortWord(w []byte, r1 int) bool {
	return r1 >= len(w) && endsShortSyllable(w)
}

func fixY(w []byte) []byte {
	for i, c := range w {
		if c == 'Y' {
			w[i] = 'y'
		}
	}
	return w
}
