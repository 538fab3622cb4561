package fountain

import (
	"crypto/subtle"
	"encoding/binary"
)

// GF(256) arithmetic of RFC 6330 section 5.7: the field with the reducing
// polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D) and generator alpha = 2.
// octExp and octLog are the OCT_EXP and OCT_LOG tables of section 5.7.3,
// computed at start-up (they follow from the polynomial).
var (
	octExp [510]byte
	octLog [256]byte
	// mulTable[c][x] = c*x, so a symbol times a scalar is one lookup per byte.
	mulTable [256][256]byte
	// nibbleTable[c] holds c*x for x = 0..15, then c*(x<<4): the two
	// halves of a byte multiply separately (the split-nibble method).
	nibbleTable [256][32]byte
)

func init() {
	x := 1
	for i := 0; i < 255; i++ {
		octExp[i] = byte(x)
		octLog[x] = byte(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11D
		}
	}
	for i := 255; i < len(octExp); i++ {
		octExp[i] = octExp[i-255]
	}
	for a := 1; a < 256; a++ {
		for b := 1; b < 256; b++ {
			mulTable[a][b] = octExp[int(octLog[a])+int(octLog[b])]
		}
		for x := 0; x < 16; x++ {
			nibbleTable[a][x] = mulTable[a][x]
			nibbleTable[a][16+x] = mulTable[a][x<<4]
		}
	}
}

// gfMul multiplies two field elements.
func gfMul(a, b byte) byte { return mulTable[a][b] }

// gfInv returns the inverse of a non-zero element.
func gfInv(a byte) byte { return octExp[255-int(octLog[a])] }

// xorInto sets dst ^= src (len(dst) >= len(src)); crypto/subtle works a
// machine word (or vector) at a time.
func xorInto(dst, src []byte) {
	if useAVX2 && len(src) >= 32 {
		n := len(src) &^ 31
		xorAVX2(dst[:n], src[:n])
		dst, src = dst[n:], src[n:]
		if len(src) == 0 {
			return
		}
	}
	subtle.XORBytes(dst, dst, src)
}

// mulAddInto sets dst ^= c*src.
func mulAddInto(dst, src []byte, c byte) {
	switch c {
	case 0:
		return
	case 1:
		xorInto(dst, src)
		return
	}
	if useAVX2 && len(src) >= 32 {
		n := len(src) &^ 31
		mulAddAVX2(dst[:n], src[:n], &nibbleTable[c])
		dst, src = dst[n:], src[n:]
	}
	t := &mulTable[c]
	dst = dst[:len(src)]
	for len(src) >= 8 {
		d := binary.LittleEndian.Uint64(dst)
		v := uint64(t[src[0]]) | uint64(t[src[1]])<<8 | uint64(t[src[2]])<<16 | uint64(t[src[3]])<<24 |
			uint64(t[src[4]])<<32 | uint64(t[src[5]])<<40 | uint64(t[src[6]])<<48 | uint64(t[src[7]])<<56
		binary.LittleEndian.PutUint64(dst, d^v)
		src, dst = src[8:], dst[8:]
	}
	for i, s := range src {
		dst[i] ^= t[s]
	}
}

// scaleInPlace sets buf = c*buf.
func scaleInPlace(buf []byte, c byte) {
	if c == 1 {
		return
	}
	if useAVX2 && len(buf) >= 32 {
		n := len(buf) &^ 31
		mulAVX2(buf[:n], buf[:n], &nibbleTable[c])
		buf = buf[n:]
	}
	t := &mulTable[c]
	for i, s := range buf {
		buf[i] = t[s]
	}
}

// mulAlphaInPlace sets buf = alpha*buf, eight bytes at a time: doubling
// shifts each byte left and reduces the bytes whose top bit fell off.
func mulAlphaInPlace(buf []byte) {
	const hiBits = 0x8080808080808080
	for len(buf) >= 8 {
		x := binary.LittleEndian.Uint64(buf)
		hi := x & hiBits
		x = ((x &^ hi) << 1) ^ ((hi >> 7) * 0x1d)
		binary.LittleEndian.PutUint64(buf, x)
		buf = buf[8:]
	}
	for i, s := range buf {
		buf[i] = mulTable[2][s]
	}
}

// xorSum sets dst to the XOR of srcs (zero when there are none). Summing
// all sources in one pass reads each once and writes dst once, instead of
// reading and writing dst for every source.
func xorSum(dst []byte, srcs [][]byte) {
	if len(srcs) == 0 {
		clear(dst)
		return
	}
	if len(srcs) == 1 {
		copy(dst, srcs[0])
		return
	}
	done := 0
	if useAVX2 && len(dst) >= 256 {
		done = len(dst) &^ 255
		xorMultiAVX2(dst[:done], srcs)
		if done == len(dst) {
			return
		}
	}
	rest := dst[done:]
	subtle.XORBytes(rest, srcs[0][done:len(dst)], srcs[1][done:len(dst)])
	for _, s := range srcs[2:] {
		xorInto(rest, s[done:len(dst)])
	}
}

// mulAlphaXor sets acc = alpha*acc ^ src (src nil means zero): one step of
// the GAMMA recurrence of the HDPC rows.
func mulAlphaXor(acc, src []byte) {
	if src == nil {
		mulAlphaInPlace(acc)
		return
	}
	if useAVX2 && len(acc) >= 32 {
		n := len(acc) &^ 31
		mulAlphaXorAVX2(acc[:n], src[:n])
		acc, src = acc[n:], src[n:]
	}
	mulAlphaInPlace(acc)
	xorInto(acc, src)
}

// hdpcStep is one column of the HDPC recurrence: acc = alpha*acc ^ src
// (src nil means zero), then acc is added to the two HDPC rows r1 and r2.
func hdpcStep(acc, src, r1, r2 []byte) {
	if useAVX2 && len(acc) >= 32 {
		n := len(acc) &^ 31
		if src == nil {
			hdpcStepAVX2(acc[:n], nil, r1[:n], r2[:n])
		} else {
			hdpcStepAVX2(acc[:n], src[:n], r1[:n], r2[:n])
			src = src[n:]
		}
		acc, r1, r2 = acc[n:], r1[n:], r2[n:]
		if len(acc) == 0 {
			return
		}
	}
	mulAlphaXor(acc, src)
	xorInto(r1, acc)
	xorInto(r2, acc)
}
