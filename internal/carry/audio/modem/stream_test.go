package modem

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math"
	"math/rand"
	"testing"

	"ferry/internal/carry/audio/channel"
)

// speechLike synthesizes seconds of audio that is not the modem: syllables
// of a pulse train at a wandering pitch through two formant resonators,
// hiss bursts and pauses, alternating with music-like passages (harmonic
// notes with decaying envelopes and noise drum hits). Its level is the
// modem's (RMS about 0.2).
func speechLike(seconds float64, rate int, seed int64) []float32 {
	rng := rand.New(rand.NewSource(seed))
	n := int(seconds * float64(rate))
	out := make([]float32, n)
	fs := float64(rate)
	reson := func(f, bw float64) func(float64) float64 {
		r := math.Exp(-math.Pi * bw / fs)
		a1, a2 := -2*r*math.Cos(2*math.Pi*f/fs), r*r
		var y1, y2 float64
		return func(x float64) float64 {
			y := x - a1*y1 - a2*y2
			y2, y1 = y1, y
			return y
		}
	}
	for i := 0; i < n; {
		music := (i/int(4*fs))%2 == 1 // 4 s of speech, 4 s of music
		seg := int((0.12 + 0.25*rng.Float64()) * fs)
		if i+seg > n {
			seg = n - i
		}
		switch {
		case music:
			f0 := 110 * math.Pow(2, float64(rng.Intn(36))/12)
			for j := 0; j < seg; j++ {
				t := float64(j) / fs
				env := math.Exp(-3 * t)
				var v float64
				for h := 1; h <= 6; h++ {
					v += math.Sin(2*math.Pi*f0*float64(h)*t) / float64(h)
				}
				if rng.Intn(4) == 0 && j < int(0.03*fs) {
					v += 2 * rng.NormFloat64() // drum hit
				}
				out[i+j] = float32(0.15 * env * v)
			}
		case rng.Intn(5) == 0: // pause
		case rng.Intn(4) == 0: // hiss
			f := reson(2500+1000*rng.Float64(), 800)
			for j := 0; j < seg; j++ {
				out[i+j] = float32(0.05 * f(rng.NormFloat64()))
			}
		default: // voiced
			f1 := reson(300+600*rng.Float64(), 90)
			f2 := reson(900+1600*rng.Float64(), 120)
			pitch := 100 + 150*rng.Float64()
			var ph float64
			for j := 0; j < seg; j++ {
				ph += (pitch + 20*math.Sin(float64(j)/fs*7)) / fs
				x := 0.0
				if ph >= 1 {
					ph--
					x = 1
				}
				env := math.Sin(math.Pi * float64(j) / float64(seg))
				out[i+j] = float32(0.08 * env * (f1(x) + 0.5*f2(x)))
			}
		}
		i += seg
	}
	// Normalize to RMS 0.2.
	var p float64
	for _, v := range out {
		p += float64(v) * float64(v)
	}
	k := float32(0.2 / math.Sqrt(p/float64(n)+1e-12))
	for i := range out {
		out[i] *= k
	}
	return out
}

// TestMidFrameAndAudioAround: the recording starts in the middle of a frame,
// with 30 s of speech and music before the rest and 30 s after, at 44.1 kHz
// and 10 dB SNR. The cut frame is lost, every other one decodes, nothing
// else comes out, and the audio around it raises no more than a few false
// detections.
func TestMidFrameAndAudioAround(t *testing.T) {
	const rate = 44100
	m := Standard
	const n = 4
	sig := txFrames(t, m, rate, n, 0)
	cut := int(0.4 * m.FrameDuration().Seconds() * rate)
	rec := append([]float32(nil), sig[cut:]...)
	before := speechLike(30, rate, 1)
	after := speechLike(30, rate, 2)
	rec = append(append(before[:0:0], before...), rec...)
	rec = append(rec, after...)
	y, err := channel.Apply(rec, rate, channel.Options{SNR: 10, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	frames, st := rxAll(t, rate, y, 4410)
	if g := countGood(m, frames, n); g != n-1 || len(frames) != n-1 {
		t.Fatalf("%d frames, %d correct, want %d; %+v", len(frames), g, n-1, st)
	}
	for _, f := range frames {
		if bytes.Equal(f.Payload, testPayload(m, 0)) {
			t.Fatal("the cut frame came out")
		}
	}
	if st.Failed+st.BadCRC > 3 {
		t.Errorf("%d false detections in a minute of speech and music", st.Failed+st.BadCRC)
	}
	// The first frame after the cut starts 30 s plus the rest of the cut frame in.
	want := float64(len(before)+len(sig[cut:m.FrameSamples()*rate/SampleRate])) / rate
	if d := frames[0].StartTime.Seconds() - want; math.Abs(d) > 0.01 {
		t.Errorf("first frame at %.3f s, want %.3f s", frames[0].StartTime.Seconds(), want)
	}
}

// TestChunkSizesAgree: the receiver's output does not depend on how the
// input is cut into chunks.
func TestChunkSizesAgree(t *testing.T) {
	x := txFrames(t, Robust, 48000, 2, 0.5)
	y, _ := channel.Apply(x, 48000, channel.Options{SNR: 0, Seed: 4})
	var ref []Frame
	for i, chunk := range []int{1 << 20, 331, 4800} {
		frames, _ := rxAll(t, 48000, y, chunk)
		if len(frames) != 2 {
			t.Fatalf("chunk %d: %d frames", chunk, len(frames))
		}
		if i == 0 {
			ref = frames
			continue
		}
		for j := range frames {
			if !bytes.Equal(frames[j].Payload, ref[j].Payload) || frames[j].Start != ref[j].Start {
				t.Errorf("chunk %d frame %d differs", chunk, j)
			}
		}
	}
}

// TestDamagedFramesDropped: frames whose codeword is valid but whose CRC,
// reserved bits or padding are wrong are counted and never returned.
func TestDamagedFramesDropped(t *testing.T) {
	m := Robust
	l := m.layout()
	tx, _ := NewTransmitter(m, SampleRate)
	good, _ := frameBytes(m, []byte("hello"))
	var bad [][]byte
	b := append([]byte(nil), good...)
	b[5] ^= 1 // payload changed, CRC not
	bad = append(bad, b)
	b = append([]byte(nil), good...)
	b[0] |= 0x10 // reserved bit set, CRC recomputed
	binary.BigEndian.PutUint32(b[len(b)-4:], crc32Of(b[:len(b)-4]))
	bad = append(bad, b)
	b = append([]byte(nil), good...)
	b[20] = 1 // padding not zero, CRC recomputed
	binary.BigEndian.PutUint32(b[len(b)-4:], crc32Of(b[:len(b)-4]))
	bad = append(bad, b)
	b = append([]byte(nil), good...)
	binary.BigEndian.PutUint16(b, 200) // length beyond PayloadSize
	binary.BigEndian.PutUint32(b[len(b)-4:], crc32Of(b[:len(b)-4]))
	bad = append(bad, b)
	x := make([]float32, SampleRate)
	for _, info := range bad {
		x = append(x, tx.frame8k(cellsOf(l, info))...)
	}
	f, _ := tx.Frame([]byte("hello"))
	x = append(x, f...)
	x = append(x, tx.Flush()...)
	x = append(x, make([]float32, SampleRate)...)
	frames, st := rxAll(t, SampleRate, x, 8000)
	if len(frames) != 1 || string(frames[0].Payload) != "hello" {
		t.Fatalf("got %d frames, want only the good one", len(frames))
	}
	if st.BadCRC != len(bad) {
		t.Errorf("BadCRC %d, want %d (%+v)", st.BadCRC, len(bad), st)
	}
}

// cellsOf encodes raw information bytes (bypassing frameBytes).
func cellsOf(l *layout, b []byte) []complex64 {
	info := bytesToBits(b)
	for i := range info {
		info[i] ^= l.scram[i]
	}
	cw := l.code.encode(info)
	stream := make([]byte, len(cw))
	for i, bit := range cw {
		stream[l.perm[i]] = bit
	}
	var cells []complex64
	for i := 0; i < len(stream); i += 2 {
		cells = append(cells, qpsk(stream[i], stream[i+1]))
	}
	return append(cells, l.spare...)
}

func crc32Of(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// TestNoiseOnlyBoundedMemory: a long stretch of noise and speech yields no
// frame and the receiver's buffers stay bounded.
func TestNoiseOnlyBoundedMemory(t *testing.T) {
	r, _ := NewReceiver(SampleRate)
	rng := rand.New(rand.NewSource(5))
	speech := speechLike(20, SampleRate, 6)
	buf := make([]float32, 4000)
	maxX, maxBB := 0, 0
	for i := 0; i < 90*SampleRate/len(buf); i++ {
		for j := range buf {
			buf[j] = float32(0.2*rng.NormFloat64()) + speech[(i*len(buf)+j)%len(speech)]
		}
		if fr := r.Write(buf); len(fr) != 0 {
			t.Fatalf("a frame from noise: %+v", fr[0])
		}
		maxX, maxBB = max(maxX, len(r.x)), max(maxBB, len(r.bb))
	}
	if maxX > 20*SampleRate || maxBB > 10*SampleRate/detDecim {
		t.Errorf("buffers grew to %d and %d samples", maxX, maxBB)
	}
	if st := r.Stats(); st.Decoded != 0 || st.Detected > 3 {
		t.Errorf("stats on noise: %+v", st)
	}
}

func TestFrameBytes(t *testing.T) {
	for _, m := range Modes {
		for _, n := range []int{0, 1, m.PayloadSize()} {
			p := bytes.Repeat([]byte{0xA5}, n)
			b, err := frameBytes(m, p)
			if err != nil {
				t.Fatal(err)
			}
			q, err := parseFrame(m, b)
			if err != nil || !bytes.Equal(p, q) {
				t.Fatalf("%s %d bytes: %v", m, n, err)
			}
			for i := 0; i < len(b)*8; i += 37 {
				c := append([]byte(nil), b...)
				c[i/8] ^= 0x80 >> (i % 8)
				if _, err := parseFrame(m, c); err == nil {
					t.Fatalf("%s: bit %d flipped, frame accepted", m, i)
				}
			}
		}
		if _, err := frameBytes(m, make([]byte, m.PayloadSize()+1)); !errors.Is(err, ErrPayloadTooLarge) {
			t.Errorf("%s: oversized payload: %v", m, err)
		}
	}
}

// FuzzParseFrame: any bytes either fail or re-encode to exactly themselves.
func FuzzParseFrame(f *testing.F) {
	b, _ := frameBytes(Robust, []byte("seed"))
	f.Add(b)
	f.Add(make([]byte, Robust.p().k/8))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseFrame(Robust, b)
		if err != nil {
			return
		}
		c, err := frameBytes(Robust, p)
		if err != nil || !bytes.Equal(b, c) {
			t.Fatalf("accepted frame does not re-encode: %v", err)
		}
	})
}

// FuzzReceiver: arbitrary sample bytes never panic or return a frame that
// fails its checks; a real frame is among the seeds.
func FuzzReceiver(f *testing.F) {
	tx, _ := NewTransmitter(Robust, SampleRate)
	fr, _ := tx.Frame([]byte("fuzz"))
	seed := make([]byte, 2*len(fr))
	for i, v := range fr {
		binary.LittleEndian.PutUint16(seed[2*i:], uint16(int16(v*32767)))
	}
	f.Add(seed[:40000], uint16(997))
	f.Add([]byte{0xff, 0x7f, 0, 0x80}, uint16(1))
	f.Fuzz(func(t *testing.T, b []byte, chunk uint16) {
		r, _ := NewReceiver(SampleRate, Robust)
		x := make([]float32, len(b)/2)
		for i := range x {
			x[i] = float32(int16(binary.LittleEndian.Uint16(b[2*i:]))) / 32768
		}
		c := int(chunk)%5000 + 1
		var out []Frame
		for i := 0; i < len(x); i += c {
			out = append(out, r.Write(x[i:min(i+c, len(x))])...)
		}
		out = append(out, r.Flush()...)
		for _, fr := range out {
			if len(fr.Payload) > Robust.PayloadSize() {
				t.Fatal("oversized payload returned")
			}
		}
	})
}
