package pack_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"ferry/internal/archive"
	"ferry/internal/glossary"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/korquad"
	"ferry/internal/testkit/packtest"
	"ferry/internal/testkit/shared"
)

// TestGlossaryMarksSize packs KorQuAD's articles as bare <p> pages (as
// TestRealFiles/KorQuADText does) with and without glossary marks and
// reports what the marks cost; every page with glossed words has them.
func TestGlossaryMarksSize(t *testing.T) {
	if st, err := os.Stat(shared.Root()); shared.Root() == "" || err != nil || !st.IsDir() {
		t.Skip("shared test data not found: the size of glossary marks on KorQuAD pages was not measured")
	}
	set := korquad.Load(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "A"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, a := range set.Articles {
		if err := os.WriteFile(filepath.Join(dir, "A", a.Title), bareKorQuADPage(a.Title, a.Paragraphs), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	size := map[bool]int{}
	var with *archive.Reader
	for _, noMarks := range []bool{true, false} {
		src, err := folder.New(dir)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := pack.Pack(context.Background(), &buf, pack.Options{
			Info:    archive.Info{Channel: "k", Title: "KorQuAD text", Languages: []string{"ko"}},
			Signers: []*key.Secret{packtest.Key(t)}, Sources: []pack.Source{{Source: src}}, NoGlossaryMarks: noMarks,
		}); err != nil {
			t.Fatal(err)
		}
		size[noMarks] = buf.Len()
		if !noMarks {
			with = packtest.Open(t, buf.Bytes())
		}
	}
	e, err := with.Lookup(glossary.MarksPath)
	if err != nil {
		t.Fatal(err)
	}
	table, err := with.ReadAll(e)
	if err != nil {
		t.Fatal(err)
	}
	g := glossary.Default()
	s, err := g.ArchiveMarks(with)
	if err != nil || s == nil {
		t.Fatal(err)
	}
	words := 0
	for _, a := range set.Articles {
		page := bareKorQuADPage(a.Title, a.Paragraphs)
		want := g.FindMarks(page, glossary.Options{})
		m, ok, err := s.Marks("A/"+a.Title, page)
		if !ok || err != nil || len(m.Words) != len(want.Words) {
			t.Fatalf("%s: stored marks %v %v, %d words, found %d", a.Title, ok, err, len(m.Words), len(want.Words))
		}
		words += len(m.Words)
	}
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	z := enc.EncodeAll(table, nil)
	t.Logf("KorQuAD bare pages: %d pages, %d marks; archive %d bytes without marks, %d with (+%d, +%.2f%%); table %d bytes (%.2f a mark), %d with zstd",
		s.Pages(), words, size[true], size[false], size[false]-size[true], 100*float64(size[false]-size[true])/float64(size[true]),
		len(table), float64(len(table))/float64(words), len(z))
}

// bareKorQuADPage is an article as korquadText writes it.
func bareKorQuADPage(title string, paragraphs []string) []byte {
	t := html.EscapeString(strings.ReplaceAll(title, "_", " "))
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html><html lang=\"ko\"><head><meta charset=\"utf-8\"><title>%s</title></head><body><h1>%s</h1>\n", t, t)
	for _, p := range paragraphs {
		fmt.Fprintf(&b, "<p>%s</p>\n", html.EscapeString(p))
	}
	b.WriteString("</body></html>\n")
	return []byte(b.String())
}
