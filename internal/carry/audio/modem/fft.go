package modem

import (
	"math"
	"math/bits"
)

// fft is an in-place radix-2 complex FFT of one power-of-two size.
type fft struct {
	n   int
	rev []int
	tw  []complex64 // e^{-2πi j/n}, j < n/2
}

func newFFT(n int) *fft {
	if n < 2 || n&(n-1) != 0 {
		panic("modem: internal error: FFT size must be a power of two")
	}
	f := &fft{n: n, rev: make([]int, n), tw: make([]complex64, n/2)}
	shift := 64 - bits.TrailingZeros(uint(n))
	for i := range f.rev {
		f.rev[i] = int(bits.Reverse64(uint64(i)) >> shift)
	}
	for j := range f.tw {
		s, c := math.Sincos(-2 * math.Pi * float64(j) / float64(n))
		f.tw[j] = complex(float32(c), float32(s))
	}
	return f
}

// forward computes X[k] = Σ x[n] e^{-2πi kn/N} in place.
func (f *fft) forward(x []complex64) { f.run(x, false) }

// inverse computes x[n] = Σ X[k] e^{+2πi kn/N} in place (no 1/N).
func (f *fft) inverse(x []complex64) { f.run(x, true) }

func (f *fft) run(x []complex64, inv bool) {
	n := f.n
	for i, j := range f.rev {
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		half := size >> 1
		step := n / size
		for start := 0; start < n; start += size {
			for j := 0; j < half; j++ {
				w := f.tw[j*step]
				if inv {
					w = complex(real(w), -imag(w))
				}
				a := x[start+j]
				b := x[start+j+half] * w
				x[start+j] = a + b
				x[start+j+half] = a - b
			}
		}
	}
}
