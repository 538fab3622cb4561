package riblt

import "bytes"

// Limits bound what a Decoder accepts from a peer and from its own caller,
// so a hostile stream cannot make it use unbounded memory or time. A zero
// field takes the value in DefaultLimits.
type Limits struct {
	MaxItems   int // items in the local set
	MaxSymbols int // coded symbols accepted before giving up
	MaxDiff    int // items recovered (both directions together)
}

// DefaultLimits suit ferry's sets: up to 4 Mi local items (128 MiB of
// 32-byte ids), and differences up to 128 Ki items, which need about
// 180 Ki symbols; 256 Ki symbols of 32-byte items take 12 MiB.
var DefaultLimits = Limits{MaxItems: 1 << 22, MaxSymbols: 1 << 18, MaxDiff: 1 << 17}

func (l Limits) withDefaults() Limits {
	if l.MaxItems <= 0 {
		l.MaxItems = DefaultLimits.MaxItems
	}
	if l.MaxSymbols <= 0 {
		l.MaxSymbols = DefaultLimits.MaxSymbols
	}
	if l.MaxDiff <= 0 {
		l.MaxDiff = DefaultLimits.MaxDiff
	}
	return l
}

// estimateCells is how many leading cells Estimate looks at.
// MaxCounts is the most counts AddCounts and Counts take.
const MaxCounts = 1024

const estimateCells = MaxCounts

// Decoder recovers the symmetric difference between its local set and the
// set whose coded symbols it is fed. Add the local items, then AddSymbol the
// peer's symbols in order until Decoded.
type Decoder struct {
	size  int
	h     hasher
	lim   Limits
	local Encoder // codes the local set alongside the peer's stream
	rec   window  // recovered items; dir +1: remote only, -1: local only

	sums    []byte // cell i is sums[i*size:(i+1)*size]
	checks  []uint64
	counts  []int64
	raw     []int64 // counts after subtracting the local set, before peeling (first estimateCells)
	counts0 []int64 // the peer's announced counts (AddCounts), checked as symbols arrive

	nonEmpty int
	queue    []int
	localIdx []int32 // local items sorted by (hash, bytes), for membership
	seen     map[string]struct{}
	nRemote  int
	err      error
}

// NewDecoder returns a Decoder for items of itemSize bytes hashed under key.
func NewDecoder(itemSize int, key Key, lim Limits) (*Decoder, error) {
	lim = lim.withDefaults()
	enc, err := NewEncoder(itemSize, key, lim.MaxItems)
	if err != nil {
		return nil, err
	}
	return &Decoder{
		size:  itemSize,
		h:     enc.h,
		lim:   lim,
		local: *enc,
		rec:   window{size: itemSize},
		seen:  map[string]struct{}{},
	}, nil
}

// Add adds an item of the local set (copied), before the first AddSymbol.
func (d *Decoder) Add(item []byte) error { return d.local.Add(item) }

// Symbols is the number of coded symbols accepted so far.
func (d *Decoder) Symbols() int { return len(d.checks) }

// Decoded reports whether the difference is fully known: at least one
// symbol was accepted and every accepted cell has peeled to empty.
func (d *Decoder) Decoded() bool { return d.err == nil && len(d.checks) > 0 && d.nonEmpty == 0 }

// Err returns the error that stopped the Decoder, if any. Errors are
// sticky: once AddSymbol fails, it fails the same way again.
func (d *Decoder) Err() error { return d.err }

// AddSymbol feeds the peer's next coded symbol. Symbols must come in the
// order the peer's Encoder produced them. It fails with ErrTooManySymbols
// past Limits.MaxSymbols, ErrTooManyDiffs past Limits.MaxDiff, and
// ErrInconsistent where the stream cannot come from an honest Encoder over
// distinct items.
func (d *Decoder) AddSymbol(s Symbol) error {
	if d.err != nil {
		return d.err
	}
	if len(s.Sum) != d.size {
		return ErrItemSize // the caller's mistake, not the stream's: not sticky
	}
	if s.Count < 0 || s.Count > int64(d.lim.MaxItems) {
		// An Encoder's cell counts the items mapped to it: at least 0, and
		// no more than a set we would accept.
		d.err = ErrInconsistent
		return d.err
	}
	i := len(d.checks)
	if i >= d.lim.MaxSymbols {
		d.err = ErrTooManySymbols
		return d.err
	}
	if err := d.start(); err != nil {
		return err
	}
	if i < len(d.counts0) && s.Count != d.counts0[i] {
		d.err = ErrInconsistent // not the count the peer announced
		return d.err
	}
	loc, err := d.local.Next()
	if err != nil {
		d.err = err
		return err
	}
	d.sums = append(d.sums, s.Sum...)
	d.checks = append(d.checks, s.Check)
	d.counts = append(d.counts, s.Count)
	sum := d.sums[i*d.size : (i+1)*d.size]
	xorInto(sum, loc.Sum)
	d.checks[i] ^= loc.Check
	d.counts[i] -= loc.Count
	if i < estimateCells && d.counts0 == nil {
		d.raw = append(d.raw, d.counts[i])
	}
	d.rec.apply(uint64(i), sum, &d.checks[i], &d.counts[i], -1)
	if !d.empty(i) {
		d.nonEmpty++
	}
	if c := d.counts[i]; c == 1 || c == -1 {
		d.queue = append(d.queue, i)
	}
	d.err = d.peel()
	return d.err
}

// start freezes the local set and indexes it, once.
func (d *Decoder) start() error {
	if d.localIdx != nil || d.local.started {
		return d.err
	}
	d.local.started = true
	d.localIdx = sortedByHash(&d.local.w)
	for k := 1; k < len(d.localIdx); k++ {
		a, b := int(d.localIdx[k-1]), int(d.localIdx[k])
		if d.local.w.hashes[a] == d.local.w.hashes[b] && bytes.Equal(d.local.w.item(a), d.local.w.item(b)) {
			d.err = ErrDuplicate
			return d.err
		}
	}
	return nil
}

// AddCounts takes the counts of the peer's first coded symbols, as its
// Encoder's Counts returned them, before any symbol. Estimate then uses
// them, and each symbol that arrives later must carry the count announced.
func (d *Decoder) AddCounts(counts []int64) error {
	if d.err != nil {
		return d.err
	}
	if len(d.checks) > 0 || d.counts0 != nil || len(counts) > MaxCounts {
		return ErrStarted
	}
	if err := d.start(); err != nil {
		return err
	}
	local, err := d.local.Counts(len(counts))
	if err != nil {
		d.err = err
		return err
	}
	d.counts0 = append([]int64{}, counts...)
	d.raw = d.raw[:0]
	for i, c := range counts {
		if c < 0 || c > int64(d.lim.MaxItems) {
			d.err = ErrInconsistent
			return d.err
		}
		if i < estimateCells {
			d.raw = append(d.raw, c-local[i])
		}
	}
	return nil
}

func (d *Decoder) empty(i int) bool {
	return d.counts[i] == 0 && d.checks[i] == 0 && isZero(d.sums[i*d.size:(i+1)*d.size])
}

// peel recovers items from pure cells (one item left, its hash matching)
// and removes each from every cell it is mapped to, until no pure cell is
// left.
func (d *Decoder) peel() error {
	m := uint64(len(d.checks))
	for len(d.queue) > 0 {
		j := d.queue[len(d.queue)-1]
		d.queue = d.queue[:len(d.queue)-1]
		dir := d.counts[j]
		if dir != 1 && dir != -1 {
			continue
		}
		x := append([]byte(nil), d.sums[j*d.size:(j+1)*d.size]...)
		h := d.h.sum(x)
		if h != d.checks[j] {
			continue
		}
		if err := d.admit(x, h, dir); err != nil {
			return err
		}
		mp := newMapping(h)
		for ; mp.next < m; mp.advance() {
			k := int(mp.next)
			was := d.empty(k)
			xorInto(d.sums[k*d.size:(k+1)*d.size], x)
			d.checks[k] ^= h
			d.counts[k] -= dir
			if now := d.empty(k); was != now {
				if now {
					d.nonEmpty--
				} else {
					d.nonEmpty++
				}
			}
			if c := d.counts[k]; c == 1 || c == -1 {
				d.queue = append(d.queue, k)
			}
		}
		d.rec.add(x, h, mp, int8(dir))
	}
	return nil
}

// admit checks a recovered item before it is believed: an item only the
// remote has must be missing from the local set, an item only we have must
// be in it, and no item may be recovered twice.
func (d *Decoder) admit(x []byte, h uint64, dir int64) error {
	if d.rec.len() >= d.lim.MaxDiff {
		return ErrTooManyDiffs
	}
	if d.isLocal(x, h) != (dir == -1) {
		return ErrInconsistent
	}
	if _, ok := d.seen[string(x)]; ok {
		return ErrInconsistent
	}
	d.seen[string(x)] = struct{}{}
	if dir == 1 {
		d.nRemote++
	}
	return nil
}

func (d *Decoder) isLocal(x []byte, h uint64) bool {
	w := &d.local.w
	lo, hi := 0, len(d.localIdx)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		j := int(d.localIdx[mid])
		c := 0
		switch {
		case w.hashes[j] < h:
			c = -1
		case w.hashes[j] > h:
			c = 1
		default:
			c = bytes.Compare(w.item(j), x)
		}
		if c == 0 {
			return true
		}
		if c < 0 {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return false
}

// Remote returns the recovered items the peer has and the local set lacks.
func (d *Decoder) Remote() [][]byte { return d.recovered(1) }

// Local returns the recovered items the local set has and the peer lacks.
func (d *Decoder) Local() [][]byte { return d.recovered(-1) }

func (d *Decoder) recovered(dir int8) [][]byte {
	var out [][]byte
	for j := 0; j < d.rec.len(); j++ {
		if d.rec.dir[j] == dir {
			out = append(out, append([]byte(nil), d.rec.item(j)...))
		}
	}
	return out
}

// Estimate estimates the size of the symmetric difference from the counts
// of the cells received so far (at most the first 1024), before any
// peeling: cell i holds each differing item with probability p = 2/(i+2),
// so its count minus p times cell 0's count has mean 0 and variance
// d·p·(1-p). The estimate needs two or more cells, and its relative error
// is about sqrt(2/(cells-1)); docs/sync.md uses it to size the second batch
// of symbols so reconciliation takes two round trips.
func (d *Decoder) Estimate() float64 {
	if len(d.raw) < 2 {
		return 0
	}
	c0 := float64(d.raw[0])
	var v float64
	for i := 1; i < len(d.raw); i++ {
		p := 2 / float64(i+2)
		e := float64(d.raw[i]) - c0*p
		v += e * e / (p * (1 - p))
	}
	est := v / float64(len(d.raw)-1)
	if a := c0; a < 0 && -a > est {
		est = -a // at least |cell 0| items differ
	} else if a > est {
		est = a
	}
	return est
}
