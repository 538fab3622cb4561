package audiofile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func sine(n, rate int, f, a float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(a * math.Sin(2*math.Pi*f*float64(i)/float64(rate)))
	}
	return x
}

func rms(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(len(x)))
}

// wavBytes builds a WAV file by hand: tag, channels, bits, and the sample
// values (interleaved) already encoded.
func wavBytes(tag uint16, channels, rate, bits int, data []byte, extensible bool) []byte {
	var b bytes.Buffer
	fmtLen := 16
	if extensible {
		fmtLen = 40
	}
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(4+8+fmtLen+8+len(data)+8+4))
	b.WriteString("WAVE")
	b.WriteString("LIST") // an unknown chunk to skip
	binary.Write(&b, binary.LittleEndian, uint32(4))
	b.WriteString("INFO")
	b.WriteString("fmt ")
	binary.Write(&b, binary.LittleEndian, uint32(fmtLen))
	t := tag
	if extensible {
		t = wavExtensible
	}
	binary.Write(&b, binary.LittleEndian, t)
	binary.Write(&b, binary.LittleEndian, uint16(channels))
	binary.Write(&b, binary.LittleEndian, uint32(rate))
	binary.Write(&b, binary.LittleEndian, uint32(rate*channels*bits/8))
	binary.Write(&b, binary.LittleEndian, uint16(channels*bits/8))
	binary.Write(&b, binary.LittleEndian, uint16(bits))
	if extensible {
		binary.Write(&b, binary.LittleEndian, uint16(22))
		binary.Write(&b, binary.LittleEndian, uint16(bits))
		binary.Write(&b, binary.LittleEndian, uint32(3))
		binary.Write(&b, binary.LittleEndian, tag)
		b.Write(make([]byte, 14))
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	return b.Bytes()
}

func TestWAVLayouts(t *testing.T) {
	// Two stereo frames: (0.5, -0.5) and (0.25, 0.75) → mono 0 and 0.5.
	want := []float64{0, 0.5}
	vals := []float64{0.5, -0.5, 0.25, 0.75}
	enc := func(bits int, float bool) []byte {
		var b bytes.Buffer
		for _, v := range vals {
			switch {
			case float && bits == 32:
				binary.Write(&b, binary.LittleEndian, float32(v))
			case float:
				binary.Write(&b, binary.LittleEndian, v)
			case bits == 8:
				b.WriteByte(byte(int(v*128) + 128))
			case bits == 16:
				binary.Write(&b, binary.LittleEndian, int16(v*32768))
			case bits == 24:
				x := int32(v * 8388608)
				b.Write([]byte{byte(x), byte(x >> 8), byte(x >> 16)})
			default:
				binary.Write(&b, binary.LittleEndian, int32(v*2147483647))
			}
		}
		return b.Bytes()
	}
	cases := []struct {
		tag   uint16
		bits  int
		float bool
		ext   bool
	}{
		{wavPCM, 8, false, false}, {wavPCM, 16, false, false}, {wavPCM, 24, false, true},
		{wavPCM, 32, false, false}, {wavFloat, 32, true, false}, {wavFloat, 64, true, true},
	}
	for _, c := range cases {
		s, err := ReadWAV(bytes.NewReader(wavBytes(c.tag, 2, 44100, c.bits, enc(c.bits, c.float), c.ext)))
		if err != nil {
			t.Fatalf("%d-bit tag %d: %v", c.bits, c.tag, err)
		}
		x, err := ReadAll(s)
		if err != nil || len(x) != 2 || s.SampleRate() != 44100 {
			t.Fatalf("%d-bit: %v %v", c.bits, x, err)
		}
		for i := range want {
			if math.Abs(float64(x[i])-want[i]) > 0.01 {
				t.Errorf("%d-bit tag %d: sample %d = %v, want %v", c.bits, c.tag, i, x[i], want[i])
			}
		}
	}
}

func TestWAVRejects(t *testing.T) {
	good := wavBytes(wavPCM, 1, 8000, 16, make([]byte, 8), false)
	bad := map[string][]byte{
		"empty":      nil,
		"not riff":   append([]byte("RIFX"), good[4:]...),
		"12-bit":     wavBytes(wavPCM, 1, 8000, 12, make([]byte, 8), false),
		"no channel": wavBytes(wavPCM, 0, 8000, 16, make([]byte, 8), false),
		"rate 0":     wavBytes(wavPCM, 1, 0, 16, make([]byte, 8), false),
		"adpcm":      wavBytes(2, 1, 8000, 16, make([]byte, 8), false),
		"truncated":  good[:30],
	}
	for name, b := range bad {
		if _, err := ReadWAV(bytes.NewReader(b)); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: %v, want ErrFormat", name, err)
		}
	}
}

func TestWAVWriterSeekableAndPipe(t *testing.T) {
	x := sine(1000, 8000, 440, 0.5)
	path := filepath.Join(t.TempDir(), "a.wav")
	f, _ := os.Create(path)
	w, _ := NewWAVWriter(f, 8000)
	w.Write(x[:400])
	w.Write(x[400:])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	b, _ := os.ReadFile(path)
	if got := binary.LittleEndian.Uint32(b[40:]); got != 2000 {
		t.Errorf("data size %d, want 2000", got)
	}
	y, rate, err := ReadFile(path)
	if err != nil || rate != 8000 || len(y) != len(x) {
		t.Fatalf("%d samples at %d: %v", len(y), rate, err)
	}
	for i := range x {
		if math.Abs(float64(x[i]-y[i])) > 1.0/32000 {
			t.Fatalf("sample %d: %v vs %v", i, x[i], y[i])
		}
	}
	// A pipe: sizes stay open-ended and the reader reads to the end.
	var buf bytes.Buffer
	w, _ = NewWAVWriter(&buf, 8000)
	w.Write(x)
	w.Close()
	s, err := ReadWAV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if y, _ := ReadAll(s); len(y) != len(x) {
		t.Errorf("pipe WAV: %d samples, want %d", len(y), len(x))
	}
}

func TestRaw(t *testing.T) {
	var b bytes.Buffer
	for _, v := range []int16{16384, -16384, 0, 32767} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	s, err := ReadRaw(&b, RawS16LE, 2, 8000)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := ReadAll(s)
	if len(x) != 2 || x[0] != 0 || math.Abs(float64(x[1])-0.5) > 1e-3 {
		t.Errorf("raw: %v", x)
	}
	if _, err := ReadRaw(&b, "s12", 1, 8000); err == nil {
		t.Error("unknown raw format accepted")
	}
}

func TestResampler(t *testing.T) {
	for _, c := range [][2]int{{8000, 48000}, {48000, 8000}, {44100, 8000}, {8000, 44100}} {
		n := c[0] // one second
		x := sine(n, c[0], 1000, 0.5)
		y, err := Resample(x, c[0], c[1])
		if err != nil {
			t.Fatal(err)
		}
		if len(y) != c[1] {
			t.Errorf("%v: %d samples, want %d", c, len(y), c[1])
		}
		// Away from the edges the tone keeps its level and frequency.
		mid := y[len(y)/4 : 3*len(y)/4]
		if r := rms(mid); math.Abs(r-0.5/math.Sqrt2) > 0.01 {
			t.Errorf("%v: RMS %.4f", c, r)
		}
		ref := sine(len(y), c[1], 1000, 0.5)
		var e float64
		for i := len(y) / 4; i < 3*len(y)/4; i++ {
			d := float64(y[i] - ref[i])
			e += d * d
		}
		if e/float64(len(y)/2) > 1e-4 {
			t.Errorf("%v: residual %.2g", c, e/float64(len(y)/2))
		}
	}
	// Chunked equals whole.
	x := sine(5000, 8000, 700, 0.3)
	whole, _ := Resample(x, 8000, 44100)
	r, _ := NewResampler(8000, 44100)
	var parts []float32
	for i := 0; i < len(x); i += 333 {
		parts = r.Process(parts, x[i:min(i+333, len(x))])
	}
	parts = r.Flush(parts)
	if len(parts) != len(whole) {
		t.Fatalf("chunked %d, whole %d", len(parts), len(whole))
	}
	for i := range parts {
		if math.Abs(float64(parts[i]-whole[i])) > 1e-5 {
			t.Fatalf("chunked differs at %d", i)
		}
	}
}

// encodeWith writes x as WAV and converts it with a command line; it skips
// the test when the program is missing.
func encodeWith(t *testing.T, x []float32, rate int, out string, prog string, args ...string) string {
	if _, err := exec.LookPath(prog); err != nil {
		t.Skipf("%s not installed", prog)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in.wav")
	if err := WriteFile(in, x, rate); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, out)
	var full []string
	for _, a := range args {
		switch a {
		case "IN":
			a = in
		case "OUT":
			a = dst
		}
		full = append(full, a)
	}
	if b, err := exec.Command(prog, full...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v %s", prog, err, b)
	}
	return dst
}

func checkTone(t *testing.T, path string, wantRate int) {
	t.Helper()
	y, rate, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if rate != wantRate {
		t.Errorf("%s: rate %d, want %d", filepath.Base(path), rate, wantRate)
	}
	if len(y) < wantRate/2 {
		t.Fatalf("%s: only %d samples", filepath.Base(path), len(y))
	}
	if r := rms(y[len(y)/4 : 3*len(y)/4]); math.Abs(r-0.3/math.Sqrt2) > 0.03 {
		t.Errorf("%s: RMS %.3f, want %.3f", filepath.Base(path), r, 0.3/math.Sqrt2)
	}
}

func TestFLAC(t *testing.T) {
	p := encodeWith(t, sine(16000, 16000, 440, 0.3), 16000, "a.flac", "ffmpeg", "-loglevel", "error", "-i", "IN", "-af", "pan=stereo|c0=c0|c1=c0", "OUT")
	checkTone(t, p, 16000)
}

func TestMP3(t *testing.T) {
	p := encodeWith(t, sine(44100, 44100, 440, 0.3), 44100, "a.mp3", "lame", "--quiet", "-b", "64", "IN", "OUT")
	checkTone(t, p, 44100)
}

func TestFFmpegFormats(t *testing.T) {
	p := encodeWith(t, sine(48000, 48000, 440, 0.3), 48000, "a.m4a", "ffmpeg", "-loglevel", "error", "-i", "IN", "-c:a", "aac", "-b:a", "64k", "OUT")
	checkTone(t, p, FFmpegRate)
	// Without ffmpeg on the PATH the error says how to get it.
	t.Setenv("PATH", t.TempDir())
	if _, err := Open(p); !errors.Is(err, ErrNoFFmpeg) {
		t.Errorf("without ffmpeg: %v", err)
	}
}

func TestResampledStream(t *testing.T) {
	var buf bytes.Buffer
	WriteWAV(&buf, sine(44100, 44100, 440, 0.3), 44100)
	s, _ := ReadWAV(&buf)
	r, err := Resampled(s, 8000)
	if err != nil {
		t.Fatal(err)
	}
	y, _ := ReadAll(r)
	if len(y) != 8000 || r.SampleRate() != 8000 {
		t.Errorf("%d samples at %d", len(y), r.SampleRate())
	}
}

func fuzzStream(t *testing.T, open func(io.Reader) (Stream, error), b []byte) {
	s, err := open(bytes.NewReader(b))
	if err != nil {
		return
	}
	buf := make([]float32, 1000)
	for i := 0; i < 300; i++ { // bounded: a stream claiming more is cut
		n, err := s.Read(buf)
		if err != nil || n == 0 {
			return
		}
	}
}

func FuzzReadWAV(f *testing.F) {
	f.Add(wavBytes(wavPCM, 2, 8000, 16, make([]byte, 16), false))
	f.Add(wavBytes(wavFloat, 1, 8000, 64, make([]byte, 16), true))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStream(t, ReadWAV, b) })
}

func FuzzReadMP3(f *testing.F) {
	if p, err := filepath.Glob("testdata/*.mp3"); err == nil {
		for _, q := range p {
			b, _ := os.ReadFile(q)
			f.Add(b)
		}
	}
	f.Add([]byte{0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0})
	f.Add([]byte("ID3\x03\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStream(t, ReadMP3, b) })
}

func FuzzReadFLAC(f *testing.F) {
	if p, err := filepath.Glob("testdata/*.flac"); err == nil {
		for _, q := range p {
			b, _ := os.ReadFile(q)
			f.Add(b)
		}
	}
	f.Add([]byte("fLaC\x80\x00\x00\x22"))
	f.Fuzz(func(t *testing.T, b []byte) { fuzzStream(t, ReadFLAC, b) })
}

// FuzzReadRaw: raw PCM from standard input ('ferry audio decode -') in
// every layout and channel count, with a cut last frame.
func FuzzReadRaw(f *testing.F) {
	f.Add(uint8(0), uint8(1), []byte{0x00, 0x80, 0xff, 0x7f, 0x01})
	f.Add(uint8(3), uint8(2), []byte{0, 0, 0x80, 0x7f, 0, 0, 0xc0, 0xff, 0, 0, 0x80})
	f.Fuzz(func(t *testing.T, layout, channels uint8, b []byte) {
		formats := []RawFormat{RawS16LE, RawS24LE, RawS32LE, RawF32LE, RawU8}
		format := formats[int(layout)%len(formats)]
		fuzzStream(t, func(r io.Reader) (Stream, error) { return ReadRaw(r, format, int(channels%9), 8000) }, b)
	})
}
