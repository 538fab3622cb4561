package search

import (
	"container/heap"
	"encoding/binary"
	"fmt"
	"math"
)

// Ranking constants (BM25F with per-field weights; docs/search-index.md).
const (
	K1          = 1.2 // term frequency saturation
	B           = 0.5 // body length normalisation (0.5 beat 0.3, 0.75 and 0.9 on KorQuAD)
	TitleWeight = 3.0 // a title occurrence counts as this many body occurrences
)

// Query limits that bound the work and memory of one search.
const (
	MaxQueryTerms = 32        // distinct query terms used; the rest are ignored
	MaxResults    = 10000     // offset+limit larger than this is an error
	MaxDecoded    = 4_000_000 // postings decoded per query before stopping early
)

// Results is one page of search results.
type Results struct {
	Hits []Hit
	// Total is the number of matching documents. It is exact when Exact is
	// set; otherwise (when ranking skipped documents that could not reach
	// the top, or MaxDecoded was reached) it is an estimate: at least the
	// largest document frequency of any query term.
	Total int
	Exact bool
}

// Hit is one matching document.
type Hit struct {
	Doc   uint32
	Score float64
}

// Search ranks the documents matching query (any of its terms) and returns
// hits offset..offset+limit-1. Memory is bounded: each query term holds one
// decoded block of postings at a time.
func (ix *Index) Search(query string, offset, limit int) (Results, error) {
	if offset < 0 || limit < 0 || offset > MaxResults || limit > MaxResults-offset {
		return Results{}, fmt.Errorf("search: offset %d and limit %d out of range (0..%d)", offset, limit, MaxResults)
	}
	qterms := queryTerms(query)
	if len(qterms) == 0 || ix.h.docCount == 0 {
		return Results{Exact: true}, nil
	}
	rd := ix.newReader()
	normDiv := normDivisors(ix.avgdl)
	var decoded int
	var curs []*cursor
	maxDF := 0
	n := float64(ix.h.docCount)
	for _, qt := range qterms {
		ti, ok, err := rd.lookup(qt.term)
		if err != nil {
			return Results{}, err
		}
		if !ok {
			continue
		}
		df := float64(ti.df)
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		c := &cursor{rd: rd, ti: ti, q: len(curs), weight: float64(qt.count) * idf, decoded: &decoded,
			win:  window{r: ix.r, start: ix.h.postOff + ti.postOff, end: ix.h.postOff + ti.postOff + ti.postLen},
			left: ti.df, prevLast: -1, impact: math.Inf(1)}
		if ti.inline == nil {
			c.win.pos = c.win.start
		}
		c.ub = c.weight * (K1 + 1)
		c.multi = ti.inline == nil && ix.h.version != version1 && ti.df > blockSize
		maxDF = max(maxDF, int(ti.df))
		if err := c.next(); err != nil {
			return Results{}, err
		}
		curs = append(curs, c)
	}
	if len(curs) == 0 {
		return Results{Exact: true}, nil
	}
	k := offset + limit
	if k == 0 {
		k = 1 // still rank one so Total has meaning
	}
	e := evaluation{curs: curs, k: k, normDiv: &normDiv, decoded: &decoded, exact: true}
	if err := e.run(); err != nil {
		return Results{}, err
	}
	top, matched, exact := &e.top, e.matched, e.exact
	hits := make([]Hit, top.Len())
	for i := len(hits) - 1; i >= 0; i-- {
		hits[i] = heap.Pop(top).(Hit)
	}
	res := Results{Total: matched, Exact: exact}
	if !exact {
		res.Total = max(matched, maxDF)
	}
	if offset < len(hits) {
		res.Hits = hits[offset:min(len(hits), offset+limit)]
	}
	return res, nil
}

type queryTerm struct {
	term  string
	count int
}

// queryTerms analyses a query: distinct terms in order of first
// appearance, at most MaxQueryTerms, with their repeat counts.
func queryTerms(q string) []queryTerm {
	var out []queryTerm
	idx := map[string]int{}
	for _, t := range Terms(q) {
		if i, ok := idx[t]; ok {
			out[i].count++
			continue
		}
		if len(out) == MaxQueryTerms {
			continue
		}
		idx[t] = len(out)
		out = append(out, queryTerm{t, 1})
	}
	return out
}

// hitHeap is a min-heap: the root is the worst hit kept (lowest score,
// and among equal scores the highest doc id).
type hitHeap []Hit

func (h hitHeap) Len() int { return len(h) }
func (h hitHeap) Less(i, j int) bool {
	if h[i].Score != h[j].Score {
		return h[i].Score < h[j].Score
	}
	return h[i].Doc > h[j].Doc
}
func (h hitHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(x any)   { *h = append(*h, x.(Hit)) }
func (h *hitHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// window reads a term's postings through the ReaderAt in small chunks.
type window struct {
	r interface {
		ReadAt([]byte, int64) (int, error)
	}
	start, end uint64 // absolute bounds of the term's postings
	pos        uint64
	buf        []byte
	bufOff     uint64
}

const windowChunk = 4096

// peek returns n bytes at pos (fewer only if want is a maximum and the
// postings end first).
func (w *window) peek(n uint64, exact bool) ([]byte, error) {
	if w.pos > w.end {
		return nil, corrupt("postings overrun")
	}
	avail := w.end - w.pos
	if n > avail {
		if exact {
			return nil, corrupt("postings truncated")
		}
		n = avail
	}
	if w.pos >= w.bufOff && w.pos+n <= w.bufOff+uint64(len(w.buf)) {
		return w.buf[w.pos-w.bufOff : w.pos-w.bufOff+n], nil
	}
	size := min(max(n, windowChunk), avail)
	if uint64(cap(w.buf)) < size {
		w.buf = make([]byte, size)
	}
	w.buf = w.buf[:size]
	if err := readFull(w.r, w.buf, int64(w.pos)); err != nil {
		return nil, fmt.Errorf("search: reading postings: %w", err)
	}
	w.bufOff = w.pos
	return w.buf[:n], nil
}

func (w *window) uvarint() (uint64, error) {
	b, err := w.peek(binary.MaxVarintLen64, false)
	if err != nil {
		return 0, err
	}
	v, k := uvarint(b)
	if k <= 0 {
		return 0, corrupt("bad varint in postings")
	}
	w.pos += uint64(k)
	return v, nil
}

// cursor walks one term's postings in doc order.
type cursor struct {
	rd      *reader
	ti      termInfo
	q       int     // the term's place in the query
	weight  float64 // query count × idf
	ub      float64 // upper bound of this term's score contribution
	multi   bool    // a list of several blocks, each with its bound
	decoded *int

	doc  uint32
	code uint32
	done bool
	// gap is set when the postings of the loaded block are used up and
	// the next block is not loaded yet (doc is then the last one used).
	gap bool

	// The block that may hold the window's first document: its last
	// document (end; the largest uint32 when the list has no block
	// bounds) and its tf̃ bound (etf). wb bounds the term's score over the
	// whole window, cb in what is left of it, as the evaluation last set
	// them.
	end    uint32
	etf    float64
	wb, cb float64
	edged  bool // end and etf are set

	// Headers of the blocks after the one at end, read ahead to bound a
	// window that spans several of them, through their own read window.
	ahead []blockHead
	look  window

	// block state
	win      window
	left     uint32 // postings not yet loaded into docs/codes
	prevLast int64  // last doc of the previous block, -1 before the first
	docs     [blockSize]uint32
	codes    [blockSize]uint32
	n, i     int // postings loaded, and the next one to return

	// Version 2 lists of several blocks: the header of the next block,
	// read but not decoded yet (hdr), and the tf̃ bound of the block
	// loaded (impact) and of the one read ahead (hImpact).
	hdr     bool
	hLast   int64
	hLen    uint64
	hImpact float64
	impact  float64

	// Versions 2 and 3: the values of the loaded block are decoded only
	// when one of its postings is scored (lazy): a probe that finds no
	// document in the block never decodes them. pay holds the block's
	// payload and the reader's zero padding, br the bit reader
	// positioned at its values.
	pay  []byte
	br   bitReader
	kc   uint
	lazy bool
}

// next moves to the following posting.
func (c *cursor) next() error {
	if c.ti.inline != nil {
		if c.i >= len(c.ti.inline) {
			c.done = true
			return nil
		}
		c.doc, c.code = c.ti.inline[c.i].doc, c.ti.inline[c.i].code
		c.i++
		*c.decoded++
		return nil
	}
	if c.i >= c.n {
		if err := c.loadBlock(0); err != nil {
			return err
		}
		if c.done {
			return nil
		}
	}
	c.gap = false
	c.doc = c.docs[c.i]
	c.i++
	return nil
}

// step moves to the following posting like next, but at the end of a
// block of a list with block bounds that ends at or after hi it leaves the
// next block unloaded (gap): the evaluation may not need it.
func (c *cursor) step(hi uint32) error {
	if c.multi && c.i >= c.n && c.left > 0 && c.docs[c.n-1] >= hi {
		c.gap = true
		return nil
	}
	return c.next()
}

// edge sets c.end and c.etf for a window that starts at lo: the last doc
// and tf̃ bound of the block that may hold lo, read by its header if it
// is not the loaded one. A list whose blocks are all below lo is done.
// Lists without block bounds have one edge at the end of the doc ids.
func (c *cursor) edge(lo uint32) error {
	if c.edged && c.end >= lo {
		return nil // still the same block
	}
	c.edged = true
	if !c.multi {
		c.end, c.etf = math.MaxUint32, math.Inf(1)
		return nil
	}
	if c.n > 0 && c.docs[c.n-1] >= lo && c.i > 0 {
		c.end, c.etf = c.docs[c.n-1], c.impact
		return nil
	}
	found, err := c.shallow(lo)
	if err != nil {
		return err
	}
	if !found {
		c.done = true
		return nil
	}
	c.end, c.etf = uint32(c.hLast), c.hImpact
	return nil
}

// sat is a term's score for tf̃ tf: an upper bound of it for a bound of tf.
func (c *cursor) sat(tf float64) float64 {
	if math.IsInf(tf, 1) {
		return c.ub
	}
	return c.weight * tf * (K1 + 1) / (tf + K1)
}

// advance moves to the first posting with doc >= target (staying put when
// already there; target must lie beyond the postings already used when
// the cursor is in a gap).
func (c *cursor) advance(target uint32) error {
	if c.done || !c.gap && c.doc >= target {
		return nil
	}
	if c.ti.inline != nil {
		for c.i < len(c.ti.inline) && c.ti.inline[c.i].doc < target {
			c.i++
			*c.decoded++
		}
		return c.next()
	}
	for {
		// Within the loaded block, a scan; past it, whole blocks below
		// target are skipped by their headers.
		for c.i < c.n && c.docs[c.i] < target {
			c.i++
		}
		if c.i < c.n {
			c.gap = false
			c.doc = c.docs[c.i]
			c.i++
			return nil
		}
		if err := c.loadBlock(target); err != nil {
			return err
		}
		if c.done {
			return nil
		}
	}
}

// loadBlock decodes the next block whose last doc is >= target, skipping
// the blocks before it without decoding them.
func (c *cursor) loadBlock(target uint32) error {
	if c.rd.ix.h.version == version1 {
		return c.loadBlockV1(target)
	}
	if c.left == 0 {
		c.done = true
		return nil
	}
	cnt := min(c.left, blockSize)
	last := int64(-1) // unknown: a list of one block has no header
	var plen uint64
	c.impact = math.Inf(1)
	if c.ti.df > blockSize {
		found, err := c.shallow(target)
		if err != nil {
			return err
		}
		if !found {
			c.done = true
			return nil
		}
		cnt = min(c.left, blockSize)
		last, plen, c.impact = c.hLast, c.hLen, c.hImpact
		c.hdr = false
	} else {
		plen = c.win.end - c.win.pos
		if plen > maxRicePayload {
			return corrupt("postings block of %d bytes", plen)
		}
	}
	p, err := c.win.peek(plen, true)
	if err != nil {
		return err
	}
	c.win.pos += plen
	if len(p) < 1 || len(p) > maxRicePayload {
		return corrupt("postings block of %d bytes", len(p))
	}
	// The payload is kept (the window may be refilled before the values
	// are decoded) and only its gaps decoded now.
	var kg uint
	if c.rd.ix.h.version == version && c.ti.df <= blockSize {
		c.br = newBitReader(c.pay, p)
		c.pay = c.br.src
		c.br.fill()
		c.kc = uint(c.br.acc & 7)
		c.br.acc >>= 3
		c.br.n -= 3
		kg = listRiceK(c.ti.df, c.rd.ix.h.normCount)
	} else {
		kg, c.kc = uint(p[0]&31), uint(p[0]>>5)
		c.br = newBitReader(c.pay, p[1:])
		c.pay = c.br.src
	}
	if !c.br.decode(c.docs[:cnt], kg) {
		return corrupt("postings gaps")
	}
	c.lazy = true
	// Docs strictly increase (gaps < 2³², no overflow in int64), so the
	// last one alone is checked against normCount.
	prev := c.prevLast
	for j, g := range c.docs[:cnt] {
		prev += 1 + int64(g)
		c.docs[j] = uint32(prev)
	}
	if prev >= int64(c.rd.ix.h.normCount) {
		return corrupt("postings block content")
	}
	if last >= 0 && prev != last {
		return corrupt("postings block does not end at its last document")
	}
	c.prevLast = prev
	c.left -= cnt
	c.n, c.i = int(cnt), 0
	*c.decoded += int(cnt)
	if c.left == 0 && c.win.pos != c.win.end {
		return corrupt("postings longer than their blocks")
	}
	return nil
}

// shallow reads block headers of a version 2 list of several blocks, past
// every block whose last doc is below target, without decoding them; the
// header of the first block that may hold target is then in c.h*. found
// is false when no block is left.
func (c *cursor) shallow(target uint32) (found bool, err error) {
	for {
		if !c.hdr {
			if c.left == 0 {
				return false, nil
			}
			var h blockHead
			if len(c.ahead) > 0 {
				h = c.ahead[0]
				c.ahead = c.ahead[:copy(c.ahead, c.ahead[1:])]
			} else if h, err = readHead(&c.win, c.prevLast); err != nil {
				return false, err
			}
			c.win.pos = h.pos
			c.hdr, c.hLast, c.hLen, c.hImpact = true, h.last, h.plen, h.impact
		}
		if c.hLast >= int64(target) {
			return true, nil
		}
		c.win.pos += c.hLen
		c.prevLast = c.hLast
		c.left -= min(c.left, blockSize)
		c.hdr = false
	}
}

// blockHead is a block header read ahead: the block's last doc, its
// payload's place and length, and its tf̃ bound.
type blockHead struct {
	last   int64
	pos    uint64
	plen   uint64
	impact float64
}

// readHead reads the header of the block that follows the block ending
// at prevLast (-1 before the first) at w.pos, checks it and leaves w.pos
// at its payload.
func readHead(w *window, prevLast int64) (blockHead, error) {
	delta, err := w.uvarint()
	if err != nil {
		return blockHead{}, err
	}
	plen, err := w.uvarint()
	if err != nil {
		return blockHead{}, err
	}
	b, err := w.peek(1, true)
	if err != nil {
		return blockHead{}, err
	}
	w.pos++
	last := max(prevLast, 0) + int64(delta)
	if delta > math.MaxUint32 || last > math.MaxUint32 || last <= prevLast || (prevLast >= 0 && delta == 0) {
		return blockHead{}, corrupt("postings block last document")
	}
	if plen == 0 || plen > maxRicePayload || plen > w.end-w.pos {
		return blockHead{}, corrupt("postings block of %d bytes", plen)
	}
	return blockHead{last: last, pos: w.pos, plen: plen, impact: impactBound(b[0])}, nil
}

// maxAhead bounds the headers a cursor reads ahead (and so the memory of
// one query term): a window ends where the lookahead of any list stops.
const maxAhead = 64

// lookahead returns the largest tf̃ bound of the blocks after the one that
// may hold the window's first doc (c.end) up to the first whose last doc
// is >= hi, reading their headers ahead as needed, and the last doc it
// could bound: hi, or less when the list's headers read ahead reached
// maxAhead.
func (c *cursor) lookahead(hi uint32) (tf float64, upTo uint32, err error) {
	prev := int64(c.end)
	for _, h := range c.ahead {
		if prev >= int64(hi) {
			return tf, hi, nil
		}
		tf = max(tf, h.impact)
		prev = h.last
	}
	// Blocks after the one at c.end not read ahead yet.
	blocks := (c.left + blockSize - 1) / blockSize
	if c.hdr {
		blocks--
	}
	blocks -= uint32(len(c.ahead))
	for prev < int64(hi) && blocks > 0 {
		if len(c.ahead) == maxAhead {
			return tf, uint32(prev), nil
		}
		if c.look.r == nil {
			c.look = window{r: c.win.r, start: c.win.start, end: c.win.end}
		}
		switch {
		case len(c.ahead) > 0:
			a := c.ahead[len(c.ahead)-1]
			c.look.pos = a.pos + a.plen
		case c.hdr:
			c.look.pos = c.win.pos + c.hLen
		default:
			c.look.pos = c.win.pos
		}
		h, err := readHead(&c.look, prev)
		if err != nil {
			return 0, 0, err
		}
		c.ahead = append(c.ahead, h)
		tf = max(tf, h.impact)
		prev = h.last
		blocks--
	}
	return tf, hi, nil
}

// loadBlockV1 is loadBlock for version 1 postings (bit-packed blocks, each
// with its header).
func (c *cursor) loadBlockV1(target uint32) error {
	for c.left > 0 {
		cnt := min(c.left, blockSize)
		delta, err := c.win.uvarint()
		if err != nil {
			return err
		}
		plen, err := c.win.uvarint()
		if err != nil {
			return err
		}
		base := max(c.prevLast, 0)
		last := base + int64(delta)
		if delta > math.MaxUint32 || last > math.MaxUint32 || last <= c.prevLast || (c.prevLast >= 0 && delta == 0) {
			return corrupt("postings block last document")
		}
		if plen > 2+2*uint64(packedLen(blockSize, 32)) {
			return corrupt("postings block of %d bytes", plen)
		}
		if last < int64(target) {
			if plen > c.win.end-c.win.pos {
				return corrupt("postings truncated")
			}
			c.win.pos += plen
			c.prevLast = last
			c.left -= cnt
			continue
		}
		p, err := c.win.peek(plen, true)
		if err != nil {
			return err
		}
		c.win.pos += plen
		if len(p) < 1 || p[0] > 32 {
			return corrupt("postings bit width")
		}
		wg := p[0]
		lg := packedLen(int(cnt), wg)
		if len(p) < 1+lg+1 || p[1+lg] > 32 {
			return corrupt("postings block layout")
		}
		wc := p[1+lg]
		lc := packedLen(int(cnt), wc)
		if len(p) != 2+lg+lc {
			return corrupt("postings block length")
		}
		unpackBits(c.docs[:cnt], p[1:1+lg], wg)
		unpackBits(c.codes[:cnt], p[2+lg:], wc)
		prev := c.prevLast
		for j := 0; j < int(cnt); j++ {
			d := prev + 1 + int64(c.docs[j])
			if d > last || c.codes[j] > 2*maxTFBody {
				return corrupt("postings block content")
			}
			c.docs[j] = uint32(d)
			c.codes[j]++
			prev = d
		}
		if prev != last {
			return corrupt("postings block does not end at its last document")
		}
		c.prevLast = last
		c.left -= cnt
		c.n, c.i = int(cnt), 0
		*c.decoded += int(cnt)
		return nil
	}
	c.done = true
	return nil
}

// values decodes the values of the loaded block if they are still
// pending, checks the block ends with them and turns them into codes.
func (c *cursor) values() error {
	if !c.lazy {
		return nil
	}
	c.lazy = false
	if !c.br.decode(c.codes[:c.n], c.kc) {
		return corrupt("postings values")
	}
	if err := c.br.finish(); err != nil {
		return corrupt("%v", err)
	}
	v3 := c.rd.ix.h.version == version
	for j, v := range c.codes[:c.n] {
		if v > 2*maxTFBody {
			return corrupt("postings block content")
		}
		if v3 {
			c.codes[j] = valueCode(v)
		} else {
			c.codes[j] = v + 1
		}
	}
	return nil
}

// score is the BM25F contribution of the current posting.
func (c *cursor) score(normDiv *[256]float64) (float64, error) {
	q, err := c.rd.norm(c.doc)
	if err != nil {
		return 0, err
	}
	code := c.code
	if c.ti.inline == nil {
		if err := c.values(); err != nil {
			return 0, err
		}
		code = c.codes[c.i-1]
	}
	tf := tfNorm(code, normDiv[q])
	if tf > c.impact {
		return 0, corrupt("posting of document %d exceeds its block's bound", c.doc)
	}
	return c.weight * tf * (K1 + 1) / (tf + K1), nil
}

// tfNorm is tf̃ of docs/search-index.md for a posting's code and its
// document's length divisor: the builder computes block bounds with it,
// the reader scores with it.
func tfNorm(code uint32, div float64) float64 {
	tf := float64(code>>1) / div
	if code&1 != 0 {
		tf += TitleWeight
	}
	return tf
}

// normDivisors returns 1 − B + B × L'(q) / avgdl for every norm byte q.
func normDivisors(avgdl float64) [256]float64 {
	var d [256]float64
	for q := range d {
		d[q] = 1 - B
		if avgdl > 0 {
			d[q] += B * normLen(byte(q)) / avgdl
		}
	}
	return d
}

// impactBound is the tf̃ bound a block header's impact byte stands for.
func impactBound(b byte) float64 {
	if b == 255 {
		return math.Inf(1)
	}
	return float64(b) / 4
}

// impactByte is the smallest impact byte whose bound is at least tf.
func impactByte(tf float64) byte {
	q := math.Ceil(tf * 4 * (1 + 1.0/(1<<20)))
	if q > 254 || math.IsNaN(q) {
		return 255
	}
	return byte(q)
}
