package glossary

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"ferry/internal/testkit/shared"
)

// TestCoverageLaws counts the loanword occurrences hand-listed in
// sample8.tsv, all of those in the Korean Constitution and the ten bills of
// the shared test data (kolaw/): text the glossary was never tuned on. The
// article column is the file's path under kolaw/, the paragraph column the
// line number (from 1).
func TestCoverageLaws(t *testing.T) {
	const name = "sample8.tsv"
	root := filepath.Dir(shared.Path(t, "kolaw/constitution.txt"))
	files := map[string][]string{}
	checkCoverage(t, name, loadSample(t, name), func(file string, line int) (string, bool) {
		ls, ok := files[file]
		if !ok {
			b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(file)))
			if err != nil {
				return "", false
			}
			ls = strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
			files[file] = ls
		}
		if line < 1 || line > len(ls) {
			return "", false
		}
		return ls[line-1], true
	})
}

// TestCoverageKLUE counts the loanword occurrences hand-listed in
// sample10.tsv to sample15.tsv, sentences of the KLUE benchmark's dev
// sets (South Korean news, lodging and movie reviews, Wikipedia and
// government notices of 2010-2020; CC BY-SA 4.0), a corpus the glossary
// was not built on. KLUE is not part of the shared test data: set
// GLOSSARY_KLUE to its klue_benchmark folder (holding
// klue-dp-v1.1/klue-dp-v1.1_dev.tsv, klue-nli-v1.1/klue-nli-v1.1_dev.json,
// klue-ner-v1.1/klue-ner-v1.1_dev.tsv and klue-sts-v1.1/klue-sts-v1.1_dev.json)
// to run it. The article column is the sentence's id (a KLUE-DP or
// KLUE-NER id without its "klue-dp-v1_dev_" or "klue-ner-v1_dev_" prefix,
// a KLUE-NLI guid for its premise, a KLUE-STS guid for its first sentence).
func TestCoverageKLUE(t *testing.T) {
	dir := os.Getenv("GLOSSARY_KLUE")
	if dir == "" {
		t.Skip("set GLOSSARY_KLUE to the KLUE benchmark's klue_benchmark folder to measure coverage on it")
	}
	text := loadKLUE(t, dir)
	for _, name := range []string{"sample10.tsv", "sample11.tsv", "sample12.tsv", "sample13.tsv", "sample14.tsv", "sample15.tsv"} {
		t.Run(name, func(t *testing.T) {
			checkCoverage(t, name, loadSample(t, name), func(id string, _ int) (string, bool) {
				s, ok := text[id]
				return s, ok
			})
		})
	}
}

// nerMark is KLUE-NER's entity markup, <text:TAG>.
var nerMark = regexp.MustCompile(`<([^<>]*):([A-Z]{2})>`)

// loadKLUE reads the sentences of KLUE-DP's and KLUE-NER's dev sets (the
// latter without its entity markup), the premises of KLUE-NLI's and the
// first sentences of KLUE-STS's, by id.
func loadKLUE(t *testing.T, dir string) map[string]string {
	t.Helper()
	text := map[string]string{}
	f, err := os.Open(filepath.Join(dir, "klue-dp-v1.1", "klue-dp-v1.1_dev.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		id, sent, ok := strings.Cut(sc.Text(), "\t")
		if rest, isSent := strings.CutPrefix(id, "## klue-dp-v1_dev_"); ok && isSent {
			text[rest] = sent
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	ner, err := os.ReadFile(filepath.Join(dir, "klue-ner-v1.1", "klue-ner-v1.1_dev.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(ner), "\n") {
		id, sent, ok := strings.Cut(l, "\t")
		if rest, isSent := strings.CutPrefix(id, "## klue-ner-v1_dev_"); ok && isSent {
			text[rest] = nerMark.ReplaceAllString(sent, "$1")
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "klue-nli-v1.1", "klue-nli-v1.1_dev.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pairs []struct{ GUID, Premise string }
	if err := json.Unmarshal(b, &pairs); err != nil {
		t.Fatalf("klue-nli: %v", err)
	}
	for _, p := range pairs {
		text[p.GUID] = p.Premise
	}
	b, err = os.ReadFile(filepath.Join(dir, "klue-sts-v1.1", "klue-sts-v1.1_dev.json"))
	if err != nil {
		t.Fatal(err)
	}
	var sts []struct{ GUID, Sentence1 string }
	if err := json.Unmarshal(b, &sts); err != nil {
		t.Fatalf("klue-sts: %v", err)
	}
	for _, p := range sts {
		text[p.GUID] = p.Sentence1
	}
	return text
}
