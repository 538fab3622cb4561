package scrub

import (
	"bytes"
	"context"
	"testing"

	"ferry/internal/archive"
	"ferry/internal/key"
)

// TestArchiveHoldingPDF: a ferry archive whose first stored entry is a PDF
// with an author (so "%PDF-" sits in its first KiB) loses only its Red Star
// trailer, and still verifies.
func TestArchiveHoldingPDF(t *testing.T) {
	k, err := key.Generate()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := archive.NewWriter(&buf, archive.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pdf := buildPDF("<< /Author (Kim Chol) /Producer (Red Star Office) >>")
	for _, in := range []archive.Input{
		{Path: "doc.pdf", MIME: "application/pdf", Data: pdf},
		{Path: "index.html", MIME: "text/html", Data: []byte("<p>hello</p>"), Article: true},
	} {
		if err := w.Add(in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(archive.Info{Channel: "t", Edition: 1, Title: "t"}, nil, k); err != nil {
		t.Fatal(err)
	}
	orig := buf.Bytes()
	if i := bytes.Index(orig[:min(len(orig), 1024)], []byte("%PDF-")); i < 0 {
		t.Skip("the PDF is not in the archive's first KiB; the case does not arise")
	}
	clean, fs, err := Scrub("x.ferry", mustWatermark(t, orig, "8295FF513293A"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(clean, orig) {
		t.Fatalf("scrubbed archive differs from the signed one (%d bytes, %d)", len(clean), len(orig))
	}
	if w := kinds(fs, KindWatermark); len(w) != 1 || !w[0].Removed {
		t.Fatalf("findings %v", fs)
	}
	r, err := archive.Open(bytes.NewReader(clean), int64(len(clean)))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}
