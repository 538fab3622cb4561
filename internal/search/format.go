package search

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// Format constants (docs/search-index.md). Version 2 codes postings with
// Rice codes and stores dictionary blocks as separately compressed columns;
// version 3 packs a term's front-coding lengths in one byte, splits the
// inline postings into a gaps and a values column, stores postings codes
// as values ordered by frequency and derives the gap parameter of a
// one-block list from its df. Readers read all three.
const (
	magic       = "ferry-ix"
	version     = 3        // written
	version2    = 2        // still read
	version1    = 1        // still read
	headerLen   = 96       // the fixed trailer at the end of the index
	blockSize   = 128      // postings per block
	inlineMax   = 4        // lists with df <= inlineMax live in the dictionary entry
	dictTarget  = 16 << 10 // raw bytes after which the builder closes a dictionary block
	maxBlockRaw = 1 << 20  // largest raw dictionary block a reader accepts
	maxTFBody   = 31       // body term frequencies are capped here
	normScale   = 18.0     // norm byte q encodes length exp(q/normScale)-1
	codecRaw    = 0
	codecZstd   = 1
)

// Errors returned by Open and Search. Both wrap with context.
var (
	// ErrCorrupt reports index bytes that do not follow docs/search-index.md.
	ErrCorrupt = errors.New("search: index is corrupt (rebuild the archive or get another copy)")
	// ErrVersion reports an index written by a newer ferry.
	ErrVersion = errors.New("search: unknown index version (use a newer ferry)")
	// ErrDuplicateDoc reports that Builder.Add saw the same document twice.
	ErrDuplicateDoc = errors.New("search: document added twice")
)

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

// header is the fixed-size trailer that ends an index. It sits at the end so
// that the builder can stream every region before it.
type header struct {
	version     uint32
	docCount    uint32
	normCount   uint32 // largest doc id + 1
	totalTokens uint64 // sum of body lengths in tokens
	termCount   uint64
	normsOff    uint64
	postOff     uint64
	postLen     uint64
	dictOff     uint64
	dictLen     uint64
	bixOff      uint64
	blockCount  uint32
}

func (h *header) marshal() []byte {
	b := make([]byte, headerLen)
	copy(b, magic)
	le := binary.LittleEndian
	le.PutUint32(b[8:], version)
	le.PutUint32(b[12:], headerLen)
	le.PutUint32(b[16:], h.docCount)
	le.PutUint32(b[20:], h.normCount)
	le.PutUint64(b[24:], h.totalTokens)
	le.PutUint64(b[32:], h.termCount)
	le.PutUint64(b[40:], h.normsOff)
	le.PutUint64(b[48:], h.postOff)
	le.PutUint64(b[56:], h.postLen)
	le.PutUint64(b[64:], h.dictOff)
	le.PutUint64(b[72:], h.dictLen)
	le.PutUint64(b[80:], h.bixOff)
	le.PutUint32(b[88:], h.blockCount)
	// b[92:96] flags, zero
	return b
}

func parseHeader(b []byte, size int64) (*header, error) {
	if len(b) < headerLen || string(b[:8]) != magic {
		return nil, corrupt("no index header (bad magic)")
	}
	le := binary.LittleEndian
	v := le.Uint32(b[8:])
	if v != version && v != version2 && v != version1 {
		return nil, fmt.Errorf("%w: version %d", ErrVersion, v)
	}
	if le.Uint32(b[12:]) != headerLen || le.Uint32(b[92:]) != 0 {
		return nil, corrupt("bad header length or flags")
	}
	h := &header{
		version:  v,
		docCount: le.Uint32(b[16:]), normCount: le.Uint32(b[20:]),
		totalTokens: le.Uint64(b[24:]), termCount: le.Uint64(b[32:]),
		normsOff: le.Uint64(b[40:]), postOff: le.Uint64(b[48:]), postLen: le.Uint64(b[56:]),
		dictOff: le.Uint64(b[64:]), dictLen: le.Uint64(b[72:]), bixOff: le.Uint64(b[80:]),
		blockCount: le.Uint32(b[88:]),
	}
	// The regions follow each other with no gaps: norms, postings,
	// dictionary, block index, trailer. Every sum below is of values already
	// checked to be <= size, so none can wrap.
	us := uint64(size)
	end := us - headerLen
	switch {
	case h.docCount > h.normCount:
		return nil, corrupt("%d documents but norm table of %d", h.docCount, h.normCount)
	case h.normsOff != 0:
		return nil, corrupt("norms at %d", h.normsOff)
	case uint64(h.normCount) > end:
		return nil, corrupt("norm table of %d bytes overruns index of %d", h.normCount, size)
	case h.postOff != uint64(h.normCount):
		return nil, corrupt("postings at %d", h.postOff)
	case h.postLen > end-h.postOff:
		return nil, corrupt("postings overrun the index")
	case h.dictOff != h.postOff+h.postLen:
		return nil, corrupt("dictionary at %d", h.dictOff)
	case h.dictLen > end-h.dictOff:
		return nil, corrupt("dictionary overruns the index")
	case h.bixOff != h.dictOff+h.dictLen:
		return nil, corrupt("block index at %d", h.bixOff)
	case (end-h.bixOff)%8 != 0 || (end-h.bixOff)/8 != uint64(h.blockCount)+1:
		return nil, corrupt("block index size does not match %d blocks", h.blockCount)
	case h.blockCount == 0 && h.dictLen != 0, h.blockCount > 0 && h.dictLen == 0:
		return nil, corrupt("dictionary length and block count disagree")
	case h.termCount < uint64(h.blockCount):
		return nil, corrupt("fewer terms than blocks")
	}
	return h, nil
}

// normByte quantises a body length in tokens to one byte.
func normByte(n int) byte {
	if n <= 0 {
		return 0
	}
	q := math.Round(math.Log1p(float64(n)) * normScale)
	if q < 1 {
		q = 1
	}
	if q > 255 {
		q = 255
	}
	return byte(q)
}

// normLen is the body length a norm byte stands for.
func normLen(q byte) float64 { return math.Expm1(float64(q) / normScale) }

// packedLen is the byte length of count values of w bits.
func packedLen(count int, w uint8) int { return (count*int(w) + 7) / 8 }

// unpackBits fills out from src (which must hold packedLen(len(out), w) bytes).
func unpackBits(out []uint32, src []byte, w uint8) {
	if w == 0 {
		clear(out)
		return
	}
	var acc uint64
	var n uint8
	mask := uint64(1)<<w - 1
	j := 0
	for i := range out {
		for n < w {
			acc |= uint64(src[j]) << n
			j++
			n += 8
		}
		out[i] = uint32(acc & mask)
		acc >>= w
		n -= w
	}
}

// uvarint decodes a uvarint and refuses non-canonical (overlong)
// encodings, so an index has one encoding (docs/search-index.md). n <= 0
// means malformed, as in binary.Uvarint.
func uvarint(b []byte) (v uint64, n int) {
	v, n = binary.Uvarint(b)
	if n > 1 && b[n-1] == 0 {
		return 0, 0
	}
	return v, n
}

// titleOnlyValue is the stored value of a posting whose term is only in the
// title (tfBody 0): the last of the 63 values.
const titleOnlyValue = 2 * maxTFBody

// codeValue maps a posting code (2 × tfBody + inTitle, ≥ 1) to the value
// version 3 stores: 2 × (tfBody − 1) + inTitle, and 62 for a title-only
// posting, so the commonest postings (a word seen once in the body) get
// the smallest value.
func codeValue(code uint32) uint32 {
	if code>>1 == 0 {
		return titleOnlyValue
	}
	return code - 2
}

// valueCode is the inverse of codeValue for values 0..62.
func valueCode(v uint32) uint32 {
	if v == titleOnlyValue {
		return 1
	}
	return v + 2
}

// listRiceK is the Rice parameter of the gaps of a version 3 list of one
// block: with df postings among normCount doc ids the mean gap is about
// (normCount − df) / df, and the best Rice parameter for geometric gaps
// of mean μ is about log2(μ × ln 2); 11/16 stands for ln 2.
func listRiceK(df, normCount uint32) uint {
	if df == 0 || normCount <= df {
		return 0
	}
	m := uint64(normCount-df) * 11 / (16 * uint64(df))
	if m == 0 {
		return 0
	}
	return uint(min(bits.Len64(m)-1, 31))
}
