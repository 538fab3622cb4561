package search

import (
	"container/heap"
	"math"
	"math/bits"
)

// evaluation ranks the documents of a query's cursors by block-max
// MaxScore (docs/search-index.md, "Ranking"). The documents are taken in
// windows that end with the first block end of the lists essential in
// the window before; each list is bounded in a window by the largest
// bound of its blocks there. A window whose bounds sum to no more than
// the threshold is passed over without decoding anything, and within a
// window the lists whose bounds sum to no more than the threshold are
// only probed for the documents the others (the essential lists) bring.
type evaluation struct {
	curs    []*cursor
	k       int
	normDiv *[256]float64
	decoded *int

	top     hitHeap
	cut     float64 // a document must score above this to enter the top
	matched int
	exact   bool

	// The window lo..hi and its partition: ord holds the cursors by
	// their bound in the window, ascending; the first ness are the
	// non-essential ones, cum their running sums of bounds.
	lo, hi uint32
	ord    []*cursor
	cum    []float64
	ness   int

	// A chunk's buffers: the essential lists' summed scores and terms
	// by doc, and each of their postings' scores.
	acc      [chunk]float64
	mask     [chunk]uint32
	contribs []contrib
}

// noCut is the cut before the top is full: every document may enter.
var noCut = math.Inf(-1)

// margin keeps pruning safe from rounding: a bound that differs from the
// score it bounds only by the order of its additions must not prune it.
const margin = 1e-9

func (e *evaluation) run() error {
	e.cut = noCut
	e.ord = append([]*cursor(nil), e.curs...)
	e.cum = make([]float64, len(e.curs))
	for {
		last, err := e.window()
		if err != nil {
			return err
		}
		if e.hi >= e.lo {
			if err := e.rank(); err != nil {
				return err
			}
		}
		if last || *e.decoded > MaxDecoded {
			if *e.decoded > MaxDecoded {
				e.exact = false
			}
			return nil
		}
		e.lo = e.hi + 1
	}
}

// window sets the end of the window that starts at e.lo and the bound of
// each list in it. The window ends with the first of the blocks that may
// hold e.lo in the lists that were essential in the last window (at
// least the list of the largest bound there): a window as short as the
// blocks of the densest list would spend more on bounds than on
// documents. A list whose blocks end before the window does is bounded by
// the largest bound of its blocks in the window. last is true when no
// document is left after the window.
func (e *evaluation) window() (last bool, err error) {
	live := false
	for _, c := range e.curs {
		if c.done {
			continue
		}
		if err := c.edge(e.lo); err != nil {
			return false, err
		}
		live = live || !c.done
	}
	if !live {
		e.hi = e.lo - 1
		return true, nil
	}
	hi := uint32(math.MaxUint32)
	for _, c := range e.ord[min(e.ness, len(e.ord)-1):] {
		if !c.done {
			hi = min(hi, c.end)
		}
	}
	for _, c := range e.curs {
		tf := c.etf
		if !c.done && c.multi && c.end < hi {
			la, upTo, err := c.lookahead(hi)
			if err != nil {
				return false, err
			}
			tf, hi = max(tf, la), min(hi, upTo)
		}
		c.wb = c.sat(tf)
	}
	e.hi = hi
	return hi == math.MaxUint32, nil
}

// bound is c's bound in the window: 0 when it has no posting left there.
func (e *evaluation) bound(c *cursor) float64 {
	if c.done || !c.gap && c.doc >= e.lo && c.doc > e.hi || c.gap && c.docs[c.n-1] >= e.hi {
		return 0
	}
	return c.wb
}

// partition orders the cursors by their bound in the window and splits
// off the non-essential ones: those whose bounds sum to no more than the
// cut.
func (e *evaluation) partition() {
	ord := e.ord
	for i := range ord {
		ord[i].cb = e.bound(ord[i])
	}
	for i := 1; i < len(ord); i++ { // insertion sort: nearly sorted already
		c := ord[i]
		j := i
		for j > 0 && ord[j-1].cb > c.cb {
			ord[j] = ord[j-1]
			j--
		}
		ord[j] = c
	}
	sum := 0.0
	e.ness = 0
	for i, c := range ord {
		sum += c.cb
		e.cum[i] = sum
		if sum*(1+margin) <= e.cut {
			e.ness = i + 1
		}
	}
	if e.ness > 0 && e.cum[e.ness-1] > 0 {
		e.exact = false
	}
}

// rank scores the candidates of the window e.lo..e.hi.
func (e *evaluation) rank() error {
	e.partition()
	a := e.lo
	for {
		if e.ness == len(e.ord) {
			return nil // no document of the rest of the window can enter the top
		}
		b := e.hi
		if e.hi-a >= chunk {
			b = a + chunk - 1
		}
		if err := e.chunk(a, b); err != nil {
			return err
		}
		if b == e.hi || *e.decoded > MaxDecoded {
			return nil
		}
		// The next chunk starts at the next essential posting: the
		// essential lists were all scored past b.
		found := false
		for _, c := range e.ord[e.ness:] {
			if !c.done && !c.gap && (!found || c.doc < a) {
				a, found = c.doc, true
			}
		}
		if !found || a > e.hi {
			return nil
		}
	}
}

// chunk is how many documents of a window the essential lists score at a
// time, term by term, into a buffer.
const chunk = 512

// contrib is one essential posting's score in a chunk.
type contrib struct {
	off uint16 // doc − the chunk's first
	q   uint8
	s   float64
}

// chunk ranks the documents a..b of the window: the essential lists score
// their postings there one list after the other into e.acc, then the
// candidates are taken in doc order and the other lists probed for them.
// The partition in force at the start holds for the whole chunk (a higher
// threshold only makes its bounds looser).
func (e *evaluation) chunk(a, b uint32) error {
	var ess, ness [MaxQueryTerms]*cursor
	var cum, cb [MaxQueryTerms]float64
	es := ess[:copy(ess[:], e.ord[e.ness:])]
	ns := ness[:copy(ness[:], e.ord[:e.ness])]
	copy(cum[:], e.cum[:e.ness])
	for i, c := range ns {
		cb[i] = c.cb
	}
	width := int(b-a) + 1
	acc, mask := e.acc[:width], e.mask[:width]
	clear(acc)
	clear(mask)
	e.contribs = e.contribs[:0]
	for _, c := range es {
		if !c.done && (c.gap || c.doc < a) {
			if err := c.advance(a); err != nil {
				return err
			}
		}
		for !c.done && !c.gap && c.doc <= b {
			s, err := c.score(e.normDiv)
			if err != nil {
				return err
			}
			off := c.doc - a
			acc[off] += s
			mask[off] |= 1 << c.q
			e.contribs = append(e.contribs, contrib{uint16(off), uint8(c.q), s})
			if err := c.step(e.hi); err != nil {
				return err
			}
		}
	}
	var part [MaxQueryTerms]float64
	for off, m := range mask {
		if m == 0 {
			continue
		}
		d := a + uint32(off)
		score := acc[off]
		pruned := false
		var pm uint32
		for i := len(ns) - 1; i >= 0; i-- {
			if (score+cum[i])*(1+margin) <= e.cut {
				pruned = true
				break
			}
			c := ns[i]
			if cb[i] == 0 {
				break // so are all below
			}
			if c.done {
				continue
			}
			if c.gap || c.doc < d {
				if err := c.advance(d); err != nil {
					return err
				}
			}
			if !c.done && !c.gap && c.doc == d {
				s, err := c.score(e.normDiv)
				if err != nil {
					return err
				}
				part[c.q] = s
				pm |= 1 << c.q
				score += s
			}
		}
		e.matched++
		if pruned {
			continue
		}
		// The score is summed in query order, whatever the order the
		// terms were found in, so that it does not depend on the pruning.
		for _, x := range e.contribs {
			if int(x.off) == off {
				part[x.q] = x.s
			}
		}
		score = 0
		for m := m | pm; m != 0; m &= m - 1 {
			score += part[bits.TrailingZeros32(m)]
		}
		if e.top.Len() < e.k {
			heap.Push(&e.top, Hit{d, score})
		} else if score > e.top[0].Score {
			e.top[0] = Hit{d, score}
			heap.Fix(&e.top, 0)
		}
		if e.top.Len() == e.k && e.top[0].Score > e.cut {
			e.cut = e.top[0].Score
			e.partition() // for the next chunk
		}
	}
	return nil
}
