package peer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Session message types (docs/sync.md §4). Each message is one transport
// frame whose payload starts with its type byte.
const (
	msgHello = 0x01 // version, archives offered
	msgPing  = 0x02 // keepalive, empty
	msgBye   = 0x03 // end of session, empty
	msgAbort = 0x04 // reason code

	msgReconStart   = 0x10
	msgReconSymbols = 0x11
	msgReconWant    = 0x12
	msgReconDone    = 0x13
	msgReconStop    = 0x14 // the decoding side gives up: difference too large to be worth it
	msgResultTake   = 0x15 // archive ids the listener offered and the dialler lacks
	msgResultGive   = 0x16 // archive ids the dialler offered and the listener lacks

	msgHead     = 0x20
	msgHeadsEnd = 0x21
	msgTake     = 0x22
	msgPlan     = 0x23
	msgGet      = 0x24
	msgPiece    = 0x25
	msgData     = 0x26
	msgSkip     = 0x27
	msgFinished = 0x28
	msgTakeEnd  = 0x29
)

// protocolVersion is the session protocol this package speaks (HELLO).
const protocolVersion = 1

// Piece kinds (GET, PIECE, SKIP).
const (
	kindSection = 1 // bytes of a section, from an offset
	kindCluster = 2 // stored bytes of a cluster, from an offset
	kindGaps    = 3 // the raw bytes of a cluster's entries the taker lacks
)

// Piece encodings on the wire.
const (
	encRaw  = 0
	encZstd = 1
)

// Take modes.
const (
	modeWhole  = 0 // every piece travels (or is found locally by hash)
	modeUpdate = 1 // entries are reconciled first; clusters may be rebuilt
)

// Plan flags.
const (
	planRebuildZstd = 1 << 0 // the giver recompressed a cluster with the default parameters and got its bytes
	planNone        = 1 << 1 // no reconciliation result: every entry counts as missing
	// planRebuildHangul: with planRebuildZstd, the archive's writer packed
	// Korean text clusters as codec 3, so rebuilt clusters are compressed
	// the same way (archive.CompressCluster with hangul).
	planRebuildHangul = 1 << 2
	planFlagsKnown    = planRebuildZstd | planNone | planRebuildHangul
)

// FINISHED results.
const (
	resultAdded  = 0 // verified and added to the library
	resultFailed = 1 // a piece did not verify, or the library refused it
	resultPaused = 2 // stopped before the end (kept to resume), or left out
)

// Abort codes.
const (
	abortCancelled = 1 // the user stopped
	abortProtocol  = 2 // the peer broke the protocol
	abortInternal  = 3 // a local failure
)

// Limits of the wire format.
const (
	// chunkLimit is the most raw bytes one PIECE carries; larger sections
	// and clusters travel as several, so memory and the work lost to a cut
	// are bounded.
	chunkLimit = 4 << 20
	// maxIDList is the most archive ids an offer may hold, so that each
	// RESULT list fits one frame.
	maxIDList = 1024
	// dataFrame is the most bytes one DATA message carries.
	dataFrame = 16 << 10
	// maxHead bounds a HEAD's manifest and signatures together: one frame.
	maxHead = 65000
)

// ErrProtocol marks a message the peer should not have sent: malformed,
// out of place or beyond a limit. The session ends.
var ErrProtocol = errors.New("peer: the other device broke the sync protocol")

func protoErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}

// reader walks a message body, keeping the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = protoErr("malformed %s", what)
	}
}

// uvarint reads a minimal LEB128 varint.
func (r *reader) uvarint(what string) uint64 {
	if r.err != nil {
		return 0
	}
	v, k := binary.Uvarint(r.b)
	if k <= 0 || (k > 1 && r.b[k-1] == 0) {
		r.fail(what)
		return 0
	}
	r.b = r.b[k:]
	return v
}

// small reads a varint that must be at most max.
func (r *reader) small(what string, max uint64) uint64 {
	v := r.uvarint(what)
	if r.err == nil && v > max {
		r.err = protoErr("%s %d is over %d", what, v, max)
		return 0
	}
	return v
}

func (r *reader) byte1(what string) byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) < 1 {
		r.fail(what)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) bytes(what string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.b) < n {
		r.fail(what)
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

// end fails on trailing bytes.
func (r *reader) end(what string) error {
	if r.err == nil && len(r.b) != 0 {
		r.err = protoErr("%d bytes after the %s", len(r.b), what)
	}
	return r.err
}

func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

// hello opens a session on both sides.
type hello struct {
	Version uint64
	Offered uint64 // archives this side offers
}

func (h hello) append(b []byte) []byte {
	b = append(b, msgHello)
	b = appendUvarint(b, h.Version)
	return appendUvarint(b, h.Offered)
}

func parseHello(body []byte) (hello, error) {
	r := reader{b: body}
	h := hello{Version: r.uvarint("HELLO version"), Offered: r.small("HELLO offered", maxIDList)}
	return h, r.end("HELLO")
}

func appendAbort(b []byte, code uint64) []byte { return appendUvarint(append(b, msgAbort), code) }

func parseAbort(body []byte) (uint64, error) {
	r := reader{b: body}
	c := r.small("ABORT code", math.MaxUint32)
	return c, r.end("ABORT")
}

// appendIDs encodes RESULT_TAKE or RESULT_GIVE: a count and 32-byte ids.
func appendIDs(b []byte, typ byte, ids [][32]byte) []byte {
	b = append(b, typ)
	b = appendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = append(b, id[:]...)
	}
	return b
}

func parseIDs(body []byte) ([][32]byte, error) {
	r := reader{b: body}
	n := r.small("id count", maxIDList)
	if r.err == nil && n*32 != uint64(len(r.b)) {
		return nil, protoErr("id list of %d ids in %d bytes", n, len(r.b))
	}
	ids := make([][32]byte, n)
	for i := range ids {
		copy(ids[i][:], r.bytes("id", 32))
	}
	if err := r.end("id list"); err != nil {
		return nil, err
	}
	return ids, nil
}

// head is a HEAD: an archive the giver offers, as its signed manifest.
type head struct {
	Slot     uint64
	Size     uint64
	Manifest []byte
	Sigs     []byte
}

func (h head) append(b []byte) []byte {
	b = append(b, msgHead)
	b = appendUvarint(b, h.Slot)
	b = appendUvarint(b, h.Size)
	b = appendUvarint(b, uint64(len(h.Manifest)))
	b = append(b, h.Manifest...)
	return append(b, h.Sigs...)
}

func parseHead(body []byte) (head, error) {
	r := reader{b: body}
	h := head{Slot: r.small("HEAD slot", maxIDList-1), Size: r.small("HEAD size", maxArchiveSize)}
	n := r.small("HEAD manifest length", maxHead)
	h.Manifest = r.bytes("HEAD manifest", int(n))
	if r.err != nil {
		return head{}, r.err
	}
	if len(h.Manifest) == 0 {
		return head{}, protoErr("HEAD with an empty manifest")
	}
	h.Sigs = r.b
	if len(h.Sigs) < 1+96 || h.Sigs[0] == 0 || len(h.Sigs) != 1+96*int(h.Sigs[0]) {
		return head{}, protoErr("HEAD signature block of %d bytes", len(h.Sigs))
	}
	return h, nil
}

func appendHeadsEnd(b []byte, n int) []byte { return appendUvarint(append(b, msgHeadsEnd), uint64(n)) }

func parseHeadsEnd(body []byte) (uint64, error) {
	r := reader{b: body}
	n := r.small("HEADS_END count", maxIDList)
	return n, r.end("HEADS_END")
}

// take is a TAKE: the taker starts on one offered archive.
type take struct {
	Slot uint64
	Mode byte
}

func (t take) append(b []byte) []byte {
	return append(appendUvarint(append(b, msgTake), t.Slot), t.Mode)
}

func parseTake(body []byte) (take, error) {
	r := reader{b: body}
	t := take{Slot: r.small("TAKE slot", maxIDList-1), Mode: r.byte1("TAKE mode")}
	if err := r.end("TAKE"); err != nil {
		return take{}, err
	}
	if t.Mode != modeWhole && t.Mode != modeUpdate {
		return take{}, protoErr("unknown TAKE mode %d", t.Mode)
	}
	return t, nil
}

// moved says that a missing entry's content is one the taker holds under
// another path: the first 16 bytes of SHA-256 of that path.
type moved struct {
	Entry uint64
	Path  [16]byte
}

// planChunk is one PLAN message. Missing and Moved entry indexes strictly
// increase across all chunks of a plan; each chunk codes them as gaps from
// the previous chunk's last index.
type planChunk struct {
	Slot    uint64
	Final   bool
	Flags   uint64
	Missing []uint64
	Moved   []moved
}

// planState carries the running bases from chunk to chunk.
type planState struct {
	nextMissing, nextMoved uint64
}

func (p planChunk) append(b []byte, st *planState) []byte {
	b = append(b, msgPlan)
	b = appendUvarint(b, p.Slot)
	fin := byte(0)
	if p.Final {
		fin = 1
	}
	b = append(b, fin)
	b = appendUvarint(b, p.Flags)
	b = appendUvarint(b, uint64(len(p.Missing)))
	for _, m := range p.Missing {
		b = appendUvarint(b, m-st.nextMissing)
		st.nextMissing = m + 1
	}
	b = appendUvarint(b, uint64(len(p.Moved)))
	for _, m := range p.Moved {
		b = appendUvarint(b, m.Entry-st.nextMoved)
		st.nextMoved = m.Entry + 1
		b = append(b, m.Path[:]...)
	}
	return b
}

// parsePlan reads one PLAN chunk; entries must stay below nEntries.
func parsePlan(body []byte, st *planState, nEntries uint64) (planChunk, error) {
	r := reader{b: body}
	p := planChunk{Slot: r.small("PLAN slot", maxIDList-1)}
	switch r.byte1("PLAN final") {
	case 0:
	case 1:
		p.Final = true
	default:
		r.fail("PLAN final flag")
	}
	p.Flags = r.uvarint("PLAN flags")
	if r.err == nil && p.Flags&^planFlagsKnown != 0 {
		return planChunk{}, protoErr("unknown PLAN flags %#x", p.Flags)
	}
	n := r.uvarint("PLAN missing count")
	if r.err == nil && n > uint64(len(r.b)) { // each takes at least one byte
		r.fail("PLAN missing count")
	}
	next := st.nextMissing
	for i := uint64(0); i < n && r.err == nil; i++ {
		g := r.uvarint("PLAN missing entry")
		if r.err == nil && (g >= nEntries || next > nEntries-1-g) {
			return planChunk{}, protoErr("PLAN entry beyond the %d entries", nEntries)
		}
		p.Missing = append(p.Missing, next+g)
		next += g + 1
	}
	m := r.uvarint("PLAN moved count")
	if r.err == nil && m > uint64(len(r.b))/17 {
		r.fail("PLAN moved count")
	}
	nextMoved := st.nextMoved
	for i := uint64(0); i < m && r.err == nil; i++ {
		g := r.uvarint("PLAN moved entry")
		if r.err == nil && (g >= nEntries || nextMoved > nEntries-1-g) {
			return planChunk{}, protoErr("PLAN moved entry beyond the %d entries", nEntries)
		}
		mv := moved{Entry: nextMoved + g}
		copy(mv.Path[:], r.bytes("PLAN moved path", 16))
		p.Moved = append(p.Moved, mv)
		nextMoved += g + 1
	}
	if err := r.end("PLAN"); err != nil {
		return planChunk{}, err
	}
	st.nextMissing, st.nextMoved = next, nextMoved
	return p, nil
}

// get is a GET: the taker asks for one chunk of a piece: Length raw
// bytes from Offset.
type get struct {
	Slot   uint64
	Kind   byte
	Index  uint64
	Offset uint64
	Length uint64
}

func (g get) append(b []byte) []byte {
	b = appendUvarint(append(b, msgGet), g.Slot)
	b = append(b, g.Kind)
	b = appendUvarint(b, g.Index)
	b = appendUvarint(b, g.Offset)
	return appendUvarint(b, g.Length)
}

func parseGet(body []byte) (get, error) {
	r := reader{b: body}
	g := get{Slot: r.small("GET slot", maxIDList-1), Kind: r.byte1("GET kind"),
		Index: r.small("GET index", math.MaxUint32), Offset: r.small("GET offset", maxArchiveSize),
		Length: r.small("GET length", chunkLimit)}
	if err := r.end("GET"); err != nil {
		return get{}, err
	}
	if g.Kind < kindSection || g.Kind > kindGaps {
		return get{}, protoErr("unknown GET kind %d", g.Kind)
	}
	if g.Length == 0 {
		return get{}, protoErr("GET of nothing")
	}
	return g, nil
}

// piece is a PIECE header; Wire bytes of DATA follow.
type piece struct {
	Slot   uint64
	Kind   byte
	Index  uint64
	Offset uint64
	Enc    byte
	Raw    uint64 // bytes of the chunk once decoded
	Wire   uint64 // bytes of DATA that follow
}

func (p piece) append(b []byte) []byte {
	b = appendUvarint(append(b, msgPiece), p.Slot)
	b = append(b, p.Kind)
	b = appendUvarint(b, p.Index)
	b = appendUvarint(b, p.Offset)
	b = append(b, p.Enc)
	b = appendUvarint(b, p.Raw)
	return appendUvarint(b, p.Wire)
}

// maxWire bounds the DATA of a chunk of raw bytes: raw as it is (exactly
// its length), or a zstd frame that must be smaller.
func maxWire(enc byte, raw uint64) uint64 {
	if enc == encRaw {
		return raw
	}
	return raw - 1
}

func parsePiece(body []byte) (piece, error) {
	r := reader{b: body}
	p := piece{Slot: r.small("PIECE slot", maxIDList-1), Kind: r.byte1("PIECE kind"),
		Index: r.small("PIECE index", math.MaxUint32), Offset: r.small("PIECE offset", maxArchiveSize),
		Enc: r.byte1("PIECE encoding"), Raw: r.small("PIECE length", chunkLimit), Wire: r.small("PIECE wire length", chunkLimit)}
	if err := r.end("PIECE"); err != nil {
		return piece{}, err
	}
	switch {
	case p.Kind < kindSection || p.Kind > kindGaps:
		return piece{}, protoErr("unknown PIECE kind %d", p.Kind)
	case p.Enc != encRaw && p.Enc != encZstd:
		return piece{}, protoErr("unknown PIECE encoding %d", p.Enc)
	case p.Raw == 0:
		return piece{}, protoErr("empty PIECE")
	case p.Wire > maxWire(p.Enc, p.Raw) || p.Wire == 0 || (p.Enc == encRaw && p.Wire != p.Raw):
		return piece{}, protoErr("PIECE of %d bytes sent as %d", p.Raw, p.Wire)
	}
	return p, nil
}

func appendSkip(b []byte, g get) []byte {
	b = appendUvarint(append(b, msgSkip), g.Slot)
	b = append(b, g.Kind)
	return appendUvarint(b, g.Index)
}

func parseSkip(body []byte) (get, error) {
	r := reader{b: body}
	g := get{Slot: r.small("SKIP slot", maxIDList-1), Kind: r.byte1("SKIP kind"), Index: r.small("SKIP index", math.MaxUint32)}
	return g, r.end("SKIP")
}

func appendFinished(b []byte, slot uint64, result byte) []byte {
	return append(appendUvarint(append(b, msgFinished), slot), result)
}

func parseFinished(body []byte) (uint64, byte, error) {
	r := reader{b: body}
	slot, res := r.small("FINISHED slot", maxIDList-1), r.byte1("FINISHED result")
	if err := r.end("FINISHED"); err != nil {
		return 0, 0, err
	}
	if res > resultPaused {
		return 0, 0, protoErr("unknown FINISHED result %d", res)
	}
	return slot, res, nil
}

// empty checks a message that has no body.
func empty(name string, body []byte) error {
	if len(body) != 0 {
		return protoErr("%s with %d bytes", name, len(body))
	}
	return nil
}
