package images

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry/internal/testkit/shared"
)

// ownImages returns the pictures of ferry's built-in sample library
// (internal/sample/content/img: PNG drawings of our own, 360 to 720 pixels
// wide) and each as a JPEG, encoded here at quality 92 the way a camera or
// an editor would leave a photo: bigger than a shrunk copy needs to be.
func ownImages(t testing.TB) map[string][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join("..", "..", "sample", "content", "img", "*.png"))
	if len(files) == 0 {
		t.Fatal("sample pictures not found in ../../sample/content/img")
	}
	out := map[string][]byte{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out[filepath.Base(f)] = b
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 92}); err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".png")+".jpg"] = buf.Bytes()
	}
	return out
}

// TestShrinkRealImages shrinks our own pictures and, when the shared test
// data is there, other people's (Wikipedia's and Wikibooks' JPEGs and
// PNGs), to at most 120 pixels.
func TestShrinkRealImages(t *testing.T) {
	inputs := ownImages(t)
	if root := shared.Root(); root != "" {
		n := 0
		for _, dir := range []string{"html/enwiki_raycharles/I/m", "html/wikibooks_en/Wikibooks_files"} {
			files, _ := filepath.Glob(filepath.Join(root, dir, "*"))
			for _, f := range files {
				if e := filepath.Ext(f); e != ".jpg" && e != ".png" {
					continue
				}
				b, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				inputs[f] = b
				n++
			}
		}
		t.Logf("%d pictures of the shared test data", n)
	} else {
		t.Log("shared test data not found: shrinking our own pictures only")
	}
	var before, after int
	for f, b := range inputs {
		mime := "image/png"
		if filepath.Ext(f) == ".jpg" {
			mime = "image/jpeg"
		}
		out, err := Shrink(b, mime, Options{MaxDim: 120})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(out) > len(b) {
			t.Fatalf("%s grew", f)
		}
		img, format, err := image.Decode(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("%s: result does not decode: %v", f, err)
		}
		if "image/"+format != mime {
			t.Fatalf("%s: %s became %s", f, mime, format)
		}
		if bd := img.Bounds(); (bd.Dx() > 120 || bd.Dy() > 120) && len(out) != len(b) {
			t.Fatalf("%s: re-encoded but still %v", f, bd)
		}
		before += len(b)
		after += len(out)
	}
	t.Logf("images: %d → %d bytes (%.0f%% saved) at max 120 px", before, after, 100*(1-float64(after)/float64(before)))
	if after >= before*3/4 {
		t.Fatalf("only %d → %d bytes", before, after)
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
	// Refused, or (on 32-bit builds, where image/png itself calls such a
	// size an overflow) kept as it is without decoding.
	if out, err := Shrink(b, "image/png", Options{}); !errors.Is(err, ErrTooLarge) && !(err == nil && bytes.Equal(out, b)) {
		t.Fatalf("a 10-gigapixel header: %d bytes, %v", len(out), err)
	}
}

// TestHugeGIFKept: a picture Shrink never decodes (a GIF, even one whose
// header claims 65535×65535 pixels and a PNG MIME type) is kept as it is,
// not refused as too large.
func TestHugeGIFKept(t *testing.T) {
	var buf bytes.Buffer
	gif.Encode(&buf, image.NewPaletted(image.Rect(0, 0, 2, 2), color.Palette{color.Black, color.White}), nil)
	b := buf.Bytes()
	binary.LittleEndian.PutUint16(b[6:], 0xFFFF) // logical screen width
	binary.LittleEndian.PutUint16(b[8:], 0xFFFF) // and height
	if out, err := Shrink(b, "image/png", Options{}); err != nil || !bytes.Equal(out, b) {
		t.Fatalf("GIF: %d bytes, %v", len(out), err)
	}
}

// TestHugeJPEGHeader32 (issue 13 item 16, same class): a JPEG whose frame
// header claims 65535×65535 pixels is refused before decoding. On 32-bit
// builds the old check multiplied width by height in an int, which wrapped
// to a negative number and let the decoder try to allocate 4 gigapixels
// (run with GOARCH=386 to see it).
func TestHugeJPEGHeader32(t *testing.T) {
	var buf bytes.Buffer
	jpeg.Encode(&buf, image.NewGray(image.Rect(0, 0, 8, 8)), nil)
	b := buf.Bytes()
	sof := bytes.Index(b, []byte{0xFF, 0xC0})
	if sof < 0 {
		t.Fatal("no baseline frame header")
	}
	binary.BigEndian.PutUint16(b[sof+5:], 0xFFFF) // height
	binary.BigEndian.PutUint16(b[sof+7:], 0xFFFF) // width
	if _, err := Shrink(b, "image/jpeg", Options{}); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("a 65535×65535 JPEG header: %v", err)
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

// FuzzShrink shrinks arbitrary bytes as PNG and as JPEG. Seeds are tiny
// pictures of our own (a few hundred bytes: the fuzzer's minimisation of a
// new input is quadratic in its length) and each input's work is bounded
// by MaxPixels: nothing over 64×64 is decoded.
func FuzzShrink(f *testing.F) {
	img := image.NewRGBA(image.Rect(0, 0, 20, 12))
	for y := 0; y < 12; y++ {
		for x := 0; x < 20; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 12), uint8(y * 20), 128, 255})
		}
	}
	var p, j, g bytes.Buffer
	png.Encode(&p, img)
	jpeg.Encode(&j, image.NewGray(image.Rect(0, 0, 20, 9)), &jpeg.Options{Quality: 50})
	png.Encode(&g, image.NewGray(image.Rect(0, 0, 3, 70)))
	f.Add(p.Bytes())
	f.Add(j.Bytes())
	f.Add(g.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		// One call: Shrink goes by the bytes, not by the MIME type, once it
		// is an image type.
		out, err := Shrink(b, "image/jpeg", Options{MaxDim: 16, MaxPixels: 64 * 64})
		if err != nil {
			if !errors.Is(err, ErrTooLarge) && out != nil {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		if len(out) > len(b) {
			t.Fatalf("%d bytes grew to %d", len(b), len(out))
		}
	})
}
