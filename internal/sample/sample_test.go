package sample

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"strings"
	"testing"

	"ferry/internal/archive"
	"ferry/internal/glossary"
	"ferry/internal/testkit/packtest"
)

// TestEmbeddedArchive checks the embedded archive is whole, signed by the
// sample key, and up to date with content/: every content file is in it,
// byte for byte, and nothing else is.
func TestEmbeddedArchive(t *testing.T) {
	r, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(context.Background(), nil); err != nil {
		t.Fatalf("embedded archive does not verify: %v", err)
	}
	m := r.Manifest()
	if m.MainPage == "" || len(m.Languages) != 2 {
		t.Errorf("manifest: main page %q, languages %v", m.MainPage, m.Languages)
	}
	files := map[string]bool{}
	err = fs.WalkDir(os.DirFS("content"), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files[p] = true
		want, err := os.ReadFile("content/" + p)
		if err != nil {
			return err
		}
		e, err := r.Lookup(p)
		if err != nil {
			t.Errorf("%s is not in sample.ferry: run `go run ./internal/sample/gen -dir internal/sample` and commit", p)
			return nil
		}
		got, err := r.ReadAll(e)
		if err != nil {
			t.Errorf("%s: %v", p, err)
		} else if !bytes.Equal(got, want) {
			t.Errorf("%s differs in sample.ferry: run `go run ./internal/sample/gen -dir internal/sample` and commit", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < r.NumEntries(); i++ {
		e, err := r.EntryAt(i)
		if err != nil {
			t.Fatal(err)
		}
		if e.Path == glossary.MarksPath {
			continue // written by the packer for Korean pages, not content
		}
		if !files[e.Path] {
			t.Errorf("sample.ferry holds %s, which is no longer in content/: run `go run ./internal/sample/gen -dir internal/sample`", e.Path)
		}
	}
	if len(files) < 30 {
		t.Errorf("only %d content files", len(files))
	}
}

// TestPages checks that every page in ko/ has its twin in en/ and that the
// search index finds Korean and English words of the content.
func TestPages(t *testing.T) {
	r, err := Open()
	if err != nil {
		t.Fatal(err)
	}
	ko, _ := fs.Glob(os.DirFS("content"), "ko/*.html")
	if len(ko) < 12 {
		t.Errorf("%d Korean pages, want a dozen or more", len(ko))
	}
	for _, p := range ko {
		en := "en/" + strings.TrimPrefix(p, "ko/")
		if _, err := r.Lookup(en); err != nil {
			t.Errorf("%s has no English twin %s", p, en)
		}
	}
	for _, q := range []string{"라지오", "인터네트", "seal", "Article 19"} {
		hits, total, err := packtest.View(t, r).Search(q, 0, 5)
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		if total == 0 || len(hits) == 0 {
			t.Errorf("search %q found nothing", q)
		}
	}
	if !r.SignedBy(PublicKey()) {
		t.Error("not signed by the sample key")
	}
	if _, err := archive.Open(bytes.NewReader(Bytes()[:len(Bytes())-1]), int64(len(Bytes())-1)); err == nil {
		t.Error("a truncated copy opened")
	}
}
