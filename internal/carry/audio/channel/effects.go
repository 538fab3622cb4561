package channel

import (
	"bytes"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sync"

	"ferry/internal/carry/audio/audiofile"
)

// amProcess models a broadcaster's audio processor: a compressor (3:1
// above the mean level, 2 ms attack, 100 ms release, with make-up gain)
// followed by a hard clipper 6 dB above the mean level and a 100 Hz
// high-pass. The output has the input's mean level.
func amProcess(x []float32) []float32 {
	rms := math.Sqrt(meanPower(x, true))
	if rms == 0 {
		return x
	}
	att := math.Exp(-1 / (0.002 * simRate))
	rel := math.Exp(-1 / (0.100 * simRate))
	env := rms
	y := make([]float64, len(x))
	for i, v := range x {
		a := math.Abs(float64(v))
		if a > env {
			env = att*env + (1-att)*a
		} else {
			env = rel*env + (1-rel)*a
		}
		g := 1.0
		if env > rms {
			g = math.Pow(env/rms, 1.0/3-1)
		}
		y[i] = float64(v) * g
	}
	// Clip at 6 dB above the processed signal's RMS.
	var s float64
	for _, v := range y {
		s += v * v
	}
	clip := 2 * math.Sqrt(s/float64(len(y)))
	hp := newBiquadHP(100, 0.707)
	out := make([]float32, len(x))
	var s2 float64
	for i, v := range y {
		v = math.Max(-clip, math.Min(clip, v))
		v = hp.step(v)
		out[i] = float32(v)
		s2 += v * v
	}
	k := float32(rms / math.Sqrt(s2/float64(len(y))+1e-30))
	for i := range out {
		out[i] *= k
	}
	return out
}

// biquad is a second-order IIR section (RBJ cookbook coefficients).
type biquad struct {
	b0, b1, b2, a1, a2 float64
	x1, x2, y1, y2     float64
}

func newBiquadHP(f, q float64) *biquad {
	w := 2 * math.Pi * f / simRate
	al := math.Sin(w) / (2 * q)
	c := math.Cos(w)
	a0 := 1 + al
	return &biquad{b0: (1 + c) / 2 / a0, b1: -(1 + c) / a0, b2: (1 + c) / 2 / a0, a1: -2 * c / a0, a2: (1 - al) / a0}
}

func newBiquadLP(f, q float64) *biquad {
	w := 2 * math.Pi * f / simRate
	al := math.Sin(w) / (2 * q)
	c := math.Cos(w)
	a0 := 1 + al
	return &biquad{b0: (1 - c) / 2 / a0, b1: (1 - c) / a0, b2: (1 - c) / 2 / a0, a1: -2 * c / a0, a2: (1 - al) / a0}
}

func (b *biquad) step(x float64) float64 {
	y := b.b0*x + b.b1*b.x1 + b.b2*b.x2 - b.a1*b.y1 - b.a2*b.y2
	b.x2, b.x1 = b.x1, x
	b.y2, b.y1 = b.y1, y
	return y
}

// acoustic models a radio's loudspeaker heard by a phone a short distance
// away: 4th-order Butterworth band-pass 300–3400 Hz, a room response
// (direct sound, four reflections at 1.7–11 ms and a diffuse tail with
// RT60 0.3 s at −12 dB relative to the direct sound), room noise 30 dB
// below the signal, and the phone's automatic gain control (10 ms attack,
// 500 ms release, towards a fixed level).
func acoustic(x []float32, rng *rand.Rand) []float32 {
	// Band-pass: two Butterworth sections each side (Q of a 4th-order
	// Butterworth: 0.541 and 1.307).
	fs := []*biquad{newBiquadHP(300, 0.541), newBiquadHP(300, 1.307), newBiquadLP(3400, 0.541), newBiquadLP(3400, 1.307)}
	y := make([]float64, len(x))
	for i, v := range x {
		s := float64(v)
		for _, f := range fs {
			s = f.step(s)
		}
		y[i] = s
	}
	// Room impulse response.
	ir := make([]float64, int(0.4*simRate))
	ir[0] = 1
	for _, r := range [][2]float64{{0.0017, 0.45}, {0.0043, 0.3}, {0.0079, -0.25}, {0.0112, 0.18}} {
		ir[int(r[0]*simRate)] += r[1]
	}
	var tail float64
	start := int(0.012 * simRate)
	decay := math.Log(1000) / (0.3 * simRate) // 60 dB in amplitude² over RT60
	for i := start; i < len(ir); i++ {
		v := rng.NormFloat64() * math.Exp(-decay*float64(i-start)/2)
		ir[i] += v
		tail += v * v
	}
	k := math.Sqrt(math.Pow(10, -1.2) / tail) // tail energy −12 dB
	for i := start; i < len(ir); i++ {
		ir[i] *= k
	}
	z := convolve(y, ir)
	// Room noise 30 dB below the signal.
	var p float64
	for _, v := range z {
		p += v * v
	}
	sigma := math.Sqrt(p/float64(len(z))) * math.Pow(10, -30.0/20)
	for i := range z {
		z[i] += sigma * rng.NormFloat64()
	}
	// AGC towards RMS 0.1.
	att := math.Exp(-1 / (0.010 * simRate))
	rel := math.Exp(-1 / (0.500 * simRate))
	env := 0.1
	out := make([]float32, len(z))
	for i, v := range z {
		a := v * v
		if a > env*env {
			env = math.Sqrt(att*env*env + (1-att)*a)
		} else {
			env = math.Sqrt(rel*env*env + (1-rel)*a)
		}
		g := 0.1 / math.Max(env, 1e-4)
		if g > 1000 {
			g = 1000
		}
		out[i] = float32(v * g)
	}
	return out
}

// convolve returns x * h truncated to len(x), directly for the sparse
// early part and by blocks for the tail.
func convolve(x, h []float64) []float64 {
	out := make([]float64, len(x))
	for j, hv := range h {
		if hv == 0 {
			continue
		}
		for i := j; i < len(x); i++ {
			out[i] += hv * x[i-j]
		}
	}
	return out
}

// mp3RoundTrip encodes to MP3 at kbps with lame (or ffmpeg) and decodes.
func mp3RoundTrip(x []float32, rate, kbps int) ([]float32, error) {
	dir, err := os.MkdirTemp("", "ferry-channel-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "in.wav")
	mp3 := filepath.Join(dir, "rec.mp3")
	out := filepath.Join(dir, "out.wav")
	if err := audiofile.WriteFile(in, x, rate); err != nil {
		return nil, err
	}
	if lame, err := exec.LookPath("lame"); err == nil {
		if err := run(lame, "--quiet", "-m", "m", "-b", fmt.Sprint(kbps), in, mp3); err != nil {
			return nil, err
		}
		if err := run(lame, "--quiet", "--decode", mp3, out); err != nil {
			return nil, err
		}
	} else if ff, err := exec.LookPath("ffmpeg"); err == nil {
		if err := run(ff, "-nostdin", "-loglevel", "error", "-y", "-i", in, "-ac", "1", "-c:a", "libmp3lame", "-b:a", fmt.Sprintf("%dk", kbps), mp3); err != nil {
			return nil, err
		}
		if err := run(ff, "-nostdin", "-loglevel", "error", "-y", "-i", mp3, out); err != nil {
			return nil, err
		}
	} else {
		return nil, fmt.Errorf("%w: MP3 needs lame or ffmpeg (apt install lame)", ErrTool)
	}
	return readBack(out, rate)
}

// ffmpegRoundTrip encodes with an ffmpeg encoder and decodes.
func ffmpegRoundTrip(x []float32, rate int, codec, container string, kbps int) ([]float32, error) {
	ff, err := exec.LookPath("ffmpeg")
	if err != nil {
		return nil, fmt.Errorf("%w: %s needs ffmpeg (apt install ffmpeg)", ErrTool, codec)
	}
	if !HasEncoder(codec) {
		return nil, fmt.Errorf("%w: this ffmpeg has no %s encoder", ErrTool, codec)
	}
	dir, err := os.MkdirTemp("", "ferry-channel-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "in.wav")
	enc := filepath.Join(dir, "rec."+container)
	out := filepath.Join(dir, "out.wav")
	if err := audiofile.WriteFile(in, x, rate); err != nil {
		return nil, err
	}
	args := []string{"-nostdin", "-loglevel", "error", "-y", "-i", in, "-ac", "1"}
	switch codec {
	case "libopus":
		args = append(args, "-ar", "48000")
	case "libgsm":
		args = append(args, "-ar", "8000") // GSM has one rate and one bit rate
	}
	args = append(args, "-c:a", codec)
	if codec != "libgsm" {
		args = append(args, "-b:a", fmt.Sprintf("%dk", kbps))
	}
	args = append(args, "-f", container, enc)
	if err := run(ff, args...); err != nil {
		return nil, err
	}
	if err := run(ff, "-nostdin", "-loglevel", "error", "-y", "-i", enc, "-ar", fmt.Sprint(rate), out); err != nil {
		return nil, err
	}
	return readBack(out, rate)
}

// AMRRates are the bit rates of AMR-NB's eight modes in kbit/s.
var AMRRates = []float64{4.75, 5.15, 5.9, 6.7, 7.4, 7.95, 10.2, 12.2}

// amrMode is the AMR-NB mode of kbps, or -1.
func amrMode(kbps float64) int {
	for i, r := range AMRRates {
		if r == kbps {
			return i
		}
	}
	return -1
}

// amrRoundTrip encodes to AMR-NB (8 kHz, mode of kbps) with sox and
// decodes back to rate.
func amrRoundTrip(x []float32, rate int, kbps float64) ([]float32, error) {
	sox, err := exec.LookPath("sox")
	if err != nil || !HasAMR() {
		return nil, fmt.Errorf("%w: AMR needs sox with AMR-NB encoding (apt install sox libsox-fmt-all libopencore-amrnb0)", ErrTool)
	}
	dir, err := os.MkdirTemp("", "ferry-channel-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "in.wav")
	enc := filepath.Join(dir, "rec.amr")
	out := filepath.Join(dir, "out.wav")
	if err := audiofile.WriteFile(in, x, rate); err != nil {
		return nil, err
	}
	if err := run(sox, "-q", in, "-r", "8000", "-c", "1", "-b", "16", "-t", "amr-nb", "-C", fmt.Sprint(amrMode(kbps)), enc); err != nil {
		return nil, err
	}
	if err := run(sox, "-q", "-t", "amr-nb", enc, "-r", fmt.Sprint(rate), "-b", "16", out); err != nil {
		return nil, err
	}
	return readBack(out, rate)
}

var hasAMR = sync.OnceValue(func() bool {
	sox, err := exec.LookPath("sox")
	if err != nil {
		return false
	}
	dir, err := os.MkdirTemp("", "ferry-channel-")
	if err != nil {
		return false
	}
	defer os.RemoveAll(dir)
	in, enc := filepath.Join(dir, "in.wav"), filepath.Join(dir, "t.amr")
	if audiofile.WriteFile(in, make([]float32, 1600), 8000) != nil {
		return false
	}
	if run(sox, "-q", in, "-t", "amr-nb", enc) != nil {
		return false
	}
	st, err := os.Stat(enc)
	return err == nil && st.Size() > 6
})

// HasAMR reports whether sox can encode AMR-NB here.
func HasAMR() bool { return hasAMR() }

// HasEncoder reports whether ffmpeg is installed with the named encoder.
func HasEncoder(name string) bool {
	ff, err := exec.LookPath("ffmpeg")
	if err != nil {
		return false
	}
	out, err := exec.Command(ff, "-hide_banner", "-encoders").Output()
	if err != nil {
		return false
	}
	return bytes.Contains(out, []byte(" "+name+" "))
}

// HasMP3 reports whether an MP3 round trip is possible (lame or ffmpeg).
func HasMP3() bool {
	if _, err := exec.LookPath("lame"); err == nil {
		return true
	}
	return HasEncoder("libmp3lame")
}

func readBack(path string, rate int) ([]float32, error) {
	y, r, err := audiofile.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if r != rate {
		return audiofile.Resample(y, r, rate)
	}
	return y, nil
}

func run(bin string, args ...string) error {
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("channel: %s failed: %v: %s", filepath.Base(bin), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}
