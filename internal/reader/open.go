package reader

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/key"
	"ferry/internal/sample"
)

// Library is one edition the handler serves, or one that failed to open
// (Err set, Edition nil): the reader is then told which archive is broken
// and why, while every other one keeps working.
type Library struct {
	// Name is the short name in URLs (/a/NAME/...); New makes names unique
	// and URL-safe.
	Name string
	// Path is where the archive came from (never shown to a reader).
	Path    string
	Edition edition.Edition
	Err     error
	// Sample marks the built-in sample library.
	Sample bool
	// Untrusted marks a library that is not shown (Edition nil) because
	// no key the reader trusts signed it: it is told apart from a damaged
	// one, and Signers' fingerprints are shown so the reader can compare
	// them with what the publisher gave out.
	Untrusted bool
	Signers   []key.Public
	// LibraryDir is the library folder (made by 'ferry import') the
	// channel is in, if any: the home page shows a newer edition the
	// last 'ferry get' there saw (mirror.ReadKnown; nothing is fetched).
	LibraryDir string

	close func() error // the archive files OpenPaths opened
}

// Sample returns the built-in sample library.
func Sample() Library {
	l := Library{Name: sample.Name, Path: "(built in)", Sample: true}
	r, err := sample.Open()
	if err == nil {
		l.Edition, err = edition.Of(r)
	}
	l.Err = err
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
			} else if lib.Edition, lib.Err = edition.Of(r); lib.Err != nil {
				lib.Edition = nil
				r.Close()
			} else {
				lib.close = r.Close
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
		if l.close != nil {
			errs = append(errs, l.close())
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
