package search

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
)

// TestPrunedIsExact checks that the pruned search (block-max MaxScore
// over windows, skipping blocks by their bounds) returns exactly the top
// documents and scores of an exhaustive ranking computed here from the
// documents' text, for many random queries over lists of many blocks
// with skewed frequencies and lengths: a skip that drops a document that
// belongs in the top fails it.
func TestPrunedIsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 50))
	const docs, vocab = 3000, 48
	word := func(i int) string { return fmt.Sprintf("t%dz", i) } // digits: not stemmed
	p := make([]float64, vocab)
	for i := range p {
		p[i] = 0.9 / math.Pow(float64(i+1), 0.9) // from 0.9 down to about 0.03
	}
	type doc struct {
		tf    map[string]int
		title map[string]bool
		n     int // body terms
	}
	all := make([]doc, docs)
	b := NewBuilder()
	ids := rng.Perm(docs) // added out of order
	for _, id := range ids {
		d := doc{tf: map[string]int{}, title: map[string]bool{}}
		var body, title []string
		for w := range vocab {
			if rng.Float64() < p[w] {
				tf := 1
				for tf < 40 && rng.IntN(3) == 0 {
					tf += 1 + rng.IntN(4)
				}
				for range tf {
					body = append(body, word(w))
				}
				d.tf[word(w)] = tf
			}
			if rng.IntN(60) == 0 {
				title = append(title, word(w))
				d.title[word(w)] = true
			}
		}
		// Filler of very different lengths spreads the length norms.
		for range rng.IntN(1 + rng.IntN(400)) {
			body = append(body, "fill9x")
		}
		rng.Shuffle(len(body), func(i, j int) { body[i], body[j] = body[j], body[i] })
		d.n = len(body)
		all[id] = d
		b.Add(uint32(id), strings.Join(title, " "), strings.Join(body, " "))
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	ix := openBytes(t, buf.Bytes())
	total := 0
	for _, d := range all {
		total += d.n
	}
	avgdl := float64(total) / docs
	if math.Abs(avgdl-ix.avgdl) > 1e-9*avgdl {
		t.Fatalf("avgdl %v, index %v", avgdl, ix.avgdl)
	}
	div := normDivisors(avgdl)
	dfs := map[string]int{}
	for _, d := range all {
		for w := range vocab {
			if d.tf[word(w)] > 0 || d.title[word(w)] {
				dfs[word(w)]++
			}
		}
	}
	// exhaustive ranks every document from its counts, summing the terms
	// in query order as Search does.
	exhaustive := func(q string) []Hit {
		qt := queryTerms(q)
		var hits []Hit
		for id, d := range all {
			score, any := 0.0, false
			for _, x := range qt {
				df := dfs[x.term]
				tf, in := d.tf[x.term], d.title[x.term]
				if df == 0 || tf == 0 && !in {
					continue
				}
				code := uint32(2 * min(tf, maxTFBody))
				if in {
					code++
				}
				idf := math.Log(1 + (docs-float64(df)+0.5)/(float64(df)+0.5))
				w := float64(x.count) * idf
				f := tfNorm(code, div[normByte(d.n)])
				score += w * f * (K1 + 1) / (f + K1)
				any = true
			}
			if any {
				hits = append(hits, Hit{uint32(id), score})
			}
		}
		sort.Slice(hits, func(i, j int) bool {
			if hits[i].Score != hits[j].Score {
				return hits[i].Score > hits[j].Score
			}
			return hits[i].Doc < hits[j].Doc
		})
		return hits
	}
	pruned := 0
	for i := range 400 {
		var ws []string
		for range 1 + rng.IntN(14) {
			ws = append(ws, word(rng.IntN(vocab+2))) // now and then a word no document has
		}
		if rng.IntN(4) == 0 {
			ws = append(ws, ws[0]) // a repeated term weighs twice
		}
		q := strings.Join(ws, " ")
		want := exhaustive(q)
		k := []int{1, 3, 10, 10, 40}[i%5]
		offset := 0
		if i%7 == 0 {
			offset = 5
		}
		res, err := ix.Search(q, offset, k)
		if err != nil {
			t.Fatal(err)
		}
		w := want[min(offset, len(want)):min(offset+k, len(want))]
		if !slices.Equal(res.Hits, w) {
			t.Fatalf("%q (offset %d, limit %d):\npruned     %v\nexhaustive %v", q, offset, k, res.Hits, w)
		}
		if res.Exact && res.Total != len(want) || res.Total < len(w) {
			t.Fatalf("%q: total %d (exact %v), %d documents match", q, res.Total, res.Exact, len(want))
		}
		if !res.Exact {
			pruned++
		}
	}
	// The test means something only if most searches were pruned.
	if pruned < 200 {
		t.Errorf("only %d of 400 searches pruned", pruned)
	}
	t.Logf("%d of 400 searches pruned", pruned)
}
