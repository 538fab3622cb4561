package fountain

import (
	"encoding/binary"
	"testing"
)

// FuzzDecoderAdd feeds a decoder arbitrary symbols. The input is a 12-byte
// OTI followed by records (SBN 1 byte, ESI 3 bytes, then T bytes of symbol,
// cut short at the end). Errors are fine; panics, hangs and wrong sizes
// are bugs. Seeds are genuine symbol streams of small objects of our own
// (a few hundred bytes each: the fuzzer's minimisation of a new input is
// quadratic in its length), in one block and in several.
func FuzzDecoderAdd(f *testing.F) {
	text := []byte("ferry carries archives across the gap: cut into fountain-coded packets, any slightly more than K of them, from any broadcast, in any order, rebuild the file. 페리는 기록물을 나른다.")
	for _, c := range []struct{ n, T, ws int }{{len(text), 8, 1 << 10}, {len(text), 16, 192}, {len(text), 128, 640}, {37, 4, 0}} {
		data := text[:c.n]
		p, err := NewParams(uint64(len(data)), c.T, c.ws)
		if err != nil {
			f.Fatal(err)
		}
		e, err := NewEncoder(data, p)
		if err != nil {
			f.Fatal(err)
		}
		oti := p.Encode()
		seed := oti[:]
		buf := make([]byte, p.T)
		for sbn := 0; sbn < p.SourceBlocks(); sbn++ {
			for esi := 1; esi < p.SourceSymbols(sbn)+3; esi++ {
				if err := e.Symbol(uint8(sbn), uint32(esi), buf); err != nil {
					f.Fatal(err)
				}
				var hdr [4]byte
				binary.BigEndian.PutUint32(hdr[:], uint32(sbn)<<24|uint32(esi))
				seed = append(seed, hdr[:]...)
				seed = append(seed, buf...)
			}
		}
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in []byte) { fuzzAdd(t, in) })
}

func fuzzAdd(t *testing.T, in []byte) {
	if len(in) < OTISize {
		return
	}
	p, err := DecodeParams(in[:OTISize])
	if err != nil {
		return
	}
	// Keep each run small (the fuzzer may pick huge objects): the work of
	// a decoder grows with K² and the memory with K×T per block.
	if p.SourceSymbols(0) > 300 || p.T > 512 || p.SourceBlocks() > 16 {
		return
	}
	d, err := NewDecoder(p)
	if err != nil {
		t.Fatalf("validated params refused: %v", err)
	}
	rest := in[OTISize:]
	for len(rest) >= 4 {
		h := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		n := min(int(p.T), len(rest))
		done, err := d.Add(uint8(h>>24), h&0xFFFFFF, rest[:n])
		rest = rest[n:]
		if err == nil && done {
			out, err := d.Bytes()
			if err != nil || uint64(len(out)) != p.F {
				t.Fatalf("done but Bytes gave %d bytes, %v", len(out), err)
			}
			return
		}
	}
}
