package search

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fragment is a piece of a snippet. Match marks text that matched a query
// term; callers escape Text and highlight matches as their medium needs.
type Fragment struct {
	Text  string
	Match bool
}

// maxSnippetScan is how much of a body Snippet searches for matches.
const maxSnippetScan = 256 << 10

// Snippet returns an excerpt of about maxRunes runes of body (in NFC) around
// the densest cluster of query matches, as fragments with the matches
// marked. A cut at either end is shown by "…". Runs of white space become
// one space. With no match it returns the start of body. Only the first
// 256 KiB of body are searched, which bounds the time spent on huge pages.
func Snippet(body, query string, maxRunes int) []Fragment {
	if maxRunes <= 0 {
		return nil
	}
	if len(body) > maxSnippetScan {
		// Bound the work on huge pages: look for matches near the start.
		cut := maxSnippetScan
		for cut > 0 && !utf8.RuneStart(body[cut]) {
			cut--
		}
		body = body[:cut]
	}
	want := map[string]int{}
	for i, qt := range queryTerms(query) {
		want[qt.term] = i
	}
	type span struct{ start, end, term int }
	var spans []span
	var t tokenizer
	body = t.tokenize(body, func(term []byte, s, e int) {
		if i, ok := want[string(term)]; ok {
			if n := len(spans); n > 0 && s < spans[n-1].end {
				// overlapping bigrams (금강+강산) merge into one span
				spans[n-1].end = max(spans[n-1].end, e)
				return
			}
			spans = append(spans, span{s, e, i})
		}
	})
	// Rune index of every byte offset we need.
	total := utf8.RuneCountInString(body)

	// Pick the window start (in runes) that covers the most distinct terms.
	startRune := 0
	if len(spans) > 0 {
		rs := make([]int, len(spans))
		re := make([]int, len(spans))
		prevOff, prevRune := 0, 0
		for i, sp := range spans {
			prevRune += utf8.RuneCountInString(body[prevOff:sp.start])
			rs[i] = prevRune
			re[i] = rs[i] + utf8.RuneCountInString(body[sp.start:sp.end])
			prevOff, prevRune = sp.start, rs[i]
		}
		counts := map[int]int{}
		best, bestN, bestI := -1, 0, 0
		j := 0
		for i := range spans {
			for j < len(spans) && re[j] <= rs[i]+maxRunes {
				counts[spans[j].term]++
				j++
			}
			if n := len(counts); n > best || (n == best && j-i > bestN) {
				best, bestN, bestI = n, j-i, i
			}
			if counts[spans[i].term]--; counts[spans[i].term] == 0 {
				delete(counts, spans[i].term)
			}
		}
		// Centre the covered matches in the window.
		last := bestI + max(bestN, 1) - 1
		used := re[last] - rs[bestI]
		startRune = max(0, rs[bestI]-max(0, maxRunes-used)/3)
	}
	startRune = min(startRune, max(0, total-maxRunes))
	endRune := min(total, startRune+maxRunes)
	startOff := byteOffset(body, startRune)
	endOff := startOff + byteOffset(body[startOff:], endRune-startRune)
	// Prefer to start after a space if one is near.
	if startRune > 0 {
		if k := strings.IndexFunc(body[startOff:min(endOff, startOff+40)], unicode.IsSpace); k >= 0 {
			startOff += k
		}
	}

	var out []Fragment
	add := func(s string, m bool) {
		s = collapseSpace(s)
		if s == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1].Match == m {
			out[n-1].Text += s
			return
		}
		out = append(out, Fragment{s, m})
	}
	if startOff > 0 {
		add("…", false)
	}
	pos := startOff
	for _, sp := range spans {
		if sp.end <= startOff || sp.start >= endOff {
			continue
		}
		s, e := max(sp.start, pos), min(sp.end, endOff)
		add(body[pos:s], false)
		add(body[s:e], true)
		pos = e
	}
	add(body[pos:endOff], false)
	if endOff < len(body) {
		add("…", false)
	}
	if len(out) > 0 && !out[0].Match {
		out[0].Text = strings.TrimLeft(out[0].Text, " ")
	}
	return out
}

// byteOffset returns the byte offset of rune n in s (len(s) if shorter).
func byteOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

func collapseSpace(s string) string {
	var b strings.Builder
	sp := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			if !sp {
				b.WriteByte(' ')
			}
			sp = true
			continue
		}
		sp = false
		b.WriteRune(r)
	}
	return b.String()
}
