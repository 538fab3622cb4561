package glossary

import (
	"bufio"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"ferry/internal/testkit/korquad"
)

// minSampleCoverage is the share of the hand-listed loanword occurrences
// in testdata/coverage/sample.tsv that must be glossed (issue 19: 90%).
const minSampleCoverage = 0.90

type sampleRow struct {
	title string
	para  int
	word  string
	count int
}

func loadSample(t *testing.T) []sampleRow {
	t.Helper()
	f, err := os.Open("testdata/coverage/sample.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []sampleRow
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		p := strings.Split(l, "\t")
		if len(p) != 4 {
			t.Fatalf("sample.tsv:%d: %d fields", n, len(p))
		}
		para, err1 := strconv.Atoi(p[1])
		count, err2 := strconv.Atoi(p[3])
		if err1 != nil || err2 != nil {
			t.Fatalf("sample.tsv:%d: bad number", n)
		}
		rows = append(rows, sampleRow{p[0], para, p[2], count})
	}
	return rows
}

// TestCoverageSample measures the share of hand-listed loanword
// occurrences (in paragraphs of the held-out half of KorQuAD) that the
// matcher glosses: an occurrence counts when a glossary match overlaps it.
func TestCoverageSample(t *testing.T) {
	g := Default()
	set := korquad.Load(t)
	byTitle := map[string][]string{}
	for _, a := range set.Articles {
		byTitle[a.Title] = a.Paragraphs
	}
	rows := loadSample(t)
	// Group by paragraph; find each word's occurrences, longest words
	// first, so that 기타 is not counted inside 기타리스트.
	type key struct {
		title string
		para  int
	}
	groups := map[key][]sampleRow{}
	var keys []key
	for _, r := range rows {
		k := key{r.title, r.para}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	total, covered := 0, 0
	missed := map[string]int{}
	for _, k := range keys {
		ps, ok := byTitle[k.title]
		if !ok || k.para >= len(ps) {
			t.Fatalf("sample: no paragraph %s/%d", k.title, k.para)
		}
		text := ps[k.para]
		ms := g.Find([]byte(text), nil)
		taken := make([]bool, len(text))
		rs := groups[k]
		sort.SliceStable(rs, func(i, j int) bool { return len(rs[i].word) > len(rs[j].word) })
		for _, r := range rs {
			n := 0
			for at := 0; ; {
				i := strings.Index(text[at:], r.word)
				if i < 0 {
					break
				}
				s, e := at+i, at+i+len(r.word)
				at = e
				if taken[s] {
					continue
				}
				for x := s; x < e; x++ {
					taken[x] = true
				}
				n++
				hit := false
				for _, m := range ms {
					if m.Start < e && m.End > s {
						hit = true
					}
				}
				total++
				if hit {
					covered++
				} else {
					missed[r.word]++
				}
			}
			if n != r.count {
				t.Errorf("sample: %s/%d: %q occurs %d times, listed %d", k.title, k.para, r.word, n, r.count)
			}
		}
	}
	share := float64(covered) / float64(total)
	t.Logf("hand-listed sample: %d of %d loanword occurrences glossed (%.1f%%); not glossed: %v", covered, total, 100*share, missed)
	if share < minSampleCoverage {
		t.Errorf("coverage %.1f%% is below %.0f%%", 100*share, 100*minSampleCoverage)
	}
}
