package fountain

import (
	"encoding/binary"
	"fmt"
)

// MaxTransferLength is the largest object RFC 6330 (section 4.3) allows.
const MaxTransferLength = 946270874880

// OTISize is the size of an encoded Params: the Common FEC Object
// Transmission Information (8 bytes) followed by the RaptorQ
// Scheme-Specific part (4 bytes), RFC 6330 sections 3.3.2 and 3.3.3.
const OTISize = 12

// DefaultMaxBlockSize is the working-memory bound WS used by NewParams when
// none is given: source blocks (after sub-blocking) stay below it.
const DefaultMaxBlockSize = 64 << 20

// minSubSymbol is the smallest sub-symbol size in bytes NewParams chooses
// (SS*Al of RFC 6330 section 4.3).
const minSubSymbol = 64

// Params are the encoding parameters of one object, RFC 6330 section 4.3:
// the sender derives them with NewParams and sends them to receivers
// (Encode/DecodeParams) so both sides cut the object the same way.
type Params struct {
	F  uint64 // transfer length: object size in bytes, 1..MaxTransferLength
	T  uint16 // symbol size in bytes, a multiple of Al
	Z  uint16 // number of source blocks, 1..255 (numbered by SBN 0..Z-1)
	N  uint16 // number of sub-blocks per source block, 1..T/Al
	Al uint8  // symbol alignment in bytes
}

// NewParams derives Params for an object of length bytes sent in symbols of
// symbolSize bytes (RFC 6330 section 4.3 with P' = symbolSize, SS*Al = 64
// bytes). maxBlockSize (WS, bytes) bounds the memory one source block may
// need when decoding; <= 0 means DefaultMaxBlockSize. Al is 4 when
// symbolSize is a multiple of 4, else 1.
func NewParams(length uint64, symbolSize int, maxBlockSize int) (Params, error) {
	if length < 1 || length > MaxTransferLength {
		return Params{}, fmt.Errorf("%w: object length %d not in 1..%d", ErrParams, length, uint64(MaxTransferLength))
	}
	if symbolSize < 1 || symbolSize > 65535 {
		return Params{}, fmt.Errorf("%w: symbol size %d not in 1..65535", ErrParams, symbolSize)
	}
	ws := uint64(DefaultMaxBlockSize)
	if maxBlockSize > 0 {
		ws = uint64(maxBlockSize)
	}
	t := uint64(symbolSize)
	al := uint64(1)
	if t%4 == 0 {
		al = 4
	}
	ss := (minSubSymbol + al - 1) / al
	nMax := t / (ss * al)
	if nMax < 1 {
		nMax = 1
	}
	// KL(n): the largest K' whose sub-blocks of n fit in ws
	kl := func(n uint64) uint64 {
		lim := ws / (al * ceilDiv(t, al*n))
		best := uint64(0)
		for _, e := range systematicIndices {
			if uint64(e.kp) <= lim {
				best = uint64(e.kp)
			}
		}
		return best
	}
	klMax := kl(nMax)
	if klMax == 0 {
		return Params{}, fmt.Errorf("%w: block size %d bytes too small for symbols of %d bytes", ErrParams, ws, t)
	}
	kt := ceilDiv(length, t)
	z := ceilDiv(kt, klMax)
	if z > 255 {
		return Params{}, fmt.Errorf("%w: object needs %d source blocks, at most 255: use larger symbols or a larger block size", ErrParams, z)
	}
	n := uint64(1)
	for ; n <= nMax; n++ {
		if ceilDiv(kt, z) <= kl(n) {
			break
		}
	}
	p := Params{F: length, T: uint16(t), Z: uint16(z), N: uint16(n), Al: uint8(al)}
	return p, p.Validate()
}

func ceilDiv(a, b uint64) uint64 { return (a + b - 1) / b }

// Validate checks that the parameters describe a valid partitioning; every
// method below assumes it passed.
func (p Params) Validate() error {
	switch {
	case p.F < 1 || p.F > MaxTransferLength:
		return fmt.Errorf("%w: transfer length %d not in 1..%d", ErrParams, p.F, uint64(MaxTransferLength))
	case p.Al < 1 || p.T < 1 || p.T%uint16(p.Al) != 0:
		return fmt.Errorf("%w: symbol size %d not a positive multiple of alignment %d", ErrParams, p.T, p.Al)
	case p.Z < 1 || p.Z > 255:
		return fmt.Errorf("%w: %d source blocks not in 1..255", ErrParams, p.Z)
	case p.N < 1 || p.N > p.T/uint16(p.Al):
		return fmt.Errorf("%w: %d sub-blocks not in 1..%d", ErrParams, p.N, p.T/uint16(p.Al))
	}
	kt := ceilDiv(p.F, uint64(p.T))
	if uint64(p.Z) > kt {
		return fmt.Errorf("%w: %d source blocks for %d symbols", ErrParams, p.Z, kt)
	}
	if ceilDiv(kt, uint64(p.Z)) > MaxSourceSymbols {
		return fmt.Errorf("%w: %d symbols in %d source blocks exceed %d per block", ErrParams, kt, p.Z, MaxSourceSymbols)
	}
	return nil
}

// Encode returns the 12-byte Object Transmission Information: F (40 bits),
// a reserved zero byte, T (16 bits), Z (8 bits), N (16 bits), Al (8 bits),
// all big-endian.
func (p Params) Encode() [OTISize]byte {
	var b [OTISize]byte
	binary.BigEndian.PutUint64(b[0:8], p.F<<24|uint64(p.T))
	b[8] = byte(p.Z)
	binary.BigEndian.PutUint16(b[9:11], p.N)
	b[11] = p.Al
	return b
}

// DecodeParams parses and validates an encoded Params.
func DecodeParams(b []byte) (Params, error) {
	if len(b) != OTISize {
		return Params{}, fmt.Errorf("%w: OTI is %d bytes, want %d", ErrParams, len(b), OTISize)
	}
	if b[5] != 0 {
		return Params{}, fmt.Errorf("%w: OTI reserved byte is %d, want 0", ErrParams, b[5])
	}
	v := binary.BigEndian.Uint64(b[0:8])
	p := Params{F: v >> 24, T: uint16(v), Z: uint16(b[8]), N: binary.BigEndian.Uint16(b[9:11]), Al: b[11]}
	if err := p.Validate(); err != nil {
		return Params{}, err
	}
	return p, nil
}

// partition is Partition[I, J] of RFC 6330 section 4.4.1.2: I split into J
// parts, the first jl of size il, the other js of size is.
func partition(i, j uint64) (il, is, jl, js uint64) {
	il = ceilDiv(i, j)
	is = i / j
	jl = i - is*j
	js = j - jl
	return
}

// SourceBlocks returns Z, the number of source blocks (SBNs 0..Z-1).
func (p Params) SourceBlocks() int { return int(p.Z) }

// SourceSymbols returns K, the number of source symbols of block sbn (0 if
// sbn is out of range). A receiver needs about K symbols of each block.
func (p Params) SourceSymbols(sbn int) int {
	if sbn < 0 || sbn >= int(p.Z) {
		return 0
	}
	kl, ks, zl, _ := partition(ceilDiv(p.F, uint64(p.T)), uint64(p.Z))
	if uint64(sbn) < zl {
		return int(kl)
	}
	return int(ks)
}

// blockOffset returns the byte offset of block sbn in the padded object.
func (p Params) blockOffset(sbn int) uint64 {
	kl, ks, zl, _ := partition(ceilDiv(p.F, uint64(p.T)), uint64(p.Z))
	t := uint64(p.T)
	s := uint64(sbn)
	if s <= zl {
		return s * kl * t
	}
	return zl*kl*t + (s-zl)*ks*t
}

// subSymbolSizes returns the sub-symbol size in bytes of each sub-block.
func (p Params) subSymbolSizes() []int {
	tl, ts, nl, _ := partition(uint64(p.T/uint16(p.Al)), uint64(p.N))
	sizes := make([]int, p.N)
	for n := range sizes {
		if uint64(n) < nl {
			sizes[n] = int(tl) * int(p.Al)
		} else {
			sizes[n] = int(ts) * int(p.Al)
		}
	}
	return sizes
}

// interleave converts block bytes from object order (N sub-blocks one after
// the other, section 4.4.1.2) to symbol order (symbol i = sub-symbol i of
// every sub-block), or back when toObject is set. src and dst are K*T bytes.
func interleave(dst, src []byte, k int, sizes []int, toObject bool) {
	if len(sizes) == 1 {
		copy(dst, src)
		return
	}
	t := 0
	for _, s := range sizes {
		t += s
	}
	subOff := 0 // start of sub-block n in object order
	symOff := 0 // offset of sub-symbol n inside a symbol
	for _, s := range sizes {
		for i := 0; i < k; i++ {
			o := subOff + i*s
			y := i*t + symOff
			if toObject {
				copy(dst[o:o+s], src[y:y+s])
			} else {
				copy(dst[y:y+s], src[o:o+s])
			}
		}
		subOff += k * s
		symOff += s
	}
}

// Encoder produces the encoding symbols of an object. It is safe for
// concurrent use.
type Encoder struct {
	p      Params
	blocks []*BlockEncoder
}

// NewEncoder prepares all source blocks of data, whose length must be
// p.F. It copies what it needs from data.
func NewEncoder(data []byte, p Params) (*Encoder, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if uint64(len(data)) != p.F {
		return nil, fmt.Errorf("%w: data is %d bytes, parameters say %d", ErrParams, len(data), p.F)
	}
	e := &Encoder{p: p, blocks: make([]*BlockEncoder, p.Z)}
	sizes := p.subSymbolSizes()
	t := int(p.T)
	for sbn := range e.blocks {
		k := p.SourceSymbols(sbn)
		off := p.blockOffset(sbn)
		obj := make([]byte, k*t)
		copy(obj, data[min(off, p.F):min(off+uint64(k*t), p.F)])
		src := obj
		if len(sizes) > 1 {
			src = make([]byte, k*t)
			interleave(src, obj, k, sizes, false)
		}
		b, err := NewBlockEncoder(src, t)
		if err != nil {
			return nil, fmt.Errorf("source block %d: %w", sbn, err)
		}
		e.blocks[sbn] = b
	}
	return e, nil
}

// Params returns the encoder's parameters.
func (e *Encoder) Params() Params { return e.p }

// Symbol writes to dst (T bytes) the encoding symbol (sbn, esi): a source
// symbol for esi < K of that block, a repair symbol above.
func (e *Encoder) Symbol(sbn uint8, esi uint32, dst []byte) error {
	if int(sbn) >= len(e.blocks) {
		return fmt.Errorf("%w: source block %d, object has %d", ErrSymbol, sbn, len(e.blocks))
	}
	return e.blocks[sbn].Symbol(esi, dst)
}

// Decoder rebuilds an object from encoding symbols received in any order,
// with any losses and duplicates. It is not safe for concurrent use.
type Decoder struct {
	p      Params
	blocks []*BlockDecoder // created on the first symbol of each block
	done   int
}

// NewDecoder prepares to decode an object with parameters p.
func NewDecoder(p Params) (*Decoder, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &Decoder{p: p, blocks: make([]*BlockDecoder, p.Z)}, nil
}

// Add gives the decoder one encoding symbol. It returns true once every
// source block is recovered. Errors wrap ErrSymbol (the symbol was ignored)
// or ErrInconsistent (the block's symbols were dropped; keep adding).
func (d *Decoder) Add(sbn uint8, esi uint32, sym []byte) (bool, error) {
	if int(sbn) >= len(d.blocks) {
		return false, fmt.Errorf("%w: source block %d, object has %d", ErrSymbol, sbn, len(d.blocks))
	}
	b := d.blocks[sbn]
	if b == nil {
		var err error
		if b, err = NewBlockDecoder(d.p.SourceSymbols(int(sbn)), int(d.p.T)); err != nil {
			return false, err
		}
		d.blocks[sbn] = b
	}
	if b.Done() {
		return d.done == len(d.blocks), nil
	}
	ok, err := b.Add(esi, sym)
	if err != nil {
		return false, fmt.Errorf("source block %d: %w", sbn, err)
	}
	if ok {
		d.done++
	}
	return d.done == len(d.blocks), nil
}

// BlockDone reports whether source block sbn is recovered.
func (d *Decoder) BlockDone(sbn uint8) bool {
	return int(sbn) < len(d.blocks) && d.blocks[sbn] != nil && d.blocks[sbn].Done()
}

// Bytes returns the object once every block is recovered, or an error
// wrapping ErrIncomplete.
func (d *Decoder) Bytes() ([]byte, error) {
	if d.done != len(d.blocks) {
		return nil, fmt.Errorf("%w: %d of %d source blocks recovered", ErrIncomplete, d.done, len(d.blocks))
	}
	out := make([]byte, 0, d.p.F)
	sizes := d.p.subSymbolSizes()
	for sbn, b := range d.blocks {
		blk, _ := b.Bytes()
		k := d.p.SourceSymbols(sbn)
		obj := blk
		if len(sizes) > 1 {
			obj = make([]byte, len(blk))
			interleave(obj, blk, k, sizes, true)
		}
		out = append(out, obj...)
	}
	return out[:d.p.F], nil
}
