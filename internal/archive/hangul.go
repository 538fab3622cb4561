package archive

import (
	"cmp"
	"errors"
	"io"
	"slices"
	"unicode/utf8"
)

// Hangul packing (docs/format.md, codec 3): UTF-8 spends three bytes on
// every Hangul syllable, which leaves zstd's byte-wise matches and literal
// coding a third of their reach on Korean text. A cluster is rewritten
// before zstd with each syllable in two bytes, and its 33 most frequent
// syllables in one, using bytes that cannot start a UTF-8 sequence; every
// other byte is kept. On bare Korean pages this makes zstd's output about
// 10% smaller (docs/benchmarks.md, issue 15).

const (
	hangulFirst  = 0xAC00
	hangulCount  = 11172 // U+AC00..U+D7A3
	hangulPairHi = 0x80  // 0x80..0xAB lead a two-byte syllable
	hangulMaxTop = 33
)

// hangulOneByte are the bytes that stand for the table's syllables, in
// table order: the rest of the continuation range after the two-byte
// leads, then the bytes never valid in UTF-8.
var hangulOneByte = [hangulMaxTop]byte{
	0xAC, 0xAD, 0xAE, 0xAF, 0xB0, 0xB1, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xBB,
	0xBC, 0xBD, 0xBE, 0xBF, 0xC0, 0xC1, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF,
}

// hangulCode maps a byte to the table slot it stands for (1..33), 0 if none.
var hangulCode = func() (c [256]byte) {
	for i, b := range hangulOneByte {
		c[b] = byte(i + 1)
	}
	return
}()

// hangulPack rewrites raw (which must be valid UTF-8) in the packed form.
// It reports false when packing is not worth it: raw is not valid UTF-8,
// or fewer than one byte in eight belongs to a Hangul syllable.
func hangulPack(raw []byte) ([]byte, bool) {
	if !utf8.Valid(raw) {
		return nil, false
	}
	var counts [hangulCount]uint32
	syllables := 0
	for i := 0; i < len(raw); {
		b := raw[i]
		if b < 0x80 {
			i++
			continue
		}
		r, n := utf8.DecodeRune(raw[i:])
		if r >= hangulFirst && r < hangulFirst+hangulCount {
			counts[r-hangulFirst]++
			syllables++
		}
		i += n
	}
	if syllables == 0 || 3*syllables < len(raw)/8 {
		return nil, false
	}
	// The table: the most frequent syllables seen at least twice (a slot
	// costs two bytes), most frequent first, ties by code point.
	top := make([]uint16, 0, hangulCount)
	for s, c := range counts {
		if c >= 2 {
			top = append(top, uint16(s))
		}
	}
	slices.SortFunc(top, func(a, b uint16) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	top = top[:min(len(top), hangulMaxTop)]
	var slot [hangulCount]byte // syllable -> table slot + 1
	out := make([]byte, 0, len(raw)-syllables+2*len(top)+1)
	out = append(out, byte(len(top)))
	for i, s := range top {
		slot[s] = byte(i + 1)
		out = append(out, byte(s>>8), byte(s))
	}
	for i := 0; i < len(raw); {
		b := raw[i]
		if b < 0x80 {
			out = append(out, b)
			i++
			continue
		}
		r, n := utf8.DecodeRune(raw[i:])
		if r >= hangulFirst && r < hangulFirst+hangulCount {
			s := r - hangulFirst
			if k := slot[s]; k != 0 {
				out = append(out, hangulOneByte[k-1])
			} else {
				out = append(out, byte(hangulPairHi+s>>8), byte(s))
			}
		} else {
			out = append(out, raw[i:i+n]...)
		}
		i += n
	}
	return out, true
}

var errHangul = errors.New("malformed Hangul-packed stream")

// hangulReader turns a packed stream back into the raw bytes.
type hangulReader struct {
	src     io.Reader
	started bool
	table   [hangulMaxTop][3]byte
	k       int
	buf     []byte // packed bytes read, buf[pos:] not decoded yet
	pos     int
	srcErr  error
	pend    [3]byte // a syllable that did not fit in the caller's buffer
	np, pp  int
}

func newHangulReader(src io.Reader) *hangulReader {
	return &hangulReader{src: src, buf: make([]byte, 0, 32<<10)}
}

// fill reads more packed bytes, keeping the undecoded tail; it returns
// false at the end of the source (or on its error).
func (h *hangulReader) fill() bool {
	if h.srcErr != nil {
		return false
	}
	n := copy(h.buf[:cap(h.buf)], h.buf[h.pos:])
	h.buf, h.pos = h.buf[:n], 0
	k, err := h.src.Read(h.buf[n:cap(h.buf)])
	h.buf = h.buf[:n+k]
	if err != nil {
		h.srcErr = err
	}
	return k > 0 || err == nil
}

// need makes at least n undecoded bytes available, false if the stream
// ends first.
func (h *hangulReader) need(n int) bool {
	for len(h.buf)-h.pos < n {
		if !h.fill() {
			return false
		}
	}
	return true
}

func (h *hangulReader) header() error {
	h.started = true
	if !h.need(1) {
		return h.endErr()
	}
	h.k = int(h.buf[h.pos])
	h.pos++
	if h.k > hangulMaxTop {
		return errHangul
	}
	for i := range h.k {
		if !h.need(2) {
			return h.endErr()
		}
		s := int(h.buf[h.pos])<<8 | int(h.buf[h.pos+1])
		h.pos += 2
		if s >= hangulCount {
			return errHangul
		}
		utf8.EncodeRune(h.table[i][:], rune(hangulFirst+s))
	}
	return nil
}

// endErr is the error for a stream that ends inside a code.
func (h *hangulReader) endErr() error {
	if h.srcErr != nil && h.srcErr != io.EOF {
		return h.srcErr
	}
	return errHangul
}

func (h *hangulReader) Read(p []byte) (int, error) {
	if !h.started {
		if err := h.header(); err != nil {
			return 0, err
		}
	}
	n := 0
	if h.pp < h.np {
		n = copy(p, h.pend[h.pp:h.np])
		h.pp += n
	}
	for n < len(p) {
		if h.pos == len(h.buf) && !h.fill() {
			break
		}
		b := h.buf[h.pos]
		switch {
		case b < 0x80:
			// A run of ASCII is copied at once.
			end := h.pos + 1
			for end < len(h.buf) && end-h.pos < len(p)-n && h.buf[end] < 0x80 {
				end++
			}
			n += copy(p[n:], h.buf[h.pos:end])
			h.pos = end
			continue
		case b < hangulPairHi+(hangulCount>>8)+1 && hangulCode[b] == 0:
			if !h.need(2) {
				return n, h.endErr()
			}
			s := int(b-hangulPairHi)<<8 | int(h.buf[h.pos+1])
			if s >= hangulCount {
				return n, errHangul
			}
			h.pos += 2
			var u [3]byte
			utf8.EncodeRune(u[:], rune(hangulFirst+s))
			n += h.emit(p[n:], u)
		case hangulCode[b] != 0:
			k := int(hangulCode[b]) - 1
			if k >= h.k {
				return n, errHangul
			}
			h.pos++
			n += h.emit(p[n:], h.table[k])
		default: // a UTF-8 lead byte: the sequence as it is
			l := 2
			if b >= 0xF0 {
				l = 4
			} else if b >= 0xE0 {
				l = 3
			}
			if !h.need(l) {
				return n, h.endErr()
			}
			if len(p)-n < l {
				if n > 0 {
					return n, nil // the next call takes it
				}
				// A caller reading fewer bytes than one character: one byte at a time.
				n = copy(p, h.buf[h.pos:h.pos+l])
				copy(h.pend[:], h.buf[h.pos+n:h.pos+l])
				h.np, h.pp = l-n, 0
				h.pos += l
				return n, nil
			}
			n += copy(p[n:], h.buf[h.pos:h.pos+l])
			h.pos += l
		}
	}
	if n == 0 && len(p) > 0 {
		if h.srcErr == nil || h.srcErr == io.EOF {
			return 0, io.EOF
		}
		return 0, h.srcErr
	}
	return n, nil
}

// emit writes a 3-byte syllable to p, keeping what does not fit.
func (h *hangulReader) emit(p []byte, u [3]byte) int {
	k := copy(p, u[:])
	if k < 3 {
		copy(h.pend[:], u[k:])
		h.np, h.pp = 3-k, 0
	}
	return k
}
