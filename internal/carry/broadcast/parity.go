package broadcast

import (
	"fmt"
)

// Announcement parity (docs/broadcast.md, "Announcement parity"). A body
// cut into P parts of C bytes (the last zero-padded to C) gets up to
// 256 − P parity parts, each C bytes: parity part j is
//
//	q_j = Σ_i d_i / ((P + j) ⊕ i)     over GF(2^8), polynomial 0x11D,
//
// a systematic Reed–Solomon code built on a Cauchy matrix, so that any P of
// the P + (256 − P) parts give the body back. Parts are numbered together:
// index i < P is data part i, index P + j is parity part j.

// KindParity marks a packet carrying one parity part of an announcement.
const KindParity = 3

// annIndices is the number of part indices of one cut: data and parity.
const annIndices = 256

var gfExp [2 * 255]byte
var gfLog [256]byte

func init() {
	x := 1
	for i := 0; i < 255; i++ {
		gfExp[i], gfExp[i+255] = byte(x), byte(x)
		gfLog[x] = byte(i)
		x <<= 1
		if x&0x100 != 0 {
			x ^= 0x11D
		}
	}
}

func gfMul(a, b byte) byte {
	if a == 0 || b == 0 {
		return 0
	}
	return gfExp[int(gfLog[a])+int(gfLog[b])]
}

// gfInv is the inverse of a ≠ 0.
func gfInv(a byte) byte { return gfExp[255-int(gfLog[a])] }

// MaxParity is the number of parity parts a cut of parts data parts has:
// 256 − parts, none for 256 parts or more.
func MaxParity(parts int) int { return max(0, annIndices-parts) }

// parityCoef is the coefficient of data part i in parity part j of a cut
// of parts parts.
func parityCoef(parts, j, i int) byte { return gfInv(byte(parts+j) ^ byte(i)) }

// mulAdd adds c·src to dst.
func mulAdd(dst, src []byte, c byte) {
	if c == 0 {
		return
	}
	lc := int(gfLog[c])
	for i, b := range src {
		if b != 0 {
			dst[i] ^= gfExp[lc+int(gfLog[b])]
		}
	}
}

// ParityPart returns parity part j of body cut into parts parts.
func ParityPart(body []byte, parts uint16, j int) ([]byte, error) {
	P := int(parts)
	_, c, ok := partRange(uint32(len(body)), parts, 0)
	if !ok || len(body) == 0 || j < 0 || j >= MaxParity(P) {
		return nil, fmt.Errorf("%w: parity part %d of a %d-byte body in %d parts", ErrOptions, j, len(body), P)
	}
	out := make([]byte, c)
	for i := 0; i < P; i++ {
		lo, hi, _ := partRange(uint32(len(body)), parts, uint16(i))
		mulAdd(out, body[lo:hi], parityCoef(P, j, i))
	}
	return out, nil
}

// AppendParity appends parity part j of an announcement cut into parts
// parts to dst; q is the part's C bytes.
func AppendParity(dst []byte, id [IDSize]byte, j, parts uint16, bodyLen uint32, q []byte) []byte {
	return appendPart(dst, KindParity, id, j, parts, bodyLen, q)
}

// recoverBody rebuilds a body of n bytes cut into parts parts from the
// parts at indices have (data or parity, exactly parts of them, each with
// its bytes in got): the missing data parts are solved from the parity
// parts. ok is false when the solution is not a body (a shortened last
// part whose padding is not zero): some part was not genuine.
func recoverBody(n uint32, parts uint16, have []int, got [][]byte) ([]byte, bool) {
	P := int(parts)
	_, c, _ := partRange(n, parts, 0)
	data := make([][]byte, P)
	var par []int // positions in have of parity parts
	for k, idx := range have {
		if idx < P {
			data[idx] = got[k]
		} else {
			par = append(par, k)
		}
	}
	var miss []int
	for i, d := range data {
		if d == nil {
			miss = append(miss, i)
		}
	}
	if len(miss) != len(par) {
		return nil, false
	}
	e := len(miss)
	// s_j = q_j − Σ over known data parts; then A·x = s with A[r][m] the
	// coefficient of missing part m in parity r.
	s := make([][]byte, e)
	a := make([][]byte, e)
	for r, k := range par {
		j := have[k] - P
		s[r] = append(make([]byte, 0, c), got[k]...)
		for i, d := range data {
			if d != nil {
				mulAdd(s[r], d, parityCoef(P, j, i))
			}
		}
		a[r] = make([]byte, e)
		for m, i := range miss {
			a[r][m] = parityCoef(P, j, i)
		}
	}
	// Gauss–Jordan; a Cauchy matrix's square submatrices are invertible.
	for col := 0; col < e; col++ {
		piv := -1
		for r := col; r < e; r++ {
			if a[r][col] != 0 {
				piv = r
				break
			}
		}
		if piv < 0 {
			return nil, false
		}
		a[col], a[piv] = a[piv], a[col]
		s[col], s[piv] = s[piv], s[col]
		inv := gfInv(a[col][col])
		for m := range a[col] {
			a[col][m] = gfMul(a[col][m], inv)
		}
		sc := s[col]
		for t := range sc {
			sc[t] = gfMul(sc[t], inv)
		}
		for r := 0; r < e; r++ {
			if f := a[r][col]; r != col && f != 0 {
				mulAdd(a[r], a[col], f)
				mulAdd(s[r], s[col], f)
			}
		}
	}
	for m, i := range miss {
		lo, hi, _ := partRange(n, parts, uint16(i))
		for _, b := range s[m][hi-lo:] {
			if b != 0 {
				return nil, false
			}
		}
		data[i] = s[m][:hi-lo]
	}
	body := make([]byte, 0, n)
	for _, d := range data {
		body = append(body, d...)
	}
	return body, true
}
