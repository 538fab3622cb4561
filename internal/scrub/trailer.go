package scrub

import (
	"bytes"
	"crypto/des"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Red Star OS 3.0 watermark trailer (docs/scrub.md, "Appended trailer"):
//
//	mark[0] … mark[n-1]   n × 24 bytes, each DES-ECB ciphertext of "WM"+serial, NUL-padded
//	length                4 bytes, little-endian: n × 24 (the marks only)
//	"EOF"                 3 bytes
//
// For fewer than 11 marks the length looks like "one count byte, 00 00 00",
// which is how some write-ups describe it.
const (
	markSize     = 24
	trailerFixed = 7 // length + "EOF"
	// maxMarkBytes caps how much a claimed length may make us read: ten
	// thousand machines is far beyond any chain seen in the analysis.
	maxMarkBytes = markSize * 10000
	// maxSerialsShown bounds the serials a finding lists (a crafted file
	// may be nothing but marks).
	maxSerialsShown = 32
)

// markKey is the fixed DES key published in the redstar-tools analysis.
var markKey = []byte{0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, 0x00}

var markCipher = func() interface {
	Encrypt(dst, src []byte)
	Decrypt(dst, src []byte)
} {
	c, err := des.NewCipher(markKey)
	if err != nil {
		panic("scrub: internal error: DES key: " + err.Error())
	}
	return c
}()

// decryptMark decrypts one 24-byte mark (three independent DES blocks, ECB).
func decryptMark(ct []byte) [markSize]byte {
	var pt [markSize]byte
	for i := 0; i < markSize; i += des.BlockSize {
		markCipher.Decrypt(pt[i:i+des.BlockSize], ct[i:i+des.BlockSize])
	}
	return pt
}

// markStarts reports whether the first DES block of ct decrypts to a
// plaintext starting "WM" (ct holds at least one block).
func markStarts(ct []byte) bool {
	var pt [des.BlockSize]byte
	markCipher.Decrypt(pt[:], ct[:des.BlockSize])
	return pt[0] == 'W' && pt[1] == 'M'
}

// markSerial returns the serial of a decrypted mark and whether it is a
// mark at all (it must start with "WM").
func markSerial(pt [markSize]byte) (string, bool) {
	if pt[0] != 'W' || pt[1] != 'M' {
		return "", false
	}
	s := pt[2:]
	if i := bytes.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	for _, c := range s {
		if c < 0x20 || c > 0x7e {
			return strconv.Quote(string(s)), true
		}
	}
	return string(s), true
}

// ErrSerialTooLong is returned by AppendWatermark for a serial over 22 bytes.
var ErrSerialTooLong = errors.New("scrub: watermark serial longer than 22 bytes")

// AppendWatermark returns data followed by a Red Star OS style trailer that
// carries one mark per serial, built exactly as docs/scrub.md describes. It
// exists so that tests (here and in packages that use scrub) can make
// watermarked files; ferry never adds watermarks to real content.
func AppendWatermark(data []byte, serials ...string) ([]byte, error) {
	out := append([]byte(nil), data...)
	for _, s := range serials {
		if len(s) > markSize-2 {
			return nil, fmt.Errorf("%w: %q", ErrSerialTooLong, s)
		}
		var pt [markSize]byte
		copy(pt[:], "WM"+s)
		var ct [markSize]byte
		for i := 0; i < markSize; i += des.BlockSize {
			markCipher.Encrypt(ct[i:i+des.BlockSize], pt[i:i+des.BlockSize])
		}
		out = append(out, ct[:]...)
	}
	out = binary.LittleEndian.AppendUint32(out, uint32(markSize*len(serials)))
	return append(out, "EOF"...), nil
}

// trailerAt looks for one trailer ending at end. ok means a verified
// trailer starting at start; f is a finding to report even when !ok.
func trailerAt(r io.ReaderAt, end int64) (start int64, serials []string, ok bool, f *Finding, err error) {
	if end < trailerFixed+markSize {
		return 0, nil, false, nil, nil
	}
	var tail [trailerFixed]byte
	if _, err := r.ReadAt(tail[:], end-trailerFixed); err != nil {
		return 0, nil, false, nil, fmt.Errorf("reading trailer: %w", err)
	}
	if string(tail[4:]) != "EOF" {
		return 0, nil, false, nil, nil
	}
	n := int64(binary.LittleEndian.Uint32(tail[:4]))
	if n == 0 || n%markSize != 0 || n > maxMarkBytes || n > end-trailerFixed {
		// Many files may end in "EOF" by chance; without a plausible
		// length there is nothing to say.
		return 0, nil, false, nil, nil
	}
	start = end - trailerFixed - n
	marks := make([]byte, n)
	if _, err := r.ReadAt(marks, start); err != nil {
		return 0, nil, false, nil, fmt.Errorf("reading watermark marks: %w", err)
	}
	for i := 0; i < len(marks); i += markSize {
		s, isMark := markSerial(decryptMark(marks[i : i+markSize]))
		if !isMark {
			return 0, nil, false, &Finding{Kind: KindSuspicious, Detail: fmt.Sprintf(
				"file ends like a Red Star OS watermark (%d-byte length and \"EOF\") but mark %d does not decrypt to \"WM…\"; left in place", n, i/markSize+1)}, nil
		}
		serials = append(serials, s)
	}
	return start, serials, true, nil, nil
}

// findTrailers finds the Red Star trailers at the end of a file (several
// may be stacked) and returns where the original content ends.
func findTrailers(r io.ReaderAt, size int64) (cut int64, fs []Finding, err error) {
	// Trailers stacked by several machines are removed one after the
	// other, however many: they are disjoint, so all of them together are
	// read once at most, and each is at least 31 bytes.
	end := size
	var serials []string
	marks, layers := 0, 0
	for {
		start, s, ok, f, err := trailerAt(r, end)
		if err != nil {
			return size, nil, err
		}
		if f != nil {
			fs = append(fs, *f)
		}
		if !ok {
			break
		}
		marks += len(s)
		serials = append(serials, s[:min(len(s), maxSerialsShown-len(serials))]...)
		end = start
		layers++
	}
	if layers == 0 {
		return size, fs, nil
	}
	// The trailer describes itself (its length, its "EOF" tag and marks
	// that decrypt to "WM"), so exactly its bytes are cut whatever comes
	// before them: a photo with a Motion Photo video or an editor's data
	// after its end-of-image marker loses only the watermark.
	list := strings.Join(serials, ", ")
	if marks > len(serials) {
		list += fmt.Sprintf(" and %d more", marks-len(serials))
	}
	fs = append(fs, Finding{Kind: KindWatermark, Removed: true, Detail: fmt.Sprintf(
		"Red Star OS watermark: %d mark(s) in %d trailer(s), %d bytes appended; disk serials %s",
		marks, layers, size-end, list)})
	return end, fs, nil
}
