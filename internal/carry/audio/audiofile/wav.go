package audiofile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// ErrFormat means the bytes are not a file of the format being read, or one
// this package does not read.
var ErrFormat = errors.New("audiofile: unsupported or damaged audio file")

const (
	wavPCM        = 1
	wavFloat      = 3
	wavExtensible = 0xFFFE
	maxChannels   = 32
	maxRate       = 1_000_000
)

// wavStream reads the sample frames of a WAV file's data chunk, mixing all
// channels to mono.
type wavStream struct {
	r        *bufio.Reader
	rate     int
	channels int
	bytes    int  // per sample of one channel
	float    bool // IEEE float samples
	left     int64
	frame    []byte
	closer   io.Closer
}

// ReadWAV starts reading a RIFF/WAVE stream: PCM with 8, 16, 24 or 32-bit
// integer samples or 32/64-bit float samples, any channel count (mixed to
// mono) and any sample rate. A data chunk whose size is 0 or 0xFFFFFFFF (as
// written by programs that stream) is read to the end of the input.
func ReadWAV(r io.Reader) (Stream, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var hdr [12]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, fmt.Errorf("reading WAV header: %w", ErrFormat)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("not a RIFF/WAVE file: %w", ErrFormat)
	}
	w := &wavStream{r: br}
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(br, ch[:]); err != nil {
			return nil, fmt.Errorf("WAV file has no data chunk: %w", ErrFormat)
		}
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return nil, fmt.Errorf("WAV fmt chunk of %d bytes: %w", size, ErrFormat)
			}
			b := make([]byte, size+size&1)
			if _, err := io.ReadFull(br, b); err != nil {
				return nil, fmt.Errorf("reading WAV fmt chunk: %w", ErrFormat)
			}
			if err := w.parseFmt(b[:size]); err != nil {
				return nil, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return nil, fmt.Errorf("WAV data chunk before fmt chunk: %w", ErrFormat)
			}
			if size == 0 || size == 0xFFFFFFFF {
				size = math.MaxInt64
			}
			w.left = size - size%int64(w.channels*w.bytes)
			w.frame = make([]byte, w.channels*w.bytes)
			return w, nil
		default:
			if _, err := io.CopyN(io.Discard, br, size+size&1); err != nil {
				return nil, fmt.Errorf("WAV file ends inside chunk %q: %w", id, ErrFormat)
			}
		}
	}
}

func (w *wavStream) parseFmt(b []byte) error {
	tag := binary.LittleEndian.Uint16(b[0:2])
	w.channels = int(binary.LittleEndian.Uint16(b[2:4]))
	rate := binary.LittleEndian.Uint32(b[4:8])
	align := int(binary.LittleEndian.Uint16(b[12:14]))
	bits := int(binary.LittleEndian.Uint16(b[14:16]))
	if tag == wavExtensible {
		if len(b) < 40 {
			return fmt.Errorf("WAV extensible fmt chunk too short: %w", ErrFormat)
		}
		// The sub-format GUID starts with the format tag.
		tag = binary.LittleEndian.Uint16(b[24:26])
	}
	if w.channels < 1 || w.channels > maxChannels {
		return fmt.Errorf("WAV file with %d channels: %w", w.channels, ErrFormat)
	}
	if rate < 1 || rate > maxRate {
		return fmt.Errorf("WAV sample rate %d Hz: %w", rate, ErrFormat)
	}
	w.rate = int(rate)
	switch {
	case tag == wavPCM && (bits == 8 || bits == 16 || bits == 24 || bits == 32):
	case tag == wavFloat && (bits == 32 || bits == 64):
		w.float = true
	default:
		return fmt.Errorf("WAV format %d with %d-bit samples (PCM 8/16/24/32-bit and float 32/64-bit are read; convert with ffmpeg): %w", tag, bits, ErrFormat)
	}
	w.bytes = bits / 8
	if align != w.channels*w.bytes {
		return fmt.Errorf("WAV block alignment %d for %d channels of %d bits: %w", align, w.channels, bits, ErrFormat)
	}
	return nil
}

func (w *wavStream) SampleRate() int { return w.rate }

func (w *wavStream) Read(p []float32) (int, error) {
	n := 0
	for n < len(p) {
		if w.left < int64(len(w.frame)) {
			break
		}
		if _, err := io.ReadFull(w.r, w.frame); err != nil {
			w.left = 0
			break // a truncated last frame is dropped
		}
		w.left -= int64(len(w.frame))
		var sum float64
		for c := 0; c < w.channels; c++ {
			sum += w.sample(w.frame[c*w.bytes : (c+1)*w.bytes])
		}
		p[n] = float32(sum / float64(w.channels))
		n++
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

func (w *wavStream) sample(b []byte) float64 {
	if w.float {
		var v float64
		if len(b) == 4 {
			v = float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
		} else {
			v = math.Float64frombits(binary.LittleEndian.Uint64(b))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0
		}
		return math.Max(-4, math.Min(4, v))
	}
	switch len(b) {
	case 1:
		return (float64(b[0]) - 128) / 128
	case 2:
		return float64(int16(binary.LittleEndian.Uint16(b))) / 32768
	case 3:
		v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return float64(v) / 8388608
	default:
		return float64(int32(binary.LittleEndian.Uint32(b))) / 2147483648
	}
}

func (w *wavStream) Close() error {
	if w.closer != nil {
		return w.closer.Close()
	}
	return nil
}

// WAVWriter writes mono 16-bit PCM WAV, sample by sample. Samples are
// clipped to [-1, 1]. When the destination is an io.WriteSeeker the chunk
// sizes are filled in by Close; otherwise they are left as 0xFFFFFFFF
// ("read to the end"), which ReadWAV and most players accept.
type WAVWriter struct {
	w    io.Writer
	bw   *bufio.Writer
	n    int64
	rate int
	err  error
	buf  []byte
}

// NewWAVWriter writes the WAV header for a mono 16-bit file at rate Hz.
func NewWAVWriter(w io.Writer, rate int) (*WAVWriter, error) {
	if rate < 1 || rate > maxRate {
		return nil, fmt.Errorf("audiofile: cannot write a WAV file at %d Hz", rate)
	}
	ww := &WAVWriter{w: w, bw: bufio.NewWriterSize(w, 64<<10), rate: rate}
	ww.bw.Write(wavHeader(rate, 0xFFFFFFFF-36))
	return ww, nil
}

func wavHeader(rate int, dataSize uint32) []byte {
	h := make([]byte, 44)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], dataSize+36)
	copy(h[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], wavPCM)
	binary.LittleEndian.PutUint16(h[22:], 1)
	binary.LittleEndian.PutUint32(h[24:], uint32(rate))
	binary.LittleEndian.PutUint32(h[28:], uint32(rate*2))
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], 16)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], dataSize)
	return h
}

// Write appends samples.
func (w *WAVWriter) Write(samples []float32) error {
	if w.err != nil {
		return w.err
	}
	if cap(w.buf) < 2*len(samples) {
		w.buf = make([]byte, 2*len(samples))
	}
	b := w.buf[:2*len(samples)]
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(toPCM16(s)))
	}
	_, w.err = w.bw.Write(b)
	w.n += int64(len(samples))
	if w.err == nil && 2*w.n > 0xFFFFFFFF-64 {
		w.err = errors.New("audiofile: WAV file would exceed 4 GiB")
	}
	return w.err
}

func toPCM16(s float32) int16 {
	v := math.Round(float64(s) * 32767)
	if v > 32767 {
		v = 32767
	} else if v < -32768 {
		v = -32768
	}
	return int16(v)
}

// Close flushes the samples and, on a seekable destination, fills in the
// chunk sizes. It does not close the destination.
func (w *WAVWriter) Close() error {
	if w.err != nil {
		return w.err
	}
	if err := w.bw.Flush(); err != nil {
		return err
	}
	if s, ok := w.w.(io.WriteSeeker); ok {
		if _, err := s.Seek(0, io.SeekStart); err != nil {
			return nil // not really seekable (a pipe): sizes stay open-ended
		}
		if _, err := s.Write(wavHeader(w.rate, uint32(2*w.n))); err != nil {
			return err
		}
		if _, err := s.Seek(0, io.SeekEnd); err != nil {
			return err
		}
	}
	return nil
}

// WriteWAV writes samples as a mono 16-bit PCM WAV file at rate Hz.
func WriteWAV(w io.Writer, samples []float32, rate int) error {
	if rate < 1 || rate > maxRate {
		return fmt.Errorf("audiofile: cannot write a WAV file at %d Hz", rate)
	}
	bw := bufio.NewWriter(w)
	bw.Write(wavHeader(rate, uint32(2*len(samples))))
	var b [2]byte
	for _, s := range samples {
		binary.LittleEndian.PutUint16(b[:], uint16(toPCM16(s)))
		bw.Write(b[:])
	}
	return bw.Flush()
}
