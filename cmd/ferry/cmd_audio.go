package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"ferry/internal/atomicfile"
	"ferry/internal/carry/audio"
	"ferry/internal/carry/audio/audiofile"
	"ferry/internal/carry/audio/channel"
	"ferry/internal/carry/audio/modem"
	"ferry/internal/carry/broadcast"
	"ferry/internal/key"
	"ferry/internal/progress"
)

func init() {
	registerGroup(&group{name: "audio", summary: "send archives as sound over radio, and decode recordings",
		about: `encode turns archives into a WAV file a shortwave or AM station can play (and
loop); decode turns recordings of it (WAV, FLAC, MP3, and through ffmpeg
anything else) back into archives, into the library, collecting across
recordings and days; channel simulates what a radio path does to sound.`})
	register(&command{name: "audio encode", usage: "[--mode robust|standard|fast] [--repair 100%] [--rounds N] [--rate 8000|44100|48000] -o OUT.wav ARCHIVE...",
		summary: "turn archives into broadcast-ready sound",
		about: `
Writes a mono 16-bit WAV of the ARCHIVEs as modem frames (docs/modem.md):
robust (469 Hz wide, 297 bit/s, for weak signals), standard (938 Hz,
608 bit/s) or fast (2375 Hz, 1028 bit/s, for a clearer channel). Each archive is sent as its announcement, then its
fountain-coded symbols, with copies of the announcement among them (each
copy fresh parity parts of it); a receiver needs any of the symbols
slightly more than the archive's size, and any of the announcement's parts
as many as one copy, from one recording or several.
Prints the duration and the payload rate. Pack radio editions with
'ferry pack --profile radio': text only, the smallest on air.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o audioEncodeOptions
			fs.StringVar(&o.Mode, "mode", "standard", "robust, standard or fast")
			fs.StringVar(&o.Repair, "repair", "100%", "repair symbols per round, as a share of the archive's")
			fs.IntVar(&o.Rounds, "rounds", 1, "rounds; each carries fresh repair symbols")
			fs.IntVar(&o.Rate, "rate", 8000, "sample rate of the WAV: 8000, 44100 or 48000")
			fs.StringVar(&o.Out, "o", "", "WAV file to write (required)")
			fs.BoolVar(&o.Force, "force", false, "replace OUT if it exists")
			return func(ctx context.Context, t *terminal, args []string) error { return runAudioEncode(ctx, t, o, args) }
		}})
	register(&command{name: "audio decode", usage: "[--state DIR] [--trust NAME.pub]... [--library DIR] RECORDING...|-",
		summary: "decode recordings of a radio broadcast into the library",
		about: `
Reads each RECORDING (WAV, FLAC or MP3; other formats through ffmpeg when
it is installed; - for raw PCM on standard input, e.g. piped from arecord)
and adds each archive to the library as soon as it decodes and verifies,
through the same checks as 'ferry import'. What a recording holds is kept
in --state (shared with 'ferry broadcast receive'), so recordings made on
different days, each too short alone, add up.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o audioDecodeOptions
			libraryFlag(fs, &o.Library)
			fs.StringVar(&o.State, "state", "", "folder for partial collections (default LIBRARY/.broadcast)")
			trustFlag(fs, &o.Trust, "collect only archives signed by this public key (NAME.pub; repeatable)")
			fs.IntVar(&o.RawRate, "raw-rate", 8000, "with -: the sample rate of the raw PCM")
			fs.StringVar(&o.RawFormat, "raw-format", "s16le", "with -: the sample layout (s16le, s24le, s32le, f32le, u8)")
			fs.IntVar(&o.RawChannels, "raw-channels", 1, "with -: the number of channels")
			return func(ctx context.Context, t *terminal, args []string) error { return runAudioDecode(ctx, t, o, args) }
		}})
	register(&command{name: "audio channel", usage: "[--snr DB] [--fading good|moderate|poor] [--offset HZ] [--drift PPM] [--am] [--acoustic] [--mp3 KBPS] [--aac KBPS] [--gsm] [--amr KBPS] [--seed N] IN.wav OUT.wav",
		summary: "simulate a radio path (noise, fading, mistuning, a phone's recording)",
		about: `
Writes OUT.wav: IN.wav after the impairments of a radio path, for testing
a broadcast before it goes on air: noise at --snr (dB in 3 kHz),
Watterson fading (CCIR good, moderate, poor), a mistuned receiver
(--offset), a recorder's clock error (--drift, parts per million), the
broadcaster's AM processing (--am), a loudspeaker into a phone's microphone
(--acoustic), and MP3/AAC compression of the recording (--mp3, --aac, with
lame or ffmpeg) or a phone's speech codec (--gsm with ffmpeg; --amr, AMR-NB
as phones record it, with sox).`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o channel.Options
			var noNoise bool
			fs.Float64Var(&o.SNR, "snr", 10, "signal-to-noise ratio in dB (noise in a 3 kHz band)")
			fs.BoolVar(&noNoise, "no-noise", false, "add no noise")
			fs.StringVar(&o.Fading, "fading", "", "Watterson fading: good, moderate or poor")
			fs.Float64Var(&o.Offset, "offset", 0, "frequency offset in Hz")
			fs.Float64Var(&o.Drift, "drift", 0, "sample-rate error of the recorder in ppm (20000 = 2%)")
			fs.BoolVar(&o.AM, "am", false, "the broadcaster's AM compression and clipping")
			fs.BoolVar(&o.Acoustic, "acoustic", false, "a loudspeaker heard by a phone: band-pass, echo, automatic gain")
			fs.IntVar(&o.MP3, "mp3", 0, "round-trip through MP3 at this many kbit/s (needs lame or ffmpeg)")
			fs.IntVar(&o.AAC, "aac", 0, "round-trip through AAC at this many kbit/s (needs ffmpeg)")
			fs.BoolVar(&o.GSM, "gsm", false, "round-trip through GSM 06.10, a phone call's codec (needs ffmpeg with libgsm)")
			fs.Float64Var(&o.AMR, "amr", 0, "round-trip through AMR-NB at this many kbit/s: 4.75, 5.15, 5.9, 6.7, 7.4, 7.95, 10.2 or 12.2 (needs sox with libopencore-amrnb)")
			fs.Int64Var(&o.Seed, "seed", 1, "seed of the noise and fading")
			return func(ctx context.Context, t *terminal, args []string) error {
				o.NoNoise = noNoise
				return runAudioChannel(ctx, t, o, args)
			}
		}})
}

type audioEncodeOptions struct {
	Mode, Repair, Out string
	Rounds, Rate      int
	Force             bool
}

func runAudioEncode(ctx context.Context, t *terminal, o audioEncodeOptions, args []string) error {
	if o.Out == "" || len(args) == 0 {
		return usagef("give -o OUT.wav and the ARCHIVE(s) to send")
	}
	mode, err := modem.ParseMode(o.Mode)
	if err != nil {
		return usagef("--mode must be robust, standard or fast")
	}
	if o.Rate != 8000 && o.Rate != 44100 && o.Rate != 48000 {
		return usagef("--rate must be 8000, 44100 or 48000")
	}
	rep, err := parsePercent(o.Repair)
	if err != nil {
		return err
	}
	if o.Rounds < 1 {
		return usagef("--rounds must be at least 1")
	}
	if err := checkOutput(o.Out, o.Force); err != nil {
		return err
	}
	var archives [][]byte
	for _, p := range args {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		archives = append(archives, b)
	}
	var sum *audio.Summary
	err = atomicfile.Write(o.Out, 0o644, func(w io.Writer) error {
		var err error
		sum, err = audio.Encode(ctx, w, archives, audio.EncodeOptions{Mode: mode, Rate: o.Rate, Repair: rep, Rounds: o.Rounds})
		return err
	})
	if errors.Is(err, broadcast.ErrOptions) {
		return fmt.Errorf("%w (an archive for radio should be small: pack it with --profile radio)", err)
	}
	if err != nil {
		return err
	}
	for i, n := range sum.Needed {
		t.printf("%s: a receiver needs any %d symbol frames and any %d announcement frames: %s of airtime at least\n",
			filepath.Base(args[i]), n.Symbols, n.Announcements, n.MinAirtime.Round(1e9))
	}
	t.printf("wrote %s: %s of %s mode sound, %s in %s, payload %.0f bit/s\n", o.Out, sum.Duration.Round(1e9), mode,
		progress.Bytes(sum.Bytes), count(sum.Frames, "frame"), sum.PayloadRate)
	return nil
}

type audioDecodeOptions struct {
	Library, State, RawFormat string
	RawRate, RawChannels      int
	Trust                     stringList
}

func runAudioDecode(ctx context.Context, t *terminal, o audioDecodeOptions, args []string) error {
	if len(args) == 0 {
		return usagef("give the RECORDING(s) to decode, or - for raw PCM on standard input")
	}
	keys, err := key.LoadPublicFiles(o.Trust)
	if err != nil {
		return err
	}
	if o.State == "" {
		o.State = filepath.Join(o.Library, ".broadcast")
	}
	logf := func(msg string) { t.printf("%s\n", msg) }
	want, deliver := broadcast.IntoLibrary(ctx, o.Library, keys, logf)
	rx, err := broadcast.NewReceiver(broadcast.ReceiveOptions{State: o.State, Want: want, Deliver: deliver, Log: logf})
	if err != nil {
		return err
	}
	defer rx.Close()
	for _, path := range args {
		var s audiofile.Stream
		if path == "-" {
			s, err = audiofile.ReadRaw(t.in, audiofile.RawFormat(o.RawFormat), o.RawChannels, o.RawRate)
		} else {
			s, err = audiofile.Open(path)
		}
		if err != nil {
			return err
		}
		show := newDecodeProgress(t, path)
		st, err := audio.Decode(ctx, s, rx, func(st audio.DecodeStats) { show.update(st, rx.Status()) })
		show.done()
		s.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		t.printf("%s: %s of sound, %d frames found, %d decoded, %d failed\n", path, st.Audio.Round(1e9),
			st.Modem.Detected, st.Modem.Decoded, st.Modem.Failed)
	}
	for _, s := range rx.Status() {
		switch {
		case s.Done:
			t.printf("  %s: %s\n", s.Name, s.Result)
		case s.Needed == 0:
			t.printf("  %s: announced, no symbols yet\n", s.Name)
		default:
			t.printf("  %s: %d of %d symbols held (%.0f%%): record more of the broadcast\n", s.Name, s.Held, s.Needed, 100*float64(s.Held)/float64(max(1, s.Needed)))
		}
	}
	return rx.Close()
}

func runAudioChannel(ctx context.Context, t *terminal, o channel.Options, args []string) error {
	if len(args) != 2 {
		return usagef("give IN.wav and OUT.wav")
	}
	if o.Fading != "" && !strings.Contains(" good moderate poor ", " "+o.Fading+" ") {
		return usagef("--fading must be good, moderate or poor")
	}
	x, rate, err := audiofile.ReadFile(args[0])
	if err != nil {
		return err
	}
	y, err := channel.Apply(x, rate, o)
	if errors.Is(err, channel.ErrTool) {
		return fmt.Errorf("%w (install lame or ffmpeg, e.g. apt install lame ffmpeg)", err)
	}
	if err != nil {
		return err
	}
	if err := audiofile.WriteFile(args[1], y, rate); err != nil {
		return err
	}
	t.printf("wrote %s (%d samples at %d Hz)\n", args[1], len(y), rate)
	return nil
}

// decodeProgress shows what a recording has given so far: sound heard,
// frames found and decoded, and symbols held of those needed for each
// archive still being collected. On a terminal the line is redrawn; in a
// log a line is written every few seconds.
type decodeProgress struct {
	t     *terminal
	path  string
	last  time.Time
	drawn bool
}

func newDecodeProgress(t *terminal, path string) *decodeProgress {
	return &decodeProgress{t: t, path: path, last: time.Now()}
}

func (p *decodeProgress) update(st audio.DecodeStats, status []broadcast.Status) {
	every := 5 * time.Second
	if p.t.tty && p.t.rawErr != nil {
		every = 0
	}
	if time.Since(p.last) < every {
		return
	}
	p.last = time.Now()
	line := clean(decodeProgressLine(p.path, st, status))
	if p.t.tty && p.t.rawErr != nil {
		fmt.Fprintf(p.t.rawErr, "\r\033[K%s", line)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.t.err, line)
}

// done ends a redrawn line (the summary that follows says the rest).
func (p *decodeProgress) done() {
	if p.drawn {
		fmt.Fprint(p.t.rawErr, "\r\033[K")
	}
}

// decodeProgressLine is one progress line: "heard.wav: 1m10s of sound, 21
// frames found, 20 decoded; news-ko edition 42: 80/193 symbols (41%)".
// At most three archives are named, those still being collected first.
func decodeProgressLine(path string, st audio.DecodeStats, status []broadcast.Status) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s of sound, %s found, %d decoded", path, st.Audio.Round(time.Second),
		count(st.Modem.Detected, "frame"), st.Modem.Decoded)
	var open, done []broadcast.Status
	for _, s := range status {
		if s.Done {
			done = append(done, s)
		} else {
			open = append(open, s)
		}
	}
	shown := 0
	for _, s := range append(open, done...) {
		if shown == 3 {
			fmt.Fprintf(&b, "; %d more", len(status)-shown)
			break
		}
		shown++
		switch {
		case s.Done:
			fmt.Fprintf(&b, "; %s: decoded", s.Name)
		case s.Needed == 0:
			fmt.Fprintf(&b, "; %s: announced", s.Name)
		default:
			fmt.Fprintf(&b, "; %s: %d/%d symbols (%.0f%%)", s.Name, s.Held, s.Needed, 100*float64(s.Held)/float64(s.Needed))
		}
	}
	return b.String()
}
