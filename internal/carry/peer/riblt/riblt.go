// Package riblt implements rateless invertible Bloom lookup tables (Yang,
// Gilad and Alizadeh, "Practical Rateless Set Reconciliation", SIGCOMM 2024)
// over fixed-size byte strings, as specified in docs/sync.md.
//
// Two peers each hold a set of items (archive ids, entry hashes). One runs an
// Encoder over its set and streams coded symbols; the other runs a Decoder
// over its own set, feeds it the symbols as they arrive and stops the stream
// once Decoded reports true. It then knows both halves of the symmetric
// difference: what only the remote has (Remote) and what only it has (Local).
// About 1.35 coded symbols per differing item suffice for large differences,
// whatever the sets' sizes, and no estimate of the difference is needed
// before the stream starts.
//
// The coded sequence of a set is fixed by the set and a Key; both sides must
// use the same Key and item size. Items must be distinct.
//
// A Decoder is fed by a peer that may be hostile: Limits caps the items,
// symbols and differences it accepts, every recovered item is checked
// against the local set, and a stream that contradicts itself fails with
// ErrInconsistent.
package riblt

import (
	"bytes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"math"
	"slices"
)

// Key keys the item hash. Both peers use the same Key for one
// reconciliation; it should be fresh per session (docs/sync.md derives it
// from the channel) so that items made in advance cannot be crafted to
// collide.
type Key [16]byte

// MaxItemSize is the largest item size accepted.
const MaxItemSize = 64

// Errors.
var (
	ErrItemSize       = errors.New("riblt: item has the wrong size")
	ErrStarted        = errors.New("riblt: items added after coding started")
	ErrDuplicate      = errors.New("riblt: the same item added twice")
	ErrTooManyItems   = errors.New("riblt: too many items")
	ErrTooManySymbols = errors.New("riblt: too many coded symbols without decoding")
	ErrTooManyDiffs   = errors.New("riblt: difference larger than allowed")
	ErrInconsistent   = errors.New("riblt: coded symbols contradict each other or the local set")
	ErrFormat         = errors.New("riblt: malformed coded symbol")
)

// Symbol is one coded symbol: the XOR of the items mapped to it, the XOR of
// their hashes, and how many there are. Symbols from an Encoder have
// Count >= 0.
type Symbol struct {
	Sum   []byte
	Check uint64
	Count int64
}

// never is the next index of a mapping that has run past any usable index.
const never = math.MaxUint64

// mapping walks the indices of the coded symbols one item is mapped to:
// index 0 always, then each index i with probability 1/(1+i/2), drawn as
// gaps from a splitmix64 generator seeded with the item's hash.
type mapping struct {
	state uint64
	next  uint64 // the index this item maps to next
}

func newMapping(h uint64) mapping { return mapping{state: h, next: 0} }

// advance moves m to the next index after m.next. The arithmetic is IEEE-754
// binary64, one rounding per operation, written so that no compiler may fuse
// operations: peers must agree on every index (docs/sync.md gives it).
func (m *mapping) advance() {
	if m.next == never {
		return
	}
	m.state += 0x9e3779b97f4a7c15
	z := m.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	r := z ^ (z >> 31)
	s := math.Sqrt(float64(float64(r) + 1.0))
	g := float64(float64(m.next)+1.5) * float64(float64(4294967296.0/s)-1.0)
	g = math.Ceil(g)
	switch {
	case g < 1:
		m.next++
	case g >= 1<<62 || m.next >= 1<<62:
		m.next = never
	default:
		m.next += uint64(g)
	}
}

// window is a set of items with their mappings, organised so that producing
// coded symbol i touches only the items mapped to i: items whose next index
// is below limit sit in per-index buckets (singly linked through link),
// the rest in a heap ordered by next index that is drained into buckets as
// limit doubles. Each step of an item is then O(1), not O(log n): at 10^6
// items the first coded symbols touch every item.
type window struct {
	size   int
	items  []byte   // item j is items[j*size : (j+1)*size]
	hashes []uint64 // hashes[j] of item j
	dir    []int8   // per item: +1 counted as added, -1 as removed (decoder only)
	maps   []mapping
	link   []int32 // next item in the same bucket, or -1
	head   []int32 // head[i]: first item whose next index is i (i < limit), or -1
	far    []farEntry
}

// initialWindow is the number of per-index buckets a window starts with.
const initialWindow = 1024

// farEntry is an item waiting in the heap, with its next index inline so
// that sifting reads one contiguous array.
type farEntry struct {
	next uint64
	j    int32
}

func (w *window) len() int { return len(w.hashes) }

func (w *window) item(j int) []byte { return w.items[j*w.size : (j+1)*w.size] }

func (w *window) limit() uint64 { return uint64(len(w.head)) }

func (w *window) add(item []byte, h uint64, m mapping, dir int8) {
	if w.head == nil {
		// Start with buckets for the first 1024 indices (4 KiB), which
		// covers the counts and the symbols of most reconciliations, so
		// the heap only holds items whose next index lies further out.
		w.head = make([]int32, initialWindow)
		for i := range w.head {
			w.head[i] = -1
		}
	}
	w.items = append(w.items, item...)
	w.hashes = append(w.hashes, h)
	w.maps = append(w.maps, m)
	w.link = append(w.link, -1)
	if dir != 0 {
		w.dir = append(w.dir, dir)
	}
	w.place(int32(len(w.hashes) - 1))
}

// place puts item j where its next index says.
func (w *window) place(j int32) {
	n := w.maps[j].next
	if n < w.limit() {
		w.link[j] = w.head[n]
		w.head[n] = j
		return
	}
	if n == never {
		return // maps to no further index: drop out of the window
	}
	w.far = append(w.far, farEntry{n, j})
	w.up(len(w.far) - 1)
}

// grow doubles limit and moves the heap's items that now fall below it
// into buckets.
func (w *window) grow() {
	old := len(w.head)
	for range old {
		w.head = append(w.head, -1)
	}
	for len(w.far) > 0 && w.far[0].next < w.limit() {
		j := w.far[0].j
		last := len(w.far) - 1
		w.far[0] = w.far[last]
		w.far = w.far[:last]
		w.down(0)
		w.place(j)
	}
}

func (w *window) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if w.far[p].next <= w.far[i].next {
			break
		}
		w.far[i], w.far[p] = w.far[p], w.far[i]
		i = p
	}
}

func (w *window) down(i int) {
	n := len(w.far)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if r := c + 1; r < n && w.far[r].next < w.far[c].next {
			c = r
		}
		if w.far[i].next <= w.far[c].next {
			return
		}
		w.far[i], w.far[c] = w.far[c], w.far[i]
		i = c
	}
}

// apply folds every item mapped to index i into the cell (sum, check,
// count), counting each item as sign*dir, and advances those items'
// mappings. Indices must be applied in increasing order.
func (w *window) apply(i uint64, sum []byte, check *uint64, count *int64, sign int64) {
	if w.head == nil {
		return
	}
	for i >= w.limit() {
		w.grow()
	}
	j := w.head[i]
	w.head[i] = -1
	for j >= 0 {
		nextJ := w.link[j]
		xorInto(sum, w.item(int(j)))
		*check ^= w.hashes[j]
		d := int64(1)
		if w.dir != nil {
			d = int64(w.dir[j])
		}
		*count += sign * d
		w.maps[j].advance()
		w.place(j)
		j = nextJ
	}
}

func xorInto(dst, src []byte) { subtle.XORBytes(dst, dst, src) }

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// hasher hashes items under a Key.
type hasher struct{ k0, k1 uint64 }

func newHasher(k Key) hasher {
	return hasher{binary.LittleEndian.Uint64(k[:8]), binary.LittleEndian.Uint64(k[8:])}
}

func (h hasher) sum(item []byte) uint64 { return sipHash24(h.k0, h.k1, item) }

// Encoder produces the coded symbol sequence of a set. Add every item, then
// call Next for as many symbols as the peer needs.
type Encoder struct {
	h        hasher
	w        window
	next     uint64   // index of the next symbol Next returns
	cache    []Symbol // symbols computed ahead by Counts, from index next
	maxItems int
	started  bool
}

// NewEncoder returns an Encoder for items of itemSize bytes (1 to
// MaxItemSize) hashed under key, accepting at most maxItems items
// (0: no limit).
func NewEncoder(itemSize int, key Key, maxItems int) (*Encoder, error) {
	if itemSize < 1 || itemSize > MaxItemSize {
		return nil, ErrItemSize
	}
	return &Encoder{h: newHasher(key), w: window{size: itemSize}, maxItems: maxItems}, nil
}

// Add adds an item (copied). Items must be distinct; Next reports a
// duplicate.
func (e *Encoder) Add(item []byte) error {
	if e.started {
		return ErrStarted
	}
	if len(item) != e.w.size {
		return ErrItemSize
	}
	if e.maxItems > 0 && e.w.len() >= e.maxItems {
		return ErrTooManyItems
	}
	h := e.h.sum(item)
	e.w.add(item, h, newMapping(h), 0)
	return nil
}

// Len is the number of items added.
func (e *Encoder) Len() int { return e.w.len() }

// Index is the index of the symbol the next call to Next returns.
func (e *Encoder) Index() uint64 { return e.next }

// Next returns the next coded symbol. Its Sum is freshly allocated. The
// first call checks the set for duplicates and fails with ErrDuplicate.
func (e *Encoder) Next() (Symbol, error) {
	if err := e.start(); err != nil {
		return Symbol{}, err
	}
	e.next++
	if len(e.cache) > 0 {
		s := e.cache[0]
		e.cache = e.cache[1:]
		return s, nil
	}
	return e.compute(), nil
}

func (e *Encoder) start() error {
	if !e.started {
		e.started = true
		if dupe(&e.w) {
			return ErrDuplicate
		}
	}
	return nil
}

// compute codes the symbol after the last one computed.
func (e *Encoder) compute() Symbol {
	i := e.next - 1 + uint64(len(e.cache))
	s := Symbol{Sum: make([]byte, e.w.size)}
	e.w.apply(i, s.Sum, &s.Check, &s.Count, 1)
	return s
}

// Counts returns the counts of the first k coded symbols (k at most
// MaxCounts), computing and keeping those not yet returned by Next. It is
// called before the first Next; the counts let the peer estimate the
// difference before any full symbol is sent (docs/sync.md, §5.6).
func (e *Encoder) Counts(k int) ([]int64, error) {
	if k < 0 || k > MaxCounts || e.next != 0 {
		return nil, ErrStarted
	}
	if err := e.start(); err != nil {
		return nil, err
	}
	e.next = 1 // compute works from next-1
	for len(e.cache) < k {
		e.cache = append(e.cache, e.compute())
	}
	e.next = 0
	out := make([]int64, k)
	for i := range out {
		out[i] = e.cache[i].Count
	}
	return out, nil
}

// dupe reports whether the window holds the same item twice. Equal items
// have equal hashes, so only runs of equal hashes are compared.
func dupe(w *window) bool {
	order := sortedByHash(w)
	for k := 1; k < len(order); k++ {
		a, b := order[k-1], order[k]
		if w.hashes[a] == w.hashes[b] && bytes.Equal(w.item(int(a)), w.item(int(b))) {
			return true
		}
	}
	return false
}

func sortedByHash(w *window) []int32 {
	order := make([]int32, w.len())
	for j := range order {
		order[j] = int32(j)
	}
	slices.SortFunc(order, func(a, b int32) int {
		ha, hb := w.hashes[a], w.hashes[b]
		switch {
		case ha < hb:
			return -1
		case ha > hb:
			return 1
		}
		return bytes.Compare(w.item(int(a)), w.item(int(b)))
	})
	return order
}
