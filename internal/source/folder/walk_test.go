package folder

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestWalkSortedAsWalkDir: walkSorted visits a folder on disk in the order
// and with the types fs.WalkDir gives, honours SkipDir on a directory and
// on a file, and Count counts its regular files.
func TestWalkSortedAsWalkDir(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"b.html", "a.html", "B.html", "ä.html", "10.txt", "9.txt", "sub/z.css", "sub/deep/x.md",
		"sub/a.png", ".hidden/no.html", "skip/one.txt", "skip/two.txt", "after/ok.txt"} {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.html", filepath.Join(dir, "link.html")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	type visit struct {
		p    string
		mode fs.FileMode
	}
	record := func(out *[]visit) fs.WalkDirFunc {
		return func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			*out = append(*out, visit{p, d.Type()})
			if p == "skip" || p == "sub/a.png" {
				return fs.SkipDir // a directory, then a file: the rest of sub
			}
			return nil
		}
	}
	var want, got []visit
	if err := fs.WalkDir(os.DirFS(dir), ".", record(&want)); err != nil {
		t.Fatal(err)
	}
	if err := walkSorted(dir, record(&got)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("walkSorted:\n%v\nfs.WalkDir:\n%v", got, want)
	}
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Count(context.Background())
	if err != nil || n != 13 {
		t.Errorf("Count %d, %v; want 13 regular files", n, err)
	}
}
