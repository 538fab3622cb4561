// Package channel simulates what happens to ferry's modem audio between a
// broadcaster and a listener's recording: the station's AM audio
// processing, HF fading (Watterson two-path model at the CCIR good,
// moderate and poor settings), SSB mistuning, noise at a given SNR in a
// 3 kHz bandwidth, a loudspeaker-to-microphone path, the recorder's clock
// error, and lossy compression of the recording (MP3 through lame or
// ffmpeg, AAC and Opus through ffmpeg). Runs are deterministic for a seed.
// It backs `ferry audio channel` and the modem's tests and benchmarks.
package channel

import (
	"errors"
	"fmt"
	"math"
	"math/rand"

	"ferry/internal/carry/audio/audiofile"
)

// Options selects the impairments, in the order they are applied: AM, then
// fading and offset, then noise, then acoustic, then drift, then the lossy
// codecs. The zero value changes nothing but the band: the simulation runs
// at 8 kHz, so the output holds nothing above 3.6 kHz (like the audio of an
// AM or SSB receiver).
type Options struct {
	// SNR is the signal-to-noise ratio in dB with the noise measured in a
	// 3 kHz bandwidth (the convention of codec2's ch tool). NoNoise
	// disables noise.
	SNR     float64
	NoNoise bool
	// ActivePower measures the signal power only over the 20 ms blocks
	// within 30 dB of the loudest (so silence between bursts does not
	// lower the SNR); otherwise over the whole input.
	ActivePower bool
	// Fading is "", "good", "moderate" or "poor": Watterson two-path
	// fading with Doppler spread / delay 0.1 Hz / 0.5 ms, 0.5 Hz / 1 ms,
	// 1 Hz / 2 ms.
	Fading string
	// Offset shifts every frequency by this many Hz, as a mistuned SSB
	// receiver does.
	Offset float64
	// Drift is the recorder's clock error in parts per million: positive
	// means more samples per second of signal than the nominal rate
	// (±20000 is ±2%).
	Drift float64
	// AM applies broadcast processing before the transmitter: a fast
	// compressor and a clipper at 6 dB above the mean level.
	AM bool
	// Acoustic plays the received audio through a loudspeaker into a
	// phone's microphone: 300–3400 Hz band-pass, room echo, automatic gain
	// control and a little room noise.
	Acoustic bool
	// MP3, AAC and Opus round-trip the recording through that codec at the
	// given bit rate in kbit/s (0: not used), with lame or ffmpeg.
	MP3, AAC, Opus int
	// GSM round-trips the recording through GSM 06.10 full rate (13 kbit/s
	// at 8 kHz, ffmpeg's libgsm): a phone network's speech codec.
	GSM bool
	// AMR round-trips the recording through AMR-NB at this many kbit/s
	// (one of AMRRates; 0: not used), the codec of phone calls and of
	// phones' voice recorders (.amr, .3gp), with sox and
	// libopencore-amrnb: Debian's ffmpeg decodes AMR but cannot encode it.
	AMR float64
	// Seed makes the noise and fading reproducible.
	Seed int64
}

// ErrTool is returned when a codec round trip needs a program that is not
// installed.
var ErrTool = errors.New("channel: codec program not installed")

// Fading profiles: Doppler spread (Hz, two-sigma) and path delay (s).
var fadings = map[string][2]float64{
	"good":     {0.1, 0.0005},
	"moderate": {0.5, 0.001},
	"poor":     {1.0, 0.002},
}

const simRate = 8000

// Apply runs x (mono, at rate Hz) through the channel and returns the
// result at the same rate. Its length changes with Drift (and may change by
// a few samples through a codec).
func Apply(x []float32, rate int, o Options) ([]float32, error) {
	if _, ok := fadings[o.Fading]; o.Fading != "" && !ok {
		return nil, fmt.Errorf("channel: unknown fading %q (good, moderate or poor)", o.Fading)
	}
	if math.Abs(o.Drift) > 100000 {
		return nil, fmt.Errorf("channel: drift %g ppm is beyond ±10%%", o.Drift)
	}
	if math.Abs(o.Offset) > 1000 {
		return nil, fmt.Errorf("channel: frequency offset %g Hz is beyond ±1000 Hz", o.Offset)
	}
	if o.AMR != 0 && amrMode(o.AMR) < 0 {
		return nil, fmt.Errorf("channel: AMR-NB has no %g kbit/s mode (%v)", o.AMR, AMRRates)
	}
	if rate < simRate || rate > 192000 {
		return nil, fmt.Errorf("channel: sample rate %d Hz (8000 to 192000)", rate)
	}
	y, err := audiofile.Resample(x, rate, simRate)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewSource(o.Seed))
	if o.AM {
		y = amProcess(y)
	}
	power := meanPower(y, o.ActivePower)
	if f, ok := fadings[o.Fading]; ok || o.Offset != 0 {
		y = fadeShift(y, f[0], f[1], ok, o.Offset, rng)
	}
	if !o.NoNoise && power > 0 {
		// White noise over 0..4 kHz, of which 3 kHz carry power/SNR.
		sigma := math.Sqrt(power / math.Pow(10, o.SNR/10) * (simRate / 2) / 3000)
		for i := range y {
			y[i] += float32(sigma * rng.NormFloat64())
		}
	}
	if o.Acoustic {
		y = acoustic(y, rng)
	}
	ratio := float64(rate) / simRate * (1 + o.Drift*1e-6)
	if ratio != 1 {
		rs := audiofile.NewResamplerRatio(ratio)
		out := rs.Process(make([]float32, 0, int(float64(len(y))*ratio)+64), y)
		y = rs.Flush(out)
	}
	if o.MP3 > 0 {
		if y, err = mp3RoundTrip(y, rate, o.MP3); err != nil {
			return nil, err
		}
	}
	if o.AAC > 0 {
		if y, err = ffmpegRoundTrip(y, rate, "aac", "adts", o.AAC); err != nil {
			return nil, err
		}
	}
	if o.Opus > 0 {
		if y, err = ffmpegRoundTrip(y, rate, "libopus", "ogg", o.Opus); err != nil {
			return nil, err
		}
	}
	if o.GSM {
		if y, err = ffmpegRoundTrip(y, rate, "libgsm", "gsm", 13); err != nil {
			return nil, err
		}
	}
	if o.AMR != 0 {
		if y, err = amrRoundTrip(y, rate, o.AMR); err != nil {
			return nil, err
		}
	}
	return y, nil
}

// meanPower is the mean square of x, over its loud blocks when active.
func meanPower(x []float32, active bool) float64 {
	if len(x) == 0 {
		return 0
	}
	if !active {
		var s float64
		for _, v := range x {
			s += float64(v) * float64(v)
		}
		return s / float64(len(x))
	}
	const block = simRate / 50
	var blocks []float64
	max := 0.0
	for i := 0; i+block <= len(x); i += block {
		var s float64
		for _, v := range x[i : i+block] {
			s += float64(v) * float64(v)
		}
		s /= block
		blocks = append(blocks, s)
		max = math.Max(max, s)
	}
	var s float64
	var n int
	for _, b := range blocks {
		if b > max*1e-3 {
			s += b
			n++
		}
	}
	if n == 0 {
		return meanPower(x, false)
	}
	return s / float64(n)
}

// hilbert is a 255-tap Blackman-windowed Hilbert transformer at 8 kHz,
// accurate (±0.1 dB) from about 100 Hz to 3.9 kHz.
var hilbert = func() []float64 {
	const n = 255
	h := make([]float64, n)
	for i := range h {
		k := i - n/2
		if k%2 == 0 {
			continue
		}
		w := 0.42 - 0.5*math.Cos(2*math.Pi*float64(i)/(n-1)) + 0.08*math.Cos(4*math.Pi*float64(i)/(n-1))
		h[i] = 2 / (math.Pi * float64(k)) * w
	}
	return h
}()

// analytic returns x + j·H{x}, aligned with x.
func analytic(x []float32) []complex128 {
	d := len(hilbert) / 2
	out := make([]complex128, len(x))
	for t := range x {
		var im float64
		for i := 0; i < len(hilbert); i += 2 { // the odd-offset taps (n/2 is odd)
			j := t + d - i
			if j >= 0 && j < len(x) {
				im += hilbert[i] * float64(x[j])
			}
		}
		out[t] = complex(float64(x[t]), im)
	}
	return out
}

// fadeShift applies Watterson two-path fading (when fade) and a frequency
// shift to the real signal x through its analytic signal.
func fadeShift(x []float32, spread, delay float64, fade bool, offset float64, rng *rand.Rand) []float32 {
	xa := analytic(x)
	var g1, g2 []complex128
	if fade {
		g1 = tapProcess(len(x), spread, rng)
		g2 = tapProcess(len(x), spread, rng)
	}
	dl := delay * simRate // fractional delay of the second path, in samples
	out := make([]float32, len(x))
	for t := range x {
		v := xa[t]
		if fade {
			v = g1[t]*xa[t] + g2[t]*delayed(xa, float64(t)-dl)
		}
		if offset != 0 {
			s, c := math.Sincos(2 * math.Pi * offset * float64(t) / simRate)
			v *= complex(c, s)
		}
		out[t] = float32(real(v))
	}
	return out
}

// delayed interpolates xa linearly at fractional index p.
func delayed(xa []complex128, p float64) complex128 {
	i := int(math.Floor(p))
	f := p - float64(i)
	var a, b complex128
	if i >= 0 && i < len(xa) {
		a = xa[i]
	}
	if i+1 >= 0 && i+1 < len(xa) {
		b = xa[i+1]
	}
	return a*complex(1-f, 0) + b*complex(f, 0)
}

// tapProcess returns n samples (at 8 kHz) of a complex Gaussian process of
// power 1/2 whose Doppler spectrum is Gaussian with two-sigma width spread
// Hz, generated at 50 Hz by filtering white noise and interpolated
// linearly.
func tapProcess(n int, spread float64, rng *rand.Rand) []complex128 {
	const rate = 50.0
	sigma := spread / 2
	// Amplitude response exp(-f²/(4σ²)) has impulse response ∝ exp(-4π²σ²t²).
	st := 1 / (2 * math.Pi * sigma * math.Sqrt2)
	half := int(4 * st * rate)
	h := make([]float64, 2*half+1)
	var e float64
	for i := range h {
		t := float64(i-half) / rate
		h[i] = math.Exp(-t * t / (2 * st * st))
		e += h[i] * h[i]
	}
	for i := range h {
		h[i] *= math.Sqrt(0.5 / e)
	}
	m := int(float64(n)/simRate*rate) + 3
	w := make([]complex128, m+len(h))
	for i := range w {
		w[i] = complex(rng.NormFloat64(), rng.NormFloat64()) / complex(math.Sqrt2, 0)
	}
	g := make([]complex128, m)
	for i := range g {
		var acc complex128
		for j, v := range h {
			acc += w[i+j] * complex(v, 0)
		}
		g[i] = acc
	}
	out := make([]complex128, n)
	for t := range out {
		p := float64(t) / simRate * rate
		i := int(p)
		f := p - float64(i)
		out[t] = g[i]*complex(1-f, 0) + g[i+1]*complex(f, 0)
	}
	return out
}
