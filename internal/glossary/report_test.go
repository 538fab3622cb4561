//go:build measure

package glossary

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"ferry/internal/testkit/korquad"
)

// TestReportMatches prints, for review, every eojeol of the KorQuAD text
// in which a glossary word was found, with counts (GLOSSARY_REPORT=1).
// It checks nothing; reading its output is how false matches were found.
func TestReportMatches(t *testing.T) {
	if os.Getenv("GLOSSARY_REPORT") == "" {
		t.Skip("set GLOSSARY_REPORT=1 to print the matches in the KorQuAD text")
	}
	var texts []string
	for _, a := range korquad.Load(t).Articles {
		texts = append(texts, a.Paragraphs...)
	}
	printMatches(Default(), texts)
}

// printMatches prints each headword found in texts with the eojeol it was
// found in, and how often, sorted.
func printMatches(g *Glossary, texts []string) {
	count := map[string]int{}
	for _, text := range texts {
		b := []byte(text)
		for _, m := range g.Find(b, nil) {
			s, e := m.Start, m.End
			for s > 0 && b[s-1] != ' ' {
				s--
			}
			for e < len(b) && b[e] != ' ' {
				e++
			}
			count[fmt.Sprintf("%s\t%s", g.Entry(m.Entry).Headword, strings.Trim(string(b[s:e]), ".,()\"'"))]++
		}
	}
	keys := make([]string, 0, len(count))
	for k := range count {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%d\t%s\n", count[k], k)
	}
}

// TestReportCandidates prints, for the coverage count in docs/glossary.md
// ("Coverage", automatic candidates), the eojeols of the held-out half of
// KorQuAD (odd article index, without the paragraphs of the hand-listed
// samples 1-4) that hold a syllable typical of transliteration, with how
// many of them overlap a glossary match (GLOSSARY_CANDIDATES=1). A
// syllable is typical of transliteration when it is in a loanword
// headword of the glossary, cannot be Sino-Korean, and never occurs in
// the Korean UDHR and laws of the test data, which have no loanwords.
// The unmatched eojeols are then sorted by hand into loanwords, names and
// native words; GLOSSARY_CANDIDATES=all also prints the glossed ones
// (with "+"), to check a sample of them by hand.
func TestReportCandidates(t *testing.T) {
	if os.Getenv("GLOSSARY_CANDIDATES") == "" {
		t.Skip("set GLOSSARY_CANDIDATES=1 to print the transliteration candidates")
	}
	g := Default()
	set := korquad.Load(t)
	_, pages := realPages(t)
	seen := map[rune]bool{}
	for _, p := range pages[len(set.Articles):] { // the UDHR and laws
		for _, r := range string(p) {
			seen[r] = true
		}
	}
	foreign := map[rune]bool{}
	for i := 0; i < g.Len(); i++ {
		if e := g.Entry(i); e.Kind.loan() {
			for _, r := range e.Headword {
				if isHangul(r) && !isSino(r) && !seen[r] {
					foreign[r] = true
				}
			}
		}
	}
	used := map[string]bool{}
	for _, name := range []string{"sample.tsv", "sample2.tsv", "sample3.tsv", "sample4.tsv"} {
		for _, r := range loadSample(t, name) {
			used[fmt.Sprintf("%s/%d", r.title, r.para)] = true
		}
	}
	total, glossed := 0, 0
	missed := map[string]int{}
	half := 1 // GLOSSARY_HALF=even looks at the other half, where gaps may be filled
	if os.Getenv("GLOSSARY_HALF") == "even" {
		half = 0
	}
	for ai, a := range set.Articles {
		if ai%2 != half {
			continue
		}
		for pi, p := range a.Paragraphs {
			if used[fmt.Sprintf("%s/%d", a.Title, pi)] {
				continue
			}
			b := []byte(p)
			ms := g.Find(b, nil)
			for _, w := range eojeols(b) {
				cand := false
				for _, r := range string(b[w[0]:w[1]]) {
					cand = cand || foreign[r]
				}
				if !cand {
					continue
				}
				total++
				hit := false
				for _, m := range ms {
					hit = hit || m.Start < w[1] && m.End > w[0]
				}
				if hit {
					glossed++
					if os.Getenv("GLOSSARY_CANDIDATES") == "all" {
						fmt.Printf("+\t%s\n", b[w[0]:w[1]])
					}
				} else {
					missed[string(b[w[0]:w[1]])]++
				}
			}
		}
	}
	fmt.Printf("# %d transliteration syllables; %d candidate eojeols, %d glossed\n", len(foreign), total, glossed)
	keys := make([]string, 0, len(missed))
	for k := range missed {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if missed[keys[i]] != missed[keys[j]] {
			return missed[keys[i]] > missed[keys[j]]
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		fmt.Printf("%d\t%s\n", missed[k], k)
	}
}

// eojeols returns the [start, end) byte ranges of the runs of Hangul
// syllables in b.
func eojeols(b []byte) [][2]int {
	var out [][2]int
	start := -1
	for i, r := range string(b) {
		if isHangul(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			out = append(out, [2]int{start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, [2]int{start, len(b)})
	}
	return out
}
