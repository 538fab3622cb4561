package search

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"

	"ferry/internal/scratch"
)

// Builder collects documents at pack time and writes the index bytes.
//
// Add is safe for concurrent use: it analyses the text without holding a
// lock and merges the result under one. Callers that want to control the
// parallelism themselves may call Analyze from many goroutines and
// AddAnalyzed from any (it locks too).
//
// Memory: postings are kept as varint byte strings per term (about 2-4 bytes
// per distinct term per document) plus one map entry per distinct term and
// one byte per document id up to the largest; docs/search-index.md gives the
// measured cost per input byte.
type Builder struct {
	// SpillBytes bounds the postings held in memory (an estimate, in
	// bytes): past it, they are written as a sorted run to a temporary file
	// in SpillDir (default os.TempDir()) and WriteTo merges the runs. Zero
	// means DefaultSpillBytes; negative, never spill. Set before the first
	// Add.
	SpillBytes int64
	SpillDir   string

	mu          sync.Mutex
	terms       map[string]*plist
	mem         int64 // estimated bytes held by terms
	runs        []*run
	norms       []byte   // norm byte per doc id
	present     []uint64 // bit set of doc ids added
	docCount    uint32
	totalTokens uint64
	err         error
}

// DefaultSpillBytes is the estimated postings memory a Builder holds before
// it spills a sorted run to disk. The estimate counts the postings' bytes
// and a fixed cost per term; the heap actually held is about 2.5 times it
// (slice growth, the map), so a Builder stays near 80 MB however much text
// it is given (it was 256 MiB, 650 MB of heap, before packs of several GB
// had to fit beside a 1 GB budget). About 12 MB of text fill it; WriteTo
// merges the runs with a heap, so hundreds of runs cost little.
const DefaultSpillBytes = 32 << 20

// termOverhead estimates the memory of one term's map entry and list
// header, besides the term and its postings.
const termOverhead = 96

type plist struct {
	buf  []byte // (uvarint doc, uvarint code) pairs in arrival order
	n    uint32
	last uint32 // last doc appended; sorted stays true while docs ascend
	uns  bool   // docs arrived out of order
}

// NewBuilder returns an empty Builder.
func NewBuilder() *Builder {
	return &Builder{terms: make(map[string]*plist)}
}

// Analyzed is one document's terms, ready for AddAnalyzed.
type Analyzed struct {
	doc     uint32
	bodyLen int
	terms   []termCode
}

type termCode struct {
	term string
	code uint32 // tfBody*2 + inTitle, tfBody capped at maxTFBody
}

// Analyze tokenises one document. It is pure and may run in parallel.
// title is the human title (e.g. "김정남 (조선민주주의인민공화국)"), body the
// visible text.
func Analyze(doc uint32, title, body string) *Analyzed {
	var t tokenizer
	counts := make(map[string]uint32)
	n := 0
	t.tokenize(body, func(term []byte, _, _ int) {
		n++
		if c := counts[string(term)]; c < maxTFBody*2 {
			counts[string(term)] = c + 2
		}
	})
	t.tokenize(title, func(term []byte, _, _ int) {
		c, ok := counts[string(term)]
		if !ok {
			counts[string(term)] = 1
		} else {
			counts[string(term)] = c | 1
		}
	})
	a := &Analyzed{doc: doc, bodyLen: n, terms: make([]termCode, 0, len(counts))}
	for term, c := range counts {
		a.terms = append(a.terms, termCode{term, c})
	}
	return a
}

// Add analyses and adds one document. Each doc id may be added only once;
// a second Add of the same id makes WriteTo fail with ErrDuplicateDoc.
func (b *Builder) Add(doc uint32, title, body string) {
	b.AddAnalyzed(Analyze(doc, title, body))
}

// AddAnalyzed adds a document analysed by Analyze.
func (b *Builder) AddAnalyzed(a *Analyzed) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return // WriteTo reports it; keep no more
	}
	if a.doc == math.MaxUint32 {
		// The norm table holds largest id + 1 entries in a uint32.
		if b.err == nil {
			b.err = fmt.Errorf("search: document id %d is reserved", a.doc)
		}
		return
	}
	d := int(a.doc)
	if w := d/64 + 1; w > len(b.present) {
		b.present = slices.Grow(b.present, w-len(b.present))[:w]
	}
	if b.present[d/64]&(1<<(d%64)) != 0 {
		if b.err == nil {
			b.err = fmt.Errorf("%w: doc %d", ErrDuplicateDoc, a.doc)
		}
		return
	}
	b.present[d/64] |= 1 << (d % 64)
	if d >= len(b.norms) {
		b.norms = slices.Grow(b.norms, d+1-len(b.norms))[:d+1]
	}
	b.norms[d] = normByte(a.bodyLen)
	b.docCount++
	b.totalTokens += uint64(a.bodyLen)
	for _, tc := range a.terms {
		p := b.terms[tc.term]
		if p == nil {
			p = &plist{}
			b.terms[strings.Clone(tc.term)] = p
			b.mem += int64(len(tc.term)) + termOverhead
		} else if a.doc < p.last {
			p.uns = true
		}
		n := len(p.buf)
		p.buf = binary.AppendUvarint(p.buf, uint64(a.doc))
		p.buf = binary.AppendUvarint(p.buf, uint64(tc.code))
		b.mem += int64(len(p.buf) - n)
		p.n++
		p.last = a.doc
	}
	if limit := b.spillLimit(); limit > 0 && b.mem > limit && b.err == nil {
		b.err = b.spill()
	}
}

// Spill writes the postings held in memory to a sorted run on disk, as
// Add does when they pass SpillBytes, so that they take no memory while
// the caller does other work before WriteTo (a packer compressing its
// clusters: up to 2.5 × SpillBytes of heap otherwise, whatever the size
// of the pack). It does nothing when the Builder never spills
// (SpillBytes < 0) or holds less than an eighth of SpillBytes, so small
// builds stay in memory. The index written is the same either way.
func (b *Builder) Spill() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	if limit := b.spillLimit(); limit > 0 && b.mem >= limit/8 && len(b.terms) > 0 {
		b.err = b.spill()
	}
	return b.err
}

func (b *Builder) spillLimit() int64 {
	if b.SpillBytes == 0 {
		return DefaultSpillBytes
	}
	return b.SpillBytes
}

// run is a sorted run of postings spilled to a temporary file: for each
// term in byte order, uvarint length, term, uvarint count, then count
// (uvarint doc, uvarint code) pairs in doc order. It holds no buffer until
// WriteTo reads it back (see mergeBufferBytes).
type run struct {
	f *scratch.File
}

// mergeBufferBytes is what WriteTo gives all spilled runs' read buffers
// together: each run gets an equal share, 4 KiB to 64 KiB, so that a
// build of hundreds of runs (a pack of several GB) holds about as much as
// one of a few dozen.
const mergeBufferBytes = 4 << 20

// runBufferSize is each run's read buffer when runs are merged.
func runBufferSize(runs int) int {
	return min(64<<10, max(4<<10, mergeBufferBytes/max(runs, 1)))
}

// spill writes the postings in memory to a new run and empties the map.
func (b *Builder) spill() error {
	f, err := scratch.New(b.SpillDir, "ferry-index-*.run")
	if err != nil {
		return fmt.Errorf("search: spilling the index to disk: %w", err)
	}
	r := &run{f: f}
	b.runs = append(b.runs, r)
	w := bufio.NewWriterSize(f, 1<<20)
	c := newMemCursor(b.terms)
	var tmp []byte
	for c.ok {
		tmp = binary.AppendUvarint(tmp[:0], uint64(len(c.term)))
		tmp = append(tmp, c.term...)
		tmp = binary.AppendUvarint(tmp, uint64(len(c.ps)))
		for _, q := range c.ps {
			tmp = binary.AppendUvarint(tmp, uint64(q.doc))
			tmp = binary.AppendUvarint(tmp, uint64(q.code))
		}
		w.Write(tmp)
		c.advance()
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("search: spilling the index to disk: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("search: spilling the index to disk: %w", err)
	}
	b.terms = make(map[string]*plist)
	b.mem = 0
	return nil
}

// Close releases the temporary files of spilled runs. WriteTo calls it;
// a caller that abandons a Builder should.
func (b *Builder) Close() error {
	var first error
	for _, r := range b.runs {
		if err := r.f.Close(); err != nil && first == nil {
			first = err
		}
	}
	b.runs = nil
	return first
}

// A termCursor walks terms in byte order with their postings in doc order.
type termCursor interface {
	current() (term string, ps []posting, ok bool)
	advance() error
}

// memCursor walks the map, freeing each list as it goes.
type memCursor struct {
	terms map[string]*plist
	keys  []string
	i     int
	term  string
	ps    []posting
	ok    bool
}

func newMemCursor(terms map[string]*plist) *memCursor {
	keys := make([]string, 0, len(terms))
	for k := range terms {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	c := &memCursor{terms: terms, keys: keys}
	c.advance()
	return c
}

func (c *memCursor) current() (string, []posting, bool) { return c.term, c.ps, c.ok }

func (c *memCursor) advance() error {
	if c.i >= len(c.keys) {
		c.ok = false
		return nil
	}
	k := c.keys[c.i]
	c.i++
	p := c.terms[k]
	c.ps = decodePlist(c.ps[:0], p)
	if p.uns {
		slices.SortFunc(c.ps, func(x, y posting) int { return cmp.Compare(x.doc, y.doc) })
	}
	delete(c.terms, k)
	c.term, c.ok = k, true
	return nil
}

// runCursor reads a spilled run.
type runCursor struct {
	r    *bufio.Reader
	term string
	ps   []posting
	ok   bool
}

func (c *runCursor) current() (string, []posting, bool) { return c.term, c.ps, c.ok }

func (c *runCursor) advance() error {
	bad := func(err error) error {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("search: reading a spilled run back: %w", err)
	}
	n, err := binary.ReadUvarint(c.r)
	if err == io.EOF {
		c.ok = false
		return nil
	}
	if err != nil || n > MaxTermLen {
		return bad(cmp.Or(err, errors.New("term too long")))
	}
	t := make([]byte, n)
	if _, err := io.ReadFull(c.r, t); err != nil {
		return bad(err)
	}
	cnt, err := binary.ReadUvarint(c.r)
	if err != nil || cnt > math.MaxUint32 {
		return bad(cmp.Or(err, errors.New("count too large")))
	}
	c.ps = c.ps[:0]
	for range cnt {
		d, err := binary.ReadUvarint(c.r)
		if err != nil {
			return bad(err)
		}
		k, err := binary.ReadUvarint(c.r)
		if err != nil {
			return bad(err)
		}
		c.ps = append(c.ps, posting{uint32(d), uint32(k)})
	}
	c.term, c.ok = string(t), true
	return nil
}

// merged walks the union of the cursors: each term once, with the
// postings of every cursor that has it, in doc order. The cursors are kept
// in a heap by their current term, so a build of many spilled runs costs
// log(runs), not runs, per term.
type merged struct {
	h    cursorHeap
	term string
	ps   []posting
	ok   bool
}

func newMerged(cs []termCursor) *merged {
	m := &merged{}
	for _, c := range cs {
		if _, _, ok := c.current(); ok {
			m.h = append(m.h, c)
		}
	}
	heap.Init(&m.h)
	return m
}

func (m *merged) current() (string, []posting, bool) { return m.term, m.ps, m.ok }

func (m *merged) advance() error {
	if len(m.h) == 0 {
		m.ok = false
		return nil
	}
	t, _, _ := m.h[0].current()
	m.term, m.ok = t, true
	m.ps = m.ps[:0]
	sorted := true
	for len(m.h) > 0 {
		c := m.h[0]
		ct, ps, _ := c.current()
		if ct != m.term {
			break
		}
		if len(m.ps) > 0 && len(ps) > 0 && ps[0].doc < m.ps[len(m.ps)-1].doc {
			sorted = false
		}
		m.ps = append(m.ps, ps...)
		if err := c.advance(); err != nil {
			return err
		}
		if _, _, ok := c.current(); ok {
			heap.Fix(&m.h, 0)
		} else {
			heap.Pop(&m.h)
		}
	}
	if !sorted {
		slices.SortFunc(m.ps, func(x, y posting) int { return cmp.Compare(x.doc, y.doc) })
	}
	return nil
}

type cursorHeap []termCursor

func (h cursorHeap) Len() int { return len(h) }
func (h cursorHeap) Less(i, j int) bool {
	a, _, _ := h[i].current()
	b, _, _ := h[j].current()
	return a < b
}
func (h cursorHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)   { *h = append(*h, x.(termCursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

type posting struct {
	doc  uint32
	code uint32
}

// WriteTo writes the index (docs/search-index.md) to w. The Builder must not
// be used afterwards: WriteTo frees postings as it writes them.
func (b *Builder) WriteTo(w io.Writer) (int64, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	cw := &countWriter{w: bufio.NewWriterSize(w, 1<<16)}
	h := header{docCount: b.docCount, normCount: uint32(len(b.norms)), totalTokens: b.totalTokens}
	cw.Write(b.norms)

	defer b.Close()
	var terms termCursor = newMemCursor(b.terms)
	if len(b.runs) > 0 {
		cs := []termCursor{terms}
		size := runBufferSize(len(b.runs))
		for _, r := range b.runs {
			c := &runCursor{r: bufio.NewReaderSize(r.f, size)}
			if err := c.advance(); err != nil {
				return 0, err
			}
			cs = append(cs, c)
		}
		m := newMerged(cs)
		if err := m.advance(); err != nil {
			return 0, err
		}
		terms = m
	}
	h.postOff = cw.n

	// Block bounds (impact bytes) use the ranking's length divisors.
	var avgdl float64
	if b.docCount > 0 {
		avgdl = float64(b.totalTokens) / float64(b.docCount)
	}
	normDiv := normDivisors(avgdl)

	// Pass 1: postings, streamed; dictionary blocks built in memory (they
	// are far smaller than the postings).
	// "Better", not "best": 2% larger dictionary columns, but 5 MB of
	// encoder tables instead of 34 MB when the merge needs memory most.
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return 0, err
	}
	defer enc.Close()
	// Finished dictionary blocks wait in a temporary file until the
	// postings are written (a large archive's dictionary is tens of MB).
	df, err := scratch.New(b.SpillDir, "ferry-index-*.dict")
	if err != nil {
		return 0, fmt.Errorf("search: temporary file for the dictionary: %w", err)
	}
	defer df.Close()
	dw := bufio.NewWriterSize(df, 256<<10)
	var (
		dictLen  uint64   // bytes of finished blocks
		blockBuf []byte   // the block being finished
		offsets  []uint64 // block starts in the dictionary
		blk      dictColumns
		first    string
		prev     string
		blockPos uint64 // postings offset at the open block's start
		pbuf     []byte
	)
	closeBlock := func() {
		if blk.n == 0 {
			return
		}
		offsets = append(offsets, dictLen)
		d := binary.AppendUvarint(blockBuf[:0], uint64(len(first)))
		d = append(d, first...)
		d = binary.AppendUvarint(d, uint64(blk.n))
		d = binary.AppendUvarint(d, blockPos)
		for _, col := range blk.columns() {
			d = appendColumn(d, enc, col)
		}
		dw.Write(d) // errors surface at Flush
		dictLen += uint64(len(d))
		blockBuf = d
		blk.reset()
	}
	for {
		k, ps, ok := terms.current()
		if !ok {
			break
		}
		h.termCount++
		if blk.n == 0 {
			first, prev = k, k
			blockPos = cw.n - h.postOff
		}
		shared := commonPrefix(prev, k)
		blk.lens = appendLens(blk.lens, shared, len(k)-shared)
		blk.suffixes = append(blk.suffixes, k[shared:]...)
		blk.dfs = binary.AppendUvarint(blk.dfs, uint64(len(ps)))
		if len(ps) <= inlineMax {
			prevDoc := int64(-1)
			for _, q := range ps {
				blk.gaps = binary.AppendUvarint(blk.gaps, uint64(int64(q.doc)-prevDoc-1))
				blk.values = append(blk.values, byte(codeValue(q.code)))
				prevDoc = int64(q.doc)
			}
		} else {
			pbuf = encodePostings(pbuf[:0], ps, b.norms, &normDiv)
			if len(ps) <= blockSize && len(pbuf) > maxRicePayload {
				return int64(cw.n), fmt.Errorf("search: postings of %q take %d bytes, more than a block may", k, len(pbuf))
			}
			cw.Write(pbuf)
			blk.postLens = binary.AppendUvarint(blk.postLens, uint64(len(pbuf)))
		}
		prev = k
		blk.n++
		if blk.rawLen() >= dictTarget {
			closeBlock()
		}
		if err := terms.advance(); err != nil {
			return int64(cw.n), err
		}
	}
	closeBlock()
	h.postLen = cw.n - h.postOff
	h.dictOff = cw.n
	h.dictLen = dictLen
	if err := dw.Flush(); err != nil {
		return int64(cw.n), fmt.Errorf("search: writing the dictionary to a temporary file: %w", err)
	}
	if _, err := io.Copy(cw, io.NewSectionReader(df, 0, int64(dictLen))); err != nil && cw.err == nil {
		return int64(cw.n), fmt.Errorf("search: copying the dictionary: %w", err)
	}
	h.bixOff = cw.n
	h.blockCount = uint32(len(offsets))
	var u [8]byte
	for _, o := range append(offsets, dictLen) {
		binary.LittleEndian.PutUint64(u[:], o)
		cw.Write(u[:])
	}
	cw.Write(h.marshal())
	if cw.err == nil {
		cw.err = cw.w.Flush()
	}
	return int64(cw.n), cw.err
}

func decodePlist(ps []posting, p *plist) []posting {
	buf := p.buf
	for len(buf) > 0 {
		d, n := binary.Uvarint(buf)
		buf = buf[n:]
		c, m := binary.Uvarint(buf)
		buf = buf[m:]
		ps = append(ps, posting{uint32(d), uint32(c)})
	}
	return ps
}

// encodePostings writes a list (df > inlineMax) in blocks of blockSize
// postings, Rice-coded (docs/search-index.md, version 3). A list of one
// block is its payload alone, with the gap parameter derived from df; a
// longer list puts (last doc delta, payload length, impact) before each
// block so that a reader can skip it, and skip it unread when its postings
// cannot score enough.
func encodePostings(dst []byte, ps []posting, norms []byte, normDiv *[256]float64) []byte {
	var gaps, codes [blockSize]uint32
	prevLast := int64(-1)
	var payload []byte
	single := len(ps) <= blockSize
	for start := 0; start < len(ps); start += blockSize {
		blk := ps[start:min(start+blockSize, len(ps))]
		prev := prevLast
		for i, q := range blk {
			gaps[i] = uint32(int64(q.doc) - prev - 1)
			codes[i] = codeValue(q.code)
			prev = int64(q.doc)
		}
		last := blk[len(blk)-1].doc
		if single {
			return appendRiceList(dst, listRiceK(uint32(len(ps)), uint32(len(norms))), gaps[:len(blk)], codes[:len(blk)])
		}
		payload = appendRiceBlock(payload[:0], gaps[:len(blk)], codes[:len(blk)])
		base := max(prevLast, 0)
		dst = binary.AppendUvarint(dst, uint64(int64(last)-base))
		dst = binary.AppendUvarint(dst, uint64(len(payload)))
		top := 0.0
		for _, q := range blk {
			top = max(top, tfNorm(q.code, normDiv[norms[q.doc]]))
		}
		dst = append(dst, impactByte(top))
		dst = append(dst, payload...)
		prevLast = int64(last)
	}
	return dst
}

func commonPrefix(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

type countWriter struct {
	w   *bufio.Writer
	n   uint64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += uint64(n)
	c.err = err
	return n, err
}
