package search

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// riceBlocks returns n Rice blocks of blockSize postings shaped like the
// postings of the 5 GB scale index: geometric gaps of mean gapMean and
// values that are 0 for about three postings in four.
func riceBlocks(n int, gapMean float64, seed uint64) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 15))
	var out [][]byte
	gaps, vals := make([]uint32, blockSize), make([]uint32, blockSize)
	for range n {
		for i := range gaps {
			gaps[i] = uint32(rng.ExpFloat64() * gapMean)
			vals[i] = 0
			if rng.IntN(4) == 0 {
				vals[i] = uint32(rng.IntN(8))
			}
		}
		out = append(out, appendRiceBlock(nil, gaps, vals))
	}
	return out
}

// BenchmarkRiceDecode decodes whole blocks of gaps and values the way a
// search does (the payload copied into the cursor first), for dense,
// medium and sparse lists. ns/op is per block of 128 postings.
func BenchmarkRiceDecode(b *testing.B) {
	for _, bc := range []struct {
		name string
		mean float64
	}{{"dense", 3}, {"mid", 60}, {"sparse", 4000}} {
		blocks := riceBlocks(64, bc.mean, 7)
		b.Run(bc.name, func(b *testing.B) {
			var gaps, vals [blockSize]uint32
			size := 0
			for _, p := range blocks {
				size += len(p)
			}
			b.SetBytes(int64(size / len(blocks)))
			i := 0
			for b.Loop() {
				if err := decodeRiceBlock(blocks[i%len(blocks)], gaps[:], vals[:]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

// TestRiceRandom round-trips random blocks and lists of every length and
// spread, and checks that a random truncation of each and an appended
// byte are refused (never a panic).
func TestRiceRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 15))
	for iter := range 3000 {
		n := 1 + rng.IntN(blockSize)
		gaps, vals := make([]uint32, n), make([]uint32, n)
		shift := rng.IntN(33)
		for i := range gaps {
			gaps[i] = uint32(rng.Uint64() >> (32 + shift))
			if rng.IntN(50) == 0 {
				gaps[i] = rng.Uint32()
			}
			vals[i] = uint32(rng.IntN(63)) >> rng.IntN(7)
		}
		g2, v2 := make([]uint32, n), make([]uint32, n)
		p := appendRiceBlock(nil, gaps, vals)
		if err := decodeRiceBlock(p, g2, v2); err != nil || !slices.Equal(g2, gaps) || !slices.Equal(v2, vals) {
			t.Fatalf("iter %d: block of %d does not round-trip (%v)", iter, n, err)
		}
		if err := decodeRiceBlock(append(bytes.Clone(p), byte(rng.IntN(256))), g2, v2); err == nil {
			t.Fatalf("iter %d: block with a byte appended accepted", iter)
		}
		if cut := rng.IntN(len(p)); cut > 0 {
			if err := decodeRiceBlock(p[:cut], g2, v2); err == nil {
				t.Fatalf("iter %d: block cut to %d of %d bytes accepted", iter, cut, len(p))
			}
		}
		// The list's gap parameter is derived, not chosen: try one near
		// the best, where the bits stay few.
		kg := min(bestRiceK(gaps, 31)+uint(rng.IntN(3)), 31)
		if riceCost(gaps, kg)+riceCost(vals, maxCodeK) < 8*maxRicePayload {
			l := appendRiceList(nil, kg, gaps, vals)
			if len(l) > maxRicePayload {
				continue
			}
			if err := decodeRiceList(l, kg, g2, v2); err != nil || !slices.Equal(g2, gaps) || !slices.Equal(v2, vals) {
				t.Fatalf("iter %d: list of %d (kg %d) does not round-trip (%v)", iter, n, kg, err)
			}
			if cut := rng.IntN(len(l)); cut > 0 {
				if err := decodeRiceList(l[:cut], kg, g2, v2); err == nil {
					t.Fatalf("iter %d: list cut to %d of %d bytes accepted", iter, cut, len(l))
				}
			}
		}
	}
}

// TestRiceGarbage decodes random bytes as blocks and lists: it must
// return (an error or values), never panic, and any values it accepts
// must encode back to the same bytes (one block, one encoding).
func TestRiceGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 15))
	accepted := 0
	for range 20000 {
		p := make([]byte, 1+rng.IntN(80))
		for i := range p {
			p[i] = byte(rng.Uint32())
			if rng.IntN(3) == 0 {
				p[i] = 0
			}
		}
		n := 1 + rng.IntN(blockSize)
		g, v := make([]uint32, n), make([]uint32, n)
		if decodeRiceBlock(p, g, v) == nil {
			accepted++
			kg, kc := uint(p[0]&31), uint(p[0]>>5)
			w := bitWriter{dst: []byte{p[0]}}
			for _, x := range g {
				w.rice(x, kg)
			}
			for _, x := range v {
				w.rice(x, kc)
			}
			if q := w.flush(); !bytes.Equal(q, p) {
				t.Fatalf("accepted %x, which re-encodes as %x", p, q)
			}
		}
		kg := uint(rng.IntN(32))
		_ = decodeRiceList(p, kg, g, v)
	}
	t.Logf("%d of 20000 random payloads decoded", accepted)
}

// FuzzRiceBlock decodes arbitrary bytes as a postings block and as a list
// of one block: never a panic, and a block it accepts re-encodes to the
// same bytes.
func FuzzRiceBlock(f *testing.F) {
	for _, p := range riceBlocks(4, 40, 9) {
		f.Add(p, uint8(blockSize), uint8(5))
	}
	f.Add([]byte{0x20, 0xff, 0x01}, uint8(3), uint8(0))
	f.Fuzz(func(t *testing.T, p []byte, n, kg uint8) {
		cnt := 1 + int(n)%blockSize
		g, v := make([]uint32, cnt), make([]uint32, cnt)
		_ = decodeRiceList(p, uint(kg%32), g, v)
		if decodeRiceBlock(p, g, v) != nil {
			return
		}
		w := bitWriter{dst: []byte{p[0]}}
		for _, x := range g {
			w.rice(x, uint(p[0]&31))
		}
		for _, x := range v {
			w.rice(x, uint(p[0]>>5))
		}
		if q := w.flush(); !bytes.Equal(q, p) {
			t.Fatalf("accepted %x, which re-encodes as %x", p, q)
		}
	})
}
