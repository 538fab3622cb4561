package fountain

import (
	"encoding/binary"
	"os"
	"testing"

	"ferry/internal/testkit/shared"
)

// FuzzDecoderAdd feeds a decoder arbitrary symbols. The input is a 12-byte
// OTI followed by records (SBN 1 byte, ESI 3 bytes, then T bytes of symbol,
// cut short at the end). Errors are fine; panics, hangs and wrong sizes
// are bugs. Seeds are genuine symbol streams of real files.
func FuzzDecoderAdd(f *testing.F) {
	for _, name := range []string{"udhr/kor.html", "udhr/eng.html"} {
		data, err := os.ReadFile(shared.Path(f, name))
		if err != nil {
			f.Fatal(err)
		}
		data = data[:min(len(data), 4000)]
		p, err := NewParams(uint64(len(data)), 64, 1<<10)
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
			for esi := 1; esi < p.SourceSymbols(sbn)+4; esi++ {
				e.Symbol(uint8(sbn), uint32(esi), buf)
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
	// keep each run small: the fuzzer may pick huge objects
	if p.SourceSymbols(0) > 2000 || int(p.T) > 4096 {
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
