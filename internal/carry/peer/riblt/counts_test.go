package riblt

import (
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"sort"
	"testing"
)

// TestCountsEstimate: with the counts of the first 1024 cells announced,
// the estimate is within about 4% (one standard deviation), and decoding
// from the same encoder still works.
func TestCountsEstimate(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	const d = 3000
	var ratios []float64
	for run := range 12 {
		s := makeSets(r, 16, 2000, d/2, d-d/2)
		var key Key
		binary.LittleEndian.PutUint64(key[:], r.Uint64())
		enc, _ := NewEncoder(16, key, 0)
		for _, x := range s.a {
			enc.Add(x)
		}
		dec, _ := NewDecoder(16, key, Limits{})
		for _, x := range s.b {
			dec.Add(x)
		}
		c, err := enc.Counts(MaxCounts)
		if err != nil {
			t.Fatal(err)
		}
		b := AppendCounts(nil, c)
		got, n, err := ParseCounts(b)
		if err != nil || n != len(b) || len(got) != MaxCounts {
			t.Fatalf("counts round trip: %v", err)
		}
		if err := dec.AddCounts(got); err != nil {
			t.Fatal(err)
		}
		ratios = append(ratios, dec.Estimate()/d)
		if run > 2 {
			continue
		}
		for !dec.Decoded() {
			sym, err := enc.Next()
			if err != nil {
				t.Fatal(err)
			}
			if err := dec.AddSymbol(sym); err != nil {
				t.Fatalf("symbol %d: %v", dec.Symbols(), err)
			}
		}
		if !sameSet(dec.Remote(), s.onlyA) || !sameSet(dec.Local(), s.onlyB) {
			t.Fatal("wrong difference after counts")
		}
	}
	sort.Float64s(ratios)
	t.Logf("estimate / d: min %.3f median %.3f max %.3f", ratios[0], ratios[len(ratios)/2], ratios[len(ratios)-1])
	if ratios[0] < 0.85 || ratios[len(ratios)-1] > 1.15 {
		t.Errorf("estimates spread %.3f..%.3f, want within 15%%", ratios[0], ratios[len(ratios)-1])
	}
}

// TestCountsMismatch: a symbol whose count differs from the one announced
// is a protocol violation.
func TestCountsMismatch(t *testing.T) {
	enc, _ := NewEncoder(8, Key{}, 0)
	for i := range 50 {
		enc.Add(binary.LittleEndian.AppendUint64(nil, uint64(i)))
	}
	c, _ := enc.Counts(4)
	dec, _ := NewDecoder(8, Key{}, Limits{})
	c[1]++
	if err := dec.AddCounts(c); err != nil {
		t.Fatal(err)
	}
	s, _ := enc.Next()
	if err := dec.AddSymbol(s); err != nil {
		t.Fatal(err)
	}
	s, _ = enc.Next()
	if err := dec.AddSymbol(s); !errors.Is(err, ErrInconsistent) {
		t.Errorf("count differing from the announced one: %v", err)
	}
	if _, err := enc.Counts(4); !errors.Is(err, ErrStarted) {
		t.Errorf("Counts after Next: %v", err)
	}
	dec, _ = NewDecoder(8, Key{}, Limits{})
	if err := dec.AddCounts(make([]int64, MaxCounts+1)); !errors.Is(err, ErrStarted) {
		t.Errorf("too many counts: %v", err)
	}
	dec, _ = NewDecoder(8, Key{}, Limits{MaxItems: 10})
	if err := dec.AddCounts([]int64{11}); !errors.Is(err, ErrInconsistent) {
		t.Errorf("count over the item cap: %v", err)
	}
}

func TestParseCountsRejects(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":       {},
		"too many":    binaryUvarint(MaxCounts + 1),
		"short":       {3, 1, 2},
		"non-minimal": {1, 0x80, 0x00},
		"over int64":  {1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		if _, _, err := ParseCounts(b); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func binaryUvarint(v uint64) []byte { return binary.AppendUvarint(nil, v) }

func FuzzParseCounts(f *testing.F) {
	f.Add(AppendCounts(nil, []int64{5, 3, 300, 0}))
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, n, err := ParseCounts(b)
		if err != nil {
			return
		}
		if got := AppendCounts(nil, c); string(got) != string(b[:n]) {
			t.Fatalf("%x re-encodes as %x", b[:n], got)
		}
	})
}

// BenchmarkReconcile: one reconciliation of 10^4-item sets differing in
// 100 items, counts and symbols through the wire encoding, both sides.
func BenchmarkReconcile(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	s := makeSets(r, 32, 10000, 50, 50)
	var symbols, bytes int
	for b.Loop() {
		enc, _ := NewEncoder(32, Key{1}, 0)
		for _, x := range s.a {
			enc.Add(x)
		}
		dec, _ := NewDecoder(32, Key{1}, Limits{})
		for _, x := range s.b {
			dec.Add(x)
		}
		c, _ := enc.Counts(MaxCounts)
		buf := AppendCounts(nil, c)
		dec.AddCounts(c)
		for !dec.Decoded() {
			sym, _ := enc.Next()
			buf = AppendSymbol(buf, sym)
			if err := dec.AddSymbol(sym); err != nil {
				b.Fatal(err)
			}
		}
		symbols += dec.Symbols()
		bytes += len(buf)
	}
	b.ReportMetric(float64(symbols)/float64(b.N)/100, "symbols/diff")
	b.ReportMetric(float64(bytes)/float64(b.N), "wire-bytes/op")
}
