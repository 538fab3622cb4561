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
	var buf [maxRicePayload + ricePad]byte
	r := newBitReader(buf[:0], p)
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
// than 8 bits, all zero, and no byte unread (then nothing was read ahead
// but the zero padding).
func (r *bitReader) finish() error {
	if r.n >= 8 || r.acc != 0 || r.pos != r.end {
		return fmt.Errorf("postings block has bytes past its values")
	}
	return nil
}

// ricePad is how many zero bytes a bitReader's source holds past the
// stream, so that every refill is one 8-byte load.
const ricePad = 8

// bitReader reads a Rice stream. acc holds n valid bits (n ≤ 63); bits
// above them hold the next bits of the stream already or zero (a word
// load reads ahead), which a later load ORs in again at the same place.
type bitReader struct {
	src []byte // the stream, then ricePad zero bytes
	end int    // length of the stream
	pos int    // next byte not yet counted in n
	acc uint64
	n   uint
}

// newBitReader copies p into buf (reusing its memory) followed by ricePad
// zero bytes and returns a reader of it.
func newBitReader(buf, p []byte) bitReader {
	buf = append(buf[:0], p...)
	buf = append(buf, make([]byte, ricePad)...)
	return bitReader{src: buf, end: len(p)}
}

// fill loads whole bytes into acc until it holds at least 56 bits or the
// stream ends.
func (r *bitReader) fill() {
	r.acc |= binary.LittleEndian.Uint64(r.src[r.pos:]) << (r.n & 63)
	k := min(int((63-r.n)>>3), r.end-r.pos)
	r.pos += k
	r.n += uint(k) << 3
}

// decode fills out with values Rice-coded with parameter k (≤ 31); ok is
// false if the stream ends first or a value does not fit in 32 bits. It
// works on local copies of the reader's state, so that they stay in
// registers, and refills with one 8-byte load from the padded source.
func (r *bitReader) decode(out []uint32, k uint) bool {
	src, end := r.src, r.end
	acc, n, pos := r.acc, r.n, r.pos
	if k > 31 || pos > end || len(src) < end+ricePad {
		return false
	}
	k &= 31
	i := 0
	if k == 0 {
		// Values of a block coded with k = 0 are mostly 0, one set bit
		// each: a run of set bits is a run of zero values.
		for i < len(out) {
			if n < 40 {
				acc |= binary.LittleEndian.Uint64(src[pos:]) << (n & 63)
				m := min(int((63-n)>>3), end-pos)
				pos += m
				n += uint(m) << 3
			}
			if ones := min(uint(bits.TrailingZeros64(^acc)), n, uint(len(out)-i)); ones > 0 {
				for j := range out[i : i+int(ones)] {
					out[i+j] = 0
				}
				i += int(ones)
				acc >>= ones & 63
				n -= ones
				continue
			}
			tz := uint(bits.TrailingZeros64(acc))
			if tz+1 > n {
				break // a long run of zero bits or the end: the general loop below
			}
			out[i] = uint32(tz)
			i++
			acc >>= (tz + 1) & 63
			n -= tz + 1
		}
	}
	mask := uint64(1)<<k - 1
	for ; i < len(out); i++ {
		if n < 40 {
			acc |= binary.LittleEndian.Uint64(src[pos:]) << (n & 63)
			m := min(int((63-n)>>3), end-pos)
			pos += m
			n += uint(m) << 3
		}
		// Fast path: the whole value is in acc (nearly always after a
		// refill). tz+1+k ≤ n ≤ 63, so no shift reaches 64.
		tz := uint(bits.TrailingZeros64(acc))
		if used := tz + 1 + k; used <= n {
			v := uint64(tz)<<k | (acc>>((tz+1)&63))&mask
			if v>>32 != 0 {
				return false
			}
			acc >>= used & 63
			n -= used
			out[i] = uint32(v)
			continue
		}
		// A long run of zero bits, or the end of the stream.
		var q uint64
		for {
			if n < 33 {
				acc |= binary.LittleEndian.Uint64(src[pos:]) << (n & 63)
				m := min(int((63-n)>>3), end-pos)
				pos += m
				n += uint(m) << 3
			}
			tz := uint(bits.TrailingZeros64(acc | 1<<(n&63))) // stop at the valid bits
			if tz < n {
				q += uint64(tz)
				acc >>= (tz + 1) & 63
				n -= tz + 1
				break
			}
			if n == 0 {
				return false // no more bits
			}
			q += uint64(n)
			acc >>= n & 63
			n = 0
			if q > 1<<32 {
				return false
			}
		}
		if k > 0 {
			if n < k {
				acc |= binary.LittleEndian.Uint64(src[pos:]) << (n & 63)
				m := min(int((63-n)>>3), end-pos)
				pos += m
				n += uint(m) << 3
				if n < k {
					return false
				}
			}
			q = q<<k | acc&mask
			acc >>= k
			n -= k
		}
		if q > 1<<32-1 {
			return false
		}
		out[i] = uint32(q)
	}
	r.acc, r.n, r.pos = acc, n, pos
	return true
}

// decodeRiceBlock decodes a Rice block of n postings into gaps and codes
// (code-1 values). The payload must end exactly where the values do, with
// zero padding: one block, one encoding.
func decodeRiceBlock(p []byte, gaps, codes []uint32) error {
	if len(p) < 1 || len(p) > maxRicePayload {
		return fmt.Errorf("postings block of %d bytes", len(p))
	}
	var buf [maxRicePayload + ricePad]byte
	kg, kc := uint(p[0]&31), uint(p[0]>>5)
	r := newBitReader(buf[:0], p[1:])
	if !r.decode(gaps, kg) {
		return fmt.Errorf("postings gaps")
	}
	if !r.decode(codes, kc) {
		return fmt.Errorf("postings codes")
	}
	return r.finish()
}
