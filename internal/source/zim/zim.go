// Package zim reads ZIM files (the openZIM format used by Kiwix) as
// specified in docs/zim.md, and adapts them to ingest.Source.
//
// An Archive reads through an io.ReaderAt: Open reads only the 80-byte
// header and the MIME type list; directory entries, pointer lists and
// clusters are read when asked for, and a few decompressed clusters are kept
// in a bounded cache. The whole file is never loaded. Both namespace layouts
// are read: the old one (ZIM 5 and 6.0: A/ articles, I/ images, -/ layout,
// M/ metadata, X/ indexes) and the new one (6.1 and later: C/ content, M/,
// W/, X/). Clusters may be uncompressed, xz, zstd, zlib or bzip2, with 32- or
// 64-bit (extended) blob offsets.
//
// Every position and length read from the file is checked against the file
// size and a cap before it is used, so a damaged or hostile file gives an
// error wrapping one of the package's sentinel errors, never a panic or an
// allocation the file did not pay for.
package zim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// Sentinel errors; returned errors wrap one of them with context.
var (
	// ErrFormat means the bytes are not a ZIM file at all.
	ErrFormat = errors.New("zim: not a ZIM file")
	// ErrVersion means a ZIM major version this reader does not know.
	ErrVersion = errors.New("zim: unsupported ZIM version")
	// ErrTruncated means the file ends before data its header points to;
	// the copy is incomplete and should be copied or downloaded again.
	ErrTruncated = errors.New("zim: file is truncated")
	// ErrCorrupt means a structure inside the file is inconsistent.
	ErrCorrupt = errors.New("zim: file is corrupt")
	// ErrChecksum means the MD5 checksum stored in the file does not match.
	ErrChecksum = errors.New("zim: checksum mismatch")
	// ErrNotFound means no entry has the requested path.
	ErrNotFound = errors.New("zim: entry not found")
	// ErrTooLarge means a cluster or entry exceeds the configured size cap.
	ErrTooLarge = errors.New("zim: data exceeds size limit")
	// ErrUnsupported means a feature (e.g. a compression type) this reader
	// does not implement.
	ErrUnsupported = errors.New("zim: unsupported feature")
)

// Magic is the number every ZIM file starts with (little-endian).
const Magic = 72173914

// HeaderSize is the size of the fixed ZIM header in bytes.
const HeaderSize = 80

// none marks an absent page index or position in the header.
const (
	noPage     = 0xffffffff
	noPosition = 0xffffffffffffffff
)

// Header is the fixed 80-byte header at the start of every ZIM file.
type Header struct {
	MajorVersion  uint16
	MinorVersion  uint16
	UUID          [16]byte
	EntryCount    uint32 // number of directory entries
	ClusterCount  uint32
	PathPtrPos    uint64 // list of EntryCount uint64 entry offsets, ordered by namespace+URL
	TitlePtrPos   uint64 // list of EntryCount uint32 entry indexes ordered by title, or all ones when absent
	ClusterPtrPos uint64 // list of ClusterCount uint64 cluster offsets
	MIMEListPos   uint64
	MainPage      uint32 // entry index of the main page, or 0xffffffff
	LayoutPage    uint32 // deprecated; 0xffffffff
	ChecksumPos   uint64 // position of the 16-byte MD5 of all bytes before it
}

// HasMainPage reports whether the header names a main page.
func (h Header) HasMainPage() bool { return h.MainPage != noPage }

// HasTitleList reports whether the header points to a title pointer list.
func (h Header) HasTitleList() bool { return h.TitlePtrPos != noPosition && h.TitlePtrPos != 0 }

// NewNamespaces reports whether the file uses the new namespace layout
// (ZIM 6.1 and later: all content in C/), rather than the old one.
func (h Header) NewNamespaces() bool { return h.MajorVersion >= 6 && h.MinorVersion >= 1 }

// Options tune an Archive's memory use. The zero value selects defaults.
type Options struct {
	// MaxClusterSize caps the decompressed size of one cluster
	// (default 256 MiB). Larger clusters give ErrTooLarge.
	MaxClusterSize int64
	// CacheClusters is how many decompressed clusters are kept (default 8).
	CacheClusters int
	// CacheBytes caps the total size of cached clusters (default 64 MiB).
	CacheBytes int64
	// streamAbove overrides streamThreshold (tests and fuzzing reach the
	// streaming path with small files).
	streamAbove int64
}

const (
	defaultMaxCluster    = 256 << 20
	defaultCacheClusters = 8
	defaultCacheBytes    = 64 << 20
	// maxMIMEList caps the bytes read for the MIME type list.
	maxMIMEList = 1 << 20
	// maxRedirects bounds redirect chains, so loops end.
	maxRedirects = 64
)

// Archive is an open ZIM file. Its methods are safe for concurrent use.
type Archive struct {
	r      io.ReaderAt
	size   int64
	hdr    Header
	mimes  []string
	opts   Options
	closer io.Closer
	cache  clusterCache
	zstd   sync.Pool // *zstd.Decoder
	// decodes counts cluster decompressions (for tests and tuning).
	decodes atomic.Int64
}

// Open reads the header and MIME type list of the ZIM file in r (size bytes
// long) and checks every position in the header against the size.
func Open(r io.ReaderAt, size int64) (*Archive, error) {
	return OpenOptions(r, size, Options{})
}

// OpenOptions is Open with explicit memory options.
func OpenOptions(r io.ReaderAt, size int64, opts Options) (*Archive, error) {
	if opts.MaxClusterSize <= 0 {
		opts.MaxClusterSize = defaultMaxCluster
	}
	if opts.CacheClusters <= 0 {
		opts.CacheClusters = defaultCacheClusters
	}
	if opts.CacheBytes <= 0 {
		opts.CacheBytes = defaultCacheBytes
	}
	if opts.streamAbove <= 0 {
		opts.streamAbove = streamThreshold
	}
	a := &Archive{r: r, size: size, opts: opts}
	a.cache.init(opts.CacheClusters, opts.CacheBytes)
	if err := a.readHeader(); err != nil {
		return nil, err
	}
	if err := a.readMIMEList(); err != nil {
		return nil, err
	}
	return a, nil
}

// OpenFile opens the ZIM file at name; Close closes it. A ZIM split into
// parts (name.zimaa, name.zimab, ...; Kiwix splits files for FAT32 cards)
// is opened as one file when name is the first part, or the ".zim" name
// of a file that exists only as parts.
func OpenFile(name string) (*Archive, error) {
	r, size, closer, err := openParts(name)
	if err != nil {
		return nil, err
	}
	a, err := Open(r, size)
	if err != nil {
		closer.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	a.closer = closer
	return a, nil
}

// Close releases the file opened by OpenFile and the cluster cache. It does
// nothing to a reader passed to Open.
func (a *Archive) Close() error {
	a.cache.clear()
	if a.closer != nil {
		return a.closer.Close()
	}
	return nil
}

// Header returns a copy of the file header.
func (a *Archive) Header() Header { return a.hdr }

// Size returns the file size given to Open.
func (a *Archive) Size() int64 { return a.size }

// MIMETypes returns the file's MIME type list; entries refer to it by index.
func (a *Archive) MIMETypes() []string { return append([]string(nil), a.mimes...) }

// EntryCount returns the number of directory entries.
func (a *Archive) EntryCount() uint32 { return a.hdr.EntryCount }

// readAt reads exactly len(p) bytes at off, reporting a read past the end
// of the file as ErrTruncated naming what was read.
func (a *Archive) readAt(p []byte, off int64, what string) error {
	if off < 0 || off > a.size || int64(len(p)) > a.size-off {
		return fmt.Errorf("reading %s at offset %d (%d bytes) in a %d-byte file: %w", what, off, len(p), a.size, ErrTruncated)
	}
	n, err := a.r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = ErrTruncated
	}
	return fmt.Errorf("reading %s at offset %d: %w", what, off, err)
}

// fits reports whether n items of width bytes starting at pos lie inside
// the first limit bytes, without overflowing.
func fits(pos uint64, n uint64, width uint64, limit int64) bool {
	if limit < 0 || pos > uint64(limit) {
		return false
	}
	return n <= (uint64(limit)-pos)/width
}

func (a *Archive) readHeader() error {
	if a.size < HeaderSize {
		return fmt.Errorf("file is %d bytes, shorter than the %d-byte ZIM header: %w", a.size, HeaderSize, ErrFormat)
	}
	var b [HeaderSize]byte
	if err := a.readAt(b[:], 0, "header"); err != nil {
		return err
	}
	le := binary.LittleEndian
	if m := le.Uint32(b[0:]); m != Magic {
		return fmt.Errorf("magic number is %#x, want %#x: %w", m, Magic, ErrFormat)
	}
	h := &a.hdr
	h.MajorVersion = le.Uint16(b[4:])
	h.MinorVersion = le.Uint16(b[6:])
	copy(h.UUID[:], b[8:24])
	h.EntryCount = le.Uint32(b[24:])
	h.ClusterCount = le.Uint32(b[28:])
	h.PathPtrPos = le.Uint64(b[32:])
	h.TitlePtrPos = le.Uint64(b[40:])
	h.ClusterPtrPos = le.Uint64(b[48:])
	h.MIMEListPos = le.Uint64(b[56:])
	h.MainPage = le.Uint32(b[64:])
	h.LayoutPage = le.Uint32(b[68:])
	h.ChecksumPos = le.Uint64(b[72:])

	if h.MajorVersion != 5 && h.MajorVersion != 6 {
		return fmt.Errorf("major version %d.%d (this reader knows 5 and 6; a newer file needs a newer ferry): %w", h.MajorVersion, h.MinorVersion, ErrVersion)
	}
	// The checksum is the last 16 bytes; a file ending before it was cut
	// short in copying.
	if !fits(h.ChecksumPos, 1, 16, a.size) || h.ChecksumPos < HeaderSize {
		if h.ChecksumPos >= HeaderSize && h.ChecksumPos < 1<<62 && int64(h.ChecksumPos)+16 > a.size {
			return fmt.Errorf("header puts the checksum at offset %d but the file has only %d bytes: %w", h.ChecksumPos, a.size, ErrTruncated)
		}
		return fmt.Errorf("checksum position %d is outside the %d-byte file: %w", h.ChecksumPos, a.size, ErrCorrupt)
	}
	end := int64(h.ChecksumPos) // tables all lie before the checksum
	check := func(name string, pos uint64, n uint64, width uint64) error {
		if pos < HeaderSize || !fits(pos, n, width, end) {
			return fmt.Errorf("%s at offset %d with %d entries of %d bytes does not fit before the checksum at %d: %w", name, pos, n, width, end, ErrCorrupt)
		}
		return nil
	}
	if err := check("MIME type list", h.MIMEListPos, 1, 1); err != nil {
		return err
	}
	if err := check("path pointer list", h.PathPtrPos, uint64(h.EntryCount), 8); err != nil {
		return err
	}
	if h.HasTitleList() {
		if err := check("title pointer list", h.TitlePtrPos, uint64(h.EntryCount), 4); err != nil {
			return err
		}
	}
	if err := check("cluster pointer list", h.ClusterPtrPos, uint64(h.ClusterCount), 8); err != nil {
		return err
	}
	if h.MainPage != noPage && h.MainPage >= h.EntryCount {
		return fmt.Errorf("main page index %d is not below the entry count %d: %w", h.MainPage, h.EntryCount, ErrCorrupt)
	}
	return nil
}

func (a *Archive) readMIMEList() error {
	pos := int64(a.hdr.MIMEListPos)
	// The list must end, terminator included, before the next structure
	// the header places after it (as libzim requires): a list without its
	// empty-string terminator would otherwise run on into the pointer
	// lists and read their bytes as MIME types.
	// Those are the pointer lists, the first directory entry and the
	// first cluster.
	bounds := []uint64{a.hdr.PathPtrPos, a.hdr.ClusterPtrPos}
	if a.hdr.HasTitleList() {
		bounds = append(bounds, a.hdr.TitlePtrPos)
	}
	var b [8]byte
	if a.hdr.EntryCount > 0 && a.readAt(b[:], int64(a.hdr.PathPtrPos), "path pointer") == nil {
		bounds = append(bounds, binary.LittleEndian.Uint64(b[:]))
	}
	if a.hdr.ClusterCount > 0 && a.readAt(b[:], int64(a.hdr.ClusterPtrPos), "cluster pointer") == nil {
		bounds = append(bounds, binary.LittleEndian.Uint64(b[:]))
	}
	end := int64(a.hdr.ChecksumPos)
	for _, p := range bounds {
		if p > a.hdr.MIMEListPos && p < uint64(end) {
			end = int64(p)
		}
	}
	n := min(end-pos, maxMIMEList)
	buf := make([]byte, n)
	if err := a.readAt(buf, pos, "MIME type list"); err != nil {
		return err
	}
	for {
		i := indexZero(buf)
		if i < 0 {
			return fmt.Errorf("MIME type list at offset %d has no terminator (an empty entry) within its %d bytes: %w", pos, n, ErrCorrupt)
		}
		if i == 0 {
			return nil
		}
		if len(a.mimes) >= 0xfff0 {
			return fmt.Errorf("MIME type list has too many entries: %w", ErrCorrupt)
		}
		a.mimes = append(a.mimes, string(buf[:i]))
		buf = buf[i+1:]
	}
}

func indexZero(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return -1
}
