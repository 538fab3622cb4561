package main

import (
	"testing"
	"time"

	"ferry/internal/carry/audio"
	"ferry/internal/carry/audio/modem"
	"ferry/internal/carry/broadcast"
)

// TestDecodeProgressLine: the progress of 'ferry audio decode' names the
// sound heard, frames found and decoded, and each archive's symbols held
// of those needed, those still being collected first.
func TestDecodeProgressLine(t *testing.T) {
	st := audio.DecodeStats{Audio: 70*time.Second + 400*time.Millisecond, Modem: modem.Stats{Detected: 21, Decoded: 20}}
	status := []broadcast.Status{
		{Name: "news-ko edition 41", Done: true},
		{Name: "news-ko edition 42", Held: 80, Needed: 193},
		{Name: "weather edition 7"},
	}
	got := decodeProgressLine("heard.wav", st, status)
	want := "heard.wav: 1m10s of sound, 21 frames found, 20 decoded; news-ko edition 42: 80/193 symbols (41%); weather edition 7: announced; news-ko edition 41: decoded"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	status = append(status, broadcast.Status{Name: "a"}, broadcast.Status{Name: "b"})
	got = decodeProgressLine("-", audio.DecodeStats{}, status)
	want = "-: 0s of sound, 0 frames found, 0 decoded; news-ko edition 42: 80/193 symbols (41%); weather edition 7: announced; a: announced; 2 more"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}
