//go:build measure

package glossary

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

// TestReportMatchesKLUE prints, like TestReportMatches, every eojeol of the
// KLUE sentences (see TestCoverageKLUE) in which a glossary word was found,
// with counts (GLOSSARY_KLUE=DIR). Comparing its output before and after a
// change of the matcher shows the marks the change adds or drops.
func TestReportMatchesKLUE(t *testing.T) {
	dir := os.Getenv("GLOSSARY_KLUE")
	if dir == "" {
		t.Skip("set GLOSSARY_KLUE to the KLUE benchmark's klue_benchmark folder to print the matches in it")
	}
	g := Default()
	count := map[string]int{}
	for _, sent := range loadKLUE(t, dir) {
		b := []byte(sent)
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
