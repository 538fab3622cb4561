package broadcast

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"ferry/internal/carry/broadcast/fountain"
	"ferry/internal/key"
)

// Packet layout constants; see docs/broadcast.md.
const (
	// Magic opens every packet.
	Magic = "FRYB"
	// Version is the packet format version this package writes and reads.
	Version = 1

	// KindSymbol marks a packet carrying one encoding symbol.
	KindSymbol = 1
	// KindAnnounce marks a packet carrying one part of an announcement.
	KindAnnounce = 2

	// IDSize is the length of the archive ID prefix in packets.
	IDSize = 16

	headerSize   = 22 // magic, version, kind, id
	symbolHeader = headerSize + fountain.OTISize + 4 + 32
	sigSize      = 64
	announceHead = headerSize + 8
	crcSize      = 4

	// MaxPacketSize bounds a packet: a symbol of 65535 bytes plus headers.
	MaxPacketSize = symbolHeader + 65535 + sigSize + crcSize
	// MinPacketSize is the size of the smallest valid packet.
	MinPacketSize = announceHead + 1 + crcSize

	// MaxAnnounceBody bounds an announcement body (length fields, manifest
	// and signatures): real manifests take a few kB, and a receiver
	// assembles the body from parts, so a small bound keeps forged parts
	// cheap to rule out. Packets claiming more are not valid; encode
	// refuses archives whose announcement would be longer.
	MaxAnnounceBody = 1 << 20
)

// Errors returned by the packet parser. They are wrapped with details; test
// with errors.Is.
var (
	ErrNotPacket = errors.New("broadcast: not a ferry broadcast packet")
	ErrVersion   = errors.New("broadcast: unsupported packet version")
	ErrDamaged   = errors.New("broadcast: damaged packet (checksum mismatch)")
	ErrMalformed = errors.New("broadcast: malformed packet")
	ErrForged    = errors.New("broadcast: forged or invalid announcement")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Packet is one parsed packet. Payload aliases the parsed buffer.
type Packet struct {
	Kind byte
	ID   [IDSize]byte // first 16 bytes of the archive ID

	// Symbol packets.
	OTI    [fountain.OTISize]byte
	Params fountain.Params
	SBN    uint8
	ESI    uint32
	Sender key.Public // broadcaster key that signed the symbol packet
	Sig    []byte     // its Ed25519 signature
	signed []byte     // the bytes the signature covers

	// Announcement and parity packets: Part is the part index (of a
	// parity packet: its parity index j), Parts the cut's data part count.
	Part, Parts uint16
	BodyLen     uint32

	Payload []byte
}

// ParsePacket checks and parses one packet. Errors wrap ErrNotPacket,
// ErrVersion, ErrDamaged or ErrMalformed.
func ParsePacket(b []byte) (Packet, error) {
	var p Packet
	if len(b) < MinPacketSize || string(b[:4]) != Magic {
		return p, ErrNotPacket
	}
	if len(b) > MaxPacketSize {
		return p, fmt.Errorf("%w: %d bytes, at most %d", ErrMalformed, len(b), MaxPacketSize)
	}
	if crc32.Checksum(b[:len(b)-crcSize], castagnoli) != binary.BigEndian.Uint32(b[len(b)-crcSize:]) {
		return p, ErrDamaged
	}
	if b[4] != Version {
		return p, fmt.Errorf("%w %d (this ferry reads %d): get a newer ferry", ErrVersion, b[4], Version)
	}
	p.Kind = b[5]
	copy(p.ID[:], b[6:22])
	body := b[:len(b)-crcSize]
	switch p.Kind {
	case KindSymbol:
		if len(body) < symbolHeader+1+sigSize {
			return p, fmt.Errorf("%w: symbol packet of %d bytes", ErrMalformed, len(b))
		}
		copy(p.OTI[:], body[22:34])
		par, err := fountain.DecodeParams(p.OTI[:])
		if err != nil {
			return p, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		p.Params = par
		p.SBN = body[34]
		p.ESI = uint32(body[35])<<16 | uint32(body[36])<<8 | uint32(body[37])
		copy(p.Sender[:], body[38:70])
		p.signed = body[:len(body)-sigSize]
		p.Sig = body[len(body)-sigSize:]
		p.Payload = body[symbolHeader : len(body)-sigSize]
		if len(p.Payload) != int(par.T) {
			return p, fmt.Errorf("%w: symbol of %d bytes, parameters say %d", ErrMalformed, len(p.Payload), par.T)
		}
		if int(p.SBN) >= par.SourceBlocks() {
			return p, fmt.Errorf("%w: source block %d of %d", ErrMalformed, p.SBN, par.SourceBlocks())
		}
	case KindAnnounce, KindParity:
		p.Part = binary.BigEndian.Uint16(body[22:])
		p.Parts = binary.BigEndian.Uint16(body[24:])
		p.BodyLen = binary.BigEndian.Uint32(body[26:])
		p.Payload = body[announceHead:]
		if p.Kind == KindParity {
			return p, checkParity(p)
		}
		if p.Parts == 0 || p.Part >= p.Parts || p.BodyLen == 0 || p.BodyLen > MaxAnnounceBody {
			return p, fmt.Errorf("%w: announcement part %d of %d, body %d bytes", ErrMalformed, p.Part, p.Parts, p.BodyLen)
		}
		lo, hi, ok := partRange(p.BodyLen, p.Parts, p.Part)
		if !ok || len(p.Payload) != hi-lo {
			return p, fmt.Errorf("%w: announcement part %d of %d holds %d bytes of a %d-byte body", ErrMalformed, p.Part, p.Parts, len(p.Payload), p.BodyLen)
		}
	default:
		return p, fmt.Errorf("%w: unknown kind %d", ErrMalformed, p.Kind)
	}
	return p, nil
}

// checkParity checks the fields of a parity part p.
func checkParity(p Packet) error {
	if p.Parts == 0 || int(p.Part) >= MaxParity(int(p.Parts)) || p.BodyLen == 0 || p.BodyLen > MaxAnnounceBody {
		return fmt.Errorf("%w: announcement parity part %d of a cut in %d, body %d bytes", ErrMalformed, p.Part, p.Parts, p.BodyLen)
	}
	if _, c, ok := partRange(p.BodyLen, p.Parts, 0); !ok || len(p.Payload) != c {
		return fmt.Errorf("%w: announcement parity part of %d bytes for a %d-byte body in %d parts", ErrMalformed, len(p.Payload), p.BodyLen, p.Parts)
	}
	return nil
}

func appendHeader(dst []byte, kind byte, id [IDSize]byte) []byte {
	dst = append(dst, Magic...)
	dst = append(dst, Version, kind)
	return append(dst, id[:]...)
}

func appendCRC(dst []byte, start int) []byte {
	return binary.BigEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// symbolSigPrefix separates symbol signatures from every other use of a key.
const symbolSigPrefix = "ferry broadcast symbol v1\x00"

// AppendSymbol appends a symbol packet signed by sender to dst.
func AppendSymbol(dst []byte, id [IDSize]byte, oti [fountain.OTISize]byte, sbn uint8, esi uint32, sym []byte, sender *key.Secret) []byte {
	start := len(dst)
	dst = appendSymbolBody(dst, id, oti, sbn, esi, sym, sender.Public())
	return finishSymbol(dst, start, sender)
}

// appendSymbolBody appends a symbol packet up to its signature.
func appendSymbolBody(dst []byte, id [IDSize]byte, oti [fountain.OTISize]byte, sbn uint8, esi uint32, sym []byte, pub key.Public) []byte {
	dst = appendHeader(dst, KindSymbol, id)
	dst = append(dst, oti[:]...)
	dst = append(dst, sbn, byte(esi>>16), byte(esi>>8), byte(esi))
	dst = append(dst, pub[:]...)
	return append(dst, sym...)
}

// finishSymbol signs the symbol packet body dst[start:] and appends the
// signature and the CRC.
func finishSymbol(dst []byte, start int, sender *key.Secret) []byte {
	msg := make([]byte, 0, len(symbolSigPrefix)+len(dst)-start)
	msg = append(append(msg, symbolSigPrefix...), dst[start:]...)
	dst = append(dst, sender.Sign(msg)...)
	return appendCRC(dst, start)
}

// VerifySender checks the sender's signature of a symbol packet.
func (p *Packet) VerifySender() bool {
	if p.Kind != KindSymbol || len(p.Sig) != sigSize {
		return false
	}
	msg := make([]byte, 0, len(symbolSigPrefix)+len(p.signed))
	msg = append(append(msg, symbolSigPrefix...), p.signed...)
	return p.Sender.Verify(msg, p.Sig)
}

// AppendAnnounce appends announcement part `part` of `parts` to dst; chunk
// is body[part*C : min((part+1)*C, len(body))] for the sender's part size C.
func AppendAnnounce(dst []byte, id [IDSize]byte, part, parts uint16, bodyLen uint32, chunk []byte) []byte {
	return appendPart(dst, KindAnnounce, id, part, parts, bodyLen, chunk)
}

// appendPart appends a packet of an announcement's part or parity part:
// both carry an index, the cut (parts, body length) and the part's bytes.
func appendPart(dst []byte, kind byte, id [IDSize]byte, part, parts uint16, bodyLen uint32, chunk []byte) []byte {
	start := len(dst)
	dst = appendHeader(dst, kind, id)
	dst = binary.BigEndian.AppendUint16(dst, part)
	dst = binary.BigEndian.AppendUint16(dst, parts)
	dst = binary.BigEndian.AppendUint32(dst, bodyLen)
	dst = append(dst, chunk...)
	return appendCRC(dst, start)
}

// partRange returns the byte range of part i of an announcement body of n
// bytes cut into parts parts of C = ceil(n/parts) bytes (the last shorter);
// ok is false for a cut that leaves the last part empty.
func partRange(n uint32, parts, i uint16) (lo, hi int, ok bool) {
	c := (int(n) + int(parts) - 1) / int(parts)
	if (int(parts)-1)*c >= int(n) {
		return 0, 0, false
	}
	lo = int(i) * c
	return lo, min(lo+c, int(n)), true
}
