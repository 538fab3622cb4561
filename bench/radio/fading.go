package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"ferry/internal/carry/audio"
	"ferry/internal/carry/audio/audiofile"
	"ferry/internal/carry/audio/channel"
	"ferry/internal/carry/audio/modem"
	"ferry/internal/carry/broadcast"
)

// targetSNR is each mode's SNR goal in the issue (dB, noise in 3 kHz).
var targetSNR = map[modem.Mode]float64{modem.Robust: -3, modem.Standard: 0, modem.Fast: 5}

// fadingSweep sends data as one round (repair, copies of the announcement)
// in each mode, through each CCIR fading channel at the mode's target SNR
// with seeds 1..seeds, and prints how many recordings gave the archive
// back byte for byte, and the frames decoded; then, for each recording
// that did not, what was missing.
func fadingSweep(data []byte, modes []modem.Mode, fadings []string, seeds int, repair float64, copies int) {
	fmt.Printf("\none round, repair %.0f%%, %d announcement copies, %d seeds per point; recordings decoded (frames decoded / sent)\n\n", 100*repair, copies, seeds)
	fmt.Printf("| mode | SNR |")
	for _, f := range fadings {
		fmt.Printf(" CCIR %s |", f)
	}
	fmt.Printf("\n|---|---|%s\n", strings.Repeat("---|", len(fadings)))
	var why []string
	for _, m := range modes {
		var wav bytes.Buffer
		sum, err := audio.Encode(context.Background(), &wav, [][]byte{data}, audio.EncodeOptions{Mode: m, Rate: 8000, Repair: repair, Announcements: copies})
		if err != nil {
			panic(err)
		}
		s, err := audiofile.ReadWAV(&wav)
		if err != nil {
			panic(err)
		}
		x, err := audiofile.ReadAll(s)
		if err != nil {
			panic(err)
		}
		fmt.Printf("| %s (K %d + %d parts, %d frames, %s) | %+.0f dB |", m, sum.Needed[0].Symbols, sum.Needed[0].Announcements, sum.Frames, sum.Duration.Round(time.Second), targetSNR[m])
		for _, fading := range fadings {
			ok, frames := 0, 0
			for seed := 1; seed <= seeds; seed++ {
				y, err := channel.Apply(x, 8000, channel.Options{SNR: targetSNR[m], Fading: fading, Seed: int64(seed), ActivePower: true})
				if err != nil {
					panic(err)
				}
				got, n, miss := decodeOnce(y, data)
				frames += n
				if got {
					ok++
				} else {
					why = append(why, fmt.Sprintf("%s, CCIR %s, seed %d: %d frames decoded; %s", m, fading, seed, n, miss))
				}
			}
			fmt.Printf(" %d/%d (%.0f%%) |", ok, seeds, 100*float64(frames)/float64(seeds*sum.Frames))
		}
		fmt.Println()
	}
	if len(why) > 0 {
		fmt.Println("\nnot decoded:")
		for _, w := range why {
			fmt.Println("-", w)
		}
	}
}

// decodeOnce decodes one recording with a fresh receiver state and says
// whether data came out, how many frames decoded, and what was missing.
func decodeOnce(y []float32, data []byte) (bool, int, string) {
	dir, err := os.MkdirTemp("", "ferry-radio-bench")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	got := false
	rx, err := broadcast.NewReceiver(broadcast.ReceiveOptions{State: dir,
		Deliver: func(_ *broadcast.Announcement, b []byte) (string, error) {
			got = got || bytes.Equal(b, data)
			return "decoded", nil
		}})
	if err != nil {
		panic(err)
	}
	st, err := audio.Decode(context.Background(), &samples{x: y}, rx, nil)
	status := rx.Status()
	rx.Close()
	if err != nil {
		panic(err)
	}
	miss := "the announcement (no P of its parts)"
	for _, s := range status {
		miss = fmt.Sprintf("symbols: %d of %d held", s.Held, s.Needed)
	}
	return got, st.Modem.Decoded, miss
}

// samples is a recording held in memory, at 8 kHz.
type samples struct{ x []float32 }

func (s *samples) SampleRate() int { return 8000 }
func (s *samples) Close() error    { return nil }
func (s *samples) Read(p []float32) (int, error) {
	if len(s.x) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.x)
	s.x = s.x[n:]
	return n, nil
}
