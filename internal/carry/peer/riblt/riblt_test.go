package riblt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestSipHashVectors(t *testing.T) {
	// From the SipHash paper (Aumasson, Bernstein 2012), appendix A, and the
	// reference vectors: key 00 01 .. 0f.
	var k [16]byte
	for i := range k {
		k[i] = byte(i)
	}
	h := newHasher(k)
	if got := h.sum(nil); got != 0x726fdb47dd0e0e31 {
		t.Errorf("empty message: %#x", got)
	}
	m := make([]byte, 15)
	for i := range m {
		m[i] = byte(i)
	}
	if got := h.sum(m); got != 0xa129ca6149be45e5 {
		t.Errorf("15-byte message: %#x", got)
	}
}

// TestMappingDistribution: item maps to index i with probability
// 1/(1+i/2), so over many items the share at index i matches.
func TestMappingDistribution(t *testing.T) {
	const items, span = 20000, 64
	hits := make([]int, span)
	r := rand.New(rand.NewPCG(1, 2))
	for range items {
		m := newMapping(r.Uint64())
		prev := uint64(0)
		for first := true; m.next < span; m.advance() {
			if !first && m.next <= prev {
				t.Fatalf("indices not increasing: %d after %d", m.next, prev)
			}
			first = false
			prev = m.next
			hits[m.next]++
		}
	}
	for _, i := range []int{0, 1, 2, 5, 10, 30, 63} {
		want := float64(items) / (1 + float64(i)/2)
		got := float64(hits[i])
		if got < want*0.9 || got > want*1.1 {
			t.Errorf("index %d: %v hits, want about %.0f", i, got, want)
		}
	}
}

// TestMappingFixed pins the mapping sequence: a peer built from
// docs/sync.md must produce these indices for these seeds (the values were
// computed independently from the spec's formula in Python).
func TestMappingFixed(t *testing.T) {
	cases := map[uint64][]uint64{
		0:                  {0, 1, 3, 27, 28, 89, 157, 379, 432, 874},
		0x0123456789abcdef: {0, 4, 5, 14, 18, 278, 981, 1155, 1579, 1600},
	}
	for seed, want := range cases {
		m := newMapping(seed)
		var got []uint64
		for range want {
			got = append(got, m.next)
			m.advance()
		}
		if !slices.Equal(got, want) {
			t.Errorf("seed %#x: %v, want %v", seed, got, want)
		}
	}
}

type sets struct {
	a, b         [][]byte // a: encoder side (remote), b: decoder side (local)
	onlyA, onlyB [][]byte
}

func makeSets(r *rand.Rand, size, common, onlyA, onlyB int) sets {
	item := func() []byte {
		b := make([]byte, size)
		for i := 0; i < size; i += 8 {
			var w [8]byte
			binary.LittleEndian.PutUint64(w[:], r.Uint64())
			copy(b[i:], w[:])
		}
		return b
	}
	var s sets
	for range common {
		x := item()
		s.a = append(s.a, x)
		s.b = append(s.b, x)
	}
	for range onlyA {
		x := item()
		s.a = append(s.a, x)
		s.onlyA = append(s.onlyA, x)
	}
	for range onlyB {
		x := item()
		s.b = append(s.b, x)
		s.onlyB = append(s.onlyB, x)
	}
	r.Shuffle(len(s.a), func(i, j int) { s.a[i], s.a[j] = s.a[j], s.a[i] })
	r.Shuffle(len(s.b), func(i, j int) { s.b[i], s.b[j] = s.b[j], s.b[i] })
	return s
}

// reconcile runs an Encoder over a and a Decoder over b, sending symbols
// through the wire encoding, and returns the Decoder and the bytes sent.
func reconcile(t testing.TB, key Key, size int, a, b [][]byte) (*Decoder, int) {
	t.Helper()
	enc, err := NewEncoder(size, key, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range a {
		if err := enc.Add(x); err != nil {
			t.Fatal(err)
		}
	}
	dec, err := NewDecoder(size, key, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range b {
		if err := dec.Add(x); err != nil {
			t.Fatal(err)
		}
	}
	wire := 0
	var buf []byte
	for !dec.Decoded() {
		s, err := enc.Next()
		if err != nil {
			t.Fatal(err)
		}
		buf = AppendSymbol(buf[:0], s)
		wire += len(buf)
		p, n, err := ParseSymbol(buf, size)
		if err != nil || n != len(buf) {
			t.Fatalf("parse: %v (%d of %d bytes)", err, n, len(buf))
		}
		if err := dec.AddSymbol(p); err != nil {
			t.Fatalf("symbol %d: %v", dec.Symbols(), err)
		}
	}
	return dec, wire
}

func sameSet(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	a = slices.Clone(a)
	b = slices.Clone(b)
	slices.SortFunc(a, bytes.Compare)
	slices.SortFunc(b, bytes.Compare)
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestRecoverBothWays: many random sets, differences on one side, the
// other, or both; the decoder must find exactly both halves.
func TestRecoverBothWays(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	runs := 300
	if testing.Short() {
		runs = 60
	}
	for run := range runs {
		size := []int{32, 8, 1, 6 + r.IntN(MaxItemSize-5)}[run%4]
		common := r.IntN(2000)
		na, nb := r.IntN(40), r.IntN(40)
		if run%10 == 0 {
			na, nb = 0, 0
		}
		if size == 1 {
			common, na, nb = 0, r.IntN(100), 0 // only 256 distinct one-byte items
			seen := map[byte]bool{}
			var a [][]byte
			for len(a) < na {
				x := byte(r.IntN(256))
				if !seen[x] {
					seen[x] = true
					a = append(a, []byte{x})
				}
			}
			dec, _ := reconcile(t, Key{byte(run)}, size, a, nil)
			if !sameSet(dec.Remote(), a) || len(dec.Local()) != 0 {
				t.Fatalf("run %d (1-byte items): wrong difference", run)
			}
			continue
		}
		s := makeSets(r, size, common, na, nb)
		var key Key
		binary.LittleEndian.PutUint64(key[:], r.Uint64())
		dec, _ := reconcile(t, key, size, s.a, s.b)
		if !sameSet(dec.Remote(), s.onlyA) || !sameSet(dec.Local(), s.onlyB) {
			t.Fatalf("run %d (size %d, common %d, +%d -%d): got %d remote, %d local",
				run, size, common, na, nb, len(dec.Remote()), len(dec.Local()))
		}
	}
}

// TestEmptySets: empty against empty decodes at the first symbol; empty
// against full recovers everything.
func TestEmptySets(t *testing.T) {
	dec, _ := reconcile(t, Key{}, 32, nil, nil)
	if dec.Symbols() != 1 || len(dec.Remote())+len(dec.Local()) != 0 {
		t.Errorf("empty sets: %d symbols", dec.Symbols())
	}
	s := makeSets(rand.New(rand.NewPCG(1, 1)), 32, 0, 0, 500)
	dec, _ = reconcile(t, Key{}, 32, nil, s.b)
	if !sameSet(dec.Local(), s.onlyB) {
		t.Error("empty remote: local items not all recovered")
	}
}

// TestOverhead measures symbols per differing item; the paper's figure is
// 1.35 for large d, larger for small d.
func TestOverhead(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct {
		d, runs int
		max     float64
	}{{1, 200, 3.0}, {10, 50, 2.2}, {100, 10, 1.6}, {1000, 3, 1.45}} {
		if testing.Short() && c.d > 100 {
			continue
		}
		total := 0
		for range c.runs {
			s := makeSets(r, 32, 1000, c.d/2, c.d-c.d/2)
			var key Key
			binary.LittleEndian.PutUint64(key[:], r.Uint64())
			dec, _ := reconcile(t, key, 32, s.a, s.b)
			total += dec.Symbols()
		}
		per := float64(total) / float64(c.runs*c.d)
		t.Logf("d=%d: %.3f symbols per difference", c.d, per)
		if per > c.max {
			t.Errorf("d=%d: %.3f symbols per difference, want <= %.2f", c.d, per, c.max)
		}
	}
}

func TestEstimate(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, d := range []int{200, 2000, 20000} {
		s := makeSets(r, 8, 3000, d/3, d-d/3)
		enc, _ := NewEncoder(8, Key{1}, 0)
		for _, x := range s.a {
			enc.Add(x)
		}
		dec, _ := NewDecoder(8, Key{1}, Limits{})
		for _, x := range s.b {
			dec.Add(x)
		}
		for range 64 {
			sym, _ := enc.Next()
			if err := dec.AddSymbol(sym); err != nil {
				t.Fatal(err)
			}
		}
		e := dec.Estimate()
		t.Logf("d=%d: estimate %.0f from 64 cells", d, e)
		if e < float64(d)*0.5 || e > float64(d)*1.6 {
			t.Errorf("d=%d: estimate %.0f", d, e)
		}
	}
}

func TestAddErrors(t *testing.T) {
	if _, err := NewEncoder(0, Key{}, 0); !errors.Is(err, ErrItemSize) {
		t.Error("size 0 accepted")
	}
	if _, err := NewEncoder(MaxItemSize+1, Key{}, 0); !errors.Is(err, ErrItemSize) {
		t.Error("oversized items accepted")
	}
	enc, _ := NewEncoder(4, Key{}, 2)
	if err := enc.Add([]byte{1, 2, 3}); !errors.Is(err, ErrItemSize) {
		t.Errorf("short item: %v", err)
	}
	enc.Add([]byte{1, 2, 3, 4})
	enc.Add([]byte{1, 2, 3, 4})
	if err := enc.Add([]byte{5, 6, 7, 8}); !errors.Is(err, ErrTooManyItems) {
		t.Errorf("third item: %v", err)
	}
	if _, err := enc.Next(); !errors.Is(err, ErrDuplicate) {
		t.Errorf("duplicate: %v", err)
	}
	if err := enc.Add([]byte{9, 9, 9, 9}); !errors.Is(err, ErrStarted) {
		t.Errorf("add after Next: %v", err)
	}
	dec, _ := NewDecoder(4, Key{}, Limits{})
	dec.Add([]byte{1, 1, 1, 1})
	dec.Add([]byte{1, 1, 1, 1})
	if err := dec.AddSymbol(Symbol{Sum: make([]byte, 4)}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("decoder duplicate: %v", err)
	}
}

// TestLimits: a stream that never decodes stops at MaxSymbols; a difference
// larger than MaxDiff stops with ErrTooManyDiffs.
func TestLimits(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	s := makeSets(r, 16, 10, 300, 0)
	enc, _ := NewEncoder(16, Key{}, 0)
	for _, x := range s.a {
		enc.Add(x)
	}
	dec, _ := NewDecoder(16, Key{}, Limits{MaxSymbols: 100})
	var err error
	for range 200 {
		sym, _ := enc.Next()
		if err = dec.AddSymbol(sym); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrTooManySymbols) || dec.Symbols() != 100 {
		t.Errorf("after %d symbols: %v", dec.Symbols(), err)
	}
	if err := dec.AddSymbol(Symbol{Sum: make([]byte, 16)}); !errors.Is(err, ErrTooManySymbols) {
		t.Errorf("error not sticky: %v", err)
	}

	enc, _ = NewEncoder(16, Key{}, 0)
	for _, x := range s.a {
		enc.Add(x)
	}
	dec, _ = NewDecoder(16, Key{}, Limits{MaxDiff: 50})
	for range 2000 {
		sym, _ := enc.Next()
		if err = dec.AddSymbol(sym); err != nil {
			break
		}
	}
	if !errors.Is(err, ErrTooManyDiffs) {
		t.Errorf("MaxDiff: %v", err)
	}
}

// TestHostileStreams: streams no honest Encoder makes are refused or
// merely fail to decode; they never yield items that contradict the local
// set.
func TestHostileStreams(t *testing.T) {
	local := [][]byte{bytes.Repeat([]byte{1}, 8), bytes.Repeat([]byte{2}, 8)}
	newDec := func() *Decoder {
		d, _ := NewDecoder(8, Key{3}, Limits{MaxSymbols: 64})
		for _, x := range local {
			d.Add(x)
		}
		return d
	}
	h := newHasher(Key{3})
	// The remote claims our two items plus local[0] a second time: after
	// subtracting our set, cell 0 is pure with local[0] and count +1, i.e.
	// "only the remote has local[0]", which our own set contradicts.
	x := local[0]
	sum := make([]byte, 8)
	xorInto(sum, local[1]) // remote cell = local[0]^local[1]^local[0]
	cell := Symbol{Sum: sum, Check: h.sum(local[0]) ^ h.sum(local[1]) ^ h.sum(x), Count: 3}
	d := newDec()
	if err := d.AddSymbol(cell); !errors.Is(err, ErrInconsistent) {
		t.Errorf("remote claiming a local item: %v", err)
	}
	// A cell claiming we hold an item we do not: count 1 fewer than our set
	// and a sum that peels to a foreign item.
	y := bytes.Repeat([]byte{9}, 8)
	sum = make([]byte, 8)
	xorInto(sum, local[0])
	xorInto(sum, local[1])
	xorInto(sum, y)
	cell = Symbol{Sum: sum, Check: h.sum(local[0]) ^ h.sum(local[1]) ^ h.sum(y), Count: 1}
	d = newDec()
	if err := d.AddSymbol(cell); !errors.Is(err, ErrInconsistent) {
		t.Errorf("peer claiming we hold a foreign item: %v", err)
	}
	// Negative and absurd counts.
	d = newDec()
	if err := d.AddSymbol(Symbol{Sum: make([]byte, 8), Count: -1}); !errors.Is(err, ErrInconsistent) {
		t.Errorf("negative count: %v", err)
	}
	// Random garbage: must end in an error or a result, never a panic, and
	// within MaxSymbols.
	r := rand.New(rand.NewPCG(11, 12))
	for range 200 {
		d = newDec()
		for range 64 {
			s := Symbol{Sum: make([]byte, 8), Check: r.Uint64(), Count: int64(r.IntN(4))}
			binary.LittleEndian.PutUint64(s.Sum, r.Uint64())
			if d.AddSymbol(s) != nil {
				break
			}
		}
		for _, x := range d.Local() {
			if !bytes.Equal(x, local[0]) && !bytes.Equal(x, local[1]) {
				t.Fatal("garbage stream produced a foreign local item")
			}
		}
	}
}

func TestWire(t *testing.T) {
	s := Symbol{Sum: bytes.Repeat([]byte{0xab}, 32), Check: 0x0102030405060708, Count: 300}
	b := AppendSymbol(nil, s)
	if len(b) != 32+8+2 {
		t.Fatalf("encoded %d bytes", len(b))
	}
	p, n, err := ParseSymbol(b, 32)
	if err != nil || n != len(b) || p.Count != 300 || p.Check != s.Check || !bytes.Equal(p.Sum, s.Sum) {
		t.Fatalf("round trip: %+v %d %v", p, n, err)
	}
	bad := map[string][]byte{
		"short":            b[:40],
		"non-minimal":      append(append([]byte(nil), b[:40]...), 0x80, 0x00),
		"varint too long":  append(append([]byte(nil), b[:40]...), bytes.Repeat([]byte{0xff}, 10)...),
		"count over int64": append(append([]byte(nil), b[:40]...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
	}
	for name, m := range bad {
		if _, _, err := ParseSymbol(m, 32); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v", name, err)
		}
	}
	batch := AppendBatch(nil, 7, []Symbol{s, s})
	first, syms, err := ParseBatch(batch, 32)
	if err != nil || first != 7 || len(syms) != 2 {
		t.Fatalf("batch: %d %d %v", first, len(syms), err)
	}
	for name, m := range map[string][]byte{
		"trailing":    append(slices.Clone(batch), 0),
		"truncated":   batch[:len(batch)-1],
		"zero count":  {7, 0},
		"huge count":  {7, 0xff, 0xff, 0x03},
		"count > len": {7, 100, 1, 2, 3},
	} {
		if _, _, err := ParseBatch(m, 32); !errors.Is(err, ErrFormat) {
			t.Errorf("batch %s: %v", name, err)
		}
	}
}

func FuzzParseBatch(f *testing.F) {
	s := Symbol{Sum: bytes.Repeat([]byte{1}, 8), Check: 5, Count: 2}
	f.Add(AppendBatch(nil, 0, []Symbol{s}))
	f.Add(AppendBatch(nil, 3, []Symbol{s, s, s}))
	f.Add([]byte{0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		first, syms, err := ParseBatch(b, 8)
		if err != nil {
			return
		}
		// Canonical: a parsed batch re-encodes to its input.
		if got := AppendBatch(nil, first, syms); !bytes.Equal(got, b) {
			t.Fatalf("%x re-encodes as %x", b, got)
		}
	})
}

// FuzzDecoder feeds arbitrary symbol streams to a Decoder holding a small
// local set: it must not panic, must stay within its limits, and whatever
// it recovers must agree with the local set.
func FuzzDecoder(f *testing.F) {
	r := rand.New(rand.NewPCG(1, 3))
	s := makeSets(r, 8, 20, 3, 3)
	enc, _ := NewEncoder(8, Key{}, 0)
	for _, x := range s.a {
		enc.Add(x)
	}
	var seed []byte
	for range 12 {
		sym, _ := enc.Next()
		seed = AppendSymbol(seed, sym)
	}
	f.Add(seed)
	f.Add(seed[:30])
	f.Add([]byte{})
	local := s.b
	f.Fuzz(func(t *testing.T, b []byte) {
		d, _ := NewDecoder(8, Key{}, Limits{MaxSymbols: 40, MaxDiff: 30})
		for _, x := range local {
			d.Add(x)
		}
		for len(b) > 0 {
			sym, n, err := ParseSymbol(b, 8)
			if err != nil {
				return
			}
			b = b[n:]
			if d.AddSymbol(sym) != nil {
				break
			}
		}
		if d.Symbols() > 40 || len(d.Remote())+len(d.Local()) > 30 {
			t.Fatal("limits exceeded")
		}
		in := map[string]bool{}
		for _, x := range local {
			in[string(x)] = true
		}
		for _, x := range d.Local() {
			if !in[string(x)] {
				t.Fatal("recovered a local item we do not hold")
			}
		}
		for _, x := range d.Remote() {
			if in[string(x)] {
				t.Fatal("recovered as remote-only an item we hold")
			}
		}
	})
}
