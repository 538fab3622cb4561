package modem

import (
	"fmt"
	"math"
	"sync"
	"time"
)

// Mode is one of the modem's waveforms. All share the OFDM numerology and
// the preamble band; they differ in width and frame size (docs/modem.md).
type Mode int

// The modes, from the most robust to the fastest.
const (
	// Robust is 15 carriers (469 Hz) around 1500 Hz, 122-byte frames of
	// 3.3 s, 297 bit/s; every frame decodes at −6 dB SNR (3 kHz noise
	// band) without fading and 90% at −2 dB in CCIR poor fading.
	Robust Mode = 1
	// Standard is 30 carriers (938 Hz), 250-byte frames of 3.3 s,
	// 608 bit/s; from −3 dB (AWGN) or +1 dB (CCIR poor).
	Standard Mode = 2
	// Fast is 76 carriers (2375 Hz, 375–2719 Hz) with a rate-1/3 code,
	// 506-byte frames of 3.9 s, 1028 bit/s.
	Fast Mode = 3
)

// Modes lists every mode.
var Modes = []Mode{Robust, Standard, Fast}

// Waveform numerology shared by all modes (docs/modem.md, "Numerology").
const (
	// SampleRate is the modem's own rate; other rates are resampled.
	SampleRate = 8000
	fftSize    = 256 // samples per useful symbol: carrier spacing 31.25 Hz
	cpLen      = 32  // cyclic prefix, 4 ms
	taperLen   = 8   // raised-cosine overlap between symbols, 1 ms
	symLen     = fftSize + cpLen
	// CarrierSpacing is the spacing of the OFDM carriers in Hz.
	CarrierSpacing = float64(SampleRate) / fftSize
	preFirstBin    = 41 // preamble carriers: bins 41..55 (1281–1719 Hz)
	preCarriers    = 15
	preRepeats     = 5 // symbol A, repeated without prefix
	preBRepeats    = 2 // then symbol B twice
	preambleLen    = cpLen + (preRepeats+preBRepeats)*fftSize
	pilotEvery     = 6 // a pilot row, then 5 data rows
	headerBytes    = 2
	crcBytes       = 4
	txRMS          = 0.2 // output level, −14 dBFS, peaks limited to ±0.95
)

type params struct {
	name     string
	carriers int
	firstBin int  // FFT bin of the lowest carrier
	k        int  // LDPC information bits
	third    bool // rate-1/3 code (m = 2k), else rate 1/2 (m = k)
	blocks   int  // pilot blocks
	seed     uint64
}

var modeParams = map[Mode]params{
	Robust:   {"robust", 15, 41, 1024, false, 14, 0x66657272792d7201},
	Standard: {"standard", 30, 34, 2048, false, 14, 0x66657272792d7302},
	Fast:     {"fast", 76, 12, 4096, true, 17, 0x66657272792d6603},
}

func (m Mode) p() params {
	p, ok := modeParams[m]
	if !ok {
		panic(fmt.Sprintf("modem: internal error: unknown mode %d", int(m)))
	}
	return p
}

// Valid reports whether m is one of the defined modes.
func (m Mode) Valid() bool { _, ok := modeParams[m]; return ok }

// String returns the mode's name: robust, standard or fast.
func (m Mode) String() string {
	if p, ok := modeParams[m]; ok {
		return p.name
	}
	return fmt.Sprintf("mode(%d)", int(m))
}

// ParseMode returns the mode named s.
func ParseMode(s string) (Mode, error) {
	for _, m := range Modes {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("modem: unknown mode %q (robust, standard or fast)", s)
}

// PayloadSize is the most payload bytes one frame carries (122, 250, 506).
// Shorter payloads are padded on air and come out at their own length.
func (m Mode) PayloadSize() int { return m.p().k/8 - headerBytes - crcBytes }

// symbols is the number of OFDM symbols after the preamble.
func (p params) symbols() int { return p.blocks*pilotEvery + 1 }

// profile is the shape of the mode's LDPC code.
func (p params) profile() codeProfile {
	if p.third {
		return rateThird(p.k)
	}
	return rateHalf(p.k)
}

// codeBits is the LDPC codeword length n = k + m.
func (p params) codeBits() int { return p.k + p.profile().m }

// dataCells is the number of data cells in a frame (≥ n/2, the rest spare).
func (p params) dataCells() int { return p.blocks * (pilotEvery - 1) * p.carriers }

// frameSamples is the frame length at SampleRate.
func (p params) frameSamples() int { return preambleLen + p.symbols()*symLen }

// FrameSamples is the length of one frame at SampleRate (8 kHz).
func (m Mode) FrameSamples() int { return m.p().frameSamples() }

// FrameDuration is the airtime of one frame.
func (m Mode) FrameDuration() time.Duration {
	return time.Duration(m.FrameSamples()) * time.Second / SampleRate
}

// BitRate is the payload rate in bit/s when every frame is full.
func (m Mode) BitRate() float64 {
	return float64(8*m.PayloadSize()) * SampleRate / float64(m.FrameSamples())
}

// Bandwidth is the width in Hz occupied by the carriers (carriers ×
// spacing); the preamble lies inside it.
func (m Mode) Bandwidth() float64 { return float64(m.p().carriers) * CarrierSpacing }

// Band returns the lowest and highest carrier frequency in Hz.
func (m Mode) Band() (lo, hi float64) {
	p := m.p()
	return float64(p.firstBin) * CarrierSpacing, float64(p.firstBin+p.carriers-1) * CarrierSpacing
}

// layout is everything about a mode that is derived once: code, pilots,
// preamble symbols, interleaver, scrambler.
type layout struct {
	mode    Mode
	p       params
	code    *ldpcCode
	pilots  [][]complex64 // per pilot row (blocks+1), per carrier
	spare   []complex64   // known values of the spare cells
	preA    []complex64   // per preamble carrier
	preB    []complex64
	perm    []int32 // coded bit i goes to cell-stream bit perm[i]
	scram   []byte  // scrambler bits over the k information bits
	gain    float32 // time-domain gain of a data symbol
	preGain float32 // of a preamble symbol
}

var (
	layoutsOnce [4]sync.Once
	layouts     [4]*layout
)

func (m Mode) layout() *layout {
	m.p()
	layoutsOnce[m].Do(func() { layouts[m] = newLayout(m) })
	return layouts[m]
}

// qpsk maps two bits to a unit-energy QPSK point (Gray): bit0 on the real
// axis, bit1 on the imaginary axis, 0 → +, 1 → −.
func qpsk(b0, b1 byte) complex64 {
	const a = float32(math.Sqrt2 / 2)
	re, im := a, a
	if b0 != 0 {
		re = -a
	}
	if b1 != 0 {
		im = -a
	}
	return complex(re, im)
}

// randomQPSK draws a QPSK point from the top two bits of one draw.
func randomQPSK(g *splitMix64) complex64 {
	v := g.next()
	return qpsk(byte(v>>63), byte(v>>62&1))
}

func newLayout(m Mode) *layout {
	p := m.p()
	l := &layout{mode: m, p: p}
	l.code = newLDPC(p.k, p.profile(), p.seed)
	g := splitMix64{p.seed ^ 0x70696c6f74} // "pilot"
	for r := 0; r <= p.blocks; r++ {
		row := make([]complex64, p.carriers)
		for c := range row {
			row[c] = randomQPSK(&g)
		}
		l.pilots = append(l.pilots, row)
	}
	l.spare = make([]complex64, p.dataCells()-p.codeBits()/2)
	for i := range l.spare {
		l.spare[i] = randomQPSK(&g)
	}
	g = splitMix64{p.seed ^ 0x707265616d626c65} // "preamble"
	l.preA = make([]complex64, preCarriers)
	l.preB = make([]complex64, preCarriers)
	for i := range l.preA {
		l.preA[i] = randomQPSK(&g)
	}
	for i := range l.preB {
		l.preB[i] = randomQPSK(&g)
	}
	// Interleaver: a Fisher–Yates shuffle of the n coded bit positions.
	g = splitMix64{p.seed ^ 0x696e746c76} // "intlv"
	n := p.codeBits()
	l.perm = make([]int32, n)
	for i := range l.perm {
		l.perm[i] = int32(i)
	}
	for i := n - 1; i > 0; i-- {
		j := g.intn(i + 1)
		l.perm[i], l.perm[j] = l.perm[j], l.perm[i]
	}
	g = splitMix64{p.seed ^ 0x736372616d} // "scram"
	l.scram = make([]byte, p.k)
	for i := range l.scram {
		l.scram[i] = byte(g.next() >> 63)
	}
	// A complex symbol with unit carriers has power = carriers; the real
	// signal half of it.
	l.gain = float32(txRMS / math.Sqrt(float64(p.carriers)/2))
	l.preGain = float32(txRMS / math.Sqrt(float64(preCarriers)/2))
	return l
}
