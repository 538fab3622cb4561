package audiofile

import (
	"fmt"
	"math"
)

// Resampler converts a stream of samples from one rate to another with a
// Kaiser-windowed sinc interpolator, in chunks, keeping only the few input
// samples its filter spans. Any ratio works (44100 to 8000, or 1.02 for a
// simulated clock error); the cutoff sits at 0.45 of the lower rate, so a
// modem signal below 3.6 kHz passes unchanged between any two rates of 8 kHz
// and up.
type Resampler struct {
	step  float64   // input samples per output sample
	half  int       // filter half-width in input samples
	scale float64   // cutoff as a fraction of the input rate, times 2
	table []float32 // kernel at tablePhases points per input sample, from 0 to half
	buf   []float32 // input not yet consumed; buf[0] is input sample base
	pos   float64   // position of the next output, in buf coordinates
	in    int64     // input samples taken
	out   int64     // output samples given
}

const (
	tablePhases = 256
	kaiserBeta  = 8.0
	zeroCross   = 12 // zero crossings of the sinc on each side
)

// NewResampler returns a resampler from rate from to rate to (Hz).
func NewResampler(from, to int) (*Resampler, error) {
	if from <= 0 || to <= 0 || from > 1_000_000 || to > 1_000_000 {
		return nil, fmt.Errorf("audiofile: cannot resample %d Hz to %d Hz", from, to)
	}
	return NewResamplerRatio(float64(to) / float64(from)), nil
}

// NewResamplerRatio returns a resampler that makes ratio output samples per
// input sample (ratio > 1 raises the rate). ratio must lie in 1/200..200.
func NewResamplerRatio(ratio float64) *Resampler {
	if !(ratio >= 1.0/200 && ratio <= 200) {
		panic("audiofile: internal error: resampling ratio out of range")
	}
	r := &Resampler{step: 1 / ratio}
	cut := 0.5 * 0.9 // of the input rate, for upsampling
	if ratio < 1 {
		cut *= ratio
	}
	r.scale = 2 * cut
	r.half = int(math.Ceil(zeroCross / r.scale))
	n := r.half*tablePhases + 2
	r.table = make([]float32, n)
	i0 := bessel0(kaiserBeta)
	for i := range r.table {
		t := float64(i) / tablePhases
		x := t / float64(r.half)
		if x > 1 {
			continue
		}
		w := bessel0(kaiserBeta*math.Sqrt(1-x*x)) / i0
		r.table[i] = float32(r.scale * sinc(r.scale*t) * w)
	}
	// The filter is centred on each output instant: prime with half zeros.
	r.buf = make([]float32, r.half, 4096)
	r.pos = float64(r.half)
	return r
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// bessel0 is the modified Bessel function of the first kind, order 0.
func bessel0(x float64) float64 {
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

// Process takes the next input samples and appends the output samples that
// are now determined to dst.
func (r *Resampler) Process(dst, in []float32) []float32 {
	r.buf = append(r.buf, in...)
	r.in += int64(len(in))
	return r.drain(dst)
}

func (r *Resampler) drain(dst []float32) []float32 {
	for r.pos+float64(r.half)+1 < float64(len(r.buf)) {
		dst = append(dst, r.at(r.pos))
		r.out++
		r.pos += r.step
	}
	// Drop input no later output can reach.
	if drop := int(r.pos) - r.half - 1; drop > 4096 {
		n := copy(r.buf, r.buf[drop:])
		r.buf = r.buf[:n]
		r.pos -= float64(drop)
	}
	return dst
}

// at interpolates the input at position p (buf coordinates).
func (r *Resampler) at(p float64) float32 {
	c := int(p)
	frac := p - float64(c)
	var acc float32
	// Taps to the left: distances frac, frac+1, ...
	d := frac * tablePhases
	for k := 0; k <= r.half && c-k >= 0; k++ {
		i := int(d)
		f := float32(d - float64(i))
		h := r.table[i] + f*(r.table[i+1]-r.table[i])
		acc += h * r.buf[c-k]
		d += tablePhases
		if int(d) >= len(r.table)-1 {
			break
		}
	}
	// Taps to the right: distances 1-frac, 2-frac, ...
	d = (1 - frac) * tablePhases
	for k := 1; k <= r.half+1 && c+k < len(r.buf); k++ {
		i := int(d)
		if i >= len(r.table)-1 {
			break
		}
		f := float32(d - float64(i))
		h := r.table[i] + f*(r.table[i+1]-r.table[i])
		acc += h * r.buf[c+k]
		d += tablePhases
	}
	return acc
}

// Flush appends the remaining output samples, as if the input were followed
// by silence, so that the total output is round(input × ratio) samples.
func (r *Resampler) Flush(dst []float32) []float32 {
	want := int64(math.Round(float64(r.in) / r.step))
	zeros := make([]float32, r.half+2)
	r.buf = append(r.buf, zeros...)
	for r.out < want && r.pos+float64(r.half)+1 < float64(len(r.buf)) {
		dst = append(dst, r.at(r.pos))
		r.out++
		r.pos += r.step
	}
	return dst
}

// Resample converts a whole signal from rate from to rate to.
func Resample(x []float32, from, to int) ([]float32, error) {
	if from == to {
		return append([]float32(nil), x...), nil
	}
	r, err := NewResampler(from, to)
	if err != nil {
		return nil, err
	}
	out := make([]float32, 0, int(float64(len(x))*float64(to)/float64(from))+16)
	out = r.Process(out, x)
	return r.Flush(out), nil
}
