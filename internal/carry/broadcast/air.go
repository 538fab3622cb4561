package broadcast

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"ferry/internal/archive"
	"ferry/internal/carry/broadcast/fountain"
	"ferry/internal/key"
)

// Air packets are the broadcast packets of links where every byte costs
// airtime and a lower layer already drops damaged frames: the radio modem,
// whose frames carry one packet each and end with their own CRC
// (docs/modem.md). Announcements travel as ordinary announcement packets,
// cut to fit a frame, and parity packets of the same size, so that any P
// parts of the copies sent give the P-part announcement back. Symbols travel as compact symbol packets (6 bytes of
// header, no magic, no CRC, no per-packet signature), and the object they
// code is the archive without its manifest, signatures and trailer — the
// announcement carries those, and the receiver puts the archive back
// together — so nothing is sent twice (docs/broadcast.md, "Air packets").

const (
	// AirSymbol is the first byte of a compact symbol packet; ordinary
	// packets start with 'F' (Magic).
	AirSymbol = 0xF3
	// airHeader is the compact symbol header: AirSymbol, a 3-byte tag (the
	// archive ID's first bytes), a 2-byte ESI.
	airHeader = 6
	airTag    = 3
	// MinAirPacket is the smallest frame payload air packets fit: an
	// announcement part of one byte.
	MinAirPacket = announceHead + 1 + crcSize
)

// airSender is the pool key of compact symbols: they carry no sender
// signature, so they share one pool per archive, and the archive's own
// signature (checked on the rebuilt archive) is what decides.
var airSender key.Public

// AirObject is the part of an archive that compact symbols code: the file
// up to its manifest.
func AirObject(a *Announcement) int64 {
	return a.Length - int64(len(a.Manifest)) - int64(len(a.SigBlock)) - trailerLen
}

const trailerLen = 32

// airParams are the fountain parameters of an archive's compact symbols
// of t bytes: one source block (so no block number travels), derived from
// the announcement alone, so no OTI travels either.
func airParams(a *Announcement, t int) (fountain.Params, error) {
	n := AirObject(a)
	if n < 1 {
		return fountain.Params{}, fmt.Errorf("%w: nothing to send before the manifest", ErrOptions)
	}
	p, err := fountain.NewParams(uint64(n), t, 1<<30)
	if err != nil {
		return p, err
	}
	if p.SourceBlocks() != 1 || p.SourceSymbols(0) > 65535 {
		return p, fmt.Errorf("%w: an archive of %d bytes is too large for air packets of %d-byte symbols (at most %d symbols)",
			ErrOptions, a.Length, t, fountain.MaxSourceSymbols)
	}
	return p, nil
}

// rebuildAir puts an archive back together from its air object and the
// manifest and signatures its announcement carried (docs/format.md:
// manifest ‖ signatures ‖ trailer).
func rebuildAir(a *Announcement, body []byte) []byte {
	out := make([]byte, 0, a.Length)
	out = append(out, body...)
	out = append(out, a.Manifest...)
	out = append(out, a.SigBlock...)
	out = binary.LittleEndian.AppendUint64(out, uint64(len(body)))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(a.Manifest)))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(a.SigBlock)))
	out = append(out, make([]byte, 8)...)
	return append(out, archive.TrailerMagic...)
}

// AirOptions control SendAir.
type AirOptions struct {
	// PacketSize is the payload of one frame: every packet is at most
	// this long, symbols exactly (PacketSize − 6 bytes of symbol).
	PacketSize int
	// Repair is the repair overhead per round as a fraction of K.
	Repair float64
	// Rounds is the number of carousel rounds (default 1); each carries
	// fresh repair symbols.
	Rounds int
	// AnnounceEvery repeats the announcement after this many symbols
	// (default: three times a round: at its start, a third and two thirds
	// in). Each copy is P parts: the first the data parts, later ones
	// parity parts, and a receiver needs any P of them.
	AnnounceEvery int
}

// SendAir produces the air packets of one archive: its announcement, then
// its symbols (round 0: the K source symbols and the first repair
// symbols; each later round fresh repair symbols), with the announcement
// repeated.
func SendAir(data []byte, opts AirOptions, emit func(pkt []byte) error) error {
	if opts.PacketSize < MinAirPacket+airHeader || opts.PacketSize > 65535 {
		return fmt.Errorf("%w: air packet size %d", ErrOptions, opts.PacketSize)
	}
	if opts.Rounds == 0 {
		opts.Rounds = 1
	}
	if opts.Rounds < 0 || opts.Repair < 0 || opts.Repair > 1000 || opts.AnnounceEvery < 0 {
		return fmt.Errorf("%w: rounds %d, repair %g", ErrOptions, opts.Rounds, opts.Repair)
	}
	r, err := archive.Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	ann, err := NewAnnouncement(r, data)
	r.Close()
	if err != nil {
		return err
	}
	t := opts.PacketSize - airHeader
	p, err := airParams(ann, t)
	if err != nil {
		return err
	}
	enc, err := fountain.NewEncoder(data[:AirObject(ann)], p)
	if err != nil {
		return err
	}
	parts, err := announceParts(ann, opts.PacketSize-announceHead-crcSize)
	if err != nil {
		return err
	}
	k := p.SourceSymbols(0)
	per := k + int(float64(k)*opts.Repair+0.999999)
	if per*opts.Rounds > 65536 {
		return fmt.Errorf("%w: %d rounds of %d symbols exceed the 65536 ESIs of air packets", ErrOptions, opts.Rounds, per)
	}
	every := opts.AnnounceEvery
	if every == 0 {
		every = max(1, (per+2)/3)
	}
	// Copy n of the announcement is the P parts of indices n·P … n·P+P−1
	// mod N over data and parity parts together (N = P + MaxParity(P)):
	// the first copy is the data parts, later ones fresh parity parts, so
	// that any P parts from any copies give the announcement back.
	body := ann.Body()
	P := len(parts)
	N := P + MaxParity(P)
	copies := 0
	announce := func() error {
		for i := 0; i < P; i++ {
			idx := (copies*P + i) % N
			pk := parts[idx%P]
			if idx >= P {
				q, err := ParityPart(body, uint16(P), idx-P)
				if err != nil {
					return err
				}
				pk = AppendParity(nil, ann.ShortID(), uint16(idx-P), uint16(P), uint32(len(body)), q)
			}
			if err := emit(pk); err != nil {
				return err
			}
		}
		copies++
		return nil
	}
	id := ann.ShortID()
	pkt := make([]byte, airHeader+t)
	pkt[0] = AirSymbol
	copy(pkt[1:1+airTag], id[:airTag])
	for round := 0; round < opts.Rounds; round++ {
		if err := announce(); err != nil {
			return err
		}
		for i := 0; i < per; i++ {
			esi := round*per + i
			binary.BigEndian.PutUint16(pkt[4:], uint16(esi))
			if err := enc.Symbol(0, uint32(esi), pkt[airHeader:]); err != nil {
				return err
			}
			if err := emit(pkt); err != nil {
				return err
			}
			if (i+1)%every == 0 && i+1 < per {
				if err := announce(); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// AirSymbols is the number of symbols (K) a receiver needs of an archive
// sent in air packets of size packetSize, and the number of announcement
// packets: what one round costs at least.
func AirSymbols(data []byte, packetSize int) (k, announcements int, err error) {
	r, err := archive.Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return 0, 0, err
	}
	ann, err := NewAnnouncement(r, data)
	r.Close()
	if err != nil {
		return 0, 0, err
	}
	p, err := airParams(ann, packetSize-airHeader)
	if err != nil {
		return 0, 0, err
	}
	parts, err := announceParts(ann, packetSize-announceHead-crcSize)
	if err != nil {
		return 0, 0, err
	}
	return p.SourceSymbols(0), len(parts), nil
}

// announceParts cuts an announcement into packets whose payload is at
// most chunk bytes.
func announceParts(ann *Announcement, chunk int) ([][]byte, error) {
	if chunk < 1 {
		return nil, fmt.Errorf("%w: announcement chunk %d", ErrOptions, chunk)
	}
	body := ann.Body()
	parts := (len(body) + chunk - 1) / chunk
	for parts > 1 {
		if _, _, ok := partRange(uint32(len(body)), uint16(parts), 0); ok {
			break
		}
		parts--
	}
	if parts > 65535 {
		return nil, fmt.Errorf("%w: announcement of %d bytes needs more than 65535 parts", ErrOptions, len(body))
	}
	// Each part is at most ceil(B/P) bytes; a valid cut may need one part
	// more than the fewest, so grow P until every part fits the chunk.
	for ; ; parts++ {
		_, hi, ok := partRange(uint32(len(body)), uint16(parts), 0)
		if ok && hi <= chunk {
			break
		}
	}
	var out [][]byte
	for i := 0; i < parts; i++ {
		lo, hi, _ := partRange(uint32(len(body)), uint16(parts), uint16(i))
		out = append(out, AppendAnnounce(nil, ann.ShortID(), uint16(i), uint16(parts), uint32(len(body)), body[lo:hi]))
	}
	return out, nil
}

// handleAir takes a compact symbol packet.
func (r *Receiver) handleAir(pkt []byte) error {
	if len(pkt) < airHeader+1 {
		r.stats.Damaged++
		return nil
	}
	var tag [airTag]byte
	copy(tag[:], pkt[1:1+airTag])
	// A collection being collected wins over a done one of the same tag
	// (3 bytes of the ID can collide); a done one, announced in this run
	// or known from the state folder, makes the symbol a duplicate.
	var c, done *collection
	for _, x := range r.cols {
		if !bytes.Equal(x.short[:airTag], tag[:]) {
			continue
		}
		switch {
		case x.done:
			done = x
		case x.ann != nil:
			c = x
		}
	}
	if c == nil && done != nil {
		done.seen = true
		r.stats.Duplicate++
		return nil
	}
	if c == nil {
		r.holdAir(pkt)
		return nil
	}
	p, err := airParams(c.ann, len(pkt)-airHeader)
	if err != nil {
		r.stats.Foreign++
		return nil
	}
	sp := Packet{Kind: KindSymbol, ID: c.short, OTI: p.Encode(), Params: p, SBN: 0,
		ESI: uint32(binary.BigEndian.Uint16(pkt[4:])), Sender: airSender, Payload: pkt[airHeader:]}
	return r.handleSymbol(c, sp, 1)
}

// holdAir keeps a compact symbol whose archive is not announced yet, until
// its announcement comes (three times a round). Held symbols have their
// own budget, an eighth of MaxPending, and the oldest give way to new
// ones: junk under random tags can only push out other held compact
// symbols, never the budget of signed packets, and a genuine round
// arriving after it is held whole.
func (r *Receiver) holdAir(pkt []byte) {
	limit := max(r.opts.MaxPending/8, int64(len(pkt)))
	for len(r.airPending) > 0 && (r.airPendingB+int64(len(pkt)) > limit || len(r.airPending) >= maxAirHeld) {
		r.airPendingB -= int64(len(r.airPending[0]))
		r.airPending[0] = nil
		r.airPending = r.airPending[1:]
		r.stats.Foreign++ // never claimed by an announcement in time
	}
	r.airPending = append(r.airPending, bytes.Clone(pkt))
	r.airPendingB += int64(len(pkt))
}

// maxAirHeld bounds how many compact symbols wait for an announcement.
const maxAirHeld = 1 << 16

// takeAir removes and returns the held compact symbols of collection c.
func (r *Receiver) takeAir(c *collection) [][]byte {
	var mine, keep [][]byte
	for _, pkt := range r.airPending {
		if bytes.Equal(pkt[1:1+airTag], c.short[:airTag]) {
			mine = append(mine, pkt)
			r.airPendingB -= int64(len(pkt))
			continue
		}
		keep = append(keep, pkt)
	}
	r.airPending = keep
	return mine
}

// airAnnounced processes the held compact symbols of a newly announced
// archive.
func (r *Receiver) airAnnounced(c *collection) error {
	for _, pkt := range r.takeAir(c) {
		if err := r.handleAir(pkt); err != nil {
			return err
		}
	}
	return nil
}

// airRefused forgets the held compact symbols of an archive the receiver
// does not want (counted foreign, like its signed symbols).
func (r *Receiver) airRefused(c *collection) {
	r.stats.Foreign += int64(len(r.takeAir(c)))
}
