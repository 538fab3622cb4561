package fountain

import (
	"errors"
	"fmt"
	"sync"
)

// Errors returned by the encoders and decoders. Callers check them with
// errors.Is; the returned errors wrap them with detail.
var (
	// ErrParams means encoding parameters are out of range or inconsistent.
	ErrParams = errors.New("fountain: invalid parameters")
	// ErrSymbol means a symbol was rejected: wrong size, or a source block
	// number or encoding symbol ID out of range. The symbol is ignored.
	ErrSymbol = errors.New("fountain: invalid symbol")
	// ErrInconsistent means the received symbols contradict each other
	// (corrupted or forged symbols). The decoder drops what it held for
	// that source block and starts collecting it again.
	ErrInconsistent = errors.New("fountain: inconsistent symbols (corrupted or forged input)")
	// ErrIncomplete means a decoder was asked for data it has not
	// recovered yet: keep adding symbols.
	ErrIncomplete = errors.New("fountain: not decoded yet, more symbols needed")
)

// MaxESI is the largest encoding symbol ID: the FEC Payload ID of RFC 6330
// section 3.2 carries it in 24 bits.
const MaxESI = 1<<24 - 1

// planCache keeps the encoding plan of recently used K' values: every block
// with the same K' solves the same matrix, so only symbol arithmetic is
// repeated. It is small because an object has at most two distinct K'.
var planCache struct {
	sync.Mutex
	plans map[int]*plan
	order []int
}

const planCacheSize = 8

func encodingPlan(c *code) (*plan, error) {
	planCache.Lock()
	p := planCache.plans[c.kp]
	planCache.Unlock()
	if p != nil {
		return p, nil
	}
	isis := make([]uint32, c.kp)
	for i := range isis {
		isis[i] = uint32(i)
	}
	rs, cols := newSparseRows(c, isis)
	p, err := buildPlan(c, rs, cols)
	if err != nil {
		// RFC 6330 guarantees the systematic matrix is invertible.
		return nil, fmt.Errorf("fountain: internal error: K'=%d encoding matrix: %w", c.kp, err)
	}
	planCache.Lock()
	defer planCache.Unlock()
	if planCache.plans == nil {
		planCache.plans = map[int]*plan{}
	}
	if _, ok := planCache.plans[c.kp]; !ok {
		if len(planCache.order) >= planCacheSize {
			delete(planCache.plans, planCache.order[0])
			planCache.order = planCache.order[1:]
		}
		planCache.plans[c.kp] = p
		planCache.order = append(planCache.order, c.kp)
	}
	return p, nil
}

// BlockEncoder produces the encoding symbols of one source block (RFC 6330
// section 5.3): source symbols for ESI < K, repair symbols above. It is
// safe for concurrent use once built.
type BlockEncoder struct {
	c     code
	t     int
	src   []byte // K*T source bytes
	inter []byte // L intermediate symbols
	pool  sync.Pool
}

// NewBlockEncoder prepares a source block of K = ceil(len(src)/symbolSize)
// symbols (the last one zero-padded), 1 <= K <= MaxSourceSymbols. The
// encoder keeps src; do not change it while the encoder is in use.
func NewBlockEncoder(src []byte, symbolSize int) (*BlockEncoder, error) {
	if symbolSize < 1 || symbolSize > 65535 {
		return nil, fmt.Errorf("%w: symbol size %d not in 1..65535", ErrParams, symbolSize)
	}
	k := (len(src) + symbolSize - 1) / symbolSize
	if k < 1 || k > MaxSourceSymbols {
		return nil, fmt.Errorf("%w: %d source symbols not in 1..%d", ErrParams, k, MaxSourceSymbols)
	}
	c := newCode(k)
	p, err := encodingPlan(&c)
	if err != nil {
		return nil, err
	}
	t := symbolSize
	syms := make([][]byte, len(p.rowStart)-1)
	for i := 0; i < k; i++ {
		end := min((i+1)*t, len(src))
		s := src[i*t : end]
		if len(s) < t {
			s = append(make([]byte, 0, t), s...)
			s = s[:t]
		}
		syms[c.s+i] = s
	}
	inter, err := p.execute(syms, t)
	if err != nil {
		return nil, fmt.Errorf("fountain: internal error: encoding: %w", err)
	}
	return &BlockEncoder{c: c, t: t, src: src, inter: inter}, nil
}

// K returns the number of source symbols.
func (e *BlockEncoder) K() int { return e.c.k }

// SymbolSize returns T, the size of every symbol in bytes.
func (e *BlockEncoder) SymbolSize() int { return e.t }

// Symbol writes the encoding symbol with ID esi (0 <= esi <= MaxESI) to
// dst, which must be SymbolSize() bytes long.
func (e *BlockEncoder) Symbol(esi uint32, dst []byte) error {
	if len(dst) != e.t {
		return fmt.Errorf("%w: buffer of %d bytes for symbols of %d", ErrSymbol, len(dst), e.t)
	}
	if esi > MaxESI {
		return fmt.Errorf("%w: ESI %d above %d", ErrSymbol, esi, MaxESI)
	}
	if int(esi) < e.c.k {
		off := int(esi) * e.t
		n := copy(dst, e.src[off:min(off+e.t, len(e.src))])
		clear(dst[n:])
		return nil
	}
	isi := esi + uint32(e.c.kp-e.c.k)
	var scratch []int32
	if s, ok := e.pool.Get().(*[]int32); ok {
		scratch = *s
	}
	scratch = e.c.encodeSymbol(dst, e.inter, isi, scratch)
	e.pool.Put(&scratch)
	return nil
}

// BlockDecoder recovers one source block from any sufficient set of its
// encoding symbols. It is not safe for concurrent use.
type BlockDecoder struct {
	c     code
	t     int
	index map[uint32]int32 // ESI -> position in esis/data
	esis  []uint32
	data  []byte
	out   []byte // K*T recovered bytes, once done
	fails int    // failed decode attempts since the last reset
	next  int    // symbols to hold before the next attempt
}

// NewBlockDecoder prepares to decode a block of k source symbols of
// symbolSize bytes.
func NewBlockDecoder(k, symbolSize int) (*BlockDecoder, error) {
	if symbolSize < 1 || symbolSize > 65535 {
		return nil, fmt.Errorf("%w: symbol size %d not in 1..65535", ErrParams, symbolSize)
	}
	if k < 1 || k > MaxSourceSymbols {
		return nil, fmt.Errorf("%w: %d source symbols not in 1..%d", ErrParams, k, MaxSourceSymbols)
	}
	return &BlockDecoder{c: newCode(k), t: symbolSize, index: map[uint32]int32{}}, nil
}

// maxHeld caps the symbols a block decoder keeps before it has decoded:
// beyond K plus a large margin more symbols cannot help, so they are refused
// (memory stays proportional to the block).
func (d *BlockDecoder) maxHeld() int { return 2*d.c.k + 64 }

// Done reports whether the block has been recovered.
func (d *BlockDecoder) Done() bool { return d.out != nil }

// Add gives the decoder the encoding symbol with ID esi. It returns true
// once the block is recovered (and for every later call). A symbol that
// cannot be used returns an error wrapping ErrSymbol and changes nothing;
// ErrInconsistent means the symbols held contradicted each other and were
// dropped. When K or more symbols are held, Add tries to decode; if they
// are not yet independent enough it returns false and a later Add retries
// (after the third failure only at K+4, K+8, ... symbols).
func (d *BlockDecoder) Add(esi uint32, sym []byte) (bool, error) {
	if d.out != nil {
		return true, nil
	}
	if len(sym) != d.t {
		return false, fmt.Errorf("%w: %d bytes, symbols are %d", ErrSymbol, len(sym), d.t)
	}
	if esi > MaxESI {
		return false, fmt.Errorf("%w: ESI %d above %d", ErrSymbol, esi, MaxESI)
	}
	if i, ok := d.index[esi]; ok {
		if string(d.data[int(i)*d.t:int(i+1)*d.t]) != string(sym) {
			return false, fmt.Errorf("%w: two different symbols with ESI %d", ErrInconsistent, esi)
		}
		return false, nil
	}
	if len(d.esis) >= d.maxHeld() {
		return false, fmt.Errorf("%w: %d symbols held for a block of %d without decoding it", ErrSymbol, len(d.esis), d.c.k)
	}
	if d.data == nil {
		// Room for K symbols and a little overhead, so the usual case
		// never regrows, but at most 4 MiB before symbols actually
		// arrive: K and T come from the sender's OTI.
		want := (d.c.k + min(d.c.k/32+2, 64)) * d.t
		d.data = make([]byte, 0, min(want, max(4<<20/d.t, 1)*d.t))
	}
	d.index[esi] = int32(len(d.esis))
	d.esis = append(d.esis, esi)
	d.data = append(d.data, sym...)
	if len(d.esis) < max(d.c.k, d.next) {
		return false, nil
	}
	err := d.decode()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, errSingular):
		// Honest symbols fail at K about 1% of the time, at K+1 1e-4, at
		// K+2 1e-6; after that, back off (K+4, K+8, ...) so symbols chosen
		// to stay singular cannot force a full solve on every Add.
		d.fails++
		d.next = len(d.esis) + 1
		if d.fails > 2 {
			d.next = len(d.esis) + 1<<(d.fails-2)
		}
		return false, nil
	case errors.Is(err, errInconsistent):
		n := len(d.esis)
		d.index = map[uint32]int32{}
		d.esis, d.data = nil, nil
		d.fails, d.next = 0, 0
		return false, fmt.Errorf("%w: %d symbols dropped", ErrInconsistent, n)
	}
	return false, err
}

// Bytes returns the K*T recovered bytes (including any zero padding of the
// last symbol), or an error wrapping ErrIncomplete.
func (d *BlockDecoder) Bytes() ([]byte, error) {
	if d.out == nil {
		return nil, fmt.Errorf("%w: %d of at least %d symbols held", ErrIncomplete, len(d.esis), d.c.k)
	}
	return d.out, nil
}

func (d *BlockDecoder) decode() error {
	c, t := &d.c, d.t
	out := make([]byte, c.k*t)
	have := make([]bool, c.k)
	nsrc := 0
	for i, esi := range d.esis {
		if int(esi) < c.k {
			copy(out[int(esi)*t:], d.data[i*t:(i+1)*t])
			have[esi] = true
			nsrc++
		}
	}
	if nsrc == c.k {
		d.finish(out)
		return nil
	}
	pad := c.kp - c.k
	isis := make([]uint32, 0, len(d.esis)+pad)
	syms := make([][]byte, c.s, c.s+len(d.esis)+pad)
	for i, esi := range d.esis {
		isi := esi
		if int(esi) >= c.k {
			isi += uint32(pad)
		}
		isis = append(isis, isi)
		syms = append(syms, d.data[i*t:(i+1)*t])
	}
	for i := c.k; i < c.kp; i++ {
		isis = append(isis, uint32(i))
		syms = append(syms, nil)
	}
	rs, cols := newSparseRows(c, isis)
	p, err := buildPlan(c, rs, cols)
	if err != nil {
		return err
	}
	inter, err := p.execute(syms, t)
	if err != nil {
		return err
	}
	var scratch []int32
	for i := 0; i < c.k; i++ {
		if !have[i] {
			scratch = c.encodeSymbol(out[i*t:(i+1)*t], inter, uint32(i), scratch)
		}
	}
	d.finish(out)
	return nil
}

func (d *BlockDecoder) finish(out []byte) {
	d.out = out
	d.index, d.esis, d.data = nil, nil, nil
}
