package modem

import (
	"bytes"
	"testing"
)

func testPayload(m Mode, i int) []byte {
	g := splitMix64{uint64(i)*7919 + uint64(m)}
	b := make([]byte, m.PayloadSize()-i%3)
	for j := range b {
		b[j] = byte(g.next())
	}
	return b
}

// txFrames makes n frames of mode m at rate with lead seconds of silence
// before and after.
func txFrames(t testing.TB, m Mode, rate, n int, lead float64) []float32 {
	tx, err := NewTransmitter(m, rate)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, int(lead*float64(rate)))
	for i := 0; i < n; i++ {
		f, err := tx.Frame(testPayload(m, i))
		if err != nil {
			t.Fatal(err)
		}
		x = append(x, f...)
	}
	x = append(x, tx.Flush()...)
	return append(x, make([]float32, int(lead*float64(rate)))...)
}

func rxAll(t testing.TB, rate int, x []float32, chunk int) ([]Frame, Stats) {
	r, err := NewReceiver(rate)
	if err != nil {
		t.Fatal(err)
	}
	var out []Frame
	for i := 0; i < len(x); i += chunk {
		j := i + chunk
		if j > len(x) {
			j = len(x)
		}
		out = append(out, r.Write(x[i:j])...)
	}
	out = append(out, r.Flush()...)
	return out, r.Stats()
}

func countGood(m Mode, frames []Frame, n int) int {
	good := 0
	for _, f := range frames {
		for i := 0; i < n; i++ {
			if f.Mode == m && bytes.Equal(f.Payload, testPayload(m, i)) {
				good++
				break
			}
		}
	}
	return good
}

func TestLoopbackClean(t *testing.T) {
	for _, m := range Modes {
		x := txFrames(t, m, 8000, 3, 1.3)
		frames, st := rxAll(t, 8000, x, 1000)
		for _, f := range frames {
			t.Logf("%s: start %d snr %.1f f %.2f e %.0f ppm it %d", f.Mode, f.Start, f.SNR, f.FreqOffset, f.RateError, f.Iterations)
		}
		if g := countGood(m, frames, 3); g != 3 {
			t.Errorf("%s: %d of 3 frames, stats %+v", m, g, st)
		}
	}
}
