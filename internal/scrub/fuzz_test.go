package scrub

import (
	"archive/zip"
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"testing"
)

// Seeds are our own small vectors (vectors_test.go: a few hundred bytes
// each, so that the fuzzer's minimisation of each new input, quadratic in
// its length, stays short) and watermarked and metadata-laden variants of
// them. Each input's work is bounded: pictures are decoded only when tiny.
// Crashers found are kept in testdata/fuzz/.

// maxFuzzPixels bounds the pictures the fuzz targets decode to compare
// pixels (the seeds are 48×32 and smaller).
const maxFuzzPixels = 1 << 14

// smallDOCX is a one-part DOCX: core properties with an author, and a Red
// Star field in its extra field.
func smallDOCX(t testing.TB) []byte {
	return buildZip(t, []zipPart{{name: "docProps/core.xml", body: fmt.Sprintf(coreXML, "Kim", "Pak"), extra: redStarExtra(t, "SERIAL")}})
}

func FuzzTrailer(f *testing.F) {
	for _, b := range [][]byte{ownJPEG(f), ownPNG(f), ownGIF(f), ownMP4} {
		f.Add(b)
		w, _ := AppendWatermark(b, "8295FF513293A", "X")
		f.Add(w)
	}
	f.Add(mustWatermark(f, mustWatermark(f, motionVideo, "A"), "B"))
	f.Add([]byte("\x18\x00\x00\x00EOF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		cut, fs, err := findTrailers(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err) // a bytes.Reader never fails inside its size
		}
		if cut < 0 || cut > int64(len(b)) {
			t.Fatalf("cut %d outside 0..%d", cut, len(b))
		}
		if cut < int64(len(b)) && !HasWatermark(fs) {
			t.Fatalf("cut without a watermark finding: %v", fs)
		}
		// Scrubbing is idempotent: a second pass finds nothing to remove.
		// (Scrub turns a panic into ErrInternal, which fails here too.)
		clean, _, err := Scrub("fuzz", b)
		if err != nil {
			t.Fatal(err)
		}
		again, fs2, err := Scrub("fuzz", clean)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, clean) {
			t.Fatalf("second scrub changed the result again: %v", fs2)
		}
	})
}

func FuzzJPEG(f *testing.F) {
	b := ownJPEG(f)
	f.Add(b)
	f.Add(cameraJPEG(f))
	tiff := buildTIFF([]tiffEntry{{tag: 0x0112, typ: 3, short: 3}, {tag: 0x013B, typ: 2, ascii: "Kim"}}, []tiffEntry{{tag: 0xA431, typ: 2, ascii: "SN1"}}, true)
	f.Add(insertAfterSOI(b, exifSegment(tiff), jpegSegment(0xFE, []byte("c"))))
	f.Add(append(append([]byte(nil), b...), motionVideo...))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, _ := scrubJPEG(b)
		if c, err := jpeg.DecodeConfig(bytes.NewReader(b)); err != nil || int64(c.Width)*int64(c.Height) > maxFuzzPixels {
			return // not decodable, or too big to compare pixel by pixel quickly
		}
		before, errBefore := jpeg.Decode(bytes.NewReader(b))
		if errBefore != nil {
			return
		}
		after, err := jpeg.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("decoded before scrubbing, not after: %v", err)
		}
		if !samePixels(before, after) {
			t.Fatal("scrubbing changed the pixels")
		}
	})
}

func FuzzExif(f *testing.F) {
	f.Add(buildTIFF([]tiffEntry{{tag: 0x0112, typ: 3, short: 6}, {tag: 0x010F, typ: 2, ascii: "Canon"}}, []tiffEntry{{tag: 0x927C, typ: 7, ascii: "notes"}}, true))
	f.Add([]byte("MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		readExif(b)
	})
}

func FuzzPNG(f *testing.F) {
	f.Add(ownPNG(f))
	f.Add(ownTextPNG(f))
	tiff := buildTIFF([]tiffEntry{{tag: 0x013B, typ: 2, ascii: "Kim"}}, nil, true)
	f.Add(insertAfterIHDR(ownPNG(f), pngChunkBytes("eXIf", tiff), pngChunkBytes("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x/>"))))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, _ := scrubPNG(b)
		if c, err := png.DecodeConfig(bytes.NewReader(b)); err != nil || int64(c.Width)*int64(c.Height) > maxFuzzPixels {
			return
		}
		before, errBefore := png.Decode(bytes.NewReader(b))
		if errBefore != nil {
			return
		}
		after, err := png.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("decoded before scrubbing, not after: %v", err)
		}
		if !samePixels(before, after) {
			t.Fatal("scrubbing changed the pixels")
		}
	})
}

// zipContents reads every entry (checking CRCs); ok is false when the
// archive does not open or any entry fails, or, when small is set (fuzzing:
// each input's work stays small), when it has over 64 entries or one over
// 256 KiB.
func zipContents(b []byte, small bool) (map[string]string, bool) {
	maxEntries, maxSize := 1<<16, uint64(256<<20)
	if small {
		maxEntries, maxSize = 64, 256<<10
	}
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, false
	}
	out := map[string]string{}
	if len(zr.File) > maxEntries {
		return nil, false
	}
	for _, f := range zr.File {
		if f.UncompressedSize64 > maxSize {
			return nil, false
		}
		rc, err := f.Open()
		if err != nil {
			return nil, false
		}
		body, err := io.ReadAll(io.LimitReader(rc, int64(maxSize)))
		rc.Close()
		if err != nil {
			return nil, false
		}
		out[f.Name] = string(body)
	}
	return out, true
}

// smallDecodes decodes a picture of at most maxFuzzPixels.
func smallDecodes(b []byte) (image.Image, error) {
	c, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	if int64(c.Width)*int64(c.Height) > maxFuzzPixels {
		return nil, fmt.Errorf("%d×%d: too big to decode here", c.Width, c.Height)
	}
	return decodes(b)
}

func FuzzZIP(f *testing.F) {
	f.Add(smallDOCX(f))
	f.Add(shortLocalNameZIP())
	f.Add(rawZIP([]rawEntry{{name: "a.xml", localName: "a-longer-local-name", body: []byte("x"), localExtra: growthHint(4)}}))
	f.Add(buildZip(f, []zipPart{{name: "meta.xml", body: "<meta:initial-creator>Kim</meta:initial-creator>"}, {name: "mimetype", body: "application/vnd.oasis.opendocument.text", stored: true}}))
	tiff := buildTIFF([]tiffEntry{{tag: 0x013B, typ: 2, ascii: "Kim"}}, nil, true)
	for name, img := range map[string][]byte{"s.gif": ownGIF(f), "t.png": ownTextPNG(f), "p.jpg": insertAfterSOI(ownJPEG(f), exifSegment(tiff))} {
		f.Add(buildZip(f, []zipPart{{name: "mimetype", body: "application/epub+zip", stored: true}, {name: "i/" + name, body: string(mustWatermark(f, img, "S1"))}}))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		before, ok := zipContents(b, true)
		out, _ := scrubZIP(b)
		if !ok {
			return
		}
		after, ok := zipContents(out, true)
		if !ok {
			t.Fatal("archive read before scrubbing, not after")
		}
		if len(after) != len(before) {
			t.Fatalf("%d entries before, %d after", len(before), len(after))
		}
		for name, body := range before {
			if _, edited := zipParts[name]; edited {
				continue
			}
			if isImageName(name) {
				if _, err := smallDecodes([]byte(body)); err == nil {
					if _, err := smallDecodes([]byte(after[name])); err != nil {
						t.Fatalf("image %q decoded before scrubbing, not after: %v", name, err)
					}
				}
				continue
			}
			if after[name] != body {
				t.Fatalf("entry %q changed", name)
			}
		}
	})
}

func FuzzPDF(f *testing.F) {
	f.Add(buildPDF(`<< /Author (Kim \(x\)) /Creator <FEFF00> /Producer (P) >>`))
	f.Add([]byte("%PDF-1.7\n/Author (a\\) /Producer <41"))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, _ := scrubPDF(b)
		if len(out) != len(b) {
			t.Fatalf("length changed: %d -> %d", len(b), len(out))
		}
	})
}
