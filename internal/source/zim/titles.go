package zim

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Title listings in the X namespace (new layout): v0 lists every entry,
// v1 only the front articles, both as uint32 entry indexes ordered by title.
const (
	listingAll   = "listing/titleOrdered/v0"
	listingFront = "listing/titleOrdered/v1"
)

// TitleOrder returns all entry indexes ordered by title: from the header's
// title pointer list, or from X/listing/titleOrdered/v0 when the header has
// none. It returns ErrNotFound when the file has neither.
func (a *Archive) TitleOrder() ([]uint32, error) {
	if a.hdr.HasTitleList() {
		n := int64(a.hdr.EntryCount)
		b := make([]byte, 4*n) // fits in the file: checked at Open
		if err := a.readAt(b, int64(a.hdr.TitlePtrPos), "title pointer list"); err != nil {
			return nil, err
		}
		return a.indexList(b, "title pointer list")
	}
	return a.listing(listingAll)
}

// FrontArticles returns the indexes of the front articles (the pages a
// reader browses and searches) ordered by title, from
// X/listing/titleOrdered/v1. It returns ErrNotFound when the file has no
// such listing (old files, and some new ones).
func (a *Archive) FrontArticles() ([]uint32, error) {
	return a.listing(listingFront)
}

func (a *Archive) listing(name string) ([]uint32, error) {
	e, err := a.Lookup('X', name)
	if err != nil {
		return nil, err
	}
	e, err = a.Resolve(e)
	if err != nil {
		return nil, err
	}
	sr, err := a.Content(e)
	if err != nil {
		return nil, err
	}
	if sr.Size()%4 != 0 || sr.Size()/4 > int64(a.hdr.EntryCount) {
		return nil, fmt.Errorf("title list X/%s is %d bytes, not a list of at most %d entry indexes: %w", name, sr.Size(), a.hdr.EntryCount, ErrCorrupt)
	}
	b := make([]byte, sr.Size())
	if n, err := sr.ReadAt(b, 0); n != len(b) {
		return nil, fmt.Errorf("title list X/%s: %v: %w", name, err, ErrTruncated)
	}
	return a.indexList(b, "X/"+name)
}

func (a *Archive) indexList(b []byte, what string) ([]uint32, error) {
	out := make([]uint32, len(b)/4)
	for k := range out {
		v := binary.LittleEndian.Uint32(b[4*k:])
		if v >= a.hdr.EntryCount {
			return nil, fmt.Errorf("%s item %d names entry %d, beyond the entry count %d: %w", what, k, v, a.hdr.EntryCount, ErrCorrupt)
		}
		out[k] = v
	}
	return out, nil
}

// Verify computes the MD5 of the file up to the checksum position and
// compares it with the 16 bytes stored there. It reads the whole file.
func (a *Archive) Verify(ctx context.Context) error {
	h := md5.New()
	sr := io.NewSectionReader(a.r, 0, int64(a.hdr.ChecksumPos))
	buf := make([]byte, min(1<<20, a.hdr.ChecksumPos+1))
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := sr.Read(buf)
		h.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading for checksum: %w", err)
		}
	}
	var want [16]byte
	if err := a.readAt(want[:], int64(a.hdr.ChecksumPos), "checksum"); err != nil {
		return err
	}
	if got := h.Sum(nil); string(got) != string(want[:]) {
		return fmt.Errorf("MD5 of the first %d bytes is %x, the file says %x; the file was damaged or changed, copy it again: %w", a.hdr.ChecksumPos, got, want, ErrChecksum)
	}
	return nil
}
