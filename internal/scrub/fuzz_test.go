package scrub

import (
	"archive/zip"
	"bytes"
	"image/jpeg"
	"image/png"
	"io"
	"path/filepath"
	"testing"
)

// Seeds come from the shared test data at run time (never copied into the
// repository), plus watermarked and metadata-laden variants made here.

func FuzzTrailer(f *testing.F) {
	for _, b := range realFiles(f, ".jpg", ".png", ".gif") {
		f.Add(b)
		w, _ := AppendWatermark(b, "8295FF513293A", "X")
		f.Add(w)
	}
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
	for _, b := range realFiles(f, ".jpg", ".jpeg") {
		f.Add(b)
		tiff := buildTIFF([]tiffEntry{{tag: 0x0112, typ: 3, short: 3}, {tag: 0x013B, typ: 2, ascii: "Kim"}}, []tiffEntry{{tag: 0xA431, typ: 2, ascii: "SN1"}}, true)
		f.Add(insertAfterSOI(b, exifSegment(tiff), jpegSegment(0xFE, []byte("c"))))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, _ := scrubJPEG(b)
		if c, err := jpeg.DecodeConfig(bytes.NewReader(b)); err != nil || c.Width*c.Height > 1<<20 {
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
	for _, b := range realFiles(f, ".png") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, _ := scrubPNG(b)
		if c, err := png.DecodeConfig(bytes.NewReader(b)); err != nil || c.Width*c.Height > 1<<20 {
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
// archive does not open or any entry fails.
func zipContents(b []byte) (map[string]string, bool) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, false
	}
	out := map[string]string{}
	for _, f := range zr.File {
		if f.UncompressedSize64 > 1<<20 {
			return nil, false
		}
		rc, err := f.Open()
		if err != nil {
			return nil, false
		}
		body, err := io.ReadAll(io.LimitReader(rc, 1<<20))
		rc.Close()
		if err != nil {
			return nil, false
		}
		out[f.Name] = string(body)
	}
	return out, true
}

func FuzzZIP(f *testing.F) {
	for _, b := range realFiles(f, ".epub") {
		f.Add(b)
	}
	f.Add(docx(f, redStarExtra(f, "SERIAL"), "Kim", "Pak", "KCC", "Ri"))
	f.Add(docx(f, nil, "", "", "", ""))
	tiff := buildTIFF([]tiffEntry{{tag: 0x013B, typ: 2, ascii: "Kim"}}, nil, true)
	for name, img := range realFiles(f, "ajax-loader.gif", "tab-normal-fade.png", "ray_charles_here_we_go_again.jpg") {
		if sniff(img) == fmtJPEG {
			img = insertAfterSOI(img, exifSegment(tiff))
		}
		f.Add(buildZip(f, []zipPart{{name: "mimetype", body: "application/epub+zip", stored: true}, {name: "i/" + filepath.Base(name), body: string(mustWatermark(f, img, "S1"))}}))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		before, ok := zipContents(b)
		out, _ := scrubZIP(b)
		if !ok {
			return
		}
		after, ok := zipContents(out)
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
				if _, err := decodes([]byte(body)); err == nil {
					if _, err := decodes([]byte(after[name])); err != nil {
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
