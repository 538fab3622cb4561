package modem

import (
	"fmt"
	"math"
	"time"

	"ferry/internal/carry/audio/audiofile"
)

// Transmitter turns payloads into audio, one frame per payload. Frames
// follow each other without gaps; consecutive calls produce one continuous
// signal, so a station can loop or concatenate the output.
type Transmitter struct {
	l    *layout
	rate int
	rs   *audiofile.Resampler
	ifft *fft
	buf  []complex64
	tail []float32 // the taper of the last symbol, added to what follows
}

// NewTransmitter returns a transmitter for mode producing samples at rate
// Hz (8000, 44100 and 48000 are usual; 8000..192000 accepted).
func NewTransmitter(mode Mode, rate int) (*Transmitter, error) {
	if !mode.Valid() {
		return nil, fmt.Errorf("modem: unknown mode %d", int(mode))
	}
	if rate < SampleRate || rate > 192000 {
		return nil, fmt.Errorf("modem: cannot transmit at %d Hz (8000 to 192000)", rate)
	}
	t := &Transmitter{l: mode.layout(), rate: rate, ifft: newFFT(fftSize), buf: make([]complex64, fftSize)}
	if rate != SampleRate {
		t.rs, _ = audiofile.NewResampler(SampleRate, rate)
	}
	return t, nil
}

// Mode returns the transmitter's mode.
func (t *Transmitter) Mode() Mode { return t.l.mode }

// SampleRate returns the output rate in Hz.
func (t *Transmitter) SampleRate() int { return t.rate }

// Frame returns the samples of one frame carrying payload (at most
// Mode().PayloadSize() bytes). The last few samples of a frame's signal
// are held back and come out with the next Frame, Silence or Flush.
func (t *Transmitter) Frame(payload []byte) ([]float32, error) {
	cells, err := t.l.encodeCells(payload)
	if err != nil {
		return nil, err
	}
	return t.output(t.frame8k(cells)), nil
}

// Silence returns d of silence (after the held-back end of the last frame).
func (t *Transmitter) Silence(d time.Duration) []float32 {
	n := int(d.Seconds() * SampleRate)
	if n < 0 {
		n = 0
	}
	x := make([]float32, n)
	return t.output(t.mix(x))
}

// Flush returns what is still held back: the end of the last frame and the
// resampler's delay line. Call it once at the end.
func (t *Transmitter) Flush() []float32 {
	x := t.mix(nil)
	x = append(x, t.tail...)
	t.tail = nil
	out := t.output(x)
	if t.rs != nil {
		out = t.rs.Flush(out)
	}
	return out
}

// mix adds the held-back tail to the start of x.
func (t *Transmitter) mix(x []float32) []float32 {
	if len(x) < len(t.tail) {
		return x
	}
	for i, v := range t.tail {
		x[i] += v
	}
	t.tail = nil
	return x
}

func (t *Transmitter) output(x []float32) []float32 {
	for i, v := range x {
		if v > 0.95 {
			x[i] = 0.95
		} else if v < -0.95 {
			x[i] = -0.95
		}
	}
	if t.rs == nil {
		return x
	}
	return t.rs.Process(nil, x)
}

// symbolTime returns the real time signal of one useful symbol with the
// given values on bins first, first+1, ...
func (t *Transmitter) symbolTime(first int, vals []complex64, gain float32) []float32 {
	for i := range t.buf {
		t.buf[i] = 0
	}
	copy(t.buf[first:], vals)
	t.ifft.inverse(t.buf)
	out := make([]float32, fftSize)
	for i, v := range t.buf {
		out[i] = real(v) * gain
	}
	return out
}

// taper is the raised-cosine rise over taperLen samples.
var taper = func() []float32 {
	w := make([]float32, taperLen)
	for i := range w {
		w[i] = float32(0.5 * (1 - math.Cos(math.Pi*(float64(i)+0.5)/taperLen)))
	}
	return w
}()

// frame8k builds one frame at 8 kHz: preamble, then pilot and data rows.
func (t *Transmitter) frame8k(cells []complex64) []float32 {
	l := t.l
	p := l.p
	out := make([]float32, p.frameSamples()+taperLen)
	// Preamble: prefix and 5 × A, then 2 × B, as one tapered block.
	a := t.symbolTime(preFirstBin, l.preA, l.preGain)
	b := t.symbolTime(preFirstBin, l.preB, l.preGain)
	for i := 0; i < preambleLen+taperLen; i++ {
		j := i - cpLen
		var v float32
		if j < preRepeats*fftSize {
			v = a[(j+fftSize)%fftSize]
		} else {
			v = b[(j-preRepeats*fftSize)%fftSize]
		}
		out[i] += v * edge(i, preambleLen)
	}
	cell := 0
	for s := 0; s < p.symbols(); s++ {
		var vals []complex64
		if s%pilotEvery == 0 {
			vals = l.pilots[s/pilotEvery]
		} else {
			vals = cells[cell : cell+p.carriers]
			cell += p.carriers
		}
		x := t.symbolTime(p.firstBin, vals, l.gain)
		o := preambleLen + s*symLen
		for i := 0; i < symLen+taperLen; i++ {
			out[o+i] += x[(i-cpLen+fftSize)%fftSize] * edge(i, symLen)
		}
	}
	out = t.mix(out)
	n := p.frameSamples()
	t.tail = append([]float32(nil), out[n:]...)
	return out[:n]
}

// edge is the window of a block of length n (plus the taper overhang) at
// sample i: rising over the first taperLen samples, falling after n.
func edge(i, n int) float32 {
	switch {
	case i < taperLen:
		return taper[i]
	case i >= n:
		return 1 - taper[i-n]
	}
	return 1
}
