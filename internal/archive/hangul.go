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
	pend    [4]byte // a character that did not fit in the caller's buffer
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
	if len(p) == 0 {
		return 0, nil
	}
	if h.pp < h.np {
		n := copy(p, h.pend[h.pp:h.np])
		h.pp += n
		return n, nil
	}
	for {
		var n int
		var err error
		if len(p) < 4 {
			// Room for less than one character: decode one into pend.
			k, e := h.unpack(h.pend[:])
			h.np, h.pp = k, 0
			n, err = copy(p, h.pend[:k]), e
			h.pp = n
		} else {
			n, err = h.unpack(p)
		}
		if err != nil {
			return n, err
		}
		if n > 0 {
			return n, nil
		}
		// Nothing decoded: the undecoded bytes (if any) end inside a code.
		if !h.fill() {
			if h.pos < len(h.buf) {
				return 0, h.endErr()
			}
			if h.srcErr == nil || h.srcErr == io.EOF {
				return 0, io.EOF
			}
			return 0, h.srcErr
		}
	}
}

// unpack decodes whole codes from the buffered packed bytes into p, as
// many as fit, and returns the bytes written.
func (h *hangulReader) unpack(p []byte) (int, error) {
	b := h.buf[h.pos:]
	i, n := 0, 0
	// Fast loop: room for the longest code (4 bytes) and its input.
	for i+4 <= len(b) && n+4 <= len(p) {
		c := b[i]
		if c < 0x80 {
			p[n] = c
			n++
			i++
			continue
		}
		if c < 0xAC { // 0x80..0xAB: a two-byte syllable
			s := int(c-hangulPairHi)<<8 | int(b[i+1])
			if s >= hangulCount {
				h.pos += i
				return n, errHangul
			}
			r := hangulFirst + s
			q := p[n : n+3 : n+3]
			q[0], q[1], q[2] = byte(0xE0|r>>12), byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F)
			n += 3
			i += 2
			continue
		}
		if k := int(hangulCode[c]); k != 0 {
			if k > h.k {
				h.pos += i
				return n, errHangul
			}
			t := &h.table[k-1]
			q := p[n : n+3 : n+3]
			q[0], q[1], q[2] = t[0], t[1], t[2]
			n += 3
			i++
			continue
		}
		l := utf8Len(c)
		copy(p[n:n+l], b[i:i+l])
		n += l
		i += l
	}
	// Near the end of the input or of p: code by code, with checks.
	for i < len(b) && n < len(p) {
		c := b[i]
		if c < 0x80 {
			p[n] = c
			n++
			i++
			continue
		}
		if len(p)-n < 4 {
			break // the next code may not fit: the next call takes it
		}
		switch {
		case c < 0xAC:
			if i+1 >= len(b) {
				h.pos += i
				return n, nil
			}
			s := int(c-hangulPairHi)<<8 | int(b[i+1])
			if s >= hangulCount {
				h.pos += i
				return n, errHangul
			}
			r := hangulFirst + s
			p[n], p[n+1], p[n+2] = byte(0xE0|r>>12), byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F)
			n += 3
			i += 2
		case hangulCode[c] != 0:
			k := int(hangulCode[c]) - 1
			if k >= h.k {
				h.pos += i
				return n, errHangul
			}
			t := &h.table[k]
			p[n], p[n+1], p[n+2] = t[0], t[1], t[2]
			n += 3
			i++
		default: // a UTF-8 lead byte: the sequence as it is
			l := utf8Len(c)
			if i+l > len(b) {
				h.pos += i
				return n, nil
			}
			copy(p[n:], b[i:i+l])
			n += l
			i += l
		}
	}
	h.pos += i
	return n, nil
}

// utf8Len is the length of the UTF-8 sequence lead byte c (0xC2..0xF4) starts.
func utf8Len(c byte) int {
	switch {
	case c >= 0xF0:
		return 4
	case c >= 0xE0:
		return 3
	}
	return 2
}
