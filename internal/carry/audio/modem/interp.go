package modem

import "math"

// Fractional-delay interpolation of the 8 kHz signal, used to undo a
// recorder's clock error while demodulating: a Kaiser-windowed sinc over
// interpTaps samples, cut off at 3.6 kHz, tabulated at interpPhases
// phases per sample.
const (
	interpHalf   = 12
	interpTaps   = 2 * interpHalf
	interpPhases = 128
)

var interpTable = func() [][interpTaps]float32 {
	t := make([][interpTaps]float32, interpPhases+1)
	const cut = 0.9 // of Nyquist
	i0 := besselI0(8)
	for p := 0; p <= interpPhases; p++ {
		frac := float64(p) / interpPhases
		var sum float64
		for k := 0; k < interpTaps; k++ {
			d := float64(k-interpHalf+1) - frac // tap position minus the point
			x := d / interpHalf
			w := 0.0
			if x > -1 && x < 1 {
				w = besselI0(8*math.Sqrt(1-x*x)) / i0
			}
			v := cut * sincf(cut*d) * w
			t[p][k] = float32(v)
			sum += v
		}
		for k := range t[p] { // unit DC gain
			t[p][k] = float32(float64(t[p][k]) / sum)
		}
	}
	return t
}()

func sincf(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / 2) / float64(k)
		sum += term * term
		if term*term < 1e-12*sum {
			break
		}
	}
	return sum
}

// interpAt returns x at fractional index pos (0 outside x).
func interpAt(x []float32, pos float64) float32 {
	i := math.Floor(pos)
	frac := pos - i
	base := int(i) - interpHalf + 1
	f := frac * interpPhases
	p := int(f)
	w := float32(f - float64(p))
	t0, t1 := &interpTable[p], &interpTable[p+1]
	var acc float32
	if base >= 0 && base+interpTaps <= len(x) {
		s := x[base : base+interpTaps]
		for k := 0; k < interpTaps; k++ {
			acc += (t0[k] + w*(t1[k]-t0[k])) * s[k]
		}
		return acc
	}
	for k := 0; k < interpTaps; k++ {
		j := base + k
		if j >= 0 && j < len(x) {
			acc += (t0[k] + w*(t1[k]-t0[k])) * x[j]
		}
	}
	return acc
}
