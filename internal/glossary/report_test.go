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
	g := Default()
	set := korquad.Load(t)
	count := map[string]int{}
	for _, a := range set.Articles {
		for _, p := range a.Paragraphs {
			b := []byte(p)
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
