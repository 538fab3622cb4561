package search

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestReadsVersion1 opens indexes written by the version 1 and version 2
// builders (of compatDocs, kept in testdata/compat-v1.index and
// testdata/compat-v2.index) and checks that queries give the same hits,
// with the same scores, as the version 3 index of the same documents: all
// versions store the same postings, codes and norms, only encoded
// differently.
func TestReadsVersion1(t *testing.T) {
	titles, bodies := compatDocs()
	b := NewBuilder()
	for i := range titles {
		b.Add(uint32(i), titles[i], bodies[i])
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	idx := buf.Bytes()
	cur := openBytes(t, idx)
	if cur.h.version != version {
		t.Fatalf("the builder wrote version %d", cur.h.version)
	}
	queries := []string{"the", "금강산", "search index postings"}
	for i := range titles {
		w := strings.Fields(bodies[i])
		queries = append(queries, titles[i], strings.Join(w[:min(len(w), 3+i%9)], " "))
	}
	for _, fixture := range []struct {
		file string
		ver  uint32
	}{{"testdata/compat-v1.index", version1}, {"testdata/compat-v2.index", version2}} {
		old, err := os.ReadFile(fixture.file)
		if err != nil {
			t.Fatal(err)
		}
		ov := openBytes(t, old)
		if ov.h.version != fixture.ver {
			t.Fatalf("%s is version %d", fixture.file, ov.h.version)
		}
		if ov.TermCount() != cur.TermCount() || ov.DocCount() != cur.DocCount() {
			t.Fatalf("%s has %d terms, %d docs; version 3 %d, %d", fixture.file, ov.TermCount(), ov.DocCount(), cur.TermCount(), cur.DocCount())
		}
		if len(idx) >= len(old) {
			t.Errorf("version 3 index is %d bytes, version %d %d: not smaller", len(idx), fixture.ver, len(old))
		}
		t.Logf("version %d index %d bytes, version 3 %d (%.3f)", fixture.ver, len(old), len(idx), float64(len(idx))/float64(len(old)))
		for _, q := range queries {
			for _, limit := range []int{3, MaxResults} {
				a, err1 := ov.Search(q, 0, limit)
				b, err2 := cur.Search(q, 0, limit)
				if err1 != nil || err2 != nil {
					t.Fatalf("%q: %v, %v", q, err1, err2)
				}
				// Version 1 blocks carry no bounds, so a pruned search
				// skips other documents and estimates Total from those
				// it saw: only exact totals must agree there.
				sameTotal := a.Total == b.Total && a.Exact == b.Exact ||
					fixture.ver == version1 && !(a.Exact && b.Exact)
				if !slices.Equal(a.Hits, b.Hits) || !sameTotal {
					t.Fatalf("%q (limit %d): version %d %+v, version 3 %+v", q, limit, fixture.ver, a, b)
				}
			}
		}
	}
	// A version the reader does not know is refused with ErrVersion, which
	// names the fix.
	bad := bytes.Clone(idx)
	bad[len(bad)-headerLen+8] = 4
	if _, err := Open(bytes.NewReader(bad), int64(len(bad))); !errors.Is(err, ErrVersion) {
		t.Errorf("version 4: %v, want ErrVersion", err)
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
	small2, err := os.ReadFile("testdata/small-v2.index")
	if err != nil {
		t.Fatal(err)
	}
	if ix := openBytes(t, small2); ix.h.version != version2 {
		t.Errorf("small-v2.index is version %d", ix.h.version)
	} else if res, err := ix.Search("search", 0, 20); err != nil || res.Total != 12 {
		t.Errorf("small version 2 index: search %+v %v, want 12 documents", res, err)
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
	// Version 3 lists of one block: the gap parameter is not stored.
	for n := 1; n <= blockSize; n += 1 + n/3 {
		for _, normCount := range []uint32{uint32(n), 2 * uint32(n), 1000, 1 << 20, 1<<32 - 1} {
			if normCount < uint32(n) {
				continue
			}
			// Docs spread over the whole id range, the worst case for a
			// derived parameter: gaps sum to at most normCount − n.
			gaps, vals := make([]uint32, n), make([]uint32, n)
			left := uint64(normCount) - uint64(n)
			for i := range gaps {
				g := rng.Uint64N(left/uint64(n-i) + 1)
				if i == n-1 {
					g = left
				}
				gaps[i], left = uint32(g), left-g
				vals[i] = uint32(rng.IntN(titleOnlyValue + 1))
			}
			kg := listRiceK(uint32(n), normCount)
			p := appendRiceList(nil, kg, gaps, vals)
			if len(p) > maxRicePayload {
				t.Fatalf("list n %d of %d: %d bytes, cap %d", n, normCount, len(p), maxRicePayload)
			}
			g2, v2 := make([]uint32, n), make([]uint32, n)
			if err := decodeRiceList(p, kg, g2, v2); err != nil || !slices.Equal(g2, gaps) || !slices.Equal(v2, vals) {
				t.Fatalf("list n %d of %d: round trip %v", n, normCount, err)
			}
			if err := decodeRiceList(append(bytes.Clone(p), 0), kg, g2, v2); err == nil {
				t.Fatalf("list n %d: a byte past the values was accepted", n)
			}
		}
	}
	for code := uint32(1); code <= 2*maxTFBody+1; code++ {
		if v := codeValue(code); v > titleOnlyValue || valueCode(v) != code {
			t.Fatalf("code %d: value %d, back %d", code, v, valueCode(v))
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

// TestLens round-trips the version 3 front-coding lengths and refuses a
// long form where the short one fits.
func TestLens(t *testing.T) {
	for shared := 0; shared <= MaxTermLen; shared++ {
		for sl := 0; sl <= MaxTermLen-shared; sl++ {
			b := appendLens(nil, shared, sl)
			s2, l2, n := readLens(append(b, 7))
			if s2 != shared || l2 != sl || n != len(b) {
				t.Fatalf("%d,%d: read %d,%d,%d", shared, sl, s2, l2, n)
			}
		}
	}
	for _, b := range [][]byte{{255, 3, 3}, {255, 14, 15}, {255, 15}, {}} {
		if _, _, n := readLens(b); n != 0 {
			t.Errorf("% x read as lengths", b)
		}
	}
}

// TestScanMarks looks every term of our pages up in shuffled order, twice,
// so that lookups start from the marks earlier ones left in the blocks:
// each is found, and a term just past each is not.
func TestScanMarks(t *testing.T) {
	k := loadOwn(t)
	ix := openBytes(t, k.build(t))
	var terms []string
	seen := map[string]bool{}
	for i := range k.bodies {
		for _, term := range append(Terms(k.titles[i]), Terms(k.bodies[i])...) {
			if !seen[term] {
				seen[term] = true
				terms = append(terms, term)
			}
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 2 {
		rng.Shuffle(len(terms), func(i, j int) { terms[i], terms[j] = terms[j], terms[i] })
		for _, term := range terms {
			ok, err := ix.Contains(term)
			if err != nil || !ok {
				t.Fatalf("round %d: %q: %v %v", round, term, ok, err)
			}
			if len(term) < MaxTermLen && !seen[term+"\x00"] {
				if ok, err := ix.Contains(term + "\x00"); err != nil || ok {
					t.Fatalf("round %d: %q+NUL found (%v)", round, term, err)
				}
			}
		}
	}
	marks := 0
	for _, b := range ix.cache.blocks {
		if b.cols != nil {
			marks += len(b.cols.marks)
		}
	}
	if marks == 0 {
		t.Fatal("no lookup left a scan mark")
	}
	t.Logf("%d terms, %d scan marks in the cached blocks", len(terms), marks)
}
