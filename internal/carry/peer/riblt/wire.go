package riblt

import (
	"encoding/binary"
	"math"
)

// AppendSymbol appends the wire encoding of s (docs/sync.md, "Coded
// symbol"): Sum, Check as 8 bytes little-endian, Count as an unsigned
// LEB128 varint. Only an Encoder's symbols (Count >= 0) have an encoding.
func AppendSymbol(dst []byte, s Symbol) []byte {
	if s.Count < 0 {
		panic("riblt: internal error: encoding a negative count")
	}
	dst = append(dst, s.Sum...)
	dst = binary.LittleEndian.AppendUint64(dst, s.Check)
	return binary.AppendUvarint(dst, uint64(s.Count))
}

// ParseSymbol reads one coded symbol of itemSize-byte items from the front
// of b and returns it (Sum aliases b) and the number of bytes read. It
// accepts only the minimal varint encoding of a count up to 2^63-1.
func ParseSymbol(b []byte, itemSize int) (Symbol, int, error) {
	if itemSize < 1 || itemSize > MaxItemSize {
		return Symbol{}, 0, ErrItemSize
	}
	if len(b) < itemSize+8+1 {
		return Symbol{}, 0, ErrFormat
	}
	s := Symbol{Sum: b[:itemSize:itemSize], Check: binary.LittleEndian.Uint64(b[itemSize:])}
	c, k := readUvarint(b[itemSize+8:])
	if k <= 0 || c > math.MaxInt64 {
		return Symbol{}, 0, ErrFormat
	}
	s.Count = int64(c)
	return s, itemSize + 8 + k, nil
}

// MaxBatch is the most symbols one batch may carry.
const MaxBatch = 1 << 14

// AppendBatch appends a batch of consecutive symbols starting at index
// first: first and the number of symbols as varints, then the symbols.
func AppendBatch(dst []byte, first uint64, syms []Symbol) []byte {
	if len(syms) == 0 || len(syms) > MaxBatch {
		panic("riblt: internal error: batch of bad size")
	}
	dst = binary.AppendUvarint(dst, first)
	dst = binary.AppendUvarint(dst, uint64(len(syms)))
	for _, s := range syms {
		dst = AppendSymbol(dst, s)
	}
	return dst
}

// ParseBatch reads a whole batch: it fails with ErrFormat on a count of 0
// or over MaxBatch, on a count the bytes cannot hold, on any malformed
// symbol and on trailing bytes. The symbols' Sums alias b.
func ParseBatch(b []byte, itemSize int) (first uint64, syms []Symbol, err error) {
	if itemSize < 1 || itemSize > MaxItemSize {
		return 0, nil, ErrItemSize
	}
	first, k := readUvarint(b)
	if k <= 0 {
		return 0, nil, ErrFormat
	}
	b = b[k:]
	n, k := readUvarint(b)
	if k <= 0 || n == 0 || n > MaxBatch {
		return 0, nil, ErrFormat
	}
	b = b[k:]
	// Each symbol takes at least itemSize+9 bytes: check before allocating.
	if n > uint64(len(b)/(itemSize+9)) {
		return 0, nil, ErrFormat
	}
	syms = make([]Symbol, 0, n)
	for range n {
		s, k, err := ParseSymbol(b, itemSize)
		if err != nil {
			return 0, nil, err
		}
		syms = append(syms, s)
		b = b[k:]
	}
	if len(b) != 0 {
		return 0, nil, ErrFormat
	}
	return first, syms, nil
}

// readUvarint reads a minimal unsigned LEB128 varint of at most 10 bytes
// that fits in 64 bits; k <= 0 means malformed.
func readUvarint(b []byte) (v uint64, k int) {
	v, k = binary.Uvarint(b)
	if k <= 0 {
		return 0, -1
	}
	if k > 1 && b[k-1] == 0 {
		return 0, -1 // a zero last group: not the shortest encoding
	}
	return v, k
}

// AppendCounts appends a count vector (docs/sync.md, §5.6): the number of
// counts, then each count, as varints.
func AppendCounts(dst []byte, counts []int64) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(counts)))
	for _, c := range counts {
		if c < 0 {
			panic("riblt: internal error: encoding a negative count")
		}
		dst = binary.AppendUvarint(dst, uint64(c))
	}
	return dst
}

// ParseCounts reads a count vector from the front of b and returns it and
// the bytes read. It rejects more than MaxCounts counts and counts over
// 2^63-1.
func ParseCounts(b []byte) ([]int64, int, error) {
	n, k := readUvarint(b)
	if k <= 0 || n > MaxCounts || n > uint64(len(b)-k) {
		return nil, 0, ErrFormat
	}
	off := k
	out := make([]int64, 0, n)
	for range n {
		c, k := readUvarint(b[off:])
		if k <= 0 || c > math.MaxInt64 {
			return nil, 0, ErrFormat
		}
		out = append(out, int64(c))
		off += k
	}
	return out, off, nil
}
