package reader

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/sample"
)

// Library is one archive the handler serves, or one that failed to open
// (Err set, Reader nil): the reader is then told which file is broken and
// why, while every other archive keeps working.
type Library struct {
	// Name is the short name in URLs (/a/NAME/...); New makes names unique
	// and URL-safe.
	Name string
	// Path is where the archive came from, shown on error pages.
	Path   string
	Reader Archive
	Err    error
	// Sample marks the built-in sample library.
	Sample bool
}

// Archive is what the reader serves: one archive (*archive.Reader), or a
// library channel's base edition with its deltas applied.
type Archive interface {
	Manifest() *archive.Manifest
	ID() string
	Size() int64
	Signers() []key.Public
	SignedBy(key.Public) bool
	NumEntries() int
	EntryAt(i int) (archive.Entry, error)
	Lookup(path string) (archive.Entry, error)
	Resolve(e archive.Entry) (archive.Entry, error)
	Open(e archive.Entry) (*io.SectionReader, error)
	ReadAll(e archive.Entry) ([]byte, error)
	Text(e archive.Entry) (title, text string, err error)
	Search(query string, offset, limit int) ([]archive.Hit, int, error)
	SuggestTitles(prefix string, n int) ([]archive.Entry, error)
	RandomArticle() (archive.Entry, error)
	Close() error
}

var _ Archive = (*archive.Reader)(nil)

// Sample returns the built-in sample library.
func Sample() Library {
	r, err := sample.Open()
	l := Library{Name: sample.Name, Path: "(built in)", Err: err, Sample: true}
	if err == nil {
		l.Reader = r
	}
	return l
}

// OpenPaths opens archive files and folders of archives (every *.ferry file
// directly inside). A path that cannot be opened becomes a Library with Err
// set, so the reader sees the problem; only a path that does not exist at
// all is returned as an error.
func OpenPaths(paths []string) ([]Library, error) {
	var libs []Library
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return libs, fmt.Errorf("%s: %w", p, err)
		}
		files := []string{p}
		if st.IsDir() {
			files, err = filepath.Glob(filepath.Join(p, "*.ferry"))
			if err != nil {
				return libs, err
			}
			sort.Strings(files)
			if len(files) == 0 {
				return libs, fmt.Errorf("%s: no *.ferry archives in this folder", p)
			}
		}
		for _, f := range files {
			lib := Library{Name: strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), Path: f}
			if r, err := archive.OpenFile(f); err != nil {
				lib.Err = err
			} else {
				lib.Reader = r
			}
			libs = append(libs, lib)
		}
	}
	return libs, nil
}

// Close closes every opened archive.
func Close(libs []Library) error {
	var errs []error
	for _, l := range libs {
		if l.Reader != nil && !l.Sample {
			errs = append(errs, l.Reader.Close())
		}
	}
	return errors.Join(errs...)
}

// slug makes s a short URL-safe name: lower-case letters, digits, '-', '_', '.'.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
		if b.Len() >= 40 {
			break
		}
	}
	n := strings.Trim(b.String(), "-.")
	if n == "" {
		n = "archive"
	}
	return n
}
