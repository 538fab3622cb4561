package modem

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"ferry/internal/carry/audio/channel"
)

// TestSweep is an exploration aid: FERRY_SWEEP="mode snr1,snr2 fading frames [offset drift]".
func TestSweep(t *testing.T) {
	spec := os.Getenv("FERRY_SWEEP")
	if spec == "" {
		t.Skip("set FERRY_SWEEP")
	}
	f := strings.Fields(spec)
	m, _ := ParseMode(f[0])
	n, _ := strconv.Atoi(f[3])
	var off, drift float64
	if len(f) > 4 {
		off, _ = strconv.ParseFloat(f[4], 64)
		drift, _ = strconv.ParseFloat(f[5], 64)
	}
	x := txFrames(t, m, 8000, n, 1)
	for _, s := range strings.Split(f[1], ",") {
		snr, _ := strconv.ParseFloat(s, 64)
		fad := f[2]
		if fad == "awgn" {
			fad = ""
		}
		y, err := channel.Apply(x, 8000, channel.Options{SNR: snr, ActivePower: true, Fading: fad, Offset: off, Drift: drift, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		frames, st := rxAll(t, 8000, y, 4000)
		var snrs, es, fs []string
		for _, fr := range frames {
			snrs = append(snrs, fmt.Sprintf("%.1f", fr.SNR))
			es = append(es, fmt.Sprintf("%.0f", fr.RateError))
			fs = append(fs, fmt.Sprintf("%.1f", fr.FreqOffset))
		}
		t.Logf("%s snr %5.1f %s: %d/%d good, stats %+v snr %v e %v f %v", m, snr, f[2], countGood(m, frames, n), n, st, snrs, es, fs)
	}
}
