package archive

import (
	"errors"
	"io"
)

// ErrNoIndex reports an archive packed without a full-text index.
var ErrNoIndex = errors.New("archive: no search index (packed with --no-index)")

// Contents is the read side of an edition's entries in path order: what a
// Reader provides for one archive file, and edition.View for a full
// edition with its deltas applied. Code that shows or copies entries (the
// static export, the web reader) takes it and works on either.
type Contents interface {
	// Manifest describes the edition.
	Manifest() *Manifest
	// NumEntries is the number of entries; EntryAt(i) is entry i in path
	// order, and its Index is i.
	NumEntries() int
	EntryAt(i int) (Entry, error)
	// Lookup finds the entry with exactly this path (ErrNotFound if none).
	Lookup(path string) (Entry, error)
	// Target returns the entry a redirect points to (one step); any other
	// entry is returned as it is.
	Target(e Entry) (Entry, error)
	// Open and ReadAll return an entry's verified content, redirects
	// followed.
	Open(e Entry) (*io.SectionReader, error)
	ReadAll(e Entry) ([]byte, error)
}

// SearchIndex returns the archive's full-text index section: its verified
// bytes (read block by block on use) and length. The archive treats the
// index as opaque; package search reads it. ErrNoIndex if the archive has
// none.
func (r *Reader) SearchIndex() (io.ReaderAt, int64, error) {
	sec := r.secs[secSearch]
	if sec == nil {
		return nil, 0, ErrNoIndex
	}
	return sec, sec.s.Length, nil
}
