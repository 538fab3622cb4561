package fountain

import (
	"math/rand/v2"
	"testing"

	"github.com/xssnick/raptorq"
)

// The benchmarks compare this package with github.com/xssnick/raptorq in one
// run, at K=1000 source symbols of T=1024 bytes. "Encode" builds the encoder
// and produces the symbols a sender emits for a channel losing 20%: all
// ESIs 0..1.25K. "Decode" feeds the symbols that survive a 20% loss (a fixed
// random pattern) until the decoder returns the block.
const (
	benchK = 1000
	benchT = 1024
)

func benchData() []byte {
	rng := rand.New(rand.NewPCG(7, 7))
	data := make([]byte, benchK*benchT)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	return data
}

// benchStream returns the ESIs a receiver gets: 0..1.25K with 20% dropped.
func benchStream() []uint32 {
	rng := rand.New(rand.NewPCG(8, 8))
	var esis []uint32
	for esi := 0; esi < benchK*5/4+50; esi++ {
		if rng.IntN(5) != 0 {
			esis = append(esis, uint32(esi))
		}
	}
	return esis
}

func BenchmarkEncode(b *testing.B) {
	data := benchData()
	n := uint32(benchK * 5 / 4)
	b.Run("ferry", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		buf := make([]byte, benchT)
		for b.Loop() {
			e, err := NewBlockEncoder(data, benchT)
			if err != nil {
				b.Fatal(err)
			}
			for esi := uint32(0); esi < n; esi++ {
				e.Symbol(esi, buf)
			}
		}
	})
	b.Run("xssnick", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			e, err := raptorq.NewRaptorQ(benchT).CreateEncoder(data)
			if err != nil {
				b.Fatal(err)
			}
			for esi := uint32(0); esi < n; esi++ {
				e.GenSymbol(esi)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	data := benchData()
	esis := benchStream()
	e, err := NewBlockEncoder(data, benchT)
	if err != nil {
		b.Fatal(err)
	}
	syms := make([][]byte, len(esis))
	for i, esi := range esis {
		syms[i] = make([]byte, benchT)
		e.Symbol(esi, syms[i])
	}
	b.Run("ferry", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			d, _ := NewBlockDecoder(benchK, benchT)
			done := false
			for i, esi := range esis {
				if done, err = d.Add(esi, syms[i]); err != nil {
					b.Fatal(err)
				} else if done {
					break
				}
			}
			if !done {
				b.Fatal("not decoded")
			}
		}
	})
	b.Run("xssnick", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			d, err := raptorq.NewRaptorQ(benchT).CreateDecoder(uint32(len(data)))
			if err != nil {
				b.Fatal(err)
			}
			ok := false
			for i, esi := range esis {
				can, err := d.AddSymbol(esi, syms[i])
				if err != nil {
					b.Fatal(err)
				}
				if can {
					if ok, _, _ = d.Decode(); ok {
						break
					}
				}
			}
			if !ok {
				b.Fatal("xssnick did not decode")
			}
		}
	})
}
