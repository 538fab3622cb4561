package scrub

import (
	"bytes"
	"strings"
	"testing"
)

func exifSegment(tiff []byte) []byte {
	return jpegSegment(0xE1, append([]byte("Exif\x00\x00"), tiff...))
}

func TestJPEGExifRemoved(t *testing.T) {
	orig := ownJPEG(t)
	origImg, err := decodes(orig)
	if err != nil {
		t.Fatal(err)
	}
	tiff := buildTIFF(
		[]tiffEntry{{tag: 0x010F, typ: 2, ascii: "Canon"}, {tag: 0x0110, typ: 2, ascii: "Canon EOS 5D"}, {tag: 0x013B, typ: 2, ascii: "Kim Chol"}},
		[]tiffEntry{{tag: 0xA431, typ: 2, ascii: "0420112233"}, {tag: 0xA430, typ: 2, ascii: "Pak"}, {tag: 0x927C, typ: 7, ascii: "maker-secret-blob"}},
		true)
	xmp := jpegSegment(0xE1, append(append([]byte(nil), sigXMP...), `<x:xmpmeta><dc:creator>Kim</dc:creator></x:xmpmeta>`...))
	com := jpegSegment(0xFE, []byte("shot by Kim"))
	iptc := jpegSegment(0xED, append(append([]byte(nil), sigIPTC...), "8BIM\x04\x04"...))
	dirty := insertAfterSOI(orig, exifSegment(tiff), xmp, com, iptc)
	dirtyImg, err := decodes(dirty)
	if err != nil {
		t.Fatalf("test JPEG with EXIF does not decode: %v", err)
	}
	if !samePixels(origImg, dirtyImg) {
		t.Fatal("inserting metadata changed the pixels (test is wrong)")
	}

	fs, err := Check("p.jpg", bytes.NewReader(dirty), int64(len(dirty)))
	if err != nil {
		t.Fatal(err)
	}
	all := ""
	for _, f := range fs {
		if f.Removed {
			t.Errorf("Check says removed: %v", f)
		}
		all += f.Detail + "\n"
	}
	for _, want := range []string{"GPS position", "camera serial number \"0420112233\"", "artist \"Kim Chol\"", "camera owner \"Pak\"", "maker notes", "camera model", "XMP packet", "JPEG comment", "IPTC"} {
		if !strings.Contains(all, want) {
			t.Errorf("report lacks %q:\n%s", want, all)
		}
	}
	if len(kinds(fs, KindWatermark)) != 0 {
		t.Errorf("metadata reported as watermark: %v", fs)
	}

	clean, _, err := Scrub("p.jpg", dirty)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(clean, orig) {
		t.Fatalf("scrubbed JPEG (%d bytes) differs from the original (%d bytes)", len(clean), len(orig))
	}
	img, err := decodes(clean)
	if err != nil || !samePixels(img, origImg) {
		t.Fatalf("scrubbed JPEG does not decode to the same pixels: %v", err)
	}

	// Watermark on top of the metadata: both go.
	both := mustWatermark(t, dirty, "SERIAL42")
	clean, fs, _ = Scrub("p.jpg", both)
	if !bytes.Equal(clean, orig) || len(kinds(fs, KindWatermark)) != 1 {
		t.Fatalf("watermark + EXIF: equal=%v findings %v", bytes.Equal(clean, orig), fs)
	}
}

// A rotated photo keeps its orientation (in a new 34-byte Exif segment)
// and loses everything else.
func TestJPEGOrientationKept(t *testing.T) {
	orig := ownJPEG(t)
	tiff := buildTIFF([]tiffEntry{{tag: 0x0112, typ: 3, short: 6}, {tag: 0x013B, typ: 2, ascii: "Kim Chol"}}, nil, true)
	clean, fs, err := Scrub("r.jpg", insertAfterSOI(orig, exifSegment(tiff)))
	if err != nil {
		t.Fatal(err)
	}
	want := insertAfterSOI(orig, minimalExif(6))
	if !bytes.Equal(clean, want) {
		t.Fatal("result is not the original plus a minimal orientation segment")
	}
	segs, _, err := walkJPEG(clean)
	if err != nil {
		t.Fatal(err)
	}
	rep := readExif(segs[0].payload[6:])
	if rep.orientation != 6 || len(rep.found) != 0 {
		t.Fatalf("kept EXIF: orientation %d, found %v", rep.orientation, rep.found)
	}
	if _, err := decodes(clean); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fmtFindings(fs), "kept EXIF orientation 6") {
		t.Errorf("findings %v", fs)
	}
}

func fmtFindings(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}

func TestPNGMetadataRemoved(t *testing.T) {
	orig := ownPNG(t)
	origImg, err := decodes(orig)
	if err != nil {
		t.Fatal(err)
	}
	tiff := buildTIFF([]tiffEntry{{tag: 0x013B, typ: 2, ascii: "Kim Chol"}}, []tiffEntry{{tag: 0xA431, typ: 2, ascii: "SN998877"}}, true)
	dirty := insertAfterIHDR(orig,
		pngChunkBytes("tEXt", []byte("Author\x00Kim Chol")),
		pngChunkBytes("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta/>")),
		pngChunkBytes("zTXt", []byte("Comment\x00\x00x\x9c\x03\x00\x00\x00\x00\x01")),
		pngChunkBytes("eXIf", tiff),
		pngChunkBytes("tIME", []byte{0x07, 0xE9, 1, 2, 3, 4, 5}))
	if _, err := decodes(dirty); err != nil {
		t.Fatalf("test PNG does not decode: %v", err)
	}
	clean, fs, err := Scrub("p.png", dirty)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(clean, orig) {
		t.Fatal("scrubbed PNG differs from the original")
	}
	img, err := decodes(clean)
	if err != nil || !samePixels(img, origImg) {
		t.Fatalf("scrubbed PNG does not decode to the same pixels: %v", err)
	}
	all := fmtFindings(fs)
	for _, want := range []string{`"Author"`, "(XMP)", `"Comment"`, "GPS position", `camera serial number "SN998877"`, "modification time"} {
		if !strings.Contains(all, want) {
			t.Errorf("report lacks %q:\n%s", want, all)
		}
	}
}

// A PNG with tIME and tEXt chunks (ours, and a real one from the shared
// test data when it is there): they go, the pixels stay, and a watermark on
// top is removed as well.
func TestPNGWithText(t *testing.T) {
	inputs := map[string][]byte{"own": ownTextPNG(t)}
	if b, ok := sharedFile(t, textPNG); ok {
		inputs["shared"] = b
	}
	for name, orig := range inputs {
		t.Run(name, func(t *testing.T) { checkTextPNG(t, orig) })
	}
}

func checkTextPNG(t *testing.T, orig []byte) {
	origImg, err := decodes(orig)
	if err != nil {
		t.Fatal(err)
	}
	clean, fs, err := Scrub("t.png", orig)
	if err != nil {
		t.Fatal(err)
	}
	if len(kinds(fs, KindMetadata)) < 2 || len(clean) >= len(orig) {
		t.Fatalf("findings %v", fs)
	}
	img, err := decodes(clean)
	if err != nil || !samePixels(img, origImg) {
		t.Fatalf("pixels changed: %v", err)
	}
	clean2, _, _ := Scrub("t.png", mustWatermark(t, orig, "AB12"))
	if !bytes.Equal(clean, clean2) {
		t.Fatal("watermarked copy scrubs differently")
	}
}

func TestMalformedImagesLeftAlone(t *testing.T) {
	jpg := ownJPEG(t)
	png := ownPNG(t)
	for name, b := range map[string][]byte{
		"jpeg truncated":  jpg[:len(jpg)/2],
		"jpeg bad length": append(append([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF}, "Exif\x00\x00"...), jpg[2:100]...),
		"png truncated":   png[:len(png)/2],
		"png bad length":  append(append([]byte(nil), png[:8]...), 0x7F, 0xFF, 0xFF, 0xFF, 'I', 'H', 'D', 'R'),
	} {
		clean, fs, err := Scrub(name, b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(clean, b) || len(kinds(fs, KindWarning)) != 1 {
			t.Errorf("%s: changed=%v findings %v", name, !bytes.Equal(clean, b), fs)
		}
	}
}

// Big-endian ("MM") EXIF, as many cameras write it.
func TestReadExifBigEndian(t *testing.T) {
	b := []byte("MM\x00\x2a\x00\x00\x00\x08\x00\x02" +
		"\x01\x12\x00\x03\x00\x00\x00\x01\x00\x08\x00\x00" + // orientation 8
		"\x01\x3b\x00\x02\x00\x00\x00\x04Kim\x00" + // artist, inline
		"\x00\x00\x00\x00")
	rep := readExif(b)
	if rep.orientation != 8 || len(rep.found) != 1 || rep.found[0] != `artist "Kim"` {
		t.Fatalf("%+v", rep)
	}
}
