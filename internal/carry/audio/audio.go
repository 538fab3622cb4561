// Package audio is the radio carrier: it turns archives into sound that
// survives a shortwave or AM broadcast and a phone's recording of it, and
// turns recordings back into archives. A broadcast is air packets
// (package broadcast: announcements and compact fountain-coded symbols,
// one per frame) sent by the modem (package modem); a recording is fed to
// the modem's receiver, whose frames go to a broadcast.Receiver — the same
// receiver, state folder and library door as 'ferry broadcast receive', so
// recordings made on different days, each incomplete, add up.
// docs/audio.md describes the carrier; docs/modem.md the waveform.
package audio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"ferry/internal/carry/audio/audiofile"
	"ferry/internal/carry/audio/modem"
	"ferry/internal/carry/broadcast"
)

// EncodeOptions control Encode.
type EncodeOptions struct {
	Mode modem.Mode
	// Rate is the output sample rate (8000, 44100 or 48000 Hz).
	Rate int
	// Repair is the share of repair symbols per round (1 = 100%: twice
	// the archive's symbols), Rounds the number of rounds; a station that
	// loops the file repeats them, a new run (Round0 > 0) carries fresh
	// repair symbols.
	Repair float64
	Rounds int
	// Announcements is the number of copies of each archive's
	// announcement per round (default 5): at the start and evenly among
	// the symbols. Each copy is P frames, the first the announcement's
	// data parts, the others fresh parity parts, and any P of all the
	// parts heard give it back (docs/broadcast.md, "Announcement
	// parity"), as any K of the symbols give the archive; at a mode's
	// threshold in fading a fifth to a half of the frames are lost.
	Announcements int
	// Lead is silence before the first frame and after the last (default
	// 1 s), so a recording started late still catches the first preamble.
	Lead time.Duration
}

// Summary says what a broadcast is: its length on air and what it carries.
type Summary struct {
	Frames   int
	Duration time.Duration
	// Bytes is what the frames carry (packets); PayloadRate is that per
	// second of audio, in bit/s.
	Bytes       int64
	PayloadRate float64
	// Symbols needed (K) and announcement frames, per archive: what a
	// receiver needs at least.
	Needed []Needed
}

// Needed is what a receiver needs of one archive.
type Needed struct {
	Symbols, Announcements int
	// MinAirtime is the time of one announcement and K symbol frames.
	MinAirtime time.Duration
}

// Encode writes the broadcast of archives (each an archive file's bytes)
// as mono 16-bit WAV to w.
func Encode(ctx context.Context, w io.Writer, archives [][]byte, opts EncodeOptions) (*Summary, error) {
	if !opts.Mode.Valid() {
		return nil, fmt.Errorf("audio: unknown mode %d", int(opts.Mode))
	}
	if opts.Rate == 0 {
		opts.Rate = 8000
	}
	if opts.Lead == 0 {
		opts.Lead = time.Second
	}
	if opts.Announcements == 0 {
		opts.Announcements = 5
	}
	if opts.Announcements < 1 {
		return nil, fmt.Errorf("audio: %d announcements per round", opts.Announcements)
	}
	tx, err := modem.NewTransmitter(opts.Mode, opts.Rate)
	if err != nil {
		return nil, err
	}
	ww, err := audiofile.NewWAVWriter(w, opts.Rate)
	if err != nil {
		return nil, err
	}
	sum := &Summary{}
	var samples int64
	write := func(x []float32) error {
		samples += int64(len(x))
		return ww.Write(x)
	}
	if err := write(tx.Silence(opts.Lead)); err != nil {
		return nil, err
	}
	size := opts.Mode.PayloadSize()
	for _, data := range archives {
		k, anns, err := broadcast.AirSymbols(data, size)
		if err != nil {
			return nil, err
		}
		sum.Needed = append(sum.Needed, Needed{Symbols: k, Announcements: anns,
			MinAirtime: time.Duration(k+anns) * opts.Mode.FrameDuration()})
		per := k + int(float64(k)*opts.Repair+0.999999) // as broadcast.SendAir counts a round
		every := (per + opts.Announcements - 1) / opts.Announcements
		err = broadcast.SendAir(data, broadcast.AirOptions{PacketSize: size, Repair: opts.Repair, Rounds: opts.Rounds, AnnounceEvery: every},
			func(pkt []byte) error {
				if err := ctx.Err(); err != nil {
					return err
				}
				x, err := tx.Frame(pkt)
				if err != nil {
					return err
				}
				sum.Frames++
				sum.Bytes += int64(len(pkt))
				return write(x)
			})
		if err != nil {
			return nil, err
		}
	}
	if err := write(tx.Silence(opts.Lead)); err != nil {
		return nil, err
	}
	if err := write(tx.Flush()); err != nil {
		return nil, err
	}
	if err := ww.Close(); err != nil {
		return nil, err
	}
	sum.Duration = time.Duration(float64(samples) / float64(opts.Rate) * float64(time.Second))
	if s := sum.Duration.Seconds(); s > 0 {
		sum.PayloadRate = float64(sum.Bytes*8) / s
	}
	return sum, nil
}

// DecodeStats say what Decode found in a recording.
type DecodeStats struct {
	Audio  time.Duration
	Modem  modem.Stats
	Frames int // frames whose payload went to the broadcast receiver
}

// Decode reads the recording s to its end and hands every frame the modem
// finds (in any mode) to rx, which collects and delivers archives. progress,
// if set, is called now and then with the statistics so far.
func Decode(ctx context.Context, s audiofile.Stream, rx *broadcast.Receiver, progress func(DecodeStats)) (DecodeStats, error) {
	var st DecodeStats
	mr, err := modem.NewReceiver(s.SampleRate())
	if err != nil {
		return st, err
	}
	handle := func(fs []modem.Frame) error {
		for _, f := range fs {
			st.Frames++
			if err := rx.Handle(f.Payload); err != nil {
				return err
			}
		}
		return nil
	}
	buf := make([]float32, s.SampleRate()) // one second at a time
	var read int64
	last := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		n, rerr := s.Read(buf)
		read += int64(n)
		if n > 0 {
			if err := handle(mr.Write(buf[:n])); err != nil {
				return st, err
			}
		}
		st.Audio = time.Duration(float64(read) / float64(s.SampleRate()) * float64(time.Second))
		st.Modem = mr.Stats()
		if progress != nil && time.Since(last) > 500*time.Millisecond {
			progress(st)
			last = time.Now()
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return st, rerr
		}
	}
	if err := handle(mr.Flush()); err != nil {
		return st, err
	}
	st.Modem = mr.Stats()
	if progress != nil {
		progress(st)
	}
	return st, rx.Flush()
}
