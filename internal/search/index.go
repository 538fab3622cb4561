package search

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
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
	cache blockCache
}

// blockCache keeps recently used dictionary blocks (parsed) and block first
// terms, bounded in bytes, shared by all searches of an Index.
type blockCache struct {
	mu     sync.Mutex
	blocks map[uint32]*dictBlock
	order  []uint32 // insertion order, oldest first
	bytes  int
	heads  map[uint32]string
}

const (
	maxCacheBytes = 2 << 20 // parsed dictionary blocks kept per Index
	maxCacheHeads = 4096    // first terms kept per Index (≤ 64 bytes each)
)

func (c *blockCache) getBlock(i uint32) *dictBlock {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.blocks[i]
}

func (c *blockCache) putBlock(i uint32, b *dictBlock) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.blocks == nil {
		c.blocks = map[uint32]*dictBlock{}
	}
	if _, ok := c.blocks[i]; ok || b.size > maxCacheBytes {
		return
	}
	for c.bytes+b.size > maxCacheBytes && len(c.order) > 0 {
		old := c.order[0]
		c.order = c.order[1:]
		c.bytes -= c.blocks[old].size
		delete(c.blocks, old)
	}
	c.blocks[i] = b
	c.order = append(c.order, i)
	c.bytes += b.size
}

func (c *blockCache) getHead(i uint32) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.heads[i]
	return t, ok
}

func (c *blockCache) putHead(i uint32, t string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.heads == nil {
		c.heads = map[uint32]string{}
	}
	if len(c.heads) < maxCacheHeads {
		c.heads[i] = t
	}
}

// dictBlock is a parsed dictionary block: its sorted terms and, for each,
// its document frequency and where its postings are: out of line, their
// offset and length in the postings region; inline, the offset of its
// (gap, code) pairs in inl.
type dictBlock struct {
	terms []string
	df    []uint32
	pos   []uint64
	plen  []uint64
	inl   []byte
	size  int
	cols  *rawColumns // version 2: the columns, scanned on lookup instead
}

// rawColumns is a version 2 dictionary block as stored (columns
// decompressed), looked up by a scan that decodes terms only up to the one
// asked for: cheaper than parsing the whole block when few of its terms
// are asked, and a cached block costs its raw bytes only.
type rawColumns struct {
	first                      string
	n                          int
	postBase                   uint64
	lens, suf, dfs, plens, inl []byte // inl: version 2 inline postings, version 3 inline gaps
	vals                       []byte // version 3: inline values, one byte each
	v3                         bool

	mu    sync.Mutex
	marks []scanMark // before entries markEvery, 2×markEvery, … as far as lookups went
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

// reader is the per-search state: norm pages read so far, bounded (a
// direct-mapped cache of maxNormPages pages).
type reader struct {
	ix       *Index
	normPg   [maxNormPages]uint32 // page number held in each slot, +1 (0: empty)
	normData [maxNormPages][]byte
}

const (
	normPage     = 4096
	maxNormPages = 64
)

func (ix *Index) newReader() *reader {
	return &reader{ix: ix}
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
	if t, ok := rd.ix.cache.getHead(i); ok {
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
	n, k := uvarint(b)
	if k <= 0 || n == 0 || n > MaxTermLen || uint64(k)+n > uint64(len(b)) {
		return "", corrupt("dictionary block %d has a bad first term", i)
	}
	t := string(b[k : k+int(n)])
	rd.ix.cache.putHead(i, t)
	return t, nil
}

// block returns dictionary block i, parsed.
func (rd *reader) block(i uint32) (*dictBlock, error) {
	if b := rd.ix.cache.getBlock(i); b != nil {
		return b, nil
	}
	s, e, err := rd.blockSpan(i)
	if err != nil {
		return nil, err
	}
	if e-s > maxBlockRaw+256+MaxTermLen {
		return nil, corrupt("dictionary block %d is %d bytes", i, e-s)
	}
	b := make([]byte, e-s)
	if err := readFull(rd.ix.r, b, int64(rd.ix.h.dictOff+s)); err != nil {
		return nil, fmt.Errorf("search: reading dictionary block %d: %w", i, err)
	}
	p := b
	n, k := uvarint(p)
	if k <= 0 || n > uint64(len(p)-k) {
		return nil, corrupt("dictionary block %d head", i)
	}
	if n == 0 || n > MaxTermLen {
		return nil, corrupt("dictionary block %d head", i)
	}
	first := string(p[k : k+int(n)])
	p = p[k+int(n):]
	var db *dictBlock
	if rd.ix.h.version == version1 {
		db, err = rd.parseBlockV1(i, p, first)
	} else {
		db, err = rd.parseBlockV2(i, p, first)
	}
	if err != nil {
		return nil, err
	}
	rd.ix.cache.putBlock(i, db)
	return db, nil
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
	db, err := rd.block(bi)
	if err != nil {
		return ti, false, err
	}
	if db.cols != nil {
		return rd.scan(bi, db.cols, term)
	}
	j := sort.SearchStrings(db.terms, term)
	if j == len(db.terms) || db.terms[j] != term {
		return ti, false, nil
	}
	return rd.entry(bi, db, j)
}

// markEvery is how many entries of a cached dictionary block lie between
// two of the scan states a lookup records (scanMark), so that later
// lookups in the block start from the nearest one before their term
// instead of from the block's first term.
const markEvery = 64

// scanMark is where a scan of a block stands before entry e: the term of
// entry e−1 and the read offsets in each column.
type scanMark struct {
	e                                int
	lens, suf, dfs, plens, inl, vals int
	pos                              uint64
	n                                int
	term                             [MaxTermLen]byte
}

// scan looks term up in a version 2 or 3 block, checking each entry it
// decodes. The current term is rebuilt in place (its suffix written over
// the previous term's tail) and nothing is allocated until the term is
// found. It starts from the last mark before term that earlier lookups
// left in the block, and leaves marks where it passes new ground.
func (rd *reader) scan(bi uint32, c *rawColumns, term string) (termInfo, bool, error) {
	bad := func(what string) (termInfo, bool, error) {
		return termInfo{}, false, corrupt("dictionary block %d: %s", bi, what)
	}
	var buf [MaxTermLen]byte
	var want [MaxTermLen]byte
	q := want[:copy(want[:], term)]
	start := scanMark{pos: c.postBase}
	start.n = copy(start.term[:], c.first)
	c.mu.Lock()
	if i := sort.Search(len(c.marks), func(i int) bool {
		return bytes.Compare(c.marks[i].term[:c.marks[i].n], q) >= 0
	}); i > 0 {
		start = c.marks[i-1]
	}
	known := len(c.marks)
	c.mu.Unlock()
	var fresh []scanMark
	defer func() {
		if len(fresh) > 0 {
			c.mu.Lock()
			if len(c.marks) == known && fresh[0].e == (known+1)*markEvery {
				c.marks = append(c.marks, fresh...)
			}
			c.mu.Unlock()
		}
	}()
	n := copy(buf[:], start.term[:start.n])
	lens, suf, dfs, plens, inl, vals := c.lens[start.lens:], c.suf[start.suf:], c.dfs[start.dfs:], c.plens[start.plens:], c.inl[start.inl:], c.vals[start.vals:]
	pos := start.pos
	postLen := rd.ix.h.postLen
	normCount := int64(rd.ix.h.normCount)
	for e := start.e; e < c.n; e++ {
		if e > 0 && e%markEvery == 0 && e/markEvery > known {
			m := scanMark{e: e, pos: pos, n: n,
				lens: len(c.lens) - len(lens), suf: len(c.suf) - len(suf), dfs: len(c.dfs) - len(dfs),
				plens: len(c.plens) - len(plens), inl: len(c.inl) - len(inl), vals: len(c.vals) - len(vals)}
			copy(m.term[:], buf[:n])
			fresh = append(fresh, m)
		}
		var shared, sl int
		if c.v3 {
			var k int
			if shared, sl, k = readLens(lens); k == 0 {
				return bad("term lengths")
			}
			lens = lens[k:]
		} else {
			if len(lens) < 2 {
				return bad("term lengths")
			}
			shared, sl = int(lens[0]), int(lens[1])
			lens = lens[2:]
		}
		if shared > n || sl > len(suf) || shared+sl > MaxTermLen || shared+sl == 0 {
			return bad("term entry")
		}
		sx := suf[:sl]
		suf = suf[sl:]
		// The first entry is the block's first term; each next one is
		// greater than the one before: its suffix beats what it replaces.
		if e == 0 && (shared != n || sl != 0) || e > 0 && bytes.Compare(sx, buf[shared:n]) <= 0 {
			return bad("terms out of order")
		}
		n = shared + copy(buf[shared:], sx)
		df, k := uvarint(dfs)
		if k <= 0 || df == 0 || df > uint64(rd.ix.h.docCount) {
			return bad("document frequency")
		}
		dfs = dfs[k:]
		cmp := bytes.Compare(buf[:n], q)
		if df <= inlineMax {
			var ps []posting
			if cmp == 0 {
				ps = make([]posting, 0, df)
			}
			prevDoc := int64(-1)
			if c.v3 && uint64(len(vals)) < df {
				return bad("inline values")
			}
			for j := uint64(0); j < df; j++ {
				g, k1 := uvarint(inl)
				if k1 <= 0 || g > math.MaxUint32 || prevDoc+1+int64(g) >= normCount {
					return bad("inline postings")
				}
				inl = inl[k1:]
				var code uint32
				if c.v3 {
					if vals[j] > titleOnlyValue {
						return bad("inline values")
					}
					code = valueCode(uint32(vals[j]))
				} else {
					v, k2 := uvarint(inl)
					if k2 <= 0 || v >= 2*maxTFBody+1 {
						return bad("inline postings")
					}
					inl = inl[k2:]
					code = uint32(v) + 1
				}
				prevDoc += 1 + int64(g)
				if cmp == 0 {
					ps = append(ps, posting{uint32(prevDoc), code})
				}
			}
			if c.v3 {
				vals = vals[df:]
			}
			if cmp == 0 {
				return termInfo{df: uint32(df), inline: ps}, true, nil
			}
		} else {
			l, k := uvarint(plens)
			if k <= 0 || l == 0 || l > postLen-pos {
				return bad("postings length")
			}
			plens = plens[k:]
			if cmp == 0 {
				return termInfo{df: uint32(df), postOff: pos, postLen: l}, true, nil
			}
			pos += l
		}
		if cmp > 0 {
			break
		}
	}
	return termInfo{}, false, nil
}

// parseBlockV1 decompresses and checks a version 1 dictionary block (p
// starts at its codec byte) and indexes it.
func (rd *reader) parseBlockV1(bi uint32, p []byte, first string) (*dictBlock, error) {
	if len(p) < 1 {
		return nil, corrupt("dictionary block %d truncated", bi)
	}
	codec := p[0]
	p = p[1:]
	rawLen, k1 := uvarint(p)
	if k1 <= 0 {
		return nil, corrupt("dictionary block %d length", bi)
	}
	p = p[k1:]
	stored, k2 := uvarint(p)
	if k2 <= 0 || stored != uint64(len(p)-k2) || rawLen > maxBlockRaw {
		return nil, corrupt("dictionary block %d lengths", bi)
	}
	p = p[k2:]
	var raw []byte
	switch codec {
	case codecRaw:
		if rawLen != stored {
			return nil, corrupt("dictionary block %d raw length", bi)
		}
		raw = p
	case codecZstd:
		d, err := decoder()
		if err != nil {
			return nil, err
		}
		raw, err = d.DecodeAll(p, make([]byte, 0, rawLen))
		if err != nil || uint64(len(raw)) != rawLen {
			return nil, corrupt("dictionary block %d does not decompress (%v)", bi, err)
		}
	default:
		return nil, corrupt("dictionary block %d has unknown codec %d", bi, codec)
	}
	bad := func(what string) error { return corrupt("dictionary block %d: %s", bi, what) }
	p = raw
	uv := func() (uint64, bool) {
		v, k := uvarint(p)
		if k <= 0 {
			return 0, false
		}
		p = p[k:]
		return v, true
	}
	n, ok1 := uv()
	pos, ok2 := uv()
	// Each entry takes at least 4 bytes, which bounds n before allocating.
	if !ok1 || !ok2 || n == 0 || n > uint64(len(raw))/4 {
		return nil, bad("header")
	}
	postLen := rd.ix.h.postLen
	if pos > postLen {
		return nil, bad("postings offset")
	}
	db := newDictBlock(int(n), raw)
	prev := first
	cur := make([]byte, 0, MaxTermLen)
	for e := uint64(0); e < n; e++ {
		shared, ok1 := uv()
		sl, ok2 := uv()
		if !ok1 || !ok2 || shared > uint64(len(prev)) || sl > uint64(len(p)) || shared+sl > MaxTermLen || shared+sl == 0 {
			return nil, bad("term entry")
		}
		cur = append(append(cur[:0], prev[:shared]...), p[:sl]...)
		p = p[sl:]
		t := string(cur)
		if e == 0 && t != first || e > 0 && t <= prev {
			return nil, bad("terms out of order")
		}
		prev = t
		df, ok3 := uv()
		if !ok3 || df == 0 || df > uint64(rd.ix.h.docCount) {
			return nil, bad("document frequency")
		}
		if df <= inlineMax {
			at := uint64(len(raw) - len(p))
			prevDoc := int64(-1)
			for j := uint64(0); j < df; j++ {
				g, ok1 := uv()
				c, ok2 := uv()
				if !ok1 || !ok2 || g > math.MaxUint32 || prevDoc+1+int64(g) >= int64(rd.ix.h.normCount) || c >= 2*maxTFBody+1 {
					return nil, bad("inline postings")
				}
				prevDoc += 1 + int64(g)
			}
			db.add(t, uint32(df), at, 0)
		} else {
			l, ok := uv()
			if !ok || l > postLen-pos {
				return nil, bad("postings length")
			}
			db.add(t, uint32(df), pos, l)
			pos += l
		}
	}
	return db, nil
}

func newDictBlock(n int, inl []byte) *dictBlock {
	return &dictBlock{terms: make([]string, 0, n), df: make([]uint32, 0, n), pos: make([]uint64, 0, n),
		plen: make([]uint64, 0, n), inl: inl, size: len(inl) + n*(16+4+8+8) + 64}
}

func (db *dictBlock) add(t string, df uint32, pos, plen uint64) {
	db.terms = append(db.terms, t)
	db.df = append(db.df, df)
	db.pos = append(db.pos, pos)
	db.plen = append(db.plen, plen)
	db.size += len(t)
}

// parseBlockV2 decompresses a version 2 or 3 dictionary block (p starts at
// its term count) and checks its header and columns; lookups check the
// entries they decode (scan).
func (rd *reader) parseBlockV2(bi uint32, p []byte, first string) (*dictBlock, error) {
	bad := func(what string) error { return corrupt("dictionary block %d: %s", bi, what) }
	n, k1 := uvarint(p)
	if k1 <= 0 {
		return nil, bad("term count")
	}
	p = p[k1:]
	pos, k2 := uvarint(p)
	if k2 <= 0 {
		return nil, bad("postings offset")
	}
	p = p[k2:]
	// Each term takes at least one byte of the lens column, which bounds n
	// by the raw block cap before anything is allocated.
	if n == 0 || n > maxBlockRaw || pos > rd.ix.h.postLen {
		return nil, bad("header")
	}
	v3 := rd.ix.h.version == version
	ncols := 5
	if v3 {
		ncols = 6
	}
	budget := uint64(maxBlockRaw)
	var cols [6][]byte
	for c := range ncols {
		var err error
		if cols[c], p, err = readColumn(p, &budget); err != nil {
			return nil, bad(err.Error())
		}
	}
	if len(p) != 0 {
		return nil, bad("bytes after the last column")
	}
	if !v3 && uint64(len(cols[0])) != 2*n || v3 && (uint64(len(cols[0])) < n || uint64(len(cols[0])) > 3*n) {
		return nil, bad("lens column length")
	}
	rc := &rawColumns{first: first, n: int(n), postBase: pos, v3: v3,
		lens: cols[0], suf: cols[1], dfs: cols[2], plens: cols[3], inl: cols[4], vals: cols[5]}
	// The scan marks lookups may leave count too (about 140 bytes each).
	size := 64 + len(first) + int(n)/markEvery*140
	for _, c := range cols {
		size += len(c)
	}
	return &dictBlock{cols: rc, size: size}, nil
}

// entry decodes the entry of term j of a parsed block.
func (rd *reader) entry(bi uint32, db *dictBlock, j int) (termInfo, bool, error) {
	df := db.df[j]
	if df > inlineMax {
		return termInfo{df: df, postOff: db.pos[j], postLen: db.plen[j]}, true, nil
	}
	p := db.inl[db.pos[j]:]
	uv := func() uint64 {
		v, k := uvarint(p)
		p = p[k:] // the parse checked every varint
		return v
	}
	ps := make([]posting, 0, df)
	prevDoc := int64(-1)
	for range df {
		doc := prevDoc + 1 + int64(uv())
		ps = append(ps, posting{uint32(doc), uint32(uv()) + 1})
		prevDoc = doc
	}
	return termInfo{df: df, inline: ps}, true, nil
}

// norm returns the norm byte of doc.
func (rd *reader) norm(doc uint32) (byte, error) {
	if doc >= rd.ix.h.normCount {
		return 0, corrupt("posting for document %d beyond the norm table", doc)
	}
	pg := doc / normPage
	slot := pg % maxNormPages
	b := rd.normData[slot]
	if rd.normPg[slot] != pg+1 {
		start := uint64(pg) * normPage
		n := min(normPage, uint64(rd.ix.h.normCount)-start)
		if uint64(cap(b)) < n {
			b = make([]byte, n)
		}
		b = b[:n]
		if err := readFull(rd.ix.r, b, int64(rd.ix.h.normsOff+start)); err != nil {
			rd.normPg[slot] = 0
			return 0, fmt.Errorf("search: reading norms: %w", err)
		}
		rd.normData[slot], rd.normPg[slot] = b, pg+1
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
