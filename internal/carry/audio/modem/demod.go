package modem

import (
	"math"
	"math/cmplx"
	"time"
)

// winOffset is where the FFT window starts inside a symbol: 12 samples
// before the end of the cyclic prefix, so that echoes up to ~1.5 ms either
// side of the timing estimate stay inside the prefix.
const winOffset = cpLen - 12

// demodulate returns the carrier values of every symbol of a frame whose
// first post-preamble symbol starts at 8 kHz index start, for clock error e
// and carrier offset f Hz. The values are corrected for the window offset.
func (r *Receiver) demodulate(l *layout, start, e, f float64) [][]complex64 {
	p := l.p
	out := make([][]complex64, p.symbols())
	buf := make([]complex64, fftSize)
	// Phase correction for the window starting winOffset-cpLen samples
	// early (a cyclic shift).
	corr := make([]complex64, p.carriers)
	for k := range corr {
		ph := 2 * math.Pi * float64((p.firstBin+k)*(cpLen-winOffset)) / fftSize
		corr[k] = complex64(cmplx.Exp(complex(0, ph)))
	}
	for s := range out {
		u0 := float64(s*symLen + winOffset)
		for n := 0; n < fftSize; n++ {
			u := u0 + float64(n)
			pos := start + u*(1+e) - float64(r.xBase)
			v := interpAt(r.x, pos)
			sn, cs := math.Sincos(-2 * math.Pi * f * u / SampleRate)
			buf[n] = complex(v*float32(cs), v*float32(sn))
		}
		r.f256.forward(buf)
		row := make([]complex64, p.carriers)
		for k := range row {
			row[k] = buf[p.firstBin+k] * corr[k]
		}
		out[s] = row
	}
	return out
}

// pilotRows returns the channel seen on each pilot row: received values
// divided by the known pilots.
func pilotRows(l *layout, Y [][]complex64) [][]complex128 {
	H := make([][]complex128, l.p.blocks+1)
	for i := range H {
		H[i] = make([]complex128, l.p.carriers)
		for k, v := range Y[i*pilotEvery] {
			H[i][k] = complex128(v) * cmplx.Conj(complex128(l.pilots[i][k]))
		}
	}
	return H
}

// decodeFrame demodulates a candidate, refines its timing, frequency and
// clock error from the pilots, estimates the channel and decodes.
func (r *Receiver) decodeFrame(c *candidate) (Frame, bool) {
	l := r.modes[c.mode]
	p := l.p
	start, e, f := c.start, c.e, c.freq
	interval := float64(pilotEvery*symLen) / SampleRate // seconds between pilot rows
	var Y [][]complex64
	var H [][]complex128
	if len(c.alts) > 1 {
		// Choose the start whose pilot rows are coherent across carriers.
		best := -1.0
		for _, a := range c.alts {
			Hs := pilotRows(l, r.demodulate(l, a, e, f))
			var acc float64
			for _, row := range Hs[:min(len(Hs), 4)] {
				var v complex128
				for k := 0; k+1 < len(row); k++ {
					v += row[k+1] * cmplx.Conj(row[k])
				}
				acc += cmplx.Abs(v)
			}
			if acc > best {
				best, start = acc, a
			}
		}
	}
	for pass := 0; pass < 5; pass++ {
		Y = r.demodulate(l, start, e, f)
		H = pilotRows(l, Y)
		if pass == 4 {
			break
		}
		// Delay of each pilot row from its phase slope across carriers (a
		// signal arriving τ later turns carrier k by −2π k Δf τ), then a
		// weighted line through them: the slope is the clock error left,
		// the value at the middle the timing error.
		// Early passes fit only the first rows: with the clock error still
		// off by up to 1%, later rows have slipped too far to measure.
		fitRows := len(H)
		if pass < 2 {
			fitRows = min(len(H), 5+4*pass)
		}
		var sw, st, sy, stt, sty float64
		for i := range H[:fitRows] {
			var acc complex128
			for k := 0; k+1 < p.carriers; k++ {
				acc += H[i][k+1] * cmplx.Conj(H[i][k])
			}
			w := cmplx.Abs(acc)
			tau := -cmplx.Phase(acc) / (2 * math.Pi * CarrierSpacing) // seconds
			t := float64(i*pilotEvery*symLen) / SampleRate
			sw += w
			st += w * t
			sy += w * tau
			stt += w * t * t
			sty += w * t * tau
		}
		if sw <= 0 {
			break
		}
		tm, ym := st/sw, sy/sw
		slope := 0.0
		if v := stt/sw - tm*tm; v > 0 {
			slope = (sty/sw - tm*ym) / v
		}
		slope = math.Max(-0.01, math.Min(0.01, slope))
		e += slope
		// The carrier offset was derived from the preamble with the old
		// clock error: its band centre moves with it.
		f += (1500 + f) * slope
		start += SampleRate * (ym - slope*tm) * (1 + e)
		if math.Abs(slope) > 2e-4 {
			// The clock error was far off, and with it the carrier
			// offset: the pilot phases are not yet worth reading.
			continue
		}
		// Carrier offset left: the phase advance from pilot row to row.
		var a1 complex128
		for i := 0; i+1 < len(H); i++ {
			for k := 0; k < p.carriers; k++ {
				a1 += H[i+1][k] * cmplx.Conj(H[i][k])
			}
		}
		f += cmplx.Phase(a1) / (2 * math.Pi * interval)
	}
	est := estimateChannel(l, H)
	if est.snr3k < -12 {
		return Frame{}, false // nothing like our signal: a false detection
	}
	r.stats.Detected++
	// Channel models in the order most likely to succeed; each further
	// one costs a decoding attempt only when the previous one failed.
	order := []int{modelWide, modelNarrow, modelStatic}
	if est.static {
		order = []int{modelStatic, modelWide, modelNarrow}
	}
	var lastErr error
	for _, model := range order {
		llr := est.llrs(l, Y, model)
		payload, it, err := l.decodeLLR(r.decs[c.mode], llr)
		if err == nil {
			r.stats.Decoded++
			begin := start - preambleLen*(1+e)
			fr := Frame{
				Mode:       l.mode,
				Payload:    payload,
				Start:      int64(math.Round(begin * float64(r.rate) / SampleRate)),
				SNR:        est.snr3k,
				FreqOffset: f,
				RateError:  e * 1e6,
				Iterations: it,
			}
			fr.StartTime = time.Duration(begin / SampleRate * float64(time.Second))
			return fr, true
		}
		lastErr = err
		if err == errFrame {
			break // the code converged: another estimate would converge the same way
		}
	}
	if lastErr == errFrame {
		r.stats.BadCRC++
	} else {
		r.stats.Failed++
	}
	return Frame{}, false
}

// channelEstimate holds per-carrier noise and two channel models.
type channelEstimate struct {
	hs     [][]complex128 // pilot rows smoothed over 3 carriers
	hs5    [][]complex128 // and over 5 carriers
	fit    [][2]complex128
	noise  []float64 // per carrier
	static bool      // the channel looks constant over the frame
	snr3k  float64
}

func estimateChannel(l *layout, H [][]complex128) *channelEstimate {
	p := l.p
	nc := p.carriers
	rows := len(H)
	est := &channelEstimate{}
	// Frequency smoothing [1 2 1]/4 (one-sided at the edges).
	est.hs = make([][]complex128, rows)
	for i := range H {
		row := make([]complex128, nc)
		for k := 0; k < nc; k++ {
			switch {
			case k == 0:
				row[k] = (2*H[i][0] + H[i][1]) / 3
			case k == nc-1:
				row[k] = (2*H[i][k] + H[i][k-1]) / 3
			default:
				row[k] = (H[i][k-1] + 2*H[i][k] + H[i][k+1]) / 4
			}
		}
		est.hs[i] = row
		wide := make([]complex128, nc)
		for k := 0; k < nc; k++ {
			var acc complex128
			var wsum float64
			for d := -2; d <= 2; d++ {
				if k+d >= 0 && k+d < nc {
					w := float64(3 - abs(d))
					acc += H[i][k+d] * complex(w, 0)
					wsum += w
				}
			}
			wide[k] = acc / complex(wsum, 0)
		}
		est.hs5 = append(est.hs5, wide)
	}
	// Noise per carrier from the second difference across carriers,
	// which cancels a channel that is locally linear in frequency.
	raw := make([]float64, nc)
	for k := 0; k < nc; k++ {
		var s float64
		for i := range H {
			var d complex128
			var g float64
			switch {
			case k == 0:
				d, g = H[i][0]-2*H[i][1]+H[i][2], 6
			case k == nc-1:
				d, g = H[i][k]-2*H[i][k-1]+H[i][k-2], 6
			default:
				d, g = H[i][k]-(H[i][k-1]+H[i][k+1])/2, 1.5
			}
			s += (real(d)*real(d) + imag(d)*imag(d)) / g
		}
		raw[k] = s / float64(rows)
	}
	est.noise = make([]float64, nc)
	var meanNoise float64
	for k := range raw {
		var s float64
		var n int
		for j := k - 3; j <= k+3; j++ {
			if j >= 0 && j < nc {
				s += raw[j]
				n++
			}
		}
		est.noise[k] = s / float64(n)
		meanNoise += est.noise[k]
	}
	meanNoise /= float64(nc)
	for k := range est.noise {
		est.noise[k] = math.Max(est.noise[k], 0.05*meanNoise) + 1e-20
	}
	// Least-squares line through the pilot rows of each carrier, in row
	// units centred on the frame.
	est.fit = make([][2]complex128, nc)
	mid := float64(rows-1) / 2
	var sxx float64
	for i := 0; i < rows; i++ {
		sxx += (float64(i) - mid) * (float64(i) - mid)
	}
	var power, change float64
	for k := 0; k < nc; k++ {
		var a, b complex128
		for i := 0; i < rows; i++ {
			a += est.hs[i][k]
			b += est.hs[i][k] * complex(float64(i)-mid, 0)
		}
		a /= complex(float64(rows), 0)
		b /= complex(sxx, 0)
		est.fit[k] = [2]complex128{a, b}
		for i := 0; i < rows; i++ {
			m := a + b*complex(float64(i)-mid, 0)
			d := est.hs[i][k] - m
			change += real(d)*real(d) + imag(d)*imag(d)
			power += real(m)*real(m) + imag(m)*imag(m)
		}
	}
	// Smoothed rows keep 3/8 of the noise; more than twice that around the
	// line means the channel moves.
	est.static = change < 2*0.375*meanNoise*float64(rows*nc)
	sig := power / float64(rows*nc)
	esn0 := sig / meanNoise
	est.snr3k = 10 * math.Log10(esn0*float64(nc)*CarrierSpacing/3000+1e-12)
	return est
}

// llrs returns the cell-stream LLRs (two per data cell) of a frame.
func (est *channelEstimate) llrs(l *layout, Y [][]complex64, model int) []float32 {
	p := l.p
	nb := p.codeBits()
	out := make([]float32, 0, nb)
	rows := len(est.hs)
	mid := float64(rows-1) / 2
	// The channel estimate's error relative to the noise: what the
	// smoothing leaves (3/8 over 3 carriers, 19/81 over 5).
	extra, hs := 0.375, est.hs
	switch model {
	case modelStatic:
		extra = 0.4 / float64(rows)
	case modelWide:
		extra, hs = 19.0/81, est.hs5
	}
	static := model == modelStatic
	for s := 0; s < p.symbols() && len(out) < nb; s++ {
		if s%pilotEvery == 0 {
			continue
		}
		i := s / pilotEvery
		w := float64(s%pilotEvery) / pilotEvery
		t := float64(i) + w // position in pilot-row units
		for k := 0; k < p.carriers && len(out) < nb; k++ {
			var h complex128
			if static {
				h = est.fit[k][0] + est.fit[k][1]*complex(t-mid, 0)
			} else {
				h = hs[i][k]*complex(1-w, 0) + hs[i+1][k]*complex(w, 0)
			}
			y := complex128(Y[s][k])
			z := y * cmplx.Conj(h)
			n := est.noise[k] * (1 + extra)
			scale := 2 * math.Sqrt2 / n
			out = append(out, clampLLR(real(z)*scale), clampLLR(imag(z)*scale))
		}
	}
	return out
}

// Channel models for the LLRs: a line through the pilot rows of each
// carrier, or rows smoothed over 5 or 3 carriers interpolated in time.
const (
	modelStatic = iota
	modelWide
	modelNarrow
)

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func clampLLR(v float64) float32 {
	if v > 25 {
		return 25
	}
	if v < -25 {
		return -25
	}
	if v != v {
		return 0
	}
	return float32(v)
}
