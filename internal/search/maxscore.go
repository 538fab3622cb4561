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
	if e.ness == len(e.ord) {
		return nil // no document of the window can enter the top
	}
	for _, c := range e.ord[e.ness:] {
		if !c.done && (c.gap || c.doc < e.lo) {
			if err := c.advance(e.lo); err != nil {
				return err
			}
		}
	}
	var part [MaxQueryTerms]float64
	for {
		d := uint32(0)
		found := false
		for _, c := range e.ord[e.ness:] {
			if !c.done && !c.gap && (!found || c.doc < d) {
				d, found = c.doc, true
			}
		}
		if !found || d > e.hi {
			return nil
		}
		score := 0.0
		var mask uint32
		for _, c := range e.ord[e.ness:] {
			if !c.done && !c.gap && c.doc == d {
				s, err := c.score(e.normDiv)
				if err != nil {
					return err
				}
				part[c.q] = s
				mask |= 1 << c.q
				score += s
				if err := c.step(e.hi); err != nil {
					return err
				}
			}
		}
		pruned := false
		for i := e.ness - 1; i >= 0; i-- {
			if (score+e.cum[i])*(1+margin) <= e.cut {
				pruned = true
				break
			}
			c := e.ord[i]
			if c.cb == 0 {
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
				mask |= 1 << c.q
				score += s
			}
		}
		e.matched++
		if !pruned {
			// The score is summed in query order, whatever the order
			// the terms were found in, so that it does not depend on
			// the pruning.
			score = 0
			for m := mask; m != 0; m &= m - 1 {
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
				e.partition()
				if e.ness == len(e.ord) {
					return nil
				}
				for _, c := range e.ord[e.ness:] {
					if !c.done && (c.gap || c.doc <= d) {
						if err := c.advance(d + 1); err != nil {
							return err
						}
					}
				}
			}
		}
		if *e.decoded > MaxDecoded {
			return nil
		}
	}
}
