package scrub

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// errMalformed is wrapped by the structure walkers when a file does not
// follow its format; Scrub turns it into a KindWarning finding rather than
// failing, so a watermark can still be removed from a damaged file.
var errMalformed = errors.New("scrub: malformed file structure")

// jpegSeg is one marker segment: data[start:end] is the whole segment
// including the 0xFF (and fill bytes) before the marker; payload is what
// follows the 2-byte length.
type jpegSeg struct {
	marker     byte
	start, end int
	payload    []byte
}

// walkJPEG splits a JPEG into marker segments up to and including EOI. The
// entropy-coded data after each SOS is skipped (it is never inspected or
// changed). eoi is the offset just after the EOI marker.
func walkJPEG(data []byte) (segs []jpegSeg, eoi int, err error) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil, 0, fmt.Errorf("%w: JPEG does not start with SOI", errMalformed)
	}
	pos := 2
	for {
		if pos >= len(data) {
			return nil, 0, fmt.Errorf("%w: JPEG ends without EOI (truncated)", errMalformed)
		}
		if data[pos] != 0xFF {
			return nil, 0, fmt.Errorf("%w: JPEG: expected a marker at offset %d", errMalformed, pos)
		}
		start := pos
		for pos < len(data) && data[pos] == 0xFF {
			pos++
		}
		if pos >= len(data) {
			return nil, 0, fmt.Errorf("%w: JPEG truncated inside a marker", errMalformed)
		}
		m := data[pos]
		pos++
		switch {
		case m == 0xD9:
			segs = append(segs, jpegSeg{marker: m, start: start, end: pos})
			return segs, pos, nil
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7):
			segs = append(segs, jpegSeg{marker: m, start: start, end: pos})
			continue
		case m == 0xD8 || m == 0x00:
			return nil, 0, fmt.Errorf("%w: JPEG: unexpected marker 0x%02X at offset %d", errMalformed, m, pos-1)
		}
		if len(data)-pos < 2 {
			return nil, 0, fmt.Errorf("%w: JPEG truncated in segment 0x%02X", errMalformed, m)
		}
		n := int(binary.BigEndian.Uint16(data[pos:]))
		if n < 2 || n > len(data)-pos {
			return nil, 0, fmt.Errorf("%w: JPEG segment 0x%02X at offset %d claims %d bytes, %d left", errMalformed, m, start, n, len(data)-pos)
		}
		end := pos + n
		segs = append(segs, jpegSeg{marker: m, start: start, end: end, payload: data[pos+2 : end]})
		pos = end
		if m != 0xDA {
			continue
		}
		// Entropy-coded data: runs until a 0xFF that is not a stuffed
		// 0xFF00 and not a restart marker.
		for {
			i := bytes.IndexByte(data[pos:], 0xFF)
			if i < 0 || pos+i+1 >= len(data) {
				return nil, 0, fmt.Errorf("%w: JPEG ends inside the image data (truncated)", errMalformed)
			}
			pos += i
			if n := data[pos+1]; n == 0x00 || (n >= 0xD0 && n <= 0xD7) {
				pos += 2
				continue
			}
			break
		}
	}
}

// JPEG APP segment signatures.
var (
	sigExif    = []byte("Exif\x00")
	sigXMP     = []byte("http://ns.adobe.com/xap/1.0/\x00")
	sigXMPExt  = []byte("http://ns.adobe.com/xmp/extension/\x00")
	sigIPTC    = []byte("Photoshop 3.0\x00")
	exifHeader = []byte("Exif\x00\x00")
)

// scrubJPEG drops APP1 Exif and XMP, APP13 Photoshop/IPTC and COM segments.
// Every other byte, the image data included, is copied unchanged. A
// non-default EXIF orientation is kept in a new minimal Exif segment so the
// picture is not shown rotated.
func scrubJPEG(data []byte) ([]byte, []Finding) {
	segs, eoi, err := walkJPEG(data)
	if err != nil {
		return data, []Finding{{Kind: KindWarning, Detail: "JPEG structure not understood, metadata left in place: " + err.Error()}}
	}
	var fs []Finding
	var drop [][2]int
	orientation := uint16(0)
	exifAt := -1
	for _, s := range segs {
		p := s.payload
		var what string
		switch {
		case s.marker == 0xE1 && bytes.HasPrefix(p, sigExif):
			what = "EXIF"
			if len(p) > 6 {
				rep := readExif(p[6:])
				if len(rep.found) > 0 {
					what += " (" + joinFound(rep.found) + ")"
				}
				if rep.orientation > 1 && rep.orientation <= 8 && orientation == 0 {
					orientation = rep.orientation
				}
			}
			if exifAt < 0 {
				exifAt = len(drop)
			}
		case s.marker == 0xE1 && bytes.HasPrefix(p, sigXMP):
			what = fmt.Sprintf("XMP packet, %d bytes (may name author, tools, edit history)", len(p)-len(sigXMP))
		case s.marker == 0xE1 && bytes.HasPrefix(p, sigXMPExt):
			what = "extended XMP packet"
		case s.marker == 0xED && bytes.HasPrefix(p, sigIPTC):
			what = "Photoshop/IPTC record (may name author, caption, location)"
		case s.marker == 0xFE:
			what = fmt.Sprintf("JPEG comment, %d bytes", len(p))
		default:
			continue
		}
		fs = append(fs, Finding{Kind: KindMetadata, Detail: what, Removed: true})
		drop = append(drop, [2]int{s.start, s.end})
	}
	if eoi < len(data) {
		fs = append(fs, Finding{Kind: KindWarning, Detail: fmt.Sprintf("%d bytes after the end of the JPEG image, kept as they are", len(data)-eoi)})
	}
	if len(drop) == 0 {
		return data, fs
	}
	out := make([]byte, 0, len(data))
	prev := 0
	for i, d := range drop {
		out = append(out, data[prev:d[0]]...)
		if i == exifAt && orientation != 0 {
			out = append(out, minimalExif(orientation)...)
		}
		prev = d[1]
	}
	out = append(out, data[prev:]...)
	if orientation != 0 {
		fs = append(fs, Finding{Kind: KindMetadata, Detail: fmt.Sprintf("kept EXIF orientation %d only", orientation)})
	}
	return out, fs
}

// minimalExif is an APP1 Exif segment holding only the orientation tag.
func minimalExif(o uint16) []byte {
	b := []byte{0xFF, 0xE1, 0, 34}
	b = append(b, exifHeader...)
	b = append(b, 'I', 'I', 42, 0, 8, 0, 0, 0) // TIFF header, IFD0 at 8
	b = append(b, 1, 0)                        // one entry
	b = append(b, 0x12, 0x01, 3, 0, 1, 0, 0, 0, byte(o), byte(o>>8), 0, 0)
	return append(b, 0, 0, 0, 0) // no next IFD
}
