package modem

import (
	"math"
	"math/cmplx"
	"testing"
)

func TestFFTMatchesDFT(t *testing.T) {
	for _, n := range []int{64, 256} {
		f := newFFT(n)
		x := make([]complex64, n)
		g := splitMix64{7}
		for i := range x {
			x[i] = complex(float32(g.intn(1000))/500-1, float32(g.intn(1000))/500-1)
		}
		y := append([]complex64(nil), x...)
		f.forward(y)
		for k := 0; k < n; k += 7 {
			var s complex128
			for i, v := range x {
				s += complex128(v) * cmplx.Exp(complex(0, -2*math.Pi*float64(k*i)/float64(n)))
			}
			if cmplx.Abs(s-complex128(y[k])) > 1e-3*float64(n) {
				t.Fatalf("n=%d bin %d: %v, want %v", n, k, y[k], s)
			}
		}
		f.inverse(y)
		for i := range y {
			if cmplx.Abs(complex128(y[i]/complex(float32(n), 0)-x[i])) > 1e-4 {
				t.Fatalf("n=%d: inverse differs at %d", n, i)
			}
		}
	}
}
