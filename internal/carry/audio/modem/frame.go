package modem

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// ErrPayloadTooLarge is returned for a payload longer than the mode's
// PayloadSize.
var ErrPayloadTooLarge = errors.New("modem: payload larger than the frame")

// errFrame means decoded information bits are not a valid frame: a CRC
// mismatch, a length out of range or a reserved bit set. Such frames are
// dropped and counted.
var errFrame = errors.New("modem: invalid frame")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frameBytes builds the k/8 information bytes of a frame:
//
//	u16 header: 4 reserved bits (0), 12-bit payload length L
//	L payload bytes, zero padding to PayloadSize
//	u32 CRC-32C of all the bytes before it
func frameBytes(m Mode, payload []byte) ([]byte, error) {
	max := m.PayloadSize()
	if len(payload) > max {
		return nil, fmt.Errorf("%w: %d bytes, %s carries at most %d", ErrPayloadTooLarge, len(payload), m, max)
	}
	b := make([]byte, m.p().k/8)
	binary.BigEndian.PutUint16(b, uint16(len(payload)))
	copy(b[headerBytes:], payload)
	binary.BigEndian.PutUint32(b[len(b)-crcBytes:], crc32.Checksum(b[:len(b)-crcBytes], castagnoli))
	return b, nil
}

// parseFrame checks the information bytes of a decoded frame and returns
// its payload. A receiver MUST drop a frame whose CRC does not match, whose
// reserved header bits are not zero, whose length exceeds PayloadSize, or
// whose padding is not zero.
func parseFrame(m Mode, b []byte) ([]byte, error) {
	if len(b) != m.p().k/8 {
		return nil, errFrame
	}
	body := b[:len(b)-crcBytes]
	if crc32.Checksum(body, castagnoli) != binary.BigEndian.Uint32(b[len(b)-crcBytes:]) {
		return nil, errFrame
	}
	h := binary.BigEndian.Uint16(b)
	n := int(h & 0x0FFF)
	if h>>12 != 0 || n > m.PayloadSize() {
		return nil, errFrame
	}
	for _, x := range body[headerBytes+n:] {
		if x != 0 {
			return nil, errFrame
		}
	}
	return append([]byte(nil), body[headerBytes:headerBytes+n]...), nil
}

// bytesToBits expands bytes to one bit per byte, most significant first.
func bytesToBits(b []byte) []byte {
	out := make([]byte, 8*len(b))
	for i, x := range b {
		for j := 0; j < 8; j++ {
			out[8*i+j] = x >> (7 - j) & 1
		}
	}
	return out
}

func bitsToBytes(bits []byte) []byte {
	out := make([]byte, len(bits)/8)
	for i := range out {
		var x byte
		for j := 0; j < 8; j++ {
			x = x<<1 | bits[8*i+j]&1
		}
		out[i] = x
	}
	return out
}

// encodeCells turns a payload into the frame's data cells: information
// bits scrambled, LDPC-encoded, interleaved, paired into QPSK cells, then
// the spare cells.
func (l *layout) encodeCells(payload []byte) ([]complex64, error) {
	b, err := frameBytes(l.mode, payload)
	if err != nil {
		return nil, err
	}
	info := bytesToBits(b)
	for i := range info {
		info[i] ^= l.scram[i]
	}
	cw := l.code.encode(info)
	stream := make([]byte, len(cw))
	for i, bit := range cw {
		stream[l.perm[i]] = bit
	}
	cells := make([]complex64, 0, l.p.dataCells())
	for i := 0; i < len(stream); i += 2 {
		cells = append(cells, qpsk(stream[i], stream[i+1]))
	}
	return append(cells, l.spare...), nil
}

// decodeLLR runs the LDPC decoder on cell-stream LLRs (two per data cell,
// positive = bit 0) and returns the payload, or an error for a frame the
// code could not correct (errFEC) or that fails the frame checks (errFrame).
func (l *layout) decodeLLR(dec *ldpcDecoder, stream []float32) ([]byte, int, error) {
	ch := make([]float32, l.p.codeBits())
	for i := range ch {
		ch[i] = stream[l.perm[i]]
	}
	hard, ok, it := dec.decode(ch, maxIterations)
	if !ok {
		return nil, it, errFEC
	}
	info := hard[:l.p.k]
	for i := range info {
		info[i] ^= l.scram[i]
	}
	p, err := parseFrame(l.mode, bitsToBytes(info))
	return p, it, err
}

// errFEC means the LDPC decoder did not reach a codeword.
var errFEC = errors.New("modem: frame not correctable")

const maxIterations = 50
