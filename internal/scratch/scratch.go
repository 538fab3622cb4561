// Package scratch makes the temporary files a long operation spills to
// (the packer's entry spool and sorted runs, the index builder's runs and
// dictionary, the pack's glossary marks) so that nothing is left behind
// however the operation ends: on Unix the file is unlinked as soon as it
// is made and lives on only as an open handle; elsewhere Close removes it.
package scratch

import (
	"errors"
	"os"
)

// File is an open temporary file, read and written through the embedded
// *os.File; only Close is its own.
type File struct {
	*os.File
	name string // to remove at Close when it could not be unlinked
}

// New creates a temporary file in dir (os.TempDir() when empty) named
// after pattern, as os.CreateTemp does, and unlinks it where the system
// allows an open file to be.
func New(dir, pattern string) (*File, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	s := &File{File: f}
	if os.Remove(f.Name()) != nil {
		s.name = f.Name()
	}
	return s, nil
}

// Close closes the file and removes it if it could not be unlinked; the
// first error is returned.
func (f *File) Close() error {
	err := f.File.Close()
	if f.name != "" {
		err = errors.Join(err, os.Remove(f.name))
		f.name = ""
	}
	return err
}
