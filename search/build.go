package search

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/klauspost/compress/zstd"
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
	mu          sync.Mutex
	terms       map[string]*plist
	norms       []byte   // norm byte per doc id
	present     []uint64 // bit set of doc ids added
	docCount    uint32
	totalTokens uint64
	err         error
}

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
		} else if a.doc < p.last {
			p.uns = true
		}
		p.buf = binary.AppendUvarint(p.buf, uint64(a.doc))
		p.buf = binary.AppendUvarint(p.buf, uint64(tc.code))
		p.n++
		p.last = a.doc
	}
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

	keys := make([]string, 0, len(b.terms))
	for k := range b.terms {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h.termCount = uint64(len(keys))
	h.postOff = cw.n

	// Pass 1: postings, streamed; dictionary blocks built in memory (they
	// are far smaller than the postings).
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return 0, err
	}
	defer enc.Close()
	var (
		dict     []byte   // finished blocks
		offsets  []uint64 // block starts in dict
		raw      []byte   // entries of the open block
		nInBlock int
		first    string
		prev     string
		blockPos uint64 // postings offset at the open block's start
		ps       []posting
		pbuf     []byte
	)
	closeBlock := func() {
		if nInBlock == 0 {
			return
		}
		offsets = append(offsets, uint64(len(dict)))
		body := binary.AppendUvarint(nil, uint64(nInBlock))
		body = binary.AppendUvarint(body, blockPos)
		body = append(body, raw...)
		dict = binary.AppendUvarint(dict, uint64(len(first)))
		dict = append(dict, first...)
		z := enc.EncodeAll(body, nil)
		if len(z) < len(body) {
			dict = append(dict, codecZstd)
			dict = binary.AppendUvarint(dict, uint64(len(body)))
			dict = binary.AppendUvarint(dict, uint64(len(z)))
			dict = append(dict, z...)
		} else {
			dict = append(dict, codecRaw)
			dict = binary.AppendUvarint(dict, uint64(len(body)))
			dict = binary.AppendUvarint(dict, uint64(len(body)))
			dict = append(dict, body...)
		}
		raw = raw[:0]
		nInBlock = 0
	}
	for _, k := range keys {
		p := b.terms[k]
		ps = decodePlist(ps[:0], p)
		if p.uns {
			slices.SortFunc(ps, func(x, y posting) int { return cmp.Compare(x.doc, y.doc) })
		}
		delete(b.terms, k)
		if nInBlock == 0 {
			first, prev = k, k
			blockPos = cw.n - h.postOff
		}
		shared := commonPrefix(prev, k)
		raw = binary.AppendUvarint(raw, uint64(shared))
		raw = binary.AppendUvarint(raw, uint64(len(k)-shared))
		raw = append(raw, k[shared:]...)
		raw = binary.AppendUvarint(raw, uint64(len(ps)))
		if len(ps) <= inlineMax {
			prevDoc := int64(-1)
			for _, q := range ps {
				raw = binary.AppendUvarint(raw, uint64(int64(q.doc)-prevDoc-1))
				raw = binary.AppendUvarint(raw, uint64(q.code-1))
				prevDoc = int64(q.doc)
			}
		} else {
			pbuf = encodePostings(pbuf[:0], ps)
			cw.Write(pbuf)
			raw = binary.AppendUvarint(raw, uint64(len(pbuf)))
		}
		prev = k
		nInBlock++
		if len(raw) >= dictTarget {
			closeBlock()
		}
	}
	closeBlock()
	h.postLen = cw.n - h.postOff
	h.dictOff = cw.n
	h.dictLen = uint64(len(dict))
	cw.Write(dict)
	h.bixOff = cw.n
	h.blockCount = uint32(len(offsets))
	var u [8]byte
	for _, o := range append(offsets, uint64(len(dict))) {
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

// encodePostings writes a list in blocks of blockSize postings.
func encodePostings(dst []byte, ps []posting) []byte {
	var gaps, codes [blockSize]uint32
	prevLast := int64(-1)
	var payload []byte
	for start := 0; start < len(ps); start += blockSize {
		blk := ps[start:min(start+blockSize, len(ps))]
		var maxGap, maxCode uint32
		prev := prevLast
		for i, q := range blk {
			gaps[i] = uint32(int64(q.doc) - prev - 1)
			codes[i] = q.code - 1
			maxGap = max(maxGap, gaps[i])
			maxCode = max(maxCode, codes[i])
			prev = int64(q.doc)
		}
		last := blk[len(blk)-1].doc
		base := max(prevLast, 0)
		wg, wc := bitWidth(maxGap), bitWidth(maxCode)
		payload = append(payload[:0], wg)
		payload = packBits(payload, gaps[:len(blk)], wg)
		payload = append(payload, wc)
		payload = packBits(payload, codes[:len(blk)], wc)
		dst = binary.AppendUvarint(dst, uint64(int64(last)-base))
		dst = binary.AppendUvarint(dst, uint64(len(payload)))
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
