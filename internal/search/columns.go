package search

import (
	"encoding/binary"
	"fmt"
	"math/bits"

	"github.com/klauspost/compress/zstd"
)

// dictColumns is an open dictionary block of version 3, held as its six
// columns (docs/search-index.md): each column is compressed on its own,
// because the term bytes, the counts, the inline document gaps and their
// values follow different statistics.
type dictColumns struct {
	n        int
	lens     []byte // per term: shared<<4 | suffix length, or 255, shared, suffix length
	suffixes []byte
	dfs      []byte // uvarint df per term
	postLens []byte // uvarint postings length per out-of-line term
	gaps     []byte // per inline term: df × uvarint gap
	values   []byte // per inline term: df × value byte (codeValue)
}

func (d *dictColumns) columns() [6][]byte {
	return [6][]byte{d.lens, d.suffixes, d.dfs, d.postLens, d.gaps, d.values}
}

func (d *dictColumns) rawLen() int {
	return len(d.lens) + len(d.suffixes) + len(d.dfs) + len(d.postLens) + len(d.gaps) + len(d.values)
}

func (d *dictColumns) reset() {
	d.n = 0
	d.lens, d.suffixes, d.dfs, d.postLens = d.lens[:0], d.suffixes[:0], d.dfs[:0], d.postLens[:0]
	d.gaps, d.values = d.gaps[:0], d.values[:0]
}

// appendLens appends a term's front-coding lengths to the lens column:
// one byte shared<<4 | suffixLen when shared < 15 and suffixLen < 16,
// else 255, shared, suffixLen.
func appendLens(dst []byte, shared, suffixLen int) []byte {
	if shared < 15 && suffixLen < 16 {
		return append(dst, byte(shared<<4|suffixLen))
	}
	return append(dst, 255, byte(shared), byte(suffixLen))
}

// readLens reads what appendLens wrote; n is the bytes used, 0 if
// malformed (truncated, or a long form the short form could hold).
func readLens(p []byte) (shared, suffixLen, n int) {
	if len(p) == 0 {
		return 0, 0, 0
	}
	if p[0] != 255 {
		return int(p[0] >> 4), int(p[0] & 15), 1
	}
	if len(p) < 3 || (p[1] < 15 && p[2] < 16) {
		return 0, 0, 0
	}
	return int(p[1]), int(p[2]), 3
}

// appendColumn appends one column: codec, raw length, stored length,
// payload; zstd only when it is smaller.
func appendColumn(dst []byte, enc *zstd.Encoder, col []byte) []byte {
	if len(col) > 0 {
		if z := enc.EncodeAll(col, nil); len(z) < len(col) {
			dst = append(dst, codecZstd)
			dst = binary.AppendUvarint(dst, uint64(len(col)))
			dst = binary.AppendUvarint(dst, uint64(len(z)))
			return append(dst, z...)
		}
	}
	dst = append(dst, codecRaw)
	dst = binary.AppendUvarint(dst, uint64(len(col)))
	dst = binary.AppendUvarint(dst, uint64(len(col)))
	return append(dst, col...)
}

// readColumn parses one column at the start of p and returns its raw
// bytes and the rest of p. budget is what the block's columns may still
// decompress to (the raw block cap).
func readColumn(p []byte, budget *uint64) (raw, rest []byte, err error) {
	if len(p) < 1 {
		return nil, nil, fmt.Errorf("column truncated")
	}
	codec := p[0]
	p = p[1:]
	rawLen, k1 := uvarint(p)
	if k1 <= 0 {
		return nil, nil, fmt.Errorf("column length")
	}
	p = p[k1:]
	stored, k2 := uvarint(p)
	if k2 <= 0 || stored > uint64(len(p)-k2) || rawLen > *budget {
		return nil, nil, fmt.Errorf("column lengths")
	}
	p = p[k2:]
	payload, rest := p[:stored], p[stored:]
	*budget -= rawLen
	switch codec {
	case codecRaw:
		if rawLen != stored {
			return nil, nil, fmt.Errorf("stored column of %d bytes claims %d", stored, rawLen)
		}
		return payload, rest, nil
	case codecZstd:
		if stored == 0 {
			return nil, nil, fmt.Errorf("empty zstd column")
		}
		d, err := decoder()
		if err != nil {
			return nil, nil, err
		}
		raw, err = d.DecodeAll(payload, make([]byte, 0, rawLen))
		if err != nil || uint64(len(raw)) != rawLen {
			return nil, nil, fmt.Errorf("zstd column does not decompress to %d bytes (%v)", rawLen, err)
		}
		return raw, rest, nil
	}
	return nil, nil, fmt.Errorf("unknown column codec %d", codec)
}

// Rice-coded postings blocks (version 2). A block is one byte of
// parameters, kGap in bits 0-4 and kCode in bits 5-7, then n gaps and n
// (code-1) values, each Rice-coded: q = v >> k zero bits, a one bit, and
// the k low bits of v, least significant first; the bit stream is read
// least significant bit of each byte first and padded with zero bits to
// a whole byte.

// maxRicePayload bounds a Rice block: with the best k no value takes more
// than 33 bits (k = 31 for 32-bit values), so a block of blockSize gaps
// and codes fits in 1 + ceil(2 × blockSize × 33 / 8) bytes.
const maxRicePayload = 1 + (2*blockSize*33+7)/8

const maxCodeK = 7

// riceCost is the bit length of vals coded with parameter k.
func riceCost(vals []uint32, k uint) int {
	n := 0
	for _, v := range vals {
		n += int(v>>k) + 1 + int(k)
	}
	return n
}

// bestRiceK is the parameter that codes vals in the fewest bits, at most
// maxK.
func bestRiceK(vals []uint32, maxK uint) uint {
	best, bk := riceCost(vals, 0), uint(0)
	for k := uint(1); k <= maxK; k++ {
		if c := riceCost(vals, k); c < best {
			best, bk = c, k
		}
	}
	return bk
}

type bitWriter struct {
	dst []byte
	acc uint64
	n   uint
}

func (w *bitWriter) write(v uint64, n uint) {
	for n > 0 {
		take := min(n, 64-w.n)
		w.acc |= (v & (1<<take - 1)) << w.n
		w.n += take
		v >>= take
		n -= take
		for w.n >= 8 {
			w.dst = append(w.dst, byte(w.acc))
			w.acc >>= 8
			w.n -= 8
		}
	}
}

func (w *bitWriter) rice(v uint32, k uint) {
	for q := v >> k; q > 0; {
		z := min(q, 32)
		w.write(0, uint(z))
		q -= z
	}
	w.write(1, 1)
	if k > 0 {
		w.write(uint64(v), k)
	}
}

func (w *bitWriter) flush() []byte {
	if w.n > 0 {
		w.dst = append(w.dst, byte(w.acc))
	}
	w.acc, w.n = 0, 0
	return w.dst
}

// appendRiceBlock appends the Rice block of gaps and codes (code-1 values
// in version 2, codeValue values in version 3).
func appendRiceBlock(dst []byte, gaps, codes []uint32) []byte {
	kg, kc := bestRiceK(gaps, 31), bestRiceK(codes, maxCodeK)
	dst = append(dst, byte(kg)|byte(kc)<<5)
	w := bitWriter{dst: dst}
	for _, v := range gaps {
		w.rice(v, kg)
	}
	for _, v := range codes {
		w.rice(v, kc)
	}
	return w.flush()
}

// appendRiceList appends the payload of a version 3 list of one block:
// kCode in 3 bits, then the gaps Rice-coded with kg (listRiceK, not
// stored) and the values with kCode, in one bit stream.
func appendRiceList(dst []byte, kg uint, gaps, values []uint32) []byte {
	kc := bestRiceK(values, maxCodeK)
	w := bitWriter{dst: dst}
	w.write(uint64(kc), 3)
	for _, v := range gaps {
		w.rice(v, kg)
	}
	for _, v := range values {
		w.rice(v, kc)
	}
	return w.flush()
}

// decodeRiceList decodes what appendRiceList wrote, with the same rules as
// decodeRiceBlock.
func decodeRiceList(p []byte, kg uint, gaps, values []uint32) error {
	if len(p) < 1 || len(p) > maxRicePayload {
		return fmt.Errorf("postings block of %d bytes", len(p))
	}
	r := bitReader{src: p}
	r.fill()
	kc := uint(r.acc & 7)
	r.acc >>= 3
	r.n -= 3
	if !r.decode(gaps, kg) {
		return fmt.Errorf("postings gaps")
	}
	if !r.decode(values, kc) {
		return fmt.Errorf("postings values")
	}
	return r.finish()
}

// finish checks that what is left is the padding of the last byte: fewer
// than 8 bits, all zero, and no byte unread (then nothing was read ahead).
func (r *bitReader) finish() error {
	if r.n >= 8 || r.acc != 0 || r.pos != len(r.src) {
		return fmt.Errorf("postings block has bytes past its values")
	}
	return nil
}

// bitReader reads a Rice stream. acc holds n valid bits; bits above them
// may hold the next bits of the stream already (a word load reads ahead),
// which a later load ORs in again at the same place.
type bitReader struct {
	src []byte
	pos int // next byte not yet counted in n
	acc uint64
	n   uint
}

func (r *bitReader) fill() {
	if r.pos+8 <= len(r.src) {
		r.acc |= binary.LittleEndian.Uint64(r.src[r.pos:]) << r.n
		k := (63 - r.n) >> 3
		r.pos += int(k)
		r.n += k << 3
		return
	}
	for r.n <= 56 && r.pos < len(r.src) {
		r.acc |= uint64(r.src[r.pos]) << r.n
		r.pos++
		r.n += 8
	}
}

// decode fills out with values Rice-coded with parameter k; ok is false if
// the stream ends first or a value does not fit in 32 bits.
func (r *bitReader) decode(out []uint32, k uint) bool {
	mask := uint64(1)<<k - 1
	for i := range out {
		// Fast path: the whole value is in acc (nearly always after a
		// word load).
		if r.n < 40 {
			r.fill()
		}
		if tz := uint(bits.TrailingZeros64(r.acc)); tz+1+k <= r.n {
			v := uint64(tz)<<k | (r.acc>>(tz+1))&mask
			if v > 1<<32-1 {
				return false
			}
			r.acc >>= tz + 1 + k
			r.n -= tz + 1 + k
			out[i] = uint32(v)
			continue
		}
		var q uint64
		for {
			if r.n < 33 {
				r.fill()
			}
			v := r.acc
			if r.n < 64 {
				v |= 1 << r.n // stop the count at the valid bits
			}
			tz := uint(bits.TrailingZeros64(v))
			if tz < r.n {
				q += uint64(tz)
				r.acc >>= tz + 1
				r.n -= tz + 1
				break
			}
			if r.n == 0 {
				return false // no more bits
			}
			q += uint64(r.n)
			r.acc >>= r.n % 64
			if r.n == 64 {
				r.acc = 0
			}
			r.n = 0
			if q > 1<<32 {
				return false
			}
		}
		if k > 0 {
			if r.n < k {
				r.fill()
				if r.n < k {
					return false
				}
			}
			q = q<<k | r.acc&mask
			r.acc >>= k
			r.n -= k
		}
		if q > 1<<32-1 {
			return false
		}
		out[i] = uint32(q)
	}
	return true
}

// decodeRiceBlock decodes a Rice block of n postings into gaps and codes
// (code-1 values). The payload must end exactly where the values do, with
// zero padding: one block, one encoding.
func decodeRiceBlock(p []byte, gaps, codes []uint32) error {
	if len(p) < 1 || len(p) > maxRicePayload {
		return fmt.Errorf("postings block of %d bytes", len(p))
	}
	kg, kc := uint(p[0]&31), uint(p[0]>>5)
	r := bitReader{src: p[1:]}
	if !r.decode(gaps, kg) {
		return fmt.Errorf("postings gaps")
	}
	if !r.decode(codes, kc) {
		return fmt.Errorf("postings codes")
	}
	return r.finish()
}
