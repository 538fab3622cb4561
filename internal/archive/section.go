package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sync"
)

// section reads a block-verified metadata section. Its hash list is read
// and checked against the manifest root when first needed.
type section struct {
	r      *Reader
	name   string
	id     int
	s      Section
	once   sync.Once
	hashes []byte
	err    error
}

func (sec *section) loadHashes() error {
	sec.once.Do(func() {
		n := sec.s.blocks()
		b := make([]byte, n*32)
		if _, err := sec.r.ra.ReadAt(b, sec.s.HashesOffset); err != nil {
			sec.err = fmt.Errorf("reading hash list of section %s: %w", sec.name, readErr(err))
			return
		}
		root := sha256.Sum256(b)
		if hex.EncodeToString(root[:]) != sec.s.Root {
			sec.err = fmt.Errorf("%w: hash list of section %s does not match the signed manifest", ErrCorrupt, sec.name)
			return
		}
		sec.hashes = b
	})
	return sec.err
}

// block returns verified block i.
func (sec *section) block(i int64) ([]byte, error) {
	key := cacheKey{owner: sec.r.cid, kind: sec.id, n: i}
	if b, ok := sec.r.cache.get(key); ok {
		return b, nil
	}
	if err := sec.loadHashes(); err != nil {
		return nil, err
	}
	bs := int64(sec.s.BlockSize)
	start := i * bs
	n := min(bs, sec.s.Length-start)
	b := make([]byte, n)
	if _, err := sec.r.ra.ReadAt(b, sec.s.Offset+start); err != nil {
		return nil, fmt.Errorf("reading section %s block %d: %w", sec.name, i, readErr(err))
	}
	h := sha256.Sum256(b)
	if !bytes.Equal(h[:], sec.hashes[i*32:i*32+32]) {
		return nil, fmt.Errorf("%w: section %s block %d (file offset %d) does not match its hash", ErrCorrupt, sec.name, i, sec.s.Offset+start)
	}
	sec.r.cache.put(key, b)
	return b, nil
}

// ReadAt reads verified bytes of the section.
func (sec *section) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("archive: negative offset")
	}
	if off >= sec.s.Length {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := 0
	bs := int64(sec.s.BlockSize)
	for n < len(p) && off < sec.s.Length {
		b, err := sec.block(off / bs)
		if err != nil {
			return n, err
		}
		k := copy(p[n:], b[off%bs:])
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// readFull reads exactly len(p) bytes or reports the section as corrupt.
func (sec *section) readFull(p []byte, off int64) error {
	n, err := sec.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == io.EOF || err == nil {
		return fmt.Errorf("%w: section %s: record at %d past its end", ErrCorrupt, sec.name, off)
	}
	return err
}

func readErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return ErrTruncated
	}
	return err
}
