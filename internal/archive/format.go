package archive

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Format constants; see docs/format.md.
const (
	headerMagic  = "FERRYAR1"
	trailerMagic = "FERRYEND"
	// TrailerMagic ends every archive file (docs/format.md): carriers that
	// send an archive without its tail put it back with it.
	TrailerMagic = trailerMagic
	headerSize   = 16
	trailerSize  = 32
	// FormatVersion is the archive format version this package writes and reads.
	FormatVersion = 1

	clusterRecordSize = 48
	entryRecordSize   = 32

	codecNone   = 0
	codecZstd   = 1
	codecBrotli = 2
	// codecZstdHangul is zstd over the Hangul-packed form (hangul.go).
	codecZstdHangul = 3

	entryContent  = 0
	entryRedirect = 1

	flagArticle = 1 << 0
	flagChunked = 1 << 1

	// Limits a reader enforces before allocating, whatever the file claims.
	maxManifestSize = 16 << 20
	maxRemoved      = 256 << 20 // bytes of a delta's removed list
	maxReadAll      = 256 << 20 // bytes ReadAll returns at once
	maxClusterRaw   = 64 << 20
	// maxClusterStored is the largest stored cluster (codec byte
	// included): writers store a cluster raw when compressing does not
	// make it smaller, so it is never more than the raw cap and one byte.
	maxClusterStored = maxClusterRaw + 1
	maxBlockSize     = 1 << 20
	maxStringLen     = 64 << 10
	maxRedirects     = 16

	sigMessagePrefix = "ferry archive manifest v1\x00"
)

// Errors returned by readers. They are wrapped with details; test with errors.Is.
var (
	ErrNotArchive = errors.New("archive: not a ferry archive")
	ErrVersion    = errors.New("archive: unsupported format version")
	ErrTruncated  = errors.New("archive: truncated")
	ErrCorrupt    = errors.New("archive: corrupt")
	ErrSignature  = errors.New("archive: no valid signature")
	ErrNotFound   = errors.New("archive: entry not found")
)

// Manifest says what an archive is. It is stored as JSON and signed.
type Manifest struct {
	Format      int       `json:"format"`
	Channel     string    `json:"channel"`
	Edition     uint64    `json:"edition"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	Languages   []string  `json:"languages,omitempty"`
	Created     time.Time `json:"created"`
	Publisher   string    `json:"publisher,omitempty"`
	MainPage    string    `json:"main_page,omitempty"`
	// Base names the edition a delta archive builds on; nil for a full edition.
	Base *BaseRef `json:"base,omitempty"`

	Counts    Counts   `json:"counts"`
	MIMETypes []string `json:"mime_types"`
	// FileSize is the exact length of the archive file.
	FileSize int64 `json:"file_size"`
	// ChunkSize is the raw size of every cluster of a chunked (large) entry but
	// its last.
	ChunkSize uint32 `json:"chunk_size"`
	// Data is the byte range holding all clusters.
	Data Range `json:"data"`
	// Sections maps a section name (clusters, entries, strings, titles,
	// docs, search, removed) to where it is and how to verify it.
	Sections map[string]Section `json:"sections"`
	// Extra carries fields later format additions need (e.g. key
	// certificates); readers ignore what they do not know.
	Extra map[string]json.RawMessage `json:"extra,omitempty"`
}

// BaseRef identifies the base edition of a delta.
type BaseRef struct {
	Channel string `json:"channel"`
	Edition uint64 `json:"edition"`
	ID      string `json:"id"` // hex SHA-256 of the base archive's manifest bytes
}

// Counts are summary figures of an archive.
type Counts struct {
	Entries    int   `json:"entries"`
	Articles   int   `json:"articles"`
	Redirects  int   `json:"redirects"`
	Clusters   int   `json:"clusters"`
	Removed    int   `json:"removed,omitempty"`
	InputBytes int64 `json:"input_bytes"`
}

// Range is a byte range of the file.
type Range struct {
	Offset int64 `json:"offset"`
	Length int64 `json:"length"`
}

// Section is a metadata section verified block by block: the SHA-256 of each
// BlockSize block is stored at HashesOffset (32 bytes each) and Root is the
// SHA-256 of that hash list, hex-encoded.
type Section struct {
	Offset       int64  `json:"offset"`
	Length       int64  `json:"length"`
	BlockSize    int    `json:"block_size"`
	HashesOffset int64  `json:"hashes_offset"`
	Root         string `json:"root"`
}

func (s Section) blocks() int64 {
	if s.Length == 0 {
		return 0
	}
	return (s.Length + int64(s.BlockSize) - 1) / int64(s.BlockSize)
}

// check validates a section's ranges against the file layout.
func (s Section) check(name string, fileSize int64) error {
	if s.Length < 0 || s.Offset < headerSize || s.Offset > fileSize || s.Length > fileSize-s.Offset {
		return fmt.Errorf("%w: section %s range %d+%d outside the file", ErrCorrupt, name, s.Offset, s.Length)
	}
	if s.BlockSize <= 0 || s.BlockSize > maxBlockSize {
		return fmt.Errorf("%w: section %s block size %d", ErrCorrupt, name, s.BlockSize)
	}
	n := s.blocks()
	if s.HashesOffset < headerSize || s.HashesOffset > fileSize || n*32 > fileSize-s.HashesOffset {
		return fmt.Errorf("%w: section %s hash list outside the file", ErrCorrupt, name)
	}
	if len(s.Root) != 64 {
		return fmt.Errorf("%w: section %s root hash", ErrCorrupt, name)
	}
	return nil
}

// Section names.
const (
	secClusters = "clusters"
	secEntries  = "entries"
	secStrings  = "strings"
	secTitles   = "titles"
	secDocs     = "docs"
	secSearch   = "search"
	secRemoved  = "removed"
)

// uvarint decodes a uvarint and refuses non-canonical encodings: one value,
// one encoding (0x80 0x00 is not 0). n <= 0 means malformed, as in
// binary.Uvarint.
func uvarint(b []byte) (v uint64, n int) {
	v, n = binary.Uvarint(b)
	if n > 1 && b[n-1] == 0 {
		return 0, 0 // a final 0x00 byte adds nothing: overlong
	}
	return v, n
}
