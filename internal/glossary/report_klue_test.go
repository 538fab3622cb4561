//go:build measure

package glossary

import (
	"os"
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
	var texts []string
	for _, sent := range loadKLUE(t, dir) {
		texts = append(texts, sent)
	}
	printMatches(Default(), texts)
}
