package scrub

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"testing"

	"ferry/internal/testkit/shared"
)

// sharedFile reads one file of the shared test data (other people's real
// files). When it is absent the test goes on with its own vectors only, and
// says so in its log.
func sharedFile(t testing.TB, name string) ([]byte, bool) {
	t.Helper()
	root := shared.Root()
	b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
	if root == "" || err != nil {
		t.Logf("shared test data %s not found (place shared/testdata beside the repository or set FERRY_TESTDATA): tested on our own vectors only", name)
		return nil, false
	}
	return b, true
}

const (
	rayJPEG = "html/enwiki_raycharles/I/m/Ray_Charles_Here_We_Go_Again.jpg"
	bookPNG = "html/wikibooks_en/Wikibooks_files/234px-Megakaryocyte1.svg.png"        // no metadata chunks
	textPNG = "html/wikibooks_en/Wikibooks_files/48px-Phacility_phabricator_logo.png" // tIME, tEXt
)

func decodes(b []byte) (image.Image, error) {
	img, _, err := image.Decode(bytes.NewReader(b))
	return img, err
}

func samePixels(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

func mustWatermark(t testing.TB, data []byte, serials ...string) []byte {
	t.Helper()
	b, err := AppendWatermark(data, serials...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func kinds(fs []Finding, kind string) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Kind == kind {
			out = append(out, f)
		}
	}
	return out
}

// tiffIFD builds a little-endian TIFF block from IFD0 entries; ASCII values
// longer than 4 bytes go after the IFDs. gps adds a GPS IFD with latitude.
type tiffEntry struct {
	tag, typ uint16
	ascii    string
	short    uint16
}

func buildTIFF(ifd0 []tiffEntry, exifIFD []tiffEntry, gps bool) []byte {
	le := binary.LittleEndian
	// Layout: header(8) | IFD0 | ExifIFD | GPS IFD | data area.
	n0 := len(ifd0)
	if len(exifIFD) > 0 {
		n0++
	}
	if gps {
		n0++
	}
	ifd0Off := 8
	exifOff := ifd0Off + 2 + 12*n0 + 4
	gpsOff := exifOff
	if len(exifIFD) > 0 {
		gpsOff = exifOff + 2 + 12*len(exifIFD) + 4
	}
	dataOff := gpsOff
	if gps {
		dataOff = gpsOff + 2 + 12*2 + 4
	}
	var dataArea []byte
	entry := func(e tiffEntry) []byte {
		b := make([]byte, 12)
		le.PutUint16(b, e.tag)
		le.PutUint16(b[2:], e.typ)
		switch e.typ {
		case 2:
			v := append([]byte(e.ascii), 0)
			le.PutUint32(b[4:], uint32(len(v)))
			if len(v) <= 4 {
				copy(b[8:], v)
			} else {
				le.PutUint32(b[8:], uint32(dataOff+len(dataArea)))
				dataArea = append(dataArea, v...)
			}
		case 3:
			le.PutUint32(b[4:], 1)
			le.PutUint16(b[8:], e.short)
		case 7: // UNDEFINED, e.g. maker notes
			v := []byte(e.ascii)
			le.PutUint32(b[4:], uint32(len(v)))
			le.PutUint32(b[8:], uint32(dataOff+len(dataArea)))
			dataArea = append(dataArea, v...)
		}
		return b
	}
	out := []byte{'I', 'I', 42, 0, 8, 0, 0, 0}
	out = le.AppendUint16(out, uint16(n0))
	for _, e := range ifd0 {
		out = append(out, entry(e)...)
	}
	if len(exifIFD) > 0 {
		b := make([]byte, 12)
		le.PutUint16(b, 0x8769)
		le.PutUint16(b[2:], 4)
		le.PutUint32(b[4:], 1)
		le.PutUint32(b[8:], uint32(exifOff))
		out = append(out, b...)
	}
	if gps {
		b := make([]byte, 12)
		le.PutUint16(b, 0x8825)
		le.PutUint16(b[2:], 4)
		le.PutUint32(b[4:], 1)
		le.PutUint32(b[8:], uint32(gpsOff))
		out = append(out, b...)
	}
	out = le.AppendUint32(out, 0)
	if len(exifIFD) > 0 {
		out = le.AppendUint16(out, uint16(len(exifIFD)))
		for _, e := range exifIFD {
			out = append(out, entry(e)...)
		}
		out = le.AppendUint32(out, 0)
	}
	if gps {
		out = le.AppendUint16(out, 2)
		out = append(out, entry(tiffEntry{tag: 1, typ: 2, ascii: "N"})...)
		out = append(out, entry(tiffEntry{tag: 3, typ: 2, ascii: "E"})...)
		out = le.AppendUint32(out, 0)
	}
	return append(out, dataArea...)
}

// jpegSegment wraps a payload in a marker segment.
func jpegSegment(marker byte, payload []byte) []byte {
	b := []byte{0xFF, marker, 0, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(len(payload)+2))
	return append(b, payload...)
}

// insertAfterSOI puts segments right after the JPEG SOI marker.
func insertAfterSOI(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte(nil), jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

// pngChunkBytes builds a chunk with its CRC.
func pngChunkBytes(typ string, body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(len(body)))
	b = append(b, typ...)
	b = append(b, body...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
}

// insertAfterIHDR puts chunks right after the PNG IHDR chunk.
func insertAfterIHDR(png []byte, chunks ...[]byte) []byte {
	end := 8 + 12 + int(binary.BigEndian.Uint32(png[8:]))
	out := append([]byte(nil), png[:end]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, png[end:]...)
}
