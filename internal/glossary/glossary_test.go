package glossary

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
)

// minEntries is the size the glossary must keep (issue 19).
const minEntries = 4000

// TestData checks the embedded data file: it parses (fields, kinds,
// domains, confidence codes, no duplicate headwords), is large enough, and
// no explanation uses a loanword or abbreviation of the glossary itself.
func TestData(t *testing.T) {
	g, err := Parse(bytes.NewReader(embedded))
	if err != nil {
		t.Fatal(err)
	}
	if g.Len() < minEntries {
		t.Errorf("%d entries, want at least %d", g.Len(), minEntries)
	}
	bad := 0
	var ms []Match
	for i := range g.Len() {
		e := g.Entry(i)
		// The matcher's view: any headword found in the explanation.
		ms = g.Find([]byte(e.Explanation), ms[:0])
		for _, m := range ms {
			if w := g.Entry(m.Entry); w.Kind == Southern || w.SameInNorth() {
				// A South Korean term that is no loanword (전세, 댓글) may
				// explain another (전세금, 악플), and so may a loanword that
				// North Korea uses too (커피, 올림픽).
				continue
			}
			if bad++; bad <= 50 {
				t.Errorf("%s: explanation uses %q (a glossary word): %s", e.Headword, e.Explanation[m.Start:m.End], e.Explanation)
			}
		}
		if e.Explanation == e.Headword || strings.Contains(e.Explanation, e.Headword) && e.Kind != Southern && e.Kind != Abbreviation && !e.SameInNorth() {
			if bad++; bad <= 50 {
				t.Errorf("%s: explanation contains the headword: %s", e.Headword, e.Explanation)
			}
		}
	}
	if bad > 50 {
		t.Errorf("... %d problems in all", bad)
	}
}

// TestDataLongLoanwordsInExplanations is stricter than the matcher: a
// loanword of three or more syllables may not appear anywhere inside an
// explanation, even where the matcher's boundary rules would not find it.
func TestDataLongLoanwordsInExplanations(t *testing.T) {
	g := Default()
	bad := 0
	var hits [maxHits]hit
	for i := range g.Len() {
		e := g.Entry(i)
		rs := []rune(e.Explanation)
		for k := range rs {
			n := g.words.prefixes(rs, k, len(rs), &hits)
			for _, h := range hits[:n] {
				w := g.Entry(int(h.val))
				if w.Kind.loan() && h.end-k >= 3 && !w.SameInNorth() {
					if bad++; bad <= 30 {
						t.Errorf("%s: explanation contains %q: %s", e.Headword, w.Headword, e.Explanation)
					}
				}
			}
		}
	}
}

// TestDataFindsItself checks that every headword is found when it stands
// alone and with a particle: none is hidden by a longer one or by the
// boundary rules.
func TestDataFindsItself(t *testing.T) {
	g := Default()
	bad := 0
	for i := range g.Len() {
		h := g.Entry(i).Headword
		// With Hangul around: Latin headwords are found only in Korean text.
		texts := []string{h + "를 보았다", "그 " + h + "에서", "그 " + h}
		if next, ok := needsNext[h]; ok { // taken only before listed syllables
			texts = []string{h + string([]rune(next)[0]) + " 보았다"}
		}
		for _, text := range texts {
			ms := g.Find([]byte(text), nil)
			ok := false
			for _, m := range ms {
				if m.Entry == i {
					ok = true
				}
			}
			if !ok {
				if bad++; bad <= 30 {
					t.Errorf("%q not found in %q (found %v)", h, text, ms)
				}
				break
			}
		}
	}
}

func TestParseErrors(t *testing.T) {
	good := Header + "\n스마트폰\ten\tit\tsmartphone\t풀이\t손전화기\tc\n"
	if _, err := Parse(strings.NewReader(good)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ data, want string }{
		{"스마트폰\ten\n", "column line"},
		{"", "no column line"},
		{Header + "\n스마트폰\ten\tit\tsmartphone\t풀이\t\n", "6 fields"},
		{Header + "\n스마트 폰\ten\tit\tsmartphone\t풀이\t\t\n", "only Hangul"},
		{Header + "\n스마트폰\txx\tit\tsmartphone\t풀이\t\t\n", "kind"},
		{Header + "\n스마트폰\ten\tzz\tsmartphone\t풀이\t\t\n", "domain"},
		{Header + "\n스마트폰\ten\tit\t\t풀이\t\t\n", "origin"},
		{Header + "\n알바\tloan\tlife\tArbeit\t풀이\t\t\n", "language code"},
		{Header + "\n스마트폰\ten\tit\tsmartphone\t\t\t\n", "empty explanation"},
		{Header + "\n스마트폰\ten\tit\tsmartphone\t풀이\t손전화기\t\n", "both"},
		{Header + "\n스마트폰\ten\tit\tsmartphone\t풀이\t손전화기\tx\n", "nk_conf"},
		{Header + "\n스마트폰\ten\tit\tsmartphone\t<b>\t\t\n", "< > or"},
		{Header + "\n스마트폰\ten\tit\tsmartphone\t 풀이\t\t\n", "spaces"},
		{Header + "\n스마트폰\ten\tit\tsmartphone\t풀이\t\t\n스마트폰\ten\tit\tsmartphone\t풀이\t\t\n", "line 3: headword \"스마트폰\" already"},
		{Header + "\n스마트폰\ten\tit\tsmartphone\t" + strings.Repeat("풀", 201) + "\t\t\n", "characters"},
		{Header + "\n\xff\ten\tit\tx\ty\t\t\n", "UTF-8"},
	} {
		_, err := Parse(strings.NewReader(c.data))
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrFormat) {
			t.Errorf("Parse(%q) = %v, want an ErrFormat error with %q", c.data, err, c.want)
		}
	}
}

// TestDataFileFormat checks what Parse does not: every line ends in a
// newline, no carriage returns, so that the file diffs cleanly.
func TestDataFileFormat(t *testing.T) {
	b, err := os.ReadFile("glossary.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasSuffix(b, []byte("\n")) || bytes.Contains(b, []byte("\r")) {
		t.Error("glossary.tsv must use \\n line ends and end with one")
	}
}
