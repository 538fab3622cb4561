// Package cpace implements the CPace password-authenticated key exchange
// (draft-irtf-cfrg-cpace) with the cipher suite CPACE-RISTR255-SHA512: the
// ristretto255 group of github.com/cloudflare/circl and SHA-512.
//
// ferry uses it to turn a short one-time pairing code into a strong shared
// key: each side sends one message, and an eavesdropper or a peer who does
// not know the code learns nothing that lets it test guesses offline. An
// active attacker gets one guess per run. docs/sync.md says how ferry's sync
// channel uses it.
//
// Only the initiator-responder setting is offered (the transcript is
// transcript_ir); ferry's roles are fixed by who dialled whom.
package cpace

import (
	"bytes"
	"crypto/rand"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"

	r255 "github.com/bwesterb/go-ristretto"
	"github.com/cloudflare/circl/group"
)

// DSI is the domain-separation identifier of the ristretto255 group
// environment, as the draft defines it.
const DSI = "CPaceRistretto255"

// Sizes of the values on the wire and of the output.
const (
	ElementSize = 32 // an encoded ristretto255 element (Ya, Yb)
	ScalarSize  = 32
	ISKSize     = 64  // SHA-512 output
	hashBlock   = 128 // SHA-512 input block size, s_in_bytes in the draft
)

// Maximum lengths this implementation accepts for the inputs it is given and
// for the associated data a peer sends. The draft sets no limit; these keep a
// hostile peer from making us hash megabytes.
const (
	MaxInputLen = 1 << 12
	MaxADLen    = 1 << 10
)

// Errors. ErrInvalidPeer covers every way a peer's message can be bad
// (garbled encoding, an invalid or identity element); the causes are not told
// apart because the protocol must abort the same way for each.
var (
	ErrInvalidPeer = errors.New("cpace: invalid message from peer")
	ErrFinished    = errors.New("cpace: party already finished")
	ErrInput       = errors.New("cpace: input too long")
)

// Role says which side of the initiator-responder protocol a party plays.
// The initiator's message is Ya (with ADa), the responder's Yb (with ADb).
type Role int

const (
	Initiator Role = iota
	Responder
)

func (r Role) String() string {
	if r == Initiator {
		return "initiator"
	}
	return "responder"
}

// Party is one side of a CPace run. Make it with New, send Message() to the
// peer, and hand the peer's message to Finish. A Party is used once.
type Party struct {
	role     Role
	y        group.Scalar
	msg      []byte // lv_cat(Y, AD) as sent
	sid      []byte
	finished bool
}

// New starts a CPace run: prs is the password-related string (the pairing
// code), ci the channel identifier (both sides must have the same one; it is
// never sent), sid the session identifier (may be empty) and ad this party's
// associated data (sent in clear, authenticated by the run). rnd supplies the
// secret scalar; nil means crypto/rand.
func New(role Role, prs, ci, sid, ad []byte, rnd io.Reader) (*Party, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	for {
		var b [ScalarSize]byte
		if _, err := io.ReadFull(rnd, b[:]); err != nil {
			return nil, fmt.Errorf("cpace: sampling scalar: %w", err)
		}
		// The draft's recommended sampling: 32 random bytes with the bits
		// above group_size_bits (252) cleared, read little-endian.
		b[31] &= 0x0f
		p, err := newWithScalar(role, prs, ci, sid, ad, b[:])
		if errors.Is(err, errZeroScalar) {
			continue // probability 2^-252; draw again
		}
		return p, err
	}
}

var errZeroScalar = errors.New("cpace: zero scalar")

// newWithScalar is New with a given little-endian scalar (test vectors use
// it).
func newWithScalar(role Role, prs, ci, sid, ad, scalar []byte) (*Party, error) {
	if len(prs) > MaxInputLen || len(ci) > MaxInputLen || len(sid) > MaxInputLen || len(ad) > MaxADLen {
		return nil, ErrInput
	}
	y := group.Ristretto255.NewScalar()
	if err := y.UnmarshalBinary(scalar); err != nil {
		return nil, fmt.Errorf("cpace: scalar: %w", err)
	}
	if y.IsZero() {
		return nil, errZeroScalar
	}
	g, err := Generator(prs, ci, sid)
	if err != nil {
		return nil, err
	}
	Y, err := group.Ristretto255.NewElement().Mul(g, y).MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("cpace: encoding Y: %w", err)
	}
	return &Party{
		role: role,
		y:    y,
		msg:  lvCat(Y, ad),
		sid:  append([]byte(nil), sid...),
	}, nil
}

// Message returns the message this party sends: lv_cat(Y, AD), i.e. the
// LEB128 length of Y (always 0x20), Y, the LEB128 length of AD, AD.
func (p *Party) Message() []byte { return append([]byte(nil), p.msg...) }

// Finish takes the peer's message and returns the intermediate session key
// ISK (64 bytes) and the peer's associated data. It fails with
// ErrInvalidPeer when the message is malformed, when Y does not decode to a
// ristretto255 element, or when the shared point K is the identity; the
// caller MUST then abort. A Party finishes once; its secret scalar is
// dropped afterwards, whatever the result.
func (p *Party) Finish(peer []byte) (isk, peerAD []byte, err error) {
	if p.finished {
		return nil, nil, ErrFinished
	}
	p.finished = true
	y := p.y
	p.y = nil
	Y, ad, err := ParseMessage(peer)
	if err != nil {
		return nil, nil, err
	}
	K, ok := scalarMultVfy(y, Y)
	if !ok {
		return nil, nil, ErrInvalidPeer
	}
	var transcript []byte
	if p.role == Initiator {
		transcript = append(append(transcript, p.msg...), peer...)
	} else {
		transcript = append(append(transcript, peer...), p.msg...)
	}
	return iskFrom(p.sid, K, transcript), append([]byte(nil), ad...), nil
}

// SessionIDOutput returns the draft's optional public session identifier
// sid_output = SHA-512("CPaceSidOutput" || transcript_ir(Ya,ADa,Yb,ADb)) for
// the initiator's message ma and the responder's message mb.
func SessionIDOutput(ma, mb []byte) []byte {
	h := sha512.New()
	h.Write([]byte("CPaceSidOutput"))
	h.Write(ma)
	h.Write(mb)
	return h.Sum(nil)
}

// ParseMessage splits a CPace message lv_cat(Y, AD) into Y and AD. It
// accepts only the one canonical encoding: a 1-byte length 0x20, Y, a
// minimal LEB128 length of at most MaxADLen, AD, and nothing after.
func ParseMessage(m []byte) (Y, ad []byte, err error) {
	if len(m) < 1+ElementSize+1 || m[0] != ElementSize {
		return nil, nil, ErrInvalidPeer
	}
	Y = m[1 : 1+ElementSize]
	rest := m[1+ElementSize:]
	n, k := readLEB128(rest)
	if k <= 0 || n > MaxADLen || uint64(len(rest)-k) != n {
		return nil, nil, ErrInvalidPeer
	}
	return Y, rest[k:], nil
}

// Generator computes calculate_generator(SHA-512, PRS, CI, sid): the
// generator string is hashed to 64 bytes and mapped to a group element with
// ristretto255's element derivation (the one-way map of RFC 9496 §4.3.4).
func Generator(prs, ci, sid []byte) (group.Element, error) {
	h := sha512.Sum512(generatorString([]byte(DSI), prs, ci, sid, hashBlock))
	// circl's group offers hash_to_group only with expand_message_xmd, which
	// CPace does not use; the one-way map is two Elligator maps added, done
	// here with go-ristretto (the library circl's ristretto255 is built on)
	// and handed back to circl through the canonical encoding.
	var a, b [32]byte
	copy(a[:], h[:32])
	copy(b[:], h[32:])
	var p0, p1 r255.Point
	p0.SetElligator(&a)
	p1.SetElligator(&b)
	p0.Add(&p0, &p1)
	enc := p0.Bytes()
	g := group.Ristretto255.NewElement()
	if err := g.UnmarshalBinary(enc); err != nil {
		return nil, fmt.Errorf("cpace: internal error: generator does not decode: %w", err)
	}
	return g, nil
}

// scalarMultVfy is G.scalar_mult_vfy: decode X, multiply, and report false
// where decoding fails or the result is the identity (G.I).
func scalarMultVfy(y group.Scalar, X []byte) ([]byte, bool) {
	e := group.Ristretto255.NewElement()
	if err := e.UnmarshalBinary(X); err != nil {
		return nil, false
	}
	k := group.Ristretto255.NewElement().Mul(e, y)
	if k.IsIdentity() {
		return nil, false
	}
	enc, err := k.MarshalBinary()
	if err != nil {
		return nil, false
	}
	return enc, true
}

// iskFrom computes ISK = SHA-512(lv_cat(DSI || "_ISK", sid, K) || transcript).
func iskFrom(sid, K, transcript []byte) []byte {
	h := sha512.New()
	h.Write(lvCat([]byte(DSI+"_ISK"), sid, K))
	h.Write(transcript)
	return h.Sum(nil)
}

// generatorString is the draft's generator_string: lv_cat(DSI, PRS,
// zero_bytes(len_zpad), CI, sid), the padding making DSI and PRS fill the
// first hash block.
func generatorString(dsi, prs, ci, sid []byte, blockSize int) []byte {
	zpad := blockSize - 1 - len(prependLen(prs)) - len(prependLen(dsi))
	if zpad < 0 {
		zpad = 0
	}
	return lvCat(dsi, prs, make([]byte, zpad), ci, sid)
}

// prependLen is the draft's prepend_len: the LEB128 length, then the bytes.
func prependLen(b []byte) []byte {
	return append(appendLEB128(nil, uint64(len(b))), b...)
}

// lvCat is the draft's lv_cat.
func lvCat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = appendLEB128(out, uint64(len(p)))
		out = append(out, p...)
	}
	return out
}

// oCat is the draft's o_cat (ordered concatenation, for the symmetric
// setting; kept to check the draft's vectors).
func oCat(a, b []byte) []byte {
	out := []byte("oc")
	if bytes.Compare(a, b) > 0 {
		return append(append(out, a...), b...)
	}
	return append(append(out, b...), a...)
}

func appendLEB128(dst []byte, n uint64) []byte {
	for n >= 0x80 {
		dst = append(dst, byte(n)|0x80)
		n >>= 7
	}
	return append(dst, byte(n))
}

// readLEB128 reads a minimal LEB128 number of at most 3 bytes (enough for
// MaxADLen); it returns k <= 0 on malformed or non-minimal input.
func readLEB128(b []byte) (n uint64, k int) {
	for i := 0; i < len(b) && i < 3; i++ {
		n |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if i > 0 && b[i] == 0 {
				return 0, -1 // non-minimal: a trailing zero group
			}
			return n, i + 1
		}
	}
	return 0, -1
}
