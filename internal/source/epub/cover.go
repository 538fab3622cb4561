package epub

import (
	"bytes"
	"image"
	_ "image/gif" // cover images may be GIF, JPEG or PNG
	_ "image/jpeg"
	"image/png"

	"golang.org/x/image/draw"
)

// IllustrationSize is the width and height of the metadata illustration,
// the size Kiwix uses for ZIM illustrations.
const IllustrationSize = 48

// maxCoverPixels bounds the cover image decoded for the illustration, so a
// crafted header cannot make the decoder allocate gigabytes.
const maxCoverPixels = 16 << 20

// illustration scales the cover image to a square PNG, or returns nil when
// the cover cannot be decoded.
func (b *Book) illustration(name string) []byte {
	data, err := b.readFile(name, 32<<20)
	if err != nil {
		return nil
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxCoverPixels {
		return nil
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	// Centre-crop to a square, then scale.
	r := img.Bounds()
	side := min(r.Dx(), r.Dy())
	crop := image.Rect(r.Min.X+(r.Dx()-side)/2, r.Min.Y+(r.Dy()-side)/2, 0, 0)
	crop.Max = crop.Min.Add(image.Pt(side, side))
	dst := image.NewRGBA(image.Rect(0, 0, IllustrationSize, IllustrationSize))
	draw.CatmullRom.Scale(dst, dst.Bounds(), img, crop, draw.Src, nil)
	var out bytes.Buffer
	if err := png.Encode(&out, dst); err != nil {
		return nil
	}
	return out.Bytes()
}
