package scrub

import (
	"bytes"
	"ferry/internal/atomicfile"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ScrubFile checks (check == true) or scrubs the file at path. A scrubbed
// file is replaced atomically: the clean copy is written to a temporary file
// in the same folder, synced, given the original permissions and
// modification time, and renamed over the original, so an interruption
// leaves either the old or the new file, never a mix. A file with nothing
// to remove is not touched.
func ScrubFile(path string, check bool) (_ []Finding, err error) {
	defer recovered(path, &err)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("scrub: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("scrub: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w", path, ErrNotRegular)
	}
	size := st.Size()
	if check {
		return Check(path, f, size)
	}
	form, err := sniffAt(f, size)
	if err != nil {
		return nil, fmt.Errorf("scrub: reading %s: %w", path, err)
	}
	if form != fmtOther && size <= inMemoryLimit {
		data := make([]byte, size)
		if _, err := io.ReadFull(f, data); err != nil {
			return nil, fmt.Errorf("scrub: reading %s: %w", path, err)
		}
		f.Close()
		clean, findings, err := Scrub(path, data)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(clean, data) {
			return findings, nil
		}
		if err := replaceFile(path, st, bytes.NewReader(clean), nil); err != nil {
			return nil, err
		}
		return findings, nil
	}
	// Other formats (video, audio...) and files too large to hold: only the
	// appended trailer is removed, by streaming the content before it.
	cut, findings, err := findTrailers(f, size)
	if err != nil {
		return nil, fmt.Errorf("scrub: %s: %w", path, err)
	}
	if form != fmtOther {
		findings = append(findings, tooLargeWarning)
	}
	if cut == size {
		return findings, nil
	}
	// The source is closed before the rename: Windows cannot replace an
	// open file.
	if err := replaceFile(path, st, io.NewSectionReader(f, 0, cut), func() { f.Close() }); err != nil {
		return nil, err
	}
	return findings, nil
}

// replaceFile writes r over path atomically (package atomicfile), keeping
// path's mode and modification time: a fresh time would show when the file
// was cleaned. beforeRename runs before the rename (Windows cannot replace
// an open file, so the source is closed there).
func replaceFile(path string, st fs.FileInfo, r io.Reader, beforeRename func()) error {
	tmp, err := atomicfile.Create(path)
	if err != nil {
		return fmt.Errorf("scrub: writing clean copy of %s: %w", path, err)
	}
	defer tmp.Abort()
	tmp.SetMode(st.Mode().Perm())
	tmp.SetModTime(st.ModTime())
	if _, err = io.Copy(tmp, r); err != nil {
		return fmt.Errorf("scrub: writing clean copy of %s: %w", path, err)
	}
	if beforeRename != nil {
		beforeRename()
	}
	if err = tmp.Commit(); err != nil {
		return fmt.Errorf("scrub: replacing %s: %w", path, err)
	}
	return nil
}

// Walk checks or scrubs every regular file under root (root itself may be
// a file) and calls fn with each file's findings or error. Symbolic links
// are not followed (a root that is one is reported to fn as ErrNotRegular). Errors reading one file are passed to fn and the walk
// goes on; Walk returns an error only if fn does or root cannot be read.
func Walk(root string, check bool, fn func(path string, findings []Finding, err error) error) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root {
				return fmt.Errorf("scrub: %w", err)
			}
			return fn(p, nil, err)
		}
		if !d.Type().IsRegular() {
			if p == root && !d.IsDir() {
				return fn(p, nil, fmt.Errorf("%s: %w (symbolic links and devices are not followed)", p, ErrNotRegular))
			}
			return nil
		}
		findings, err := ScrubFile(p, check)
		return fn(p, findings, err)
	})
}
