// Package audiofile reads and writes the audio that ferry's radio modem
// (package modem) sends and receives: WAV in any common PCM or float layout,
// FLAC and MP3 with pure-Go decoders, everything else through ffmpeg when it
// is installed, and raw PCM from a pipe. Every reader is a Stream of mono
// float samples read in chunks, so an hour-long recording never has to fit
// in memory; Resampler converts between rates.
package audiofile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"strings"

	"github.com/hajimehoshi/go-mp3"
	"github.com/mewkiz/flac"
)

// Stream is mono audio read in chunks. Read fills p with samples, nominally
// in [-1, 1], and returns io.EOF (with n = 0) at the end.
type Stream interface {
	SampleRate() int
	Read(p []float32) (n int, err error)
	Close() error
}

// ErrNoFFmpeg is returned for a format only ffmpeg reads when ffmpeg is not
// installed.
var ErrNoFFmpeg = errors.New("audiofile: this format needs ffmpeg, which is not installed (install it with your package manager, e.g. apt install ffmpeg, or convert the recording to WAV, FLAC or MP3)")

// Open opens an audio file by its content (not its name): WAV, FLAC and MP3
// are decoded here; anything else (AAC, M4A, AMR, OGG, Opus, WMA, video
// files...) is decoded by ffmpeg when it is on the PATH.
func Open(path string) (Stream, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s, err := open(f, path)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func open(f *os.File, path string) (Stream, error) {
	br := bufio.NewReaderSize(f, 64<<10)
	head, _ := br.Peek(12)
	switch {
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WAVE":
		s, err := ReadWAV(br)
		if err != nil {
			return nil, err
		}
		s.(*wavStream).closer = f
		return s, nil
	case len(head) >= 4 && string(head[0:4]) == "fLaC":
		s, err := ReadFLAC(br)
		if err != nil {
			return nil, err
		}
		s.(*flacStream).closer = f
		return s, nil
	case looksMP3(head):
		s, err := ReadMP3(br)
		if err != nil {
			return nil, err
		}
		s.(*mp3Stream).closer = f
		return s, nil
	}
	f.Close()
	return OpenFFmpeg(path)
}

// looksMP3 reports an ID3v2 tag or an MPEG audio frame sync at the start.
func looksMP3(b []byte) bool {
	if len(b) >= 3 && string(b[0:3]) == "ID3" {
		return true
	}
	// 11 sync bits, layer III (01), any MPEG version but the reserved one.
	return len(b) >= 2 && b[0] == 0xFF && b[1]&0xE0 == 0xE0 && b[1]&0x06 == 0x02 && b[1]&0x18 != 0x08
}

// ReadAll reads a whole stream into memory (for tests and short files).
func ReadAll(s Stream) ([]float32, error) {
	var out []float32
	buf := make([]float32, 8192)
	for {
		n, err := s.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// ReadFile reads a whole audio file as mono samples and returns them with
// their sample rate.
func ReadFile(path string) ([]float32, int, error) {
	s, err := Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer s.Close()
	x, err := ReadAll(s)
	return x, s.SampleRate(), err
}

// WriteFile writes samples as a mono 16-bit WAV file.
func WriteFile(path string, samples []float32, rate int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := WriteWAV(f, samples, rate); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// flacStream decodes FLAC with github.com/mewkiz/flac (Unlicense).
type flacStream struct {
	s      *flac.Stream
	rate   int
	scale  float64
	pend   []float32
	closer io.Closer
}

// ReadFLAC starts decoding a FLAC stream.
func ReadFLAC(r io.Reader) (Stream, error) {
	s, err := flac.New(r)
	if err != nil {
		return nil, fmt.Errorf("reading FLAC header: %v: %w", err, ErrFormat)
	}
	info := s.Info
	if info.SampleRate < 1 || info.SampleRate > maxRate || info.BitsPerSample < 4 || info.BitsPerSample > 32 || info.NChannels < 1 {
		return nil, fmt.Errorf("FLAC stream of %d Hz, %d bits, %d channels: %w", info.SampleRate, info.BitsPerSample, info.NChannels, ErrFormat)
	}
	return &flacStream{s: s, rate: int(info.SampleRate), scale: math.Ldexp(1, -int(info.BitsPerSample-1))}, nil
}

func (f *flacStream) SampleRate() int { return f.rate }

func (f *flacStream) Read(p []float32) (n int, err error) {
	for len(f.pend) == 0 {
		fr, err := f.parseNext()
		if err == io.EOF {
			return 0, io.EOF
		}
		if err != nil {
			return 0, fmt.Errorf("decoding FLAC frame: %v: %w", err, ErrFormat)
		}
		if len(fr.Subframes) == 0 {
			continue
		}
		ns := len(fr.Subframes[0].Samples)
		for _, sf := range fr.Subframes {
			if len(sf.Samples) < ns {
				ns = len(sf.Samples)
			}
		}
		g := f.scale / float64(len(fr.Subframes))
		for i := 0; i < ns; i++ {
			var sum float64
			for _, sf := range fr.Subframes {
				sum += float64(sf.Samples[i])
			}
			f.pend = append(f.pend, float32(sum*g))
		}
	}
	n = copy(p, f.pend)
	f.pend = f.pend[n:]
	return n, nil
}

// parseNext guards against panics in the FLAC decoder on damaged input.
func (f *flacStream) parseNext() (fr *flacFrame, err error) {
	defer func() {
		if r := recover(); r != nil {
			fr, err = nil, fmt.Errorf("damaged FLAC frame")
		}
	}()
	x, err := f.s.ParseNext()
	if err != nil {
		return nil, err
	}
	fr = &flacFrame{}
	for _, sf := range x.Subframes {
		fr.Subframes = append(fr.Subframes, flacSubframe{Samples: sf.Samples})
	}
	return fr, nil
}

type flacFrame struct{ Subframes []flacSubframe }
type flacSubframe struct{ Samples []int32 }

func (f *flacStream) Close() error {
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// mp3Stream decodes MP3 with github.com/hajimehoshi/go-mp3 (Apache-2.0),
// which always yields 16-bit stereo.
type mp3Stream struct {
	d      *mp3.Decoder
	buf    []byte
	closer io.Closer
}

// ReadMP3 starts decoding an MPEG-1/2/2.5 layer III stream.
func ReadMP3(r io.Reader) (s Stream, err error) {
	defer func() {
		if x := recover(); x != nil {
			s, err = nil, fmt.Errorf("damaged MP3 header: %w", ErrFormat)
		}
	}()
	// Hide any Seek method: the decoder would otherwise scan the whole file
	// up front.
	d, err := mp3.NewDecoder(struct{ io.Reader }{r})
	if err != nil {
		return nil, fmt.Errorf("reading MP3: %v: %w", err, ErrFormat)
	}
	if d.SampleRate() < 1 || d.SampleRate() > maxRate {
		return nil, fmt.Errorf("MP3 at %d Hz: %w", d.SampleRate(), ErrFormat)
	}
	return &mp3Stream{d: d}, nil
}

func (m *mp3Stream) SampleRate() int { return m.d.SampleRate() }

func (m *mp3Stream) Read(p []float32) (n int, err error) {
	defer func() {
		if x := recover(); x != nil {
			n, err = 0, fmt.Errorf("damaged MP3 frame: %w", ErrFormat)
		}
	}()
	if len(p) == 0 {
		return 0, nil
	}
	if cap(m.buf) < 4*len(p) {
		m.buf = make([]byte, 4*len(p))
	}
	b := m.buf[:4*len(p)]
	got, err := io.ReadAtLeast(m.d, b, 4)
	got -= got % 4
	for i := 0; i < got/4; i++ {
		l := int16(binary.LittleEndian.Uint16(b[4*i:]))
		r := int16(binary.LittleEndian.Uint16(b[4*i+2:]))
		p[i] = float32((float64(l) + float64(r)) / 65536)
	}
	if got > 0 {
		return got / 4, nil
	}
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return 0, io.EOF
	}
	if err != nil {
		return 0, fmt.Errorf("decoding MP3: %v: %w", err, ErrFormat)
	}
	return 0, io.EOF
}

func (m *mp3Stream) Close() error {
	if m.closer != nil {
		return m.closer.Close()
	}
	return nil
}

// RawFormat names a raw PCM sample layout: s16le, s24le, s32le, f32le, u8.
type RawFormat string

// Raw PCM layouts ReadRaw accepts.
const (
	RawS16LE RawFormat = "s16le"
	RawS24LE RawFormat = "s24le"
	RawS32LE RawFormat = "s32le"
	RawF32LE RawFormat = "f32le"
	RawU8    RawFormat = "u8"
)

// ReadRaw reads headerless PCM from r (for example `arecord -f S16_LE` on a
// pipe) with the given layout, channel count and rate. Channels are mixed
// to mono.
func ReadRaw(r io.Reader, format RawFormat, channels, rate int) (Stream, error) {
	w := &wavStream{r: bufio.NewReaderSize(r, 64<<10), rate: rate, channels: channels, left: math.MaxInt64}
	switch format {
	case RawS16LE:
		w.bytes = 2
	case RawS24LE:
		w.bytes = 3
	case RawS32LE:
		w.bytes = 4
	case RawF32LE:
		w.bytes, w.float = 4, true
	case RawU8:
		w.bytes = 1
	default:
		return nil, fmt.Errorf("audiofile: unknown raw format %q (s16le, s24le, s32le, f32le, u8)", format)
	}
	if channels < 1 || channels > maxChannels {
		return nil, fmt.Errorf("audiofile: %d channels", channels)
	}
	if rate < 1 || rate > maxRate {
		return nil, fmt.Errorf("audiofile: sample rate %d Hz", rate)
	}
	w.frame = make([]byte, channels*w.bytes)
	return w, nil
}

// ffmpegStream reads f32le mono from an ffmpeg child process.
type ffmpegStream struct {
	*wavStream
	cmd    *exec.Cmd
	stderr *bytes.Buffer
}

// FFmpegRate is the rate OpenFFmpeg asks ffmpeg to deliver (the modem
// resamples from it; 48 kHz keeps everything a recording can hold).
const FFmpegRate = 48000

// OpenFFmpeg decodes any file ffmpeg reads, as mono float at FFmpegRate.
// Without ffmpeg it returns ErrNoFFmpeg.
func OpenFFmpeg(path string) (Stream, error) {
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		return nil, ErrNoFFmpeg
	}
	cmd := exec.Command(bin, "-nostdin", "-hide_banner", "-loglevel", "error",
		"-i", path, "-vn", "-ac", "1", "-ar", fmt.Sprint(FFmpegRate), "-f", "f32le", "-")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting ffmpeg: %w", err)
	}
	raw, _ := ReadRaw(out, RawF32LE, 1, FFmpegRate)
	return &ffmpegStream{wavStream: raw.(*wavStream), cmd: cmd, stderr: &stderr}, nil
}

func (s *ffmpegStream) Read(p []float32) (int, error) {
	n, err := s.wavStream.Read(p)
	if err == io.EOF {
		if werr := s.cmd.Wait(); werr != nil {
			msg := strings.TrimSpace(s.stderr.String())
			if len(msg) > 300 {
				msg = msg[:300]
			}
			s.cmd = nil
			return 0, fmt.Errorf("ffmpeg could not decode the file (%s): %w", msg, ErrFormat)
		}
		s.cmd = nil
	}
	return n, err
}

func (s *ffmpegStream) Close() error {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
	return nil
}

// Resampled returns a stream that delivers s at rate Hz.
func Resampled(s Stream, rate int) (Stream, error) {
	if s.SampleRate() == rate {
		return s, nil
	}
	r, err := NewResampler(s.SampleRate(), rate)
	if err != nil {
		return nil, err
	}
	return &resampled{s: s, r: r, rate: rate, in: make([]float32, 4096)}, nil
}

type resampled struct {
	s    Stream
	r    *Resampler
	rate int
	in   []float32
	out  []float32
	done bool
}

func (x *resampled) SampleRate() int { return x.rate }

func (x *resampled) Read(p []float32) (int, error) {
	for len(x.out) == 0 {
		if x.done {
			return 0, io.EOF
		}
		n, err := x.s.Read(x.in)
		x.out = x.r.Process(x.out[:0], x.in[:n])
		if err == io.EOF {
			x.out = x.r.Flush(x.out)
			x.done = true
		} else if err != nil {
			return 0, err
		}
	}
	n := copy(p, x.out)
	x.out = x.out[n:]
	return n, nil
}

func (x *resampled) Close() error { return x.s.Close() }
