package modem

import (
	"fmt"
	"math"
	"math/cmplx"
	"sort"
	"time"

	"ferry/internal/carry/audio/audiofile"
)

// Frame is a payload the receiver decoded, with what it measured.
type Frame struct {
	Mode    Mode
	Payload []byte
	// Start is the position of the frame's first sample in the input, in
	// input samples (and as a duration from the input's start).
	Start     int64
	StartTime time.Duration
	// SNR is the estimated signal-to-noise ratio in dB in a 3 kHz noise
	// bandwidth (the convention of the channel package).
	SNR float64
	// FreqOffset is the carrier offset in Hz; RateError the recording's
	// clock error in parts per million (positive: the recording runs fast,
	// i.e. has more samples per second of signal than nominal).
	FreqOffset float64
	RateError  float64
	// Iterations is the number of LDPC iterations the frame needed.
	Iterations int
}

// Stats counts what the receiver has seen so far.
type Stats struct {
	// Detected counts preambles that led to a demodulated frame.
	Detected int
	// Decoded counts frames returned (LDPC codeword and CRC correct).
	Decoded int
	// Failed counts detected frames the LDPC decoder could not correct.
	Failed int
	// BadCRC counts frames whose codeword decoded but whose CRC, length or
	// reserved bits were wrong; they are dropped, never returned.
	BadCRC int
	// Samples is the number of input samples consumed.
	Samples int64
}

// Receiver finds and decodes frames in audio fed to it in chunks of any
// size. It listens for several modes at once, keeps only the last few
// seconds of signal, and returns each frame as soon as it has been decoded.
type Receiver struct {
	rate   int
	rs     *audiofile.Resampler
	modes  []*layout
	decs   []*ldpcDecoder
	maxLen int // longest frame at 8 kHz

	x      []float32 // 8 kHz signal; x[0] is sample xBase
	xBase  int64
	bb     []complex64 // detector baseband at 2 kHz; bb[0] is sample bbBase
	bbBase int64
	nextBB int64 // next 2 kHz sample to compute
	win    int64 // next detector window

	f64   *fft
	f256  *fft
	rot   []complex64 // half-bin rotation for the detector
	mags  [][]float32 // ring of per-window correlation magnitudes
	gmax  [][]float32 // their maximum per mode, shift and half-bin
	act   *candidate
	queue []*candidate
	done  []span // frames decoded recently, to drop their later detections

	stats Stats
	in    []float32
}

type span struct{ from, to float64 }

// NewReceiver returns a receiver for input at rate Hz (any rate from 8000
// to 192000), listening for modes (all modes when none are given).
func NewReceiver(rate int, modes ...Mode) (*Receiver, error) {
	if rate < SampleRate || rate > 192000 {
		return nil, fmt.Errorf("modem: cannot receive at %d Hz (8000 to 192000)", rate)
	}
	if len(modes) == 0 {
		modes = Modes
	}
	r := &Receiver{rate: rate, f64: newFFT(detN), f256: newFFT(fftSize)}
	seen := map[Mode]bool{}
	for _, m := range modes {
		if !m.Valid() {
			return nil, fmt.Errorf("modem: unknown mode %d", int(m))
		}
		if seen[m] {
			continue
		}
		seen[m] = true
		l := m.layout()
		r.modes = append(r.modes, l)
		r.decs = append(r.decs, newLDPCDecoder(l.code))
		if n := l.p.frameSamples(); n > r.maxLen {
			r.maxLen = n
		}
	}
	if rate != SampleRate {
		r.rs, _ = audiofile.NewResampler(rate, SampleRate)
	}
	r.rot = make([]complex64, detN)
	for n := range r.rot {
		s, c := math.Sincos(-math.Pi * float64(n) / detN)
		r.rot[n] = complex(float32(c), float32(s))
	}
	for i := 0; i < detHist; i++ {
		r.mags = append(r.mags, make([]float32, len(r.modes)*detShifts*2*detN))
		r.gmax = append(r.gmax, make([]float32, len(r.modes)*detShifts*2))
	}
	return r, nil
}

// Detector constants (docs/modem.md, "Acquisition").
const (
	detDecim  = 4                  // 8 kHz to 2 kHz
	detN      = fftSize / detDecim // 64-sample windows
	detStep   = detN / 2           // a window every 16 ms
	detShifts = 11                 // carrier shifts −5..+5
	detJ      = 4                  // windows, one symbol apart, summed
	detHist   = 2*detJ + 2
	detDrifts = 11 // clock error −2.5%..+2.5% in 0.5% steps
	detThresh = 1.5
	detFIR    = 31
)

var detFilter = func() []float32 {
	h := make([]float32, detFIR)
	const fc = 800.0 / SampleRate
	var sum float64
	for i := range h {
		t := float64(i - detFIR/2)
		w := 0.54 + 0.46*math.Cos(2*math.Pi*t/detFIR)
		v := 2 * fc * sincf(2*fc*t) * w
		h[i] = float32(v)
		sum += v
	}
	for i := range h {
		h[i] = float32(float64(h[i]) / sum)
	}
	return h
}()

// mixer[t%16] is e^{-2πi·1500·t/8000}: the detector's band centre.
var mixer = func() []complex64 {
	m := make([]complex64, 16)
	for t := range m {
		s, c := math.Sincos(-2 * math.Pi * 1500 * float64(t) / SampleRate)
		m[t] = complex(float32(c), float32(s))
	}
	return m
}()

// Stats returns the counters so far.
func (r *Receiver) Stats() Stats { return r.stats }

// Write feeds samples (at the receiver's rate) and returns the frames
// decoded because of them.
func (r *Receiver) Write(samples []float32) []Frame {
	r.stats.Samples += int64(len(samples))
	if r.rs != nil {
		r.in = r.rs.Process(r.in[:0], samples)
		return r.feed(r.in, false)
	}
	return r.feed(samples, false)
}

// Flush processes what is left at the end of the input (a frame cut off by
// the end is tried with silence in place of its missing part).
func (r *Receiver) Flush() []Frame {
	var tail []float32
	if r.rs != nil {
		tail = r.rs.Flush(nil)
	}
	return r.feed(tail, true)
}

func (r *Receiver) feed(x []float32, end bool) []Frame {
	for i, v := range x {
		if v != v || v > 8 || v < -8 { // NaN or absurd: treat as a clipped sample
			if v > 0 {
				x[i] = 8
			} else {
				x[i] = -8
			}
			if v != v {
				x[i] = 0
			}
		}
	}
	r.x = append(r.x, x...)
	var out []Frame
	if end {
		// Pad so that the detector and a cut-off frame can finish.
		r.x = append(r.x, make([]float32, r.maxLen+4*detN)...)
	}
	r.baseband()
	for r.win*detStep+detN <= r.bbBase+int64(len(r.bb)) {
		r.detect()
		r.win++
	}
	if end && r.act != nil {
		r.finalize()
	}
	out = append(out, r.process(end)...)
	r.trim()
	return out
}

// baseband mixes the 8 kHz signal down by 1500 Hz and decimates it to
// 2 kHz for the detector.
func (r *Receiver) baseband() {
	xEnd := r.xBase + int64(len(r.x))
	for {
		c := r.nextBB * detDecim // centre sample
		if c+detFIR/2 >= xEnd {
			return
		}
		var acc complex64
		for i, h := range detFilter {
			t := c - detFIR/2 + int64(i)
			if t < r.xBase {
				continue
			}
			v := r.x[t-r.xBase] * h
			m := mixer[t&15]
			acc += complex(v*real(m), v*imag(m))
		}
		r.bb = append(r.bb, acc)
		r.nextBB++
	}
}

// candidate is a preamble the detector found.
type candidate struct {
	mode   int
	metric float32
	win    int64
	shift  int // carrier shift index 0..detShifts-1
	half   int // half-bin offset 0 or 1
	tau    int
	drift  int
	// after refinement
	start float64   // 8 kHz index where the first symbol after the preamble starts
	e     float64   // clock error
	freq  float64   // carrier offset in Hz at the transmitter's time scale
	alts  []float64 // possible starts, best first
}

// detect correlates detector window r.win with every mode's preamble
// symbol A over carrier shifts and half-bin offsets, and sums detJ windows
// one symbol apart under each clock-error hypothesis.
func (r *Receiver) detect() {
	s := r.win*detStep - r.bbBase
	if s < 0 {
		return
	}
	w := r.bb[s : s+detN]
	var X [2][detN]complex64
	copy(X[0][:], w)
	for n := range w {
		X[1][n] = w[n] * r.rot[n]
	}
	r.f64.forward(X[0][:])
	r.f64.forward(X[1][:])
	mag := r.mags[r.win%detHist]
	gmax := r.gmax[r.win%detHist]
	var z [detN]complex64
	nm := len(r.modes)
	for h := 0; h < 2; h++ {
		for q := 0; q < detShifts; q++ {
			shift := q - detShifts/2
			var e float32
			for kk := -preCarriers / 2; kk <= preCarriers/2; kk++ {
				v := X[h][(kk+shift)&(detN-1)]
				e += real(v)*real(v) + imag(v)*imag(v)
			}
			norm := float32(0)
			if e > 1e-20 {
				norm = 1 / (e * preCarriers)
			}
			for mi, l := range r.modes {
				for i := range z {
					z[i] = 0
				}
				for kk := -preCarriers / 2; kk <= preCarriers/2; kk++ {
					a := l.preA[kk+preCarriers/2]
					z[kk&(detN-1)] = X[h][(kk+shift)&(detN-1)] * complex(real(a), -imag(a))
				}
				r.f64.inverse(z[:])
				ci := (mi*detShifts+q)*2 + h
				o := ci * detN
				var top float32
				for t, v := range z {
					m := (real(v)*real(v) + imag(v)*imag(v)) * norm
					mag[o+t] = m
					top = max(top, m)
				}
				gmax[ci] = top
			}
		}
	}
	if r.win < detHist {
		return
	}
	// Sum windows win, win-2, ..., under each drift hypothesis.
	best := candidate{metric: -1}
	var ring [detJ][]float32
	for j := 0; j < detJ; j++ {
		ring[j] = r.mags[(r.win-int64(2*j))%detHist]
	}
	// A hypothesis whose windows' maxima cannot reach the threshold is
	// skipped (most of them, in noise).
	skip := make([]bool, nm*detShifts*2)
	for o := range skip {
		var ub float32
		for j := 0; j < detJ; j++ {
			ub += r.gmax[(r.win-int64(2*j))%detHist][o]
		}
		skip[o] = ub < detThresh
	}
	for d := 0; d < detDrifts; d++ {
		e := float64(d-detDrifts/2) * 0.005
		pen := float32(1 - 0.015*math.Abs(float64(d-detDrifts/2)))
		var off [detJ]int
		for j := range off {
			off[j] = int(math.Round(float64(j) * detN * e))
		}
		for o := 0; o < nm*detShifts*2; o++ {
			if skip[o] {
				continue
			}
			base := o * detN
			for t := 0; t < detN; t++ {
				var sum float32
				for j := 0; j < detJ; j++ {
					sum += ring[j][base+((t-off[j])&(detN-1))]
				}
				// A slight preference for small clock errors, which are
				// the common case, breaks near-ties in fading.
				sum *= pen
				if sum > best.metric {
					best = candidate{metric: sum, mode: o / (detShifts * 2), shift: (o / 2) % detShifts, half: o % 2, tau: t, drift: d}
				}
			}
		}
	}
	best.win = r.win
	if r.act != nil && r.win-r.act.win > 6 {
		r.finalize()
	}
	if best.metric >= detThresh && (r.act == nil || best.metric > r.act.metric) {
		b := best
		r.act = &b
	}
}

// finalize turns the active detection into a queued candidate after
// estimating its timing, carrier offset and clock error.
func (r *Receiver) finalize() {
	c := r.act
	r.act = nil
	l := r.modes[c.mode]
	e := float64(c.drift-detDrifts/2) * 0.005
	// Clock error: refine by a parabola through the neighbouring drift
	// hypotheses.
	if c.drift > 0 && c.drift < detDrifts-1 {
		m0 := r.driftMetric(c, c.drift-1)
		m2 := r.driftMetric(c, c.drift+1)
		e += 0.005 * parabola(float64(m0), float64(c.metric), float64(m2))
	}
	// Fractional timing from the correlation at tau±1.
	tau := float64(c.tau)
	{
		mag := r.mags[c.win%detHist]
		o := ((c.mode*detShifts+c.shift)*2 + c.half) * detN
		m0 := mag[o+(c.tau-1)&(detN-1)]
		m1 := mag[o+c.tau]
		m2 := mag[o+(c.tau+1)&(detN-1)]
		tau += parabola(float64(m0), float64(m1), float64(m2))
	}
	f := (float64(c.shift-detShifts/2) + 0.5*float64(c.half)) * CarrierSpacing
	// Fine frequency: phase advance of the correlation from window to
	// window, one symbol (64 samples at 2 kHz) apart.
	period := detN * (1 + e)
	var acc complex128
	var prev complex128
	for j := detJ - 1; j >= 0; j-- {
		start := float64((c.win-int64(2*j))*detStep) + tau - float64(j)*detN*e
		v := r.corrAt(start, f, l.preA)
		if j < detJ-1 {
			acc += v * cmplx.Conj(prev)
		}
		prev = v
	}
	f += cmplx.Phase(acc) / (2 * math.Pi * period / (SampleRate / detDecim))
	// Locate B: the symbol boundary after which two B symbols correlate
	// best.
	anchor := float64(c.win*detStep) + tau
	type bpos struct {
		i int
		s float64
	}
	var bs []bpos
	for i := 0; i <= 4; i++ {
		p := anchor + float64(i)*period
		s := cmplx.Abs(r.corrAt(p, f, l.preB))/r.energyAt(p, f) + cmplx.Abs(r.corrAt(p+period, f, l.preB))/r.energyAt(p+period, f)
		bs = append(bs, bpos{i, s})
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].s > bs[j].s })
	if bs[0].s < 2*0.35 {
		return // no B symbol after the As: not a frame
	}
	// The best boundary and, when close, the runner-up: decodeFrame keeps
	// the one whose pilots line up.
	for k, b := range bs[:2] {
		if k > 0 && b.s < 0.6*bs[0].s {
			break
		}
		dataStart := anchor + float64(b.i+preBRepeats)*period // 2 kHz index
		c.alts = append(c.alts, dataStart*detDecim)
	}
	c.start = c.alts[0]
	c.e = e
	// f is the offset of the 1500 Hz band centre as received; at the
	// transmitter's time scale it is (1500+f)(1+e)−1500.
	c.freq = (1500+f)*(1+e) - 1500
	for _, d := range r.done {
		if c.start > d.from+200 && c.start < d.to-200 {
			return // inside a frame already decoded
		}
	}
	r.queue = append(r.queue, c)
	sort.Slice(r.queue, func(i, j int) bool { return r.queue[i].start < r.queue[j].start })
}

func parabola(a, b, c float64) float64 {
	d := a - 2*b + c
	if d >= 0 {
		return 0
	}
	x := 0.5 * (a - c) / d
	return math.Max(-0.5, math.Min(0.5, x))
}

func (r *Receiver) driftMetric(c *candidate, d int) float32 {
	e := float64(d-detDrifts/2) * 0.005
	o := ((c.mode*detShifts+c.shift)*2 + c.half) * detN
	var sum float32
	for j := 0; j < detJ; j++ {
		mag := r.mags[(c.win-int64(2*j))%detHist]
		off := int(math.Round(float64(j) * detN * e))
		sum += mag[o+((c.tau-off)&(detN-1))]
	}
	return sum * float32(1-0.015*math.Abs(float64(d-detDrifts/2)))
}

// corrAt correlates the 64 detector samples starting at 2 kHz index p
// (rounded; the fraction is applied as a phase slope) with a preamble
// symbol, after removing carrier offset f Hz. The result is normalized by
// the symbol's energy only.
func (r *Receiver) corrAt(p, f float64, sym []complex64) complex128 {
	i := int64(math.Round(p))
	frac := p - float64(i)
	X := r.window(i, f)
	if X == nil {
		return 0
	}
	var acc complex128
	for kk := -preCarriers / 2; kk <= preCarriers/2; kk++ {
		a := complex128(sym[kk+preCarriers/2])
		v := complex128(X[kk&(detN-1)])
		// A start at fractional offset frac: multiply by e^{+2πi k frac/N}.
		ph := 2 * math.Pi * float64(kk) * frac / detN
		acc += v * cmplx.Conj(a) * cmplx.Exp(complex(0, ph))
	}
	return acc
}

// energyAt is the square root of the preamble band's energy in the window
// at p times the symbol energy, the Cauchy–Schwarz bound of corrAt.
func (r *Receiver) energyAt(p, f float64) float64 {
	X := r.window(int64(math.Round(p)), f)
	if X == nil {
		return math.Inf(1)
	}
	var e float64
	for kk := -preCarriers / 2; kk <= preCarriers/2; kk++ {
		v := X[kk&(detN-1)]
		e += float64(real(v)*real(v) + imag(v)*imag(v))
	}
	return math.Sqrt(e*preCarriers) + 1e-30
}

func (r *Receiver) window(i int64, f float64) []complex64 {
	s := i - r.bbBase
	if s < 0 || s+detN > int64(len(r.bb)) {
		return nil
	}
	X := make([]complex64, detN)
	for n := 0; n < detN; n++ {
		ph := -2 * math.Pi * f * float64(i+int64(n)) / (SampleRate / detDecim)
		sn, cs := math.Sincos(ph)
		X[n] = r.bb[s+int64(n)] * complex(float32(cs), float32(sn))
	}
	r.f64.forward(X)
	return X
}

// process demodulates the queued candidates whose samples have all
// arrived.
func (r *Receiver) process(end bool) []Frame {
	var out []Frame
	xEnd := float64(r.xBase + int64(len(r.x)))
	for len(r.queue) > 0 {
		c := r.queue[0]
		l := r.modes[c.mode]
		need := c.start + float64(l.p.symbols()*symLen+fftSize)*(1+c.e) + interpTaps
		if need > xEnd && !end {
			break
		}
		r.queue = r.queue[1:]
		skip := false
		for _, d := range r.done {
			if c.start > d.from+200 && c.start < d.to-200 {
				skip = true
			}
		}
		if skip {
			continue
		}
		if fr, ok := r.decodeFrame(c); ok {
			out = append(out, fr)
			from := c.start - preambleLen*(1+c.e)
			to := c.start + float64(l.p.symbols()*symLen)*(1+c.e)
			r.done = append(r.done, span{from, to})
			if len(r.done) > 8 {
				r.done = r.done[1:]
			}
		}
	}
	return out
}

// trim drops signal no pending work can reach.
func (r *Receiver) trim() {
	keep := r.xBase + int64(len(r.x)) - int64(r.maxLen) - 4*SampleRate
	for _, c := range r.queue {
		if s := int64(c.start) - preambleLen*2 - SampleRate; s < keep {
			keep = s
		}
	}
	if keep-r.xBase > 8*SampleRate {
		n := keep - r.xBase
		r.x = append(r.x[:0], r.x[n:]...)
		r.xBase = keep
	}
	// The detector needs the last detHist windows and the refinement the
	// windows of an active detection.
	bbKeep := (r.win-detHist-8)*detStep - 4*detN
	if r.act != nil {
		bbKeep = (r.act.win-detHist-8)*detStep - 4*detN
	}
	if bbKeep-r.bbBase > 4*SampleRate/detDecim {
		n := bbKeep - r.bbBase
		r.bb = append(r.bb[:0], r.bb[n:]...)
		r.bbBase = bbKeep
	}
}
