package scrub

import (
	"bytes"
	"image"
	"image/color"
	"image/color/palette"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

// Test pictures of our own making, drawn here so that every test runs in a
// plain clone. They are small (a few KiB) so that they also serve as fast
// fuzz seeds. Tests on other people's real pictures use the shared test
// data in addition, when it is there.

// picture draws a deterministic w×h scene: a gradient sky, a ground band
// and a few blocks, enough structure for JPEG and PNG to be non-trivial.
func picture(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{uint8(40 + 150*y/h), uint8(90 + 120*x/w), 200, 255}
			if y > h*2/3 {
				c = color.RGBA{60, uint8(120 + (x*7+y*3)%40), 50, 255}
			}
			if (x/12+y/12)%5 == 0 && y < h*2/3 && y > h/4 {
				c = color.RGBA{230, 220, 90, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

// ownJPEG is a small baseline JPEG (JFIF, no metadata), as an encoder
// writes it.
func ownJPEG(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, picture(48, 32), &jpeg.Options{Quality: 60}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ownPNG is a small PNG without metadata chunks.
func ownPNG(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, picture(40, 24)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// ownTextPNG is ownPNG with what an image editor adds: a tIME chunk and
// tEXt chunks naming the software and the author.
func ownTextPNG(t testing.TB) []byte {
	t.Helper()
	return insertAfterIHDR(ownPNG(t),
		pngChunkBytes("tIME", []byte{0x07, 0xE8, 3, 14, 9, 26, 53}),
		pngChunkBytes("tEXt", []byte("Software\x00Paint 2.0")),
		pngChunkBytes("tEXt", []byte("Author\x00Kim Chol")))
}

// ownGIF is a small two-frame GIF (a spinner).
func ownGIF(t testing.TB) []byte {
	t.Helper()
	anim := &gif.GIF{}
	for i := 0; i < 2; i++ {
		fr := image.NewPaletted(image.Rect(0, 0, 16, 16), palette.Plan9[:16])
		for y := 0; y < 16; y++ {
			for x := 0; x < 16; x++ {
				fr.SetColorIndex(x, y, uint8((x+y+i*4)/4%16))
			}
		}
		anim.Image = append(anim.Image, fr)
		anim.Delay = append(anim.Delay, 10)
	}
	var buf bytes.Buffer
	if err := gif.EncodeAll(&buf, anim); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// cameraJPEG is ownJPEG as a phone writes it: EXIF with make, model,
// serial number, owner and GPS position, and an XMP packet.
func cameraJPEG(t testing.TB) []byte {
	t.Helper()
	tiff := buildTIFF(
		[]tiffEntry{{tag: 0x010F, typ: 2, ascii: "Pyongyang"}, {tag: 0x0110, typ: 2, ascii: "Arirang 171"}, {tag: 0x0132, typ: 2, ascii: "2024:03:14 09:26:53"}},
		[]tiffEntry{{tag: 0xA431, typ: 2, ascii: "AR171-0042"}, {tag: 0xA430, typ: 2, ascii: "Pak"}},
		true)
	xmp := jpegSegment(0xE1, append(append([]byte(nil), sigXMP...), `<x:xmpmeta><xmp:CreatorTool>Arirang Camera</xmp:CreatorTool></x:xmpmeta>`...))
	return insertAfterSOI(ownJPEG(t), exifSegment(tiff), xmp)
}

// motionVideo is what a Motion Photo appends after the JPEG's end-of-image
// marker: an MP4 (ftyp and a small mdat box).
var motionVideo = []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom\x00\x00\x00\x10mdat\x00\x01\x02\x03\xff\xd9\x00\x00")

// ownMP4 is the start of an MP4 file of our own making.
var ownMP4 = []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom\x00\x00\x00\x28mdat" + "frames of a film, not really encoded..")
