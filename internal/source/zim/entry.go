package zim

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Kind says what a directory entry holds.
type Kind uint8

// Directory entry kinds. LinkTarget and Deleted are obsolete kinds from old
// files; they carry no content.
const (
	KindContent Kind = iota
	KindRedirect
	KindLinkTarget
	KindDeleted
)

// Special MIME indexes that mark entry kinds.
const (
	mimeRedirect   = 0xffff
	mimeLinkTarget = 0xfffe
	mimeDeleted    = 0xfffd
)

// maxDirent caps the size of one directory entry (URL, title, parameters).
const maxDirent = 1 << 20

// Entry is one directory entry: an item stored in the file, a redirect, or
// an obsolete link-target/deleted marker.
type Entry struct {
	Index     uint32 // position in the path-ordered list
	Kind      Kind
	Namespace byte   // 'C', 'A', 'I', '-', 'M', 'W', 'X', ...
	URL       string // path inside the namespace, e.g. "Ray_Charles"
	Title     string // as stored; often empty, meaning "same as URL"
	MIMEIndex uint16 // index into the MIME type list (content entries)
	Revision  uint32
	Cluster   uint32 // content entries
	Blob      uint32 // content entries
	Target    uint32 // redirect entries: index of the target entry
}

// Path returns the full path with the namespace, e.g. "A/Ray_Charles".
func (e *Entry) Path() string { return string(e.Namespace) + "/" + e.URL }

// DisplayTitle returns the title, or the URL when the title is empty (the
// format says an empty title means the URL is the title).
func (e *Entry) DisplayTitle() string {
	if e.Title != "" {
		return e.Title
	}
	return e.URL
}

// IsRedirect reports whether e redirects to another entry.
func (e *Entry) IsRedirect() bool { return e.Kind == KindRedirect }

// MIME returns e's MIME type, or "" for entries without content.
func (a *Archive) MIME(e *Entry) string {
	if e.Kind != KindContent || int(e.MIMEIndex) >= len(a.mimes) {
		return ""
	}
	return a.mimes[e.MIMEIndex]
}

// pathPtr returns the file offset of directory entry i.
func (a *Archive) pathPtr(i uint32) (int64, error) {
	if i >= a.hdr.EntryCount {
		return 0, fmt.Errorf("entry index %d out of range (%d entries): %w", i, a.hdr.EntryCount, ErrCorrupt)
	}
	var b [8]byte
	if err := a.readAt(b[:], int64(a.hdr.PathPtrPos)+8*int64(i), "path pointer"); err != nil {
		return 0, err
	}
	return a.checkDirentPos(i, binary.LittleEndian.Uint64(b[:]))
}

func (a *Archive) checkDirentPos(i uint32, off uint64) (int64, error) {
	if off < HeaderSize || off >= a.hdr.ChecksumPos {
		return 0, fmt.Errorf("entry %d: directory entry offset %d is outside the file's data area (%d..%d): %w", i, off, HeaderSize, a.hdr.ChecksumPos, ErrCorrupt)
	}
	return int64(off), nil
}

// EntryAt reads the directory entry with the given path-order index.
func (a *Archive) EntryAt(i uint32) (*Entry, error) {
	off, err := a.pathPtr(i)
	if err != nil {
		return nil, err
	}
	return a.readDirent(i, off, nil)
}

// readDirent parses the directory entry at off. win, when not nil, is a
// read-ahead window that may already hold the bytes.
func (a *Archive) readDirent(i uint32, off int64, win *window) (*Entry, error) {
	n := int64(512)
	for {
		limit := int64(a.hdr.ChecksumPos) - off
		if n > limit {
			n = limit
		}
		var buf []byte
		if win != nil {
			var err error
			if buf, err = win.get(a, off, n); err != nil {
				return nil, fmt.Errorf("entry %d: %w", i, err)
			}
		} else {
			buf = make([]byte, n)
			if err := a.readAt(buf, off, "directory entry"); err != nil {
				return nil, fmt.Errorf("entry %d: %w", i, err)
			}
		}
		e, complete, err := a.parseDirent(i, buf)
		if err != nil || complete {
			return e, err
		}
		if n >= limit || n >= maxDirent {
			return nil, fmt.Errorf("entry %d at offset %d: URL and title are not terminated within %d bytes: %w", i, off, n, ErrCorrupt)
		}
		n *= 4
	}
}

// parseDirent parses b as a directory entry. complete is false when b ends
// before the entry does.
func (a *Archive) parseDirent(i uint32, b []byte) (e *Entry, complete bool, err error) {
	if len(b) < 8 {
		return nil, false, nil
	}
	le := binary.LittleEndian
	e = &Entry{Index: i}
	mime := le.Uint16(b[0:])
	paramLen := int(b[2])
	e.Namespace = b[3]
	e.Revision = le.Uint32(b[4:])
	var rest []byte
	switch mime {
	case mimeRedirect:
		if len(b) < 12 {
			return nil, false, nil
		}
		e.Kind = KindRedirect
		e.Target = le.Uint32(b[8:])
		rest = b[12:]
	case mimeLinkTarget, mimeDeleted:
		e.Kind = KindLinkTarget
		if mime == mimeDeleted {
			e.Kind = KindDeleted
		}
		rest = b[8:]
	default:
		if len(b) < 16 {
			return nil, false, nil
		}
		e.Kind = KindContent
		e.MIMEIndex = mime
		e.Cluster = le.Uint32(b[8:])
		e.Blob = le.Uint32(b[12:])
		rest = b[16:]
	}
	u := bytes.IndexByte(rest, 0)
	if u < 0 {
		return nil, false, nil
	}
	t := bytes.IndexByte(rest[u+1:], 0)
	if t < 0 {
		return nil, false, nil
	}
	if len(rest)-(u+1+t+1) < paramLen {
		return nil, false, nil
	}
	e.URL = string(rest[:u])
	e.Title = string(rest[u+1 : u+1+t])
	if e.Namespace < 0x21 || e.Namespace > 0x7e {
		return nil, true, fmt.Errorf("entry %d: namespace byte %#x is not a printable character: %w", i, e.Namespace, ErrCorrupt)
	}
	if !utf8.ValidString(e.URL) || !utf8.ValidString(e.Title) {
		return nil, true, fmt.Errorf("entry %d (%q): URL or title is not valid UTF-8: %w", i, e.Path(), ErrCorrupt)
	}
	switch e.Kind {
	case KindContent:
		if int(e.MIMEIndex) >= len(a.mimes) {
			return nil, true, fmt.Errorf("entry %d (%q): MIME index %d beyond the %d-type MIME list: %w", i, e.Path(), e.MIMEIndex, len(a.mimes), ErrCorrupt)
		}
		if e.Cluster >= a.hdr.ClusterCount {
			return nil, true, fmt.Errorf("entry %d (%q): cluster %d beyond the cluster count %d: %w", i, e.Path(), e.Cluster, a.hdr.ClusterCount, ErrCorrupt)
		}
	case KindRedirect:
		if e.Target >= a.hdr.EntryCount {
			return nil, true, fmt.Errorf("entry %d (%q): redirect target %d beyond the entry count %d: %w", i, e.Path(), e.Target, a.hdr.EntryCount, ErrCorrupt)
		}
	}
	return e, true, nil
}

// window is a read-ahead buffer for directory entries read in order; most
// files store them next to each other.
type window struct {
	off int64
	buf []byte
}

const windowSize = 64 << 10

func (w *window) get(a *Archive, off, n int64) ([]byte, error) {
	if off >= w.off && off+n <= w.off+int64(len(w.buf)) {
		return w.buf[off-w.off : off-w.off+n], nil
	}
	size := int64(windowSize)
	if n > size {
		size = n
	}
	if rem := int64(a.hdr.ChecksumPos) - off; size > rem {
		size = rem
	}
	if cap(w.buf) >= int(size) {
		w.buf = w.buf[:size]
	} else {
		w.buf = make([]byte, size)
	}
	w.off = off
	if err := a.readAt(w.buf, off, "directory entries"); err != nil {
		w.buf = w.buf[:0]
		return nil, err
	}
	return w.buf[:n], nil
}

// compareKey orders entries as the path pointer list does: by namespace
// byte, then URL bytes.
func compareKey(ns byte, url string, e *Entry) int {
	if ns != e.Namespace {
		if ns < e.Namespace {
			return -1
		}
		return 1
	}
	return strings.Compare(url, e.URL)
}

// Lookup finds the entry with namespace ns and URL url by binary search
// over the path pointer list.
func (a *Archive) Lookup(ns byte, url string) (*Entry, error) {
	lo, hi := uint32(0), a.hdr.EntryCount
	for lo < hi {
		mid := lo + (hi-lo)/2
		e, err := a.EntryAt(mid)
		if err != nil {
			return nil, err
		}
		switch c := compareKey(ns, url, e); {
		case c == 0:
			return e, nil
		case c < 0:
			hi = mid
		default:
			lo = mid + 1
		}
	}
	return nil, fmt.Errorf("%c/%s: %w", ns, url, ErrNotFound)
}

// LookupPath finds an entry by its full path, e.g. "A/Ray_Charles" or
// "C/index.html".
func (a *Archive) LookupPath(p string) (*Entry, error) {
	if len(p) < 2 || p[1] != '/' {
		return nil, fmt.Errorf("%q: path must start with a namespace and a slash: %w", p, ErrNotFound)
	}
	return a.Lookup(p[0], p[2:])
}

// errLoop is ErrCorrupt for a redirect loop (or an overlong chain), which
// Walk leaves out with a warning instead of refusing the file.
var errLoop = fmt.Errorf("redirect loop: %w", ErrCorrupt)

// Resolve follows redirects from e to the entry that holds content. It
// fails on loops and on chains longer than 64.
func (a *Archive) Resolve(e *Entry) (*Entry, error) {
	start := e
	for hops := 0; e.Kind == KindRedirect; hops++ {
		if hops >= maxRedirects {
			return nil, fmt.Errorf("redirect %q: chain longer than %d or a loop: %w", start.Path(), maxRedirects, errLoop)
		}
		next, err := a.EntryAt(e.Target)
		if err != nil {
			return nil, fmt.Errorf("redirect %q: %w", e.Path(), err)
		}
		e = next
	}
	return e, nil
}

// MainPage returns the main page entry with redirects resolved: the
// header's main page, or else W/mainPage. It returns ErrNotFound when the
// file names none.
func (a *Archive) MainPage() (*Entry, error) {
	var e *Entry
	var err error
	if a.hdr.HasMainPage() {
		e, err = a.EntryAt(a.hdr.MainPage)
	} else {
		e, err = a.Lookup('W', "mainPage")
	}
	if err != nil {
		return nil, fmt.Errorf("main page: %w", err)
	}
	return a.Resolve(e)
}

// MetadataNames lists the names of the M/ metadata entries (Title,
// Language, Illustration_48x48@1, ...).
func (a *Archive) MetadataNames() ([]string, error) {
	var names []string
	first, err := a.lowerBound('M', "")
	if err != nil {
		return nil, err
	}
	for i := first; i < a.hdr.EntryCount; i++ {
		e, err := a.EntryAt(i)
		if err != nil {
			return nil, err
		}
		if e.Namespace != 'M' {
			break
		}
		names = append(names, e.URL)
	}
	return names, nil
}

// lowerBound returns the index of the first entry not less than (ns, url).
func (a *Archive) lowerBound(ns byte, url string) (uint32, error) {
	lo, hi := uint32(0), a.hdr.EntryCount
	for lo < hi {
		mid := lo + (hi-lo)/2
		e, err := a.EntryAt(mid)
		if err != nil {
			return 0, err
		}
		if compareKey(ns, url, e) > 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, nil
}

// maxMetadata caps the size of one metadata value.
const maxMetadata = 16 << 20

// Metadata returns the value of the metadata entry M/name (e.g. "Title",
// "Language", "Illustration_48x48@1"). It returns ErrNotFound when absent.
func (a *Archive) Metadata(name string) ([]byte, error) {
	e, err := a.Lookup('M', name)
	if err != nil {
		return nil, err
	}
	e, err = a.Resolve(e)
	if err != nil {
		return nil, err
	}
	return a.readSmall(e, maxMetadata)
}

// ReadAll returns the content of a content entry (redirects are resolved).
func (a *Archive) ReadAll(e *Entry) ([]byte, error) {
	e, err := a.Resolve(e)
	if err != nil {
		return nil, err
	}
	return a.readSmall(e, a.opts.MaxClusterSize)
}

func (a *Archive) readSmall(e *Entry, limit int64) ([]byte, error) {
	sr, err := a.Content(e)
	if err != nil {
		return nil, err
	}
	if sr.Size() > limit {
		return nil, fmt.Errorf("entry %q is %d bytes, over the %d-byte limit: %w", e.Path(), sr.Size(), limit, ErrTooLarge)
	}
	b := make([]byte, sr.Size())
	if n, err := sr.ReadAt(b, 0); n != len(b) {
		return nil, fmt.Errorf("entry %q: short read: %w", e.Path(), err)
	}
	return b, nil
}
