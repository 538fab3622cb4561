package search

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Index reads an index in place through an io.ReaderAt. Open reads only the
// 96-byte trailer; each search reads the dictionary blocks and postings of
// its terms. An Index is safe for concurrent use.
type Index struct {
	r     io.ReaderAt
	size  int64
	h     *header
	avgdl float64
}

// Open opens the index of size bytes held by r. It reads only the trailer.
func Open(r io.ReaderAt, size int64) (*Index, error) {
	if size < headerLen {
		return nil, corrupt("index of %d bytes is shorter than its %d-byte trailer", size, headerLen)
	}
	buf := make([]byte, headerLen)
	if err := readFull(r, buf, size-headerLen); err != nil {
		return nil, fmt.Errorf("search: reading index trailer: %w", err)
	}
	h, err := parseHeader(buf, size)
	if err != nil {
		return nil, err
	}
	ix := &Index{r: r, size: size, h: h}
	if h.docCount > 0 {
		ix.avgdl = float64(h.totalTokens) / float64(h.docCount)
	}
	return ix, nil
}

// DocCount is the number of documents in the index.
func (ix *Index) DocCount() int { return int(ix.h.docCount) }

// TermCount is the number of distinct terms in the index.
func (ix *Index) TermCount() int64 { return int64(ix.h.termCount) }

func readFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

var (
	decOnce sync.Once
	dec     *zstd.Decoder
	decErr  error
)

func decoder() (*zstd.Decoder, error) {
	decOnce.Do(func() {
		dec, decErr = zstd.NewReader(nil, zstd.WithDecoderConcurrency(4),
			zstd.WithDecoderMaxMemory(maxBlockRaw), zstd.WithDecoderLowmem(true))
	})
	return dec, decErr
}

// termInfo says where a term's postings are.
type termInfo struct {
	df      uint32
	inline  []posting // when df <= inlineMax
	postOff uint64    // relative to the postings region
	postLen uint64
}

// reader is the per-search state: cached dictionary blocks and norm pages,
// bounded in number.
type reader struct {
	ix     *Index
	blocks map[uint32][]byte
	heads  map[uint32]string
	norms  map[uint32][]byte
}

const (
	normPage      = 4096
	maxNormPages  = 64
	maxBlockCache = 16
)

func (ix *Index) newReader() *reader {
	return &reader{ix: ix, blocks: map[uint32][]byte{}, heads: map[uint32]string{}, norms: map[uint32][]byte{}}
}

// blockSpan returns the start and end of dictionary block i in the dict region.
func (rd *reader) blockSpan(i uint32) (uint64, uint64, error) {
	var b [16]byte
	if err := readFull(rd.ix.r, b[:], int64(rd.ix.h.bixOff)+8*int64(i)); err != nil {
		return 0, 0, fmt.Errorf("search: reading block index: %w", err)
	}
	s, e := binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:])
	if s >= e || e > rd.ix.h.dictLen || (i == 0 && s != 0) || (i+1 == rd.ix.h.blockCount && e != rd.ix.h.dictLen) {
		return 0, 0, corrupt("dictionary block %d spans %d..%d", i, s, e)
	}
	return s, e, nil
}

// head returns the first term of dictionary block i.
func (rd *reader) head(i uint32) (string, error) {
	if t, ok := rd.heads[i]; ok {
		return t, nil
	}
	s, e, err := rd.blockSpan(i)
	if err != nil {
		return "", err
	}
	b := make([]byte, min(e-s, binary.MaxVarintLen64+MaxTermLen))
	if err := readFull(rd.ix.r, b, int64(rd.ix.h.dictOff+s)); err != nil {
		return "", fmt.Errorf("search: reading dictionary block %d: %w", i, err)
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n == 0 || n > MaxTermLen || uint64(k)+n > uint64(len(b)) {
		return "", corrupt("dictionary block %d has a bad first term", i)
	}
	t := string(b[k : k+int(n)])
	if len(rd.heads) < 1024 {
		rd.heads[i] = t
	}
	return t, nil
}

// block returns the decoded entries of dictionary block i (after its head).
func (rd *reader) block(i uint32) ([]byte, error) {
	if b, ok := rd.blocks[i]; ok {
		return b, nil
	}
	s, e, err := rd.blockSpan(i)
	if err != nil {
		return nil, err
	}
	if e-s > maxBlockRaw+64+MaxTermLen {
		return nil, corrupt("dictionary block %d is %d bytes", i, e-s)
	}
	b := make([]byte, e-s)
	if err := readFull(rd.ix.r, b, int64(rd.ix.h.dictOff+s)); err != nil {
		return nil, fmt.Errorf("search: reading dictionary block %d: %w", i, err)
	}
	p := b
	n, k := binary.Uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return nil, corrupt("dictionary block %d head", i)
	}
	p = p[k+int(n):]
	if len(p) < 1 {
		return nil, corrupt("dictionary block %d truncated", i)
	}
	codec := p[0]
	p = p[1:]
	rawLen, k1 := binary.Uvarint(p)
	if k1 <= 0 {
		return nil, corrupt("dictionary block %d length", i)
	}
	p = p[k1:]
	stored, k2 := binary.Uvarint(p)
	if k2 <= 0 || stored != uint64(len(p)-k2) || rawLen > maxBlockRaw {
		return nil, corrupt("dictionary block %d lengths", i)
	}
	p = p[k2:]
	var raw []byte
	switch codec {
	case codecRaw:
		if rawLen != stored {
			return nil, corrupt("dictionary block %d raw length", i)
		}
		raw = p
	case codecZstd:
		d, err := decoder()
		if err != nil {
			return nil, err
		}
		raw, err = d.DecodeAll(p, make([]byte, 0, rawLen))
		if err != nil || uint64(len(raw)) != rawLen {
			return nil, corrupt("dictionary block %d does not decompress (%v)", i, err)
		}
	default:
		return nil, corrupt("dictionary block %d has unknown codec %d", i, codec)
	}
	if len(rd.blocks) >= maxBlockCache {
		clear(rd.blocks)
	}
	rd.blocks[i] = raw
	return raw, nil
}

// lookup finds term in the dictionary; ok is false when it is absent.
func (rd *reader) lookup(term string) (ti termInfo, ok bool, err error) {
	h := rd.ix.h
	if h.blockCount == 0 {
		return ti, false, nil
	}
	// Binary search for the last block whose first term <= term.
	lo, hi := uint32(0), h.blockCount // invariant: answer in [lo-1, hi)
	for lo < hi {
		mid := lo + (hi-lo)/2
		t, err := rd.head(mid)
		if err != nil {
			return ti, false, err
		}
		if t <= term {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return ti, false, nil
	}
	bi := lo - 1
	first, err := rd.head(bi)
	if err != nil {
		return ti, false, err
	}
	raw, err := rd.block(bi)
	if err != nil {
		return ti, false, err
	}
	return rd.scanBlock(bi, raw, first, term)
}

// scanBlock walks the entries of one block looking for term.
func (rd *reader) scanBlock(bi uint32, raw []byte, first, term string) (ti termInfo, ok bool, err error) {
	bad := func(what string) error { return corrupt("dictionary block %d: %s", bi, what) }
	p := raw
	uv := func() (uint64, bool) {
		v, k := binary.Uvarint(p)
		if k <= 0 {
			return 0, false
		}
		p = p[k:]
		return v, true
	}
	n, ok1 := uv()
	pos, ok2 := uv()
	if !ok1 || !ok2 || n == 0 || n > uint64(len(raw)) {
		return ti, false, bad("header")
	}
	postLen := rd.ix.h.postLen
	if pos > postLen {
		return ti, false, bad("postings offset")
	}
	prev := []byte(first)
	cur := make([]byte, 0, MaxTermLen)
	tb := []byte(term)
	for e := uint64(0); e < n; e++ {
		shared, ok1 := uv()
		sl, ok2 := uv()
		if !ok1 || !ok2 || shared > uint64(len(prev)) || sl > uint64(len(p)) || shared+sl > MaxTermLen || shared+sl == 0 {
			return ti, false, bad("term entry")
		}
		cur = append(append(cur[:0], prev[:shared]...), p[:sl]...)
		p = p[sl:]
		df, ok3 := uv()
		if !ok3 || df == 0 || df > uint64(rd.ix.h.docCount) {
			return ti, false, bad("document frequency")
		}
		cmp := bytes.Compare(cur, tb)
		if df <= inlineMax {
			var ps []posting
			if cmp == 0 {
				ps = make([]posting, 0, df)
			}
			prevDoc := int64(-1)
			for j := uint64(0); j < df; j++ {
				g, ok1 := uv()
				c, ok2 := uv()
				doc := prevDoc + 1 + int64(g)
				if !ok1 || !ok2 || g > math.MaxUint32 || doc >= int64(rd.ix.h.normCount) || c >= 2*maxTFBody+1 {
					return ti, false, bad("inline postings")
				}
				prevDoc = doc
				if cmp == 0 {
					ps = append(ps, posting{uint32(doc), uint32(c) + 1})
				}
			}
			if cmp == 0 {
				return termInfo{df: uint32(df), inline: ps}, true, nil
			}
		} else {
			l, ok := uv()
			if !ok || l > postLen-pos {
				return ti, false, bad("postings length")
			}
			if cmp == 0 {
				return termInfo{df: uint32(df), postOff: pos, postLen: l}, true, nil
			}
			pos += l
		}
		if cmp > 0 {
			return ti, false, nil
		}
		prev, cur = cur, prev
	}
	return ti, false, nil
}

// norm returns the norm byte of doc.
func (rd *reader) norm(doc uint32) (byte, error) {
	if doc >= rd.ix.h.normCount {
		return 0, corrupt("posting for document %d beyond the norm table", doc)
	}
	pg := doc / normPage
	b, ok := rd.norms[pg]
	if !ok {
		start := uint64(pg) * normPage
		b = make([]byte, min(normPage, uint64(rd.ix.h.normCount)-start))
		if err := readFull(rd.ix.r, b, int64(rd.ix.h.normsOff+start)); err != nil {
			return 0, fmt.Errorf("search: reading norms: %w", err)
		}
		if len(rd.norms) >= maxNormPages {
			clear(rd.norms)
		}
		rd.norms[pg] = b
	}
	return b[doc-pg*normPage], nil
}

// Contains reports whether the dictionary holds term exactly (a term as
// Terms returns it). It is meant for tools and tests.
func (ix *Index) Contains(term string) (bool, error) {
	if term == "" || len(term) > MaxTermLen {
		return false, nil
	}
	_, ok, err := ix.newReader().lookup(term)
	return ok, err
}
