package search

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestReadsVersion1 opens an index written by the version 1 builder (of
// compatDocs, kept in testdata/compat-v1.index) and checks that queries
// give the same hits, with the same scores, as the version 2 index of the
// same documents: both versions store the same postings, codes and norms,
// only encoded differently.
func TestReadsVersion1(t *testing.T) {
	titles, bodies := compatDocs()
	old, err := os.ReadFile("testdata/compat-v1.index")
	if err != nil {
		t.Fatal(err)
	}
	v1 := openBytes(t, old)
	b := NewBuilder()
	for i := range titles {
		b.Add(uint32(i), titles[i], bodies[i])
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	idx := buf.Bytes()
	v2 := openBytes(t, idx)
	if v1.h.version != version1 || v2.h.version != version {
		t.Fatalf("versions %d and %d", v1.h.version, v2.h.version)
	}
	if v1.TermCount() != v2.TermCount() || v1.DocCount() != v2.DocCount() {
		t.Fatalf("v1 has %d terms, %d docs; v2 %d, %d", v1.TermCount(), v1.DocCount(), v2.TermCount(), v2.DocCount())
	}
	if len(idx) >= len(old) {
		t.Errorf("version 2 index is %d bytes, version 1 %d: not smaller", len(idx), len(old))
	}
	t.Logf("version 1 index %d bytes, version 2 %d (%.3f)", len(old), len(idx), float64(len(idx))/float64(len(old)))
	queries := []string{"the", "금강산", "search index postings"}
	for i := range titles {
		w := strings.Fields(bodies[i])
		queries = append(queries, titles[i], strings.Join(w[:min(len(w), 3+i%9)], " "))
	}
	for _, q := range queries {
		for _, limit := range []int{3, MaxResults} {
			a, err1 := v1.Search(q, 0, limit)
			b, err2 := v2.Search(q, 0, limit)
			if err1 != nil || err2 != nil {
				t.Fatalf("%q: %v, %v", q, err1, err2)
			}
			if !slices.Equal(a.Hits, b.Hits) || a.Total != b.Total || a.Exact != b.Exact {
				t.Fatalf("%q (limit %d): version 1 %+v, version 2 %+v", q, limit, a, b)
			}
		}
	}
	// The small seed the fuzzer starts from opens and finds its words.
	small, err := os.ReadFile("testdata/small-v1.index")
	if err != nil {
		t.Fatal(err)
	}
	ix := openBytes(t, small)
	if res, err := ix.Search("search", 0, 10); err != nil || res.Total != 8 {
		t.Errorf("small version 1 index: search %+v %v, want 8 documents", res, err)
	}
}

// TestRice round-trips Rice blocks of every shape a list can take and
// refuses damaged ones.
func TestRice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 5))
	for n := 1; n <= blockSize; n += 1 + n/4 {
		for _, scale := range []uint32{0, 1, 7, 1000, 1 << 20, 1<<32 - 1} {
			gaps := make([]uint32, n)
			codes := make([]uint32, n)
			for i := range gaps {
				if scale > 0 {
					gaps[i] = uint32(rng.Uint64N(uint64(scale) + 1))
				}
				codes[i] = uint32(rng.IntN(2 * maxTFBody))
			}
			p := appendRiceBlock(nil, gaps, codes)
			if len(p) > maxRicePayload {
				t.Fatalf("n %d scale %d: %d bytes, cap %d", n, scale, len(p), maxRicePayload)
			}
			g2, c2 := make([]uint32, n), make([]uint32, n)
			if err := decodeRiceBlock(p, g2, c2); err != nil || !slices.Equal(g2, gaps) || !slices.Equal(c2, codes) {
				t.Fatalf("n %d scale %d: round trip %v", n, scale, err)
			}
			// An extra byte, or a set padding bit, is refused.
			if err := decodeRiceBlock(append(bytes.Clone(p), 0), g2, c2); err == nil {
				t.Fatalf("n %d: a byte past the values was accepted", n)
			}
			if err := decodeRiceBlock(p[:len(p)-1], g2, c2); err == nil && len(p) > 1 {
				// Dropping the last byte can only work if it held nothing
				// but padding, which the writer never emits.
				t.Fatalf("n %d: a truncated block was accepted", n)
			}
		}
	}
	// The largest value with k = 0 is refused rather than looped over: a
	// run of zero bits longer than any 32-bit quotient.
	long := append([]byte{0}, make([]byte, maxRicePayload-1)...)
	if err := decodeRiceBlock(long, make([]uint32, 1), make([]uint32, 1)); err == nil {
		t.Fatal("an all-zero block decoded")
	}
}

// compatDocs makes the documents the version 1 fixture was built from:
// 400 documents of words drawn from a fixed Korean and English vocabulary
// with a Zipf-like frequency (so some terms are in every document and
// their lists span several blocks, most in a few), deterministic.
func compatDocs() (titles, bodies []string) {
	syl := []rune("가나다라마바사아자차카타파하고노도로모보소오조초코토포호구누두루무부수우주추쿠투푸후기니디리미비시이지치키티피히강산물길집말글빛")
	en := []string{"search", "index", "archive", "ferry", "card", "library", "page", "reader", "signal", "radio", "edition", "postings", "block", "term", "score"}
	rng := rand.New(rand.NewPCG(15, 2))
	vocab := make([]string, 0, 3000)
	for len(vocab) < 3000 {
		if len(vocab)%10 == 9 {
			vocab = append(vocab, en[len(vocab)/10%len(en)]+string(rune('a'+len(vocab)%26)))
			continue
		}
		n := 2 + rng.IntN(3)
		w := make([]rune, n)
		for i := range w {
			w[i] = syl[rng.IntN(len(syl))]
		}
		vocab = append(vocab, string(w))
	}
	word := func() string {
		// Zipf-like: index ~ 3000^u
		i := int(math.Pow(3000, rng.Float64())) - 1
		return vocab[min(i, len(vocab)-1)]
	}
	particles := []string{"", "", "은", "을", "의", "에서"}
	for d := 0; d < 400; d++ {
		titles = append(titles, word()+" "+word())
		var b []string
		for range 50 + rng.IntN(250) {
			b = append(b, word()+particles[rng.IntN(len(particles))])
		}
		bodies = append(bodies, strings.Join(b, " "))
	}
	return titles, bodies
}
