package channel

import (
	"math"
	"math/cmplx"
	"math/rand"
	"testing"
)

// testSignal is band-limited noise (300–3000 Hz) at RMS 0.2, like a modem.
func testSignal(n int, seed int64) []float32 {
	rng := rand.New(rand.NewSource(seed))
	x := make([]float32, n)
	for _, f := range []float64{400, 700, 1100, 1500, 1900, 2300, 2700} {
		ph := rng.Float64() * 2 * math.Pi
		for i := range x {
			x[i] += float32(0.076 * math.Sin(2*math.Pi*f*float64(i)/simRate+ph))
		}
	}
	return x
}

func power(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return s / float64(len(x))
}

func TestDeterministic(t *testing.T) {
	x := testSignal(16000, 1)
	o := Options{SNR: 3, Fading: "poor", Offset: 30, Drift: 500, Seed: 9}
	a, _ := Apply(x, 8000, o)
	b, _ := Apply(x, 8000, o)
	o.Seed = 10
	c, _ := Apply(x, 8000, o)
	same, diff := true, false
	for i := range a {
		same = same && a[i] == b[i]
		diff = diff || a[i] != c[i]
	}
	if !same || !diff {
		t.Errorf("same seed same output: %v; other seed other output: %v", same, diff)
	}
}

func TestSNRCalibration(t *testing.T) {
	x := testSignal(80000, 2)
	for _, snr := range []float64{-3, 0, 10} {
		y, err := Apply(x, 8000, Options{SNR: snr, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		var n float64
		for i := 200; i < len(x)-200; i++ { // away from the resampler's edges
			d := float64(y[i] - x[i])
			n += d * d
		}
		n /= float64(len(x) - 400)
		got := 10 * math.Log10(power(x)/(n*3000/4000))
		if math.Abs(got-snr) > 0.2 {
			t.Errorf("SNR %.1f dB measured as %.2f", snr, got)
		}
	}
}

// peak returns the frequency of the strongest DFT bin between lo and hi.
func peak(x []float32, rate int, lo, hi float64) float64 {
	best, bf := 0.0, 0.0
	for f := lo; f <= hi; f += 1 {
		var acc complex128
		for i, v := range x {
			acc += complex(float64(v), 0) * cmplx.Exp(complex(0, -2*math.Pi*f*float64(i)/float64(rate)))
		}
		if a := cmplx.Abs(acc); a > best {
			best, bf = a, f
		}
	}
	return bf
}

func TestOffsetAndDrift(t *testing.T) {
	x := make([]float32, 8000)
	for i := range x {
		x[i] = float32(0.3 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	y, _ := Apply(x, 8000, Options{NoNoise: true, Offset: 100})
	if f := peak(y[1000:7000], 8000, 900, 1200); f != 1100 {
		t.Errorf("1000 Hz shifted by +100 Hz came out at %v Hz", f)
	}
	y, _ = Apply(x, 8000, Options{NoNoise: true, Offset: -100})
	if f := peak(y[1000:7000], 8000, 800, 1100); f != 900 {
		t.Errorf("shift -100 Hz: %v Hz", f)
	}
	// +2%: 2% more samples, and the tone read at the nominal rate is 2% lower.
	y, _ = Apply(x, 8000, Options{NoNoise: true, Drift: 20000})
	if len(y) != 8160 {
		t.Errorf("drift +2%%: %d samples, want 8160", len(y))
	}
	if f := peak(y[1000:7000], 8000, 950, 1050); math.Abs(f-980) > 1 {
		t.Errorf("drift +2%%: tone at %v Hz, want 980", f)
	}
}

func TestFadingKeepsMeanPowerAndVaries(t *testing.T) {
	x := testSignal(8000*60, 4)
	for _, f := range []string{"good", "moderate", "poor"} {
		y, err := Apply(x, 8000, Options{NoNoise: true, Fading: f, Seed: 5})
		if err != nil {
			t.Fatal(err)
		}
		r := power(y) / power(x)
		// 60 s hold few independent fades at 0.1 Hz: allow a wide band.
		if r < 0.4 || r > 2.2 {
			t.Errorf("%s: mean power ratio %.2f", f, r)
		}
		// Power in 1 s blocks must vary by more than 6 dB somewhere.
		lo, hi := math.Inf(1), 0.0
		for i := 0; i+8000 <= len(y); i += 8000 {
			p := power(y[i : i+8000])
			lo, hi = math.Min(lo, p), math.Max(hi, p)
		}
		if hi/lo < 4 {
			t.Errorf("%s: block power only varies %.1f×", f, hi/lo)
		}
	}
}

func TestAMAndAcoustic(t *testing.T) {
	x := testSignal(40000, 6)
	y, _ := Apply(x, 8000, Options{NoNoise: true, AM: true})
	var pk float64
	for _, v := range y {
		pk = math.Max(pk, math.Abs(float64(v)))
	}
	if r := pk / math.Sqrt(power(y)); r > 2.3 {
		t.Errorf("AM processing: peak/RMS %.2f, want about 2 or less", r)
	}
	if r := power(y) / power(x); r < 0.8 || r > 1.25 {
		t.Errorf("AM processing changed the level by %.2f", r)
	}
	// The acoustic path removes what lies below its band.
	lowTone := make([]float32, 16000)
	for i := range lowTone {
		lowTone[i] = float32(0.2 * math.Sin(2*math.Pi*100*float64(i)/8000))
	}
	mid := make([]float32, 16000)
	for i := range mid {
		mid[i] = float32(0.2 * math.Sin(2*math.Pi*1000*float64(i)/8000))
	}
	a, _ := Apply(append(append([]float32{}, lowTone...), mid...), 8000, Options{NoNoise: true, Acoustic: true})
	pl, pm := power(a[8000:16000]), power(a[24000:32000])
	if pl > pm/30 {
		t.Errorf("acoustic: 100 Hz only %.1f dB below 1 kHz", 10*math.Log10(pm/pl))
	}
}

func TestCodecRoundTrips(t *testing.T) {
	x := testSignal(16000, 7)
	for _, c := range []struct {
		name string
		o    Options
		ok   bool
	}{
		{"mp3", Options{NoNoise: true, MP3: 32}, HasMP3()},
		{"aac", Options{NoNoise: true, AAC: 32}, HasEncoder("aac")},
		{"opus", Options{NoNoise: true, Opus: 24}, HasEncoder("libopus")},
		{"gsm", Options{NoNoise: true, GSM: true}, HasEncoder("libgsm")},
		{"amr", Options{NoNoise: true, AMR: 12.2}, HasAMR()},
		{"amr-4.75", Options{NoNoise: true, AMR: 4.75}, HasAMR()},
	} {
		if !c.ok {
			t.Logf("%s: encoder not installed, skipped", c.name)
			continue
		}
		y, err := Apply(x, 8000, c.o)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(y) < len(x)*9/10 || len(y) > len(x)*12/10 {
			t.Errorf("%s: %d samples from %d", c.name, len(y), len(x))
		}
		if r := power(y) / power(x); r < 0.5 || r > 1.5 {
			t.Errorf("%s: level changed %.2f×", c.name, r)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	x := make([]float32, 100)
	for _, o := range []Options{{Fading: "awful"}, {Drift: 2e5}, {Offset: 5000}, {AMR: 13}} {
		if _, err := Apply(x, 8000, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if _, err := Apply(x, 4000, Options{}); err == nil {
		t.Error("4 kHz accepted")
	}
}
