package images

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"ferry/internal/testkit/shared"
)

func TestShrinkRealImages(t *testing.T) {
	var before, after int
	for _, dir := range []string{"html/enwiki_raycharles/I/m", "html/wikibooks_en/Wikibooks_files"} {
		files, _ := filepath.Glob(filepath.Join(shared.Path(t, dir), "*"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			mime := "image/png"
			if filepath.Ext(f) == ".jpg" {
				mime = "image/jpeg"
			} else if filepath.Ext(f) != ".png" {
				continue
			}
			out, err := Shrink(b, mime, Options{MaxDim: 120})
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(out) > len(b) {
				t.Fatalf("%s grew", f)
			}
			img, _, err := image.Decode(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("%s: result does not decode: %v", f, err)
			}
			if bd := img.Bounds(); (bd.Dx() > 120 || bd.Dy() > 120) && len(out) != len(b) {
				t.Fatalf("%s: re-encoded but still %v", f, bd)
			}
			before += len(b)
			after += len(out)
		}
	}
	if before == 0 {
		t.Skip("no images found")
	}
	t.Logf("images: %d → %d bytes (%.0f%% saved) at max 120 px", before, after, 100*(1-float64(after)/float64(before)))
	if after >= before {
		t.Fatal("nothing saved")
	}
}

func TestHostileHeader(t *testing.T) {
	// A PNG header claiming 100000×100000 pixels must be refused before decoding.
	img := image.NewGray(image.Rect(0, 0, 1, 1))
	var buf bytes.Buffer
	png.Encode(&buf, img)
	b := buf.Bytes()
	// IHDR width/height at offsets 16 and 20
	for _, off := range []int{16, 20} {
		b[off], b[off+1], b[off+2], b[off+3] = 0, 1, 0x86, 0xa0
	}
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	if _, err := Shrink(b, "image/png", Options{}); err == nil {
		t.Fatal("accepted a 10-gigapixel header")
	}
}

func TestKeepsSmallAndOther(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 10, 10))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var buf bytes.Buffer
	png.Encode(&buf, img)
	out, err := Shrink(buf.Bytes(), "image/png", Options{})
	if err != nil || len(out) > buf.Len() {
		t.Fatalf("small image: %v", err)
	}
	svg := []byte("<svg/>")
	if out, _ := Shrink(svg, "image/svg+xml", Options{}); !bytes.Equal(out, svg) {
		t.Fatal("svg changed")
	}
}

func FuzzShrink(f *testing.F) {
	if root := shared.Root(); root != "" {
		for _, n := range []string{"html/enwiki_raycharles/I/m/Ray_Charles_classic_piano_pose.jpg", "html/wikibooks_en/favicon.png"} {
			if b, err := os.ReadFile(filepath.Join(root, n)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Shrink(b, "image/png", Options{MaxDim: 64, MaxPixels: 1 << 20})
		_, _ = Shrink(b, "image/jpeg", Options{MaxDim: 64, MaxPixels: 1 << 20})
	})
}
