// Package images makes pictures smaller so more content fits on a card:
// Shrink scales down images larger than a maximum dimension and re-encodes
// them, keeping the format (a JPEG stays a JPEG, a PNG a PNG) so that pages
// linking them keep working.
package images

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"sync"

	"ferry/internal/budget"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp" // decode WebP to read its size
)

// Options say how far to shrink.
type Options struct {
	// MaxDim is the largest width or height kept (default 800 pixels).
	MaxDim int
	// Quality is the JPEG quality of re-encoded photos (default 75).
	Quality int
	// MaxPixels refuses to decode images claiming more pixels than this
	// (default 64 megapixels): a hostile file must not exhaust memory. A
	// decoded picture takes up to 4 bytes a pixel (256 MiB at the default);
	// Shrinks running at once share one Budget of that size, so several
	// workers never hold more.
	MaxPixels int
}

// Budget is the memory that pictures being shrunk at once may take
// together (decoded and scaled pixels, 4 bytes each): 256 MiB.
var Budget = budget.New(256 << 20)

// ErrTooLarge reports an image whose header claims too many pixels.
var ErrTooLarge = errors.New("images: image too large to decode")

func (o *Options) defaults() {
	if o.MaxDim <= 0 {
		o.MaxDim = 800
	}
	if o.Quality <= 0 || o.Quality > 100 {
		o.Quality = 75
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = 64 << 20
	}
}

// IsImage reports whether mime is a raster image type Shrink handles.
func IsImage(mime string) bool {
	m := strings.ToLower(mime)
	return strings.HasPrefix(m, "image/jpeg") || strings.HasPrefix(m, "image/png")
}

// Shrink returns a smaller encoding of the JPEG or PNG in data, or data
// itself when it is already small enough, is another format (GIF, SVG,
// WebP...), or re-encoding would not make it smaller.
func Shrink(data []byte, mime string, opts Options) ([]byte, error) {
	opts.defaults()
	if !IsImage(mime) {
		return data, nil
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return data, nil // not decodable: keep the bytes as they are
	}
	if format != "jpeg" && format != "png" {
		return data, nil // a GIF or WebP is kept as it is, never decoded
	}
	// In 64 bits: on 32-bit builds (windows/386, linux/arm) a header of
	// 65535×65535 would multiply to a negative int and pass.
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > int64(opts.MaxPixels) {
		return nil, fmt.Errorf("%w: %d×%d", ErrTooLarge, cfg.Width, cfg.Height)
	}
	w, h := cfg.Width, cfg.Height
	if m := max(w, h); m > opts.MaxDim {
		// w×MaxDim can pass 2³¹ (a 64-megapixel strip), so in 64 bits.
		w = int(max(1, int64(w)*int64(opts.MaxDim)/int64(m)))
		h = int(max(1, int64(h)*int64(opts.MaxDim)/int64(m)))
	}
	held := Budget.Acquire(4 * (int64(cfg.Width)*int64(cfg.Height) + int64(w)*int64(h)))
	defer Budget.Release(held)
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return data, nil
	}
	dst := src
	if w != cfg.Width || h != cfg.Height {
		r := image.NewRGBA(image.Rect(0, 0, w, h))
		draw.CatmullRom.Scale(r, r.Bounds(), src, src.Bounds(), draw.Src, nil)
		dst = r
	}
	var out bytes.Buffer
	switch format {
	case "jpeg":
		err = jpeg.Encode(&out, dst, &jpeg.Options{Quality: opts.Quality})
	case "png":
		enc := png.Encoder{CompressionLevel: png.BestCompression, BufferPool: pngBuffers{}}
		err = enc.Encode(&out, dst)
	}
	if err != nil {
		return nil, err
	}
	if out.Len() >= len(data) {
		return data, nil
	}
	return out.Bytes(), nil
}

// pngBuffers lends PNG encoders their buffers and zlib writer (about a
// megabyte at BestCompression, otherwise allocated and cleared for each
// picture).
type pngBuffers struct{}

var pngPool sync.Pool

func (pngBuffers) Get() *png.EncoderBuffer {
	b, _ := pngPool.Get().(*png.EncoderBuffer)
	return b
}

func (pngBuffers) Put(b *png.EncoderBuffer) { pngPool.Put(b) }

var _ = gif.Decode // GIF is registered so DecodeConfig recognises (and keeps) it
