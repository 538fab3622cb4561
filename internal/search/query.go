package search

import (
	"container/heap"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
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
		c := &cursor{rd: rd, ti: ti, weight: float64(qt.count) * idf, decoded: &decoded,
			win:  window{r: ix.r, start: ix.h.postOff + ti.postOff, end: ix.h.postOff + ti.postOff + ti.postLen},
			left: ti.df, prevLast: -1, impact: math.Inf(1)}
		if ti.inline == nil {
			c.win.pos = c.win.start
		}
		c.ub = c.weight * (K1 + 1)
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
	sort.Slice(curs, func(i, j int) bool { return curs[i].ub < curs[j].ub })
	cum := make([]float64, len(curs))
	for i, c := range curs {
		cum[i] = c.ub
		if i > 0 {
			cum[i] += cum[i-1]
		}
	}
	top := &hitHeap{}
	theta := 0.0
	ess := 0
	matched := 0
	exact := true
	for ess < len(curs) {
		d := uint32(0)
		found := false
		for _, c := range curs[ess:] {
			if !c.done && (!found || c.doc < d) {
				d, found = c.doc, true
			}
		}
		if !found {
			break
		}
		score := 0.0
		for _, c := range curs[ess:] {
			if !c.done && c.doc == d {
				s, err := c.score(&normDiv)
				if err != nil {
					return Results{}, err
				}
				score += s
				if err := c.next(); err != nil {
					return Results{}, err
				}
			}
		}
		skip := false
		for i := ess - 1; i >= 0; i-- {
			if top.Len() == k && score+cum[i] <= theta {
				skip = true
				break
			}
			c := curs[i]
			if top.Len() == k {
				// The bound of the block that would hold d may be far
				// below the term's: then d cannot make it, whatever the
				// lower terms add, and the block is not decoded.
				bb, err := c.blockBound(d)
				if err != nil {
					return Results{}, err
				}
				if rest := cum[i] - c.ub; score+bb+rest <= theta {
					skip = true
					break
				}
			}
			if err := c.advance(d); err != nil {
				return Results{}, err
			}
			if !c.done && c.doc == d {
				s, err := c.score(&normDiv)
				if err != nil {
					return Results{}, err
				}
				score += s
			}
		}
		matched++
		if !skip {
			if top.Len() < k {
				heap.Push(top, Hit{d, score})
			} else if score > theta {
				(*top)[0] = Hit{d, score}
				heap.Fix(top, 0)
			}
			if top.Len() == k {
				theta = (*top)[0].Score
				for ess < len(curs) && cum[ess] <= theta {
					ess++
					exact = false
				}
			}
		}
		if decoded > MaxDecoded {
			exact = false
			break
		}
	}
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
	weight  float64 // query count × idf
	ub      float64 // upper bound of this term's score contribution
	decoded *int

	doc  uint32
	code uint32
	done bool

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
	// payload, br the bit reader positioned at its values.
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
	c.doc = c.docs[c.i]
	c.i++
	return nil
}

// advance moves to the first posting with doc >= target (staying put when
// already there).
func (c *cursor) advance(target uint32) error {
	for !c.done && c.doc < target {
		if c.ti.inline == nil && c.i >= c.n && c.left > 0 {
			// The loaded block is used up: skip whole blocks below target.
			if err := c.loadBlock(target); err != nil {
				return err
			}
			if c.done {
				return nil
			}
			c.doc = c.docs[c.i]
			c.i++
			continue
		}
		if err := c.next(); err != nil {
			return err
		}
	}
	return nil
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
	c.pay = append(c.pay[:0], p...)
	var kg uint
	if c.rd.ix.h.version == version && c.ti.df <= blockSize {
		c.br = bitReader{src: c.pay}
		c.br.fill()
		c.kc = uint(c.br.acc & 7)
		c.br.acc >>= 3
		c.br.n -= 3
		kg = listRiceK(c.ti.df, c.rd.ix.h.normCount)
	} else {
		kg, c.kc = uint(c.pay[0]&31), uint(c.pay[0]>>5)
		c.br = bitReader{src: c.pay[1:]}
	}
	if !c.br.decode(c.docs[:cnt], kg) {
		return corrupt("postings gaps")
	}
	c.lazy = true
	prev := c.prevLast
	normCount := int64(c.rd.ix.h.normCount)
	for j := 0; j < int(cnt); j++ {
		d := prev + 1 + int64(c.docs[j])
		if d >= normCount {
			return corrupt("postings block content")
		}
		c.docs[j] = uint32(d)
		prev = d
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
			delta, err := c.win.uvarint()
			if err != nil {
				return false, err
			}
			plen, err := c.win.uvarint()
			if err != nil {
				return false, err
			}
			b, err := c.win.peek(1, true)
			if err != nil {
				return false, err
			}
			c.win.pos++
			base := max(c.prevLast, 0)
			last := base + int64(delta)
			if delta > math.MaxUint32 || last > math.MaxUint32 || last <= c.prevLast || (c.prevLast >= 0 && delta == 0) {
				return false, corrupt("postings block last document")
			}
			if plen == 0 || plen > maxRicePayload || plen > c.win.end-c.win.pos {
				return false, corrupt("postings block of %d bytes", plen)
			}
			c.hdr, c.hLast, c.hLen, c.hImpact = true, last, plen, impactBound(b[0])
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

// blockBound is an upper bound of this term's score for document target:
// the bound of the block that may hold it (read by its header, not
// decoded), or of the whole list when its blocks carry none.
func (c *cursor) blockBound(target uint32) (float64, error) {
	if c.done || c.ti.inline != nil || c.rd.ix.h.version == version1 || c.ti.df <= blockSize {
		return c.ub, nil
	}
	tf := 0.0
	switch {
	case c.i > 0 && c.i <= c.n && c.docs[c.n-1] >= target:
		tf = c.impact // the loaded block holds target's place
	default:
		found, err := c.shallow(target)
		if err != nil {
			return 0, err
		}
		if !found {
			return 0, nil
		}
		tf = c.hImpact
	}
	if math.IsInf(tf, 1) {
		return c.ub, nil
	}
	return c.weight * tf * (K1 + 1) / (tf + K1), nil
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
