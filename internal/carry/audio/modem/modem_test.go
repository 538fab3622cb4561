package modem

import (
	"testing"

	"ferry/internal/carry/audio/channel"
)

// targets are the SNRs (dB in 3 kHz) the modes are specified for.
var targets = map[Mode]float64{Robust: -3, Standard: 0, Fast: 5}

// An impairment is applied at the mode's target SNR plus extra dB; min of
// the 5 frames must decode. The minima sit well below what the fixed seeds
// give (docs/modem.md lists the measured rates): they catch a broken
// receiver, not a dB of tuning.
type impairment struct {
	name  string
	opt   channel.Options
	extra float64
	min   int
	tool  func() bool
}

var impairments = []impairment{
	{name: "awgn", min: 5},
	{name: "offset+100Hz,drift+2%", opt: channel.Options{Offset: 100, Drift: 20000}, min: 5},
	{name: "offset-100Hz,drift-2%", opt: channel.Options{Offset: -100, Drift: -20000}, min: 5},
	{name: "am-processing", opt: channel.Options{AM: true}, min: 5},
	{name: "acoustic", opt: channel.Options{Acoustic: true}, min: 4},
	{name: "mp3-32k", opt: channel.Options{MP3: 32}, min: 4, tool: channel.HasMP3},
	{name: "aac-32k", opt: channel.Options{AAC: 32}, min: 4, tool: func() bool { return channel.HasEncoder("aac") }},
	// Fading at the target SNR loses the frames that fall into deep fades
	// (the fountain code above the modem makes up for them); 3 dB more
	// gives most frames.
	{name: "fading-good", opt: channel.Options{Fading: "good"}, extra: 3, min: 2},
	{name: "fading-moderate", opt: channel.Options{Fading: "moderate"}, extra: 3, min: 3},
	{name: "fading-poor", opt: channel.Options{Fading: "poor"}, extra: 3, min: 3},
	{name: "acoustic,mp3,drift-1%,offset+40Hz", opt: channel.Options{Acoustic: true, MP3: 32, Drift: -10000, Offset: 40, AM: true}, min: 3, tool: channel.HasMP3},
}

func TestImpairments(t *testing.T) {
	const n = 5
	for _, m := range Modes {
		clean := txFrames(t, m, 8000, n, 1)
		for i, imp := range impairments {
			t.Run(m.String()+"/"+imp.name, func(t *testing.T) {
				t.Parallel()
				if imp.tool != nil && !imp.tool() {
					t.Skipf("%s: codec program (lame or ffmpeg) not installed", imp.name)
				}
				o := imp.opt
				o.SNR = targets[m] + imp.extra
				o.ActivePower = true
				o.Seed = int64(100*int(m) + i)
				y, err := channel.Apply(clean, 8000, o)
				if err != nil {
					t.Fatal(err)
				}
				frames, st := rxAll(t, 8000, y, 3000)
				got := countGood(m, frames, n)
				if got != len(frames) {
					t.Errorf("%d frames returned, only %d of them sent", len(frames), got)
				}
				t.Logf("%d/%d decoded at %.0f dB; %+v", got, n, o.SNR, st)
				if got < imp.min {
					t.Errorf("%d/%d frames decoded, want at least %d", got, n, imp.min)
				}
			})
		}
	}
}

// TestPhoneCodecs: a recording passed through a phone's speech codecs:
// GSM 06.10 full rate (13 kbit/s, a phone call) and AMR-NB (a phone call,
// or a phone's voice recorder saving .amr), at 12.2 kbit/s and a lower
// mode. Measured with these seeds (docs/modem.md): every case 5/5; at
// 3 dB less, robust 2/5 through AMR 12.2 at −5 dB, standard 0/5 at −2 dB.
func TestPhoneCodecs(t *testing.T) {
	const n = 5
	for _, c := range []struct {
		name string
		m    Mode
		snr  float64
		o    channel.Options
		ok   func() bool
	}{
		{"gsm", Robust, 3, channel.Options{GSM: true}, func() bool { return channel.HasEncoder("libgsm") }},
		{"gsm", Standard, 8, channel.Options{GSM: true}, func() bool { return channel.HasEncoder("libgsm") }},
		{"gsm", Fast, 7, channel.Options{GSM: true}, func() bool { return channel.HasEncoder("libgsm") }},
		{"amr-12.2", Robust, -3, channel.Options{AMR: 12.2}, channel.HasAMR},
		{"amr-12.2", Standard, 0, channel.Options{AMR: 12.2}, channel.HasAMR},
		{"amr-12.2", Fast, 5, channel.Options{AMR: 12.2}, channel.HasAMR},
		{"amr-5.9", Robust, 5, channel.Options{AMR: 5.9}, channel.HasAMR},
		{"amr-7.95", Fast, 10, channel.Options{AMR: 7.95}, channel.HasAMR},
	} {
		t.Run(c.m.String()+"/"+c.name, func(t *testing.T) {
			t.Parallel()
			if !c.ok() {
				t.Skipf("%s: no encoder here (ffmpeg with libgsm; sox with libopencore-amrnb)", c.name)
			}
			o := c.o
			o.SNR, o.ActivePower, o.Seed = c.snr, true, int64(c.m)
			y, err := channel.Apply(txFrames(t, c.m, 8000, n, 1), 8000, o)
			if err != nil {
				t.Fatal(err)
			}
			frames, st := rxAll(t, 8000, y, 3000)
			got := countGood(c.m, frames, n)
			t.Logf("%s through %s at %.0f dB: %d/%d; %+v", c.m, c.name, c.snr, got, n, st)
			if got != len(frames) || got < 4 {
				t.Errorf("%s through %s at %.0f dB: %d/%d decoded (%d returned), want at least 4", c.m, c.name, c.snr, got, n, len(frames))
			}
		})
	}
}
