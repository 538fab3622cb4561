package scrub

import (
	"bytes"
	"io"
	"testing"
)

func BenchmarkScrubJPEGWithExif(b *testing.B) {
	orig := ownJPEG(b)
	tiff := buildTIFF([]tiffEntry{{tag: 0x013B, typ: 2, ascii: "Kim Chol"}}, []tiffEntry{{tag: 0xA431, typ: 2, ascii: "0420112233"}}, true)
	dirty := mustWatermark(b, insertAfterSOI(orig, exifSegment(tiff)), "SERIAL1")
	b.SetBytes(int64(len(dirty)))
	for b.Loop() {
		if _, _, err := Scrub("b.jpg", dirty); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScrubDOCX(b *testing.B) {
	dirty := docx(b, redStarExtra(b, "SN1"), "Kim Chol", "Pak Yong", "KCC", "Ri")
	b.SetBytes(int64(len(dirty)))
	for b.Loop() {
		if _, _, err := Scrub("b.docx", dirty); err != nil {
			b.Fatal(err)
		}
	}
}

// tailReader is a huge file of zeros ending in a trailer, without the memory.
type tailReader struct {
	size int64
	tail []byte
}

func (r tailReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && off+int64(n) < r.size {
		pos := off + int64(n)
		if t := pos - (r.size - int64(len(r.tail))); t >= 0 {
			p[n] = r.tail[t]
		} else {
			p[n] = 0
		}
		n++
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Checking a 4 GiB video costs a few small reads at its end.
func BenchmarkCheckLargeVideo(b *testing.B) {
	tail := mustWatermark(b, nil, "DISK1", "DISK2", "DISK3")
	r := tailReader{size: 4 << 30, tail: tail}
	for b.Loop() {
		fs, err := Check("film.mp4", r, r.size)
		if err != nil || !HasWatermark(fs) {
			b.Fatal(fs, err)
		}
	}
}

func BenchmarkCheckCleanPNG(b *testing.B) {
	data := ownTextPNG(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Check("p.png", bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}
