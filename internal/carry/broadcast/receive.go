package broadcast

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"ferry/internal/archive"
	"ferry/internal/atomicfile"
	"ferry/internal/carry/broadcast/fountain"
	"ferry/internal/key"
)

// ReceiveOptions configure a Receiver.
type ReceiveOptions struct {
	// State is the folder that keeps partial collections and what was
	// delivered (required; the command uses LIBRARY/.broadcast).
	State string
	// Want, if set, says whether to collect the archive an announcement
	// describes: nil to collect, else the reason not to (the library's
	// Wants: untrusted, a rollback, already held). Refused archives count
	// as foreign.
	Want func(a *Announcement) error
	// Deliver receives every archive that decoded and verified: its
	// announcement and its bytes. The receiver never writes archives
	// itself; the command hands them to the library's one door. Deliver
	// returns what became of it, for Status and the log. An error wrapping
	// ErrRefused (the library would not take it) marks the archive done
	// all the same; any other error stops the receiver (the symbols stay
	// in State for the next run).
	Deliver func(a *Announcement, data []byte) (string, error)
	// Log receives one-line messages (accepted announcements, archives
	// written, failed verifications); nil discards them.
	Log func(msg string)
	// MaxPending bounds the symbol bytes held in memory for archives whose
	// announcement has not arrived yet (default 64 MiB).
	MaxPending int64
}

// Stats counts packets by what happened to them.
type Stats struct {
	Packets   int64 // packets seen
	Accepted  int64 // new symbols or announcement parts kept
	Duplicate int64 // already held (or the archive is already in the library)
	Damaged   int64 // bad checksum, malformed, truncated
	Foreign   int64 // not ferry packets, unknown version, untrusted or never-announced archives, other parameters
	Forged    int64 // bad signatures (announcement or symbol), symbols of senders found lying, beyond the per-ESI variant cap
	Evicted   int64 // sender pools dropped to make room (more than 64 senders for one archive)
}

// Status is the progress of one announced archive.
type Status struct {
	ID     string // hex archive ID
	Name   string // "CHANNEL edition N", as announced
	Held   int    // distinct symbols held
	Needed int    // K summed over source blocks
	Done   bool
	// Result is what Deliver said became of it ("added to the library",
	// or why it was refused).
	Result string
	AtDone int // symbols held when it decoded (0 if loaded as done)
	// AtPacket is the receiver's packet count when it decoded.
	AtPacket int64
	Retries  int // decodes that failed verification
}

// ErrState reports a problem with the state folder (unreadable, full).
var ErrState = errors.New("broadcast: state folder")

// ErrRefused marks a Deliver error that says the archive was refused (not
// trusted, a rollback): it will not be collected again.
var ErrRefused = errors.New("refused")

const (
	maxVariants = 4  // distinct payloads kept per (SBN, ESI) and per announcement part
	maxCuts     = 8  // announcement cuts kept per ID
	maxCombos   = 16 // union decodes tried per OTI (all pools, then leaving one out)
	maxGroups   = 4  // OTIs whose pools are combined, largest pools first
	maxPools    = 64 // (parameters, sender) pools kept per archive
	// maxCollections bounds the archives known by ID only (no announcement yet).
	maxCollections = 4096
	symFileMagic   = "FRYS\x01"
	symFileHead    = len(symFileMagic) + fountain.OTISize + 32 + 4
)

type symbol struct {
	sbn  uint8
	esi  uint32
	data []byte
}

// partsKey names one cut of an announcement body.
type partsKey struct {
	parts   uint16
	bodyLen uint32
}

type symKey struct {
	sbn uint8
	esi uint32
}

type poolKey struct {
	oti    [fountain.OTISize]byte
	sender key.Public
}

// pool holds the symbols of one archive under one set of parameters signed
// by one sender key.
type pool struct {
	poolKey
	p         fountain.Params
	syms      []symbol
	variants  map[symKey][]int
	distinct  []int // distinct ESIs per block
	live      *fountain.Decoder
	liveTried bool  // the live decoder's result was checked
	last      int64 // receiver symbol count when the pool last grew
	file      *os.File
	path      string
}

type collection struct {
	short   [IDSize]byte
	ann     *Announcement
	parts   map[partsKey][][][]byte // announcement parts: cut → part → variants
	cutSeen map[partsKey]int64      // packet count when each cut last took a part
	pools   map[poolKey]*pool
	bad     map[key.Public]bool // senders whose symbols decoded to data that does not verify
	next    int                 // symbols held at which to try combining pools again
	pending []Packet            // symbols before the announcement (payload copied)
	partsB  int64               // bytes held in parts
	done    bool
	seen    bool  // a packet of it arrived in this run (for AllDone)
	touched int64 // receiver packet count when it last took a packet
	status  Status
}

// Receiver collects packets and writes archives to the library.
type Receiver struct {
	opts        ReceiveOptions
	cols        map[[IDSize]byte]*collection
	stats       Stats
	pendingB    int64
	airPending  [][]byte // compact symbols of archives not announced yet, oldest first
	airPendingB int64
	seq         int64 // counts symbols added, for least-recently-grown eviction
}

// NewReceiver opens (creating) the library and state folders and reloads
// the partial collections kept there.
func NewReceiver(opts ReceiveOptions) (*Receiver, error) {
	if opts.State == "" {
		return nil, fmt.Errorf("%w: no state folder given", ErrOptions)
	}
	if opts.Deliver == nil {
		return nil, fmt.Errorf("%w: nothing to deliver archives to", ErrOptions)
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = 64 << 20
	}
	if opts.Log == nil {
		opts.Log = func(string) {}
	}
	if err := os.MkdirAll(opts.State, 0o700); err != nil {
		return nil, err
	}
	r := &Receiver{opts: opts, cols: map[[IDSize]byte]*collection{}}
	if err := r.load(); err != nil {
		r.Close()
		return nil, err
	}
	if err := r.Flush(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

func (r *Receiver) col(short [IDSize]byte) *collection {
	c := r.cols[short]
	if c == nil {
		c = &collection{short: short, parts: map[partsKey][][][]byte{}, pools: map[poolKey]*pool{}, bad: map[key.Public]bool{}}
		c.status.ID = hex.EncodeToString(short[:])
		r.cols[short] = c
	}
	return c
}

// wanted asks Want whether to collect the archive a describes.
func (r *Receiver) wanted(a *Announcement) error {
	if r.opts.Want == nil {
		return nil
	}
	return r.opts.Want(a)
}

func (r *Receiver) load() error {
	ents, err := os.ReadDir(r.opts.State)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrState, err)
	}
	for _, e := range ents {
		name := e.Name()
		var short [IDSize]byte
		if len(name) < 2*IDSize {
			continue
		}
		if !decodeHex(short[:], name[:2*IDSize]) {
			continue
		}
		switch {
		case strings.HasSuffix(name, ".done"):
			b, _ := os.ReadFile(filepath.Join(r.opts.State, name))
			c := r.col(short)
			c.done = true
			c.status.Done = true
			c.status.Name, c.status.Result, _ = strings.Cut(strings.TrimSpace(string(b)), "\n")
		}
	}
	for _, e := range ents {
		name := e.Name()
		var short [IDSize]byte
		if !strings.HasSuffix(name, ".ann") || len(name) < 2*IDSize {
			continue
		}
		if !decodeHex(short[:], name[:2*IDSize]) {
			continue
		}
		if c := r.cols[short]; c != nil && c.done {
			continue
		}
		b, err := os.ReadFile(filepath.Join(r.opts.State, name))
		if err != nil {
			return fmt.Errorf("%w: %v", ErrState, err)
		}
		a, err := ParseAnnouncement(b)
		if err != nil || a.ShortID() != short || r.wanted(a) != nil {
			continue
		}
		c := r.col(short)
		r.setAnnouncement(c, a)
	}
	for _, e := range ents {
		name := e.Name()
		var short [IDSize]byte
		var pk poolKey
		parts := strings.Split(strings.TrimSuffix(name, ".sym"), "-")
		if !strings.HasSuffix(name, ".sym") || len(parts) != 3 {
			continue
		}
		if !decodeHex(short[:], parts[0]) {
			continue
		}
		if !decodeHex(pk.oti[:], parts[1]) {
			continue
		}
		if !decodeHex(pk.sender[:], parts[2]) {
			continue
		}
		c := r.cols[short]
		if c == nil || c.ann == nil || c.done {
			continue
		}
		if err := r.loadPool(c, pk, filepath.Join(r.opts.State, name)); err != nil {
			return err
		}
	}
	return nil
}

// loadPool reads a symbol file, keeping every record whose CRC is right.
func (r *Receiver) loadPool(c *collection, pk poolKey, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrState, err)
	}
	defer f.Close()
	p, err := fountain.DecodeParams(pk.oti[:])
	air := pk.sender == airSender
	if err != nil || !air && p.F != uint64(c.ann.Length) || air && p.F != uint64(AirObject(c.ann)) {
		return nil // not ours to use; left alone
	}
	head := make([]byte, symFileHead)
	if _, err := io.ReadFull(f, head); err != nil || string(head[:5]) != symFileMagic || !bytes.Equal(head[5:17], pk.oti[:]) ||
		!bytes.Equal(head[17:49], pk.sender[:]) || crc32.Checksum(head[:49], castagnoli) != binary.BigEndian.Uint32(head[49:]) {
		r.opts.Log(fmt.Sprintf("ignoring damaged state file %s", filepath.Base(path)))
		return nil
	}
	pl, err := r.pool(c, pk, p)
	if err != nil || pl == nil {
		return err
	}
	rec := make([]byte, 4+int(p.T)+4)
	br := io.Reader(f)
	for {
		if _, err := io.ReadFull(br, rec); err != nil {
			break // a torn last record is dropped
		}
		if crc32.Checksum(rec[:len(rec)-4], castagnoli) != binary.BigEndian.Uint32(rec[len(rec)-4:]) {
			continue
		}
		esi := uint32(rec[1])<<16 | uint32(rec[2])<<8 | uint32(rec[3])
		if int(rec[0]) >= p.SourceBlocks() {
			continue
		}
		r.addSymbol(c, pl, rec[0], esi, rec[4:len(rec)-4], false)
	}
	return nil
}

func (r *Receiver) pool(c *collection, pk poolKey, p fountain.Params) (*pool, error) {
	if pl := c.pools[pk]; pl != nil {
		return pl, nil
	}
	if len(c.pools) >= maxPools {
		// Evict the pool that has gone longest without a new symbol: a
		// genuine broadcast keeps adding to its pool, injected keys that
		// stop do not.
		var old *pool
		for _, pl := range c.pools {
			if old == nil || pl.last < old.last {
				old = pl
			}
		}
		old.file.Close()
		os.Remove(old.path)
		delete(c.pools, old.poolKey)
		r.stats.Evicted++
	}
	dec, err := fountain.NewDecoder(p)
	if err != nil {
		return nil, err
	}
	pl := &pool{poolKey: pk, p: p, variants: map[symKey][]int{}, distinct: make([]int, p.SourceBlocks()), live: dec}
	pl.path = filepath.Join(r.opts.State, fmt.Sprintf("%x-%x-%s.sym", c.short, pk.oti, hex.EncodeToString(pk.sender[:])))
	f, err := os.OpenFile(pl.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrState, err)
	}
	st, _ := f.Stat()
	if st.Size() > 0 && !goodSymHead(f, pk) {
		// A damaged header: start the file again rather than append
		// symbols that the next run would not read.
		r.opts.Log(fmt.Sprintf("starting damaged state file %s again", filepath.Base(pl.path)))
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, fmt.Errorf("%w: %v", ErrState, err)
		}
		st, _ = f.Stat()
	}
	if st.Size() == 0 {
		h := append([]byte(symFileMagic), pk.oti[:]...)
		h = append(h, pk.sender[:]...)
		h = binary.BigEndian.AppendUint32(h, crc32.Checksum(h, castagnoli))
		if _, err := f.Write(h); err != nil {
			f.Close()
			return nil, fmt.Errorf("%w: %v", ErrState, err)
		}
	} else if (st.Size()-int64(symFileHead))%int64(4+int(p.T)+4) != 0 {
		// Cut a torn last record so appends stay aligned.
		n := int64(symFileHead) + (st.Size()-int64(symFileHead))/int64(8+int(p.T))*int64(8+int(p.T))
		if err := f.Truncate(max(n, int64(symFileHead))); err != nil {
			f.Close()
			return nil, fmt.Errorf("%w: %v", ErrState, err)
		}
	}
	pl.file = f
	c.pools[pk] = pl
	return pl, nil
}

// maxPoolSymbols bounds the symbols one sender's pool keeps: twice the
// source symbols plus 64 per block, more than any decode needs.
func maxPoolSymbols(p fountain.Params) int {
	n := 0
	for sbn := range p.SourceBlocks() {
		n += 2*p.SourceSymbols(sbn) + 64
	}
	return n
}

// goodSymHead reports whether the symbol file f starts with the header of
// pool pk.
func goodSymHead(f *os.File, pk poolKey) bool {
	head := make([]byte, symFileHead)
	if _, err := f.ReadAt(head, 0); err != nil {
		return false
	}
	return string(head[:5]) == symFileMagic && bytes.Equal(head[5:17], pk.oti[:]) && bytes.Equal(head[17:49], pk.sender[:]) &&
		crc32.Checksum(head[:49], castagnoli) == binary.BigEndian.Uint32(head[49:])
}

func (r *Receiver) setAnnouncement(c *collection, a *Announcement) {
	c.ann = a
	c.status.ID = hex.EncodeToString(a.ID[:])
	c.status.Name = a.Label()
	r.opts.Log(fmt.Sprintf("collecting %s: %s edition %d, %d bytes, signed by %s", c.status.ID[:16], a.Info.Channel, a.Info.Edition, a.Length, a.Signers[0].Fingerprint()))
}

// Handle takes one packet. It returns an error only for state or library
// I/O failures; bad packets are counted (see Stats) and dropped.
func (r *Receiver) Handle(pkt []byte) error { return r.handle(pkt, 0) }

// HandleBatch is Handle for several packets; it checks the sender
// signatures of new symbols on all CPUs first (the main cost of receiving).
func (r *Receiver) HandleBatch(pkts [][]byte) error {
	sig := make([]int8, len(pkts)) // 0 unchecked, 1 good, -1 bad
	var jobs []int
	parsed := make([]Packet, len(pkts))
	for i, b := range pkts {
		p, err := ParsePacket(b)
		if err != nil || p.Kind != KindSymbol {
			continue
		}
		c := r.cols[p.ID]
		if c == nil || c.ann == nil || c.done || c.bad[p.Sender] || r.held(c, p) {
			continue
		}
		parsed[i] = p
		jobs = append(jobs, i)
	}
	workers := min(runtime.GOMAXPROCS(0), max(1, len(jobs)/8))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := w; j < len(jobs); j += workers {
				i := jobs[j]
				if parsed[i].VerifySender() {
					sig[i] = 1
				} else {
					sig[i] = -1
				}
			}
		}()
	}
	wg.Wait()
	for i, b := range pkts {
		if err := r.handle(b, sig[i]); err != nil {
			return err
		}
	}
	return nil
}

// held reports whether the pool of p already holds exactly this symbol.
func (r *Receiver) held(c *collection, p Packet) bool {
	pl := c.pools[poolKey{p.OTI, p.Sender}]
	if pl == nil {
		return false
	}
	for _, i := range pl.variants[symKey{p.SBN, p.ESI}] {
		if bytes.Equal(pl.syms[i].data, p.Payload) {
			return true
		}
	}
	return false
}

func (r *Receiver) handle(pkt []byte, sig int8) error {
	r.stats.Packets++
	if len(pkt) > 0 && pkt[0] == AirSymbol {
		return r.handleAir(pkt)
	}
	p, err := ParsePacket(pkt)
	switch {
	case errors.Is(err, ErrNotPacket), errors.Is(err, ErrVersion):
		r.stats.Foreign++
		return nil
	case err != nil:
		r.stats.Damaged++
		return nil
	}
	c := r.cols[p.ID]
	if c != nil && c.done {
		c.seen = true
		r.stats.Duplicate++
		return nil
	}
	if p.Kind == KindAnnounce || p.Kind == KindParity {
		return r.handleAnnounce(p)
	}
	if c == nil || c.ann == nil {
		if !r.makeRoom(int64(len(pkt)), c) {
			r.stats.Foreign++
			return nil
		}
		c = r.col(p.ID)
		c.touched = r.stats.Packets
		p, _ = ParsePacket(bytes.Clone(pkt)) // own copy: pkt may be reused
		c.pending = append(c.pending, p)
		r.pendingB += int64(len(pkt))
		return nil
	}
	return r.handleSymbol(c, p, sig)
}

func (r *Receiver) handleSymbol(c *collection, p Packet, sig int8) error {
	air := p.Sender == airSender
	if !air && p.Params.F != uint64(c.ann.Length) || air && p.Params.F != uint64(AirObject(c.ann)) {
		r.stats.Foreign++
		return nil
	}
	c.seen = true
	if c.bad[p.Sender] {
		r.stats.Forged++
		return nil
	}
	pk := poolKey{p.OTI, p.Sender}
	if r.held(c, p) {
		r.stats.Duplicate++
		return nil
	}
	if !air && (sig < 0 || sig == 0 && !p.VerifySender()) {
		r.stats.Forged++
		return nil
	}
	pl, err := r.pool(c, pk, p.Params)
	if err != nil {
		return err
	}
	if pl == nil {
		r.stats.Foreign++
		return nil
	}
	if err := r.addSymbol(c, pl, p.SBN, p.ESI, p.Payload, true); err != nil {
		return err
	}
	return r.tryFinish(c, false)
}

// addSymbol keeps a new candidate symbol (and records it on disk if store).
func (r *Receiver) addSymbol(c *collection, pl *pool, sbn uint8, esi uint32, data []byte, store bool) error {
	k := symKey{sbn, esi}
	vs := pl.variants[k]
	for _, i := range vs {
		if bytes.Equal(pl.syms[i].data, data) {
			r.stats.Duplicate++
			return nil
		}
	}
	if len(vs) >= maxVariants {
		r.stats.Forged++
		return nil
	}
	if len(pl.syms) >= maxPoolSymbols(pl.p) {
		// Far more than any decode needs: a sender whose symbols never
		// decode must not fill the memory and the disk.
		r.stats.Foreign++
		return nil
	}
	r.stats.Accepted++
	s := symbol{sbn: sbn, esi: esi, data: bytes.Clone(data)}
	pl.variants[k] = append(vs, len(pl.syms))
	r.seq++
	pl.last = r.seq
	pl.syms = append(pl.syms, s)
	if store {
		rec := make([]byte, 0, 8+len(data))
		rec = append(rec, sbn, byte(esi>>16), byte(esi>>8), byte(esi))
		rec = append(rec, data...)
		rec = binary.BigEndian.AppendUint32(rec, crc32.Checksum(rec, castagnoli))
		if _, err := pl.file.Write(rec); err != nil {
			return fmt.Errorf("%w: %v", ErrState, err)
		}
	}
	if len(vs) > 0 {
		return nil // two payloads for one ESI from one sender: the live decoder keeps the first
	}
	pl.distinct[sbn]++
	pl.live.Add(sbn, esi, s.data)
	return nil
}

func (r *Receiver) handleAnnounce(p Packet) error {
	// slot is the part's index in its cut: data parts first, then parity.
	slot := int(p.Part)
	if p.Kind == KindParity {
		slot += int(p.Parts)
	}
	c := r.cols[p.ID]
	if c != nil && c.ann != nil {
		// Already known: a repetition must match the verified body.
		body := c.ann.Body()
		var want []byte
		if int(p.BodyLen) == len(body) {
			if p.Kind == KindParity {
				want, _ = ParityPart(body, p.Parts, int(p.Part))
			} else if lo, hi, ok := partRange(uint32(len(body)), p.Parts, p.Part); ok {
				want = body[lo:hi]
			}
		}
		if want != nil && bytes.Equal(want, p.Payload) {
			r.stats.Duplicate++
		} else {
			r.stats.Forged++
		}
		return nil
	}
	key := partsKey{p.Parts, p.BodyLen}
	var parts [][][]byte
	if c != nil {
		if len(c.parts) > maxCuts && c.parts[key] == nil {
			// Too many cuts for one ID: forget the one that has gone
			// longest without a new part (junk cuts must not keep the
			// genuine one out for good).
			r.dropCut(c, c.oldestCut())
		}
		parts = c.parts[key]
	}
	cost := int64(len(p.Payload))
	if parts == nil {
		cost += 24 * int64(p.Parts)
	}
	if grow := slot + 1 - max(len(parts), int(p.Parts)); grow > 0 {
		cost += 24 * int64(grow)
	}
	if !r.makeRoom(cost, c) {
		r.stats.Foreign++
		return nil
	}
	c = r.col(p.ID)
	c.touched = r.stats.Packets
	if parts == nil {
		parts = make([][][]byte, p.Parts)
	}
	for len(parts) <= slot {
		parts = append(parts, nil)
	}
	c.parts[key] = parts
	if c.cutSeen == nil {
		c.cutSeen = map[partsKey]int64{}
	}
	c.cutSeen[key] = r.stats.Packets
	for _, v := range parts[slot] {
		if bytes.Equal(v, p.Payload) {
			r.stats.Duplicate++
			return nil
		}
	}
	r.stats.Accepted++
	newIdx := len(parts[slot])
	if newIdx >= maxVariants {
		// Full: the new variant takes a random place, so that junk
		// variants cannot keep the genuine one out for good (the genuine
		// announcement comes round again).
		newIdx = rand.IntN(maxVariants)
		cost -= int64(len(parts[slot][newIdx]))
		parts[slot][newIdx] = bytes.Clone(p.Payload)
	} else {
		parts[slot] = append(parts[slot], bytes.Clone(p.Payload))
	}
	r.pendingB += cost
	c.partsB += cost
	// Which parts to use: every data part held, and for each missing one a
	// parity part (the new one first, then the lowest). Nothing to try
	// until P parts are held, or when the new part is not among them.
	P := int(p.Parts)
	var use []int
	missing := 0
	for i := 0; i < P; i++ {
		if len(parts[i]) > 0 {
			use = append(use, i)
		} else {
			missing++
		}
	}
	if missing > 0 && slot >= P {
		use = append(use, slot)
		missing--
	}
	for i := P; i < len(parts) && missing > 0; i++ {
		if i != slot && len(parts[i]) > 0 {
			use = append(use, i)
			missing--
		}
	}
	if missing > 0 {
		return nil
	}
	fixed := -1 // position of the new part in use
	for k, i := range use {
		if i == slot {
			fixed = k
		}
	}
	if fixed < 0 {
		// Every data part is held, yet no combination verified: one of
		// them may be junk whose genuine variant has not come. The new
		// parity part can stand in for each in turn.
		if slot >= P {
			got := make([][]byte, P)
			for d := 0; d < P && d < 64; d++ {
				have := make([]int, 0, P)
				for i := 0; i < P; i++ {
					if i != d {
						have = append(have, i)
					}
				}
				have = append(have, slot)
				for k, i := range have {
					got[k] = parts[i][0]
					if i == slot {
						got[k] = parts[i][newIdx]
					}
				}
				if body, ok := recoverBody(p.BodyLen, p.Parts, have, got); ok {
					if a, err := parseAnnouncement(body, &p.ID); err == nil {
						return r.acceptAnnouncement(c, a, body)
					}
				}
			}
		}
		return nil
	}
	// Try the combinations of variants that include the new one (those
	// without it were tried before); few: usually one.
	idx := make([]int, len(use))
	idx[fixed] = newIdx
	got := make([][]byte, len(use))
	for tries := 0; tries < 64; tries++ {
		for k, i := range use {
			got[k] = parts[i][idx[k]]
		}
		body, ok := recoverBody(p.BodyLen, p.Parts, use, got)
		if ok {
			if a, err := parseAnnouncement(body, &p.ID); err == nil {
				return r.acceptAnnouncement(c, a, body)
			}
		}
		// next combination, the new part's variant fixed
		k := 0
		for ; k < len(idx); k++ {
			if k == fixed {
				continue
			}
			idx[k]++
			if idx[k] < len(parts[use[k]]) {
				break
			}
			idx[k] = 0
		}
		if k == len(idx) {
			break
		}
	}
	if c.ann == nil && p.Kind == KindAnnounce && p.Part == p.Parts-1 {
		r.opts.Log(fmt.Sprintf("rejected an announcement for %x: its signature does not verify", p.ID[:8]))
	}
	r.stats.Forged++
	r.stats.Accepted--
	return nil
}

func (r *Receiver) acceptAnnouncement(c *collection, a *Announcement, body []byte) error {
	c.parts, c.cutSeen = map[partsKey][][][]byte{}, nil
	r.pendingB -= c.partsB
	c.partsB = 0
	if c.ann != nil {
		return nil
	}
	if err := r.wanted(a); err != nil {
		r.opts.Log(fmt.Sprintf("ignoring %s: %v", a.Label(), err))
		r.stats.Foreign += int64(len(c.pending)) + 1
		r.stats.Accepted--
		r.dropPending(c)
		r.airRefused(c)
		return nil
	}
	path := filepath.Join(r.opts.State, fmt.Sprintf("%x.ann", c.short))
	if err := atomicfile.WriteFile(path, body, 0o644); err != nil {
		return fmt.Errorf("%w: %v", ErrState, err)
	}
	r.setAnnouncement(c, a)
	c.seen = true
	pend := c.pending
	r.dropPending(c)
	for _, p := range pend {
		if c.done {
			r.stats.Duplicate++
			continue
		}
		if err := r.handleSymbol(c, p, 0); err != nil {
			return err
		}
	}
	return r.airAnnounced(c)
}

// oldestCut is the announcement cut of c that has gone longest without a
// new part.
func (c *collection) oldestCut() partsKey {
	var old partsKey
	first := true
	for k := range c.parts {
		if first || c.cutSeen[k] < c.cutSeen[old] {
			old, first = k, false
		}
	}
	return old
}

// dropCut forgets one announcement cut of c and the bytes it held.
func (r *Receiver) dropCut(c *collection, k partsKey) {
	parts, ok := c.parts[k]
	if !ok {
		return
	}
	n := 24 * int64(len(parts))
	for _, vs := range parts {
		for _, v := range vs {
			n += int64(len(v))
		}
	}
	r.pendingB -= n
	c.partsB -= n
	delete(c.parts, k)
	delete(c.cutSeen, k)
	r.stats.Evicted++
}

// makeRoom makes room for cost more bytes held before an announcement, for
// collection c (nil: a new one), by forgetting the collections without an
// accepted announcement that have gone longest without a packet. Junk
// under random IDs thus cannot keep a genuine announcement out for long.
// It reports false if there is no room even so.
func (r *Receiver) makeRoom(cost int64, c *collection) bool {
	more := 0
	if c == nil {
		more = 1
	}
	for r.pendingB+cost > r.opts.MaxPending || len(r.cols)+more > maxCollections {
		var old *collection
		for _, o := range r.cols {
			if o != c && o.ann == nil && !o.done && (old == nil || o.touched < old.touched) {
				old = o
			}
		}
		if old == nil {
			return false
		}
		r.pendingB -= old.partsB
		r.dropPending(old)
		delete(r.cols, old.short)
		r.stats.Evicted++
	}
	return true
}

func (r *Receiver) dropPending(c *collection) {
	for _, p := range c.pending {
		r.pendingB -= int64(len(p.signed) + sigSize + crcSize)
	}
	c.pending = nil
}

// tryFinish writes the archive once a sender's symbols decode and verify.
// A sender whose decoded data does not verify is marked bad and its symbols
// dropped. When no single sender's symbols suffice, it decodes the union of
// all senders' symbols (and, if that fails, the union leaving out one sender
// at a time) whenever the total grew by 5% (final: whenever it grew).
func (r *Receiver) tryFinish(c *collection, final bool) error {
	for _, pk := range c.poolKeys() {
		pl := c.pools[pk]
		if c.done || pl == nil || pl.liveTried {
			continue
		}
		data, err := pl.live.Bytes()
		if err != nil {
			continue
		}
		pl.liveTried = true
		ok, err := r.finish(c, pl.p, len(pl.syms), data)
		if err != nil || ok {
			return err
		}
		r.dropSender(c, pk.sender)
	}
	if c.done || len(c.pools) < 2 {
		return nil
	}
	total := 0
	for _, pl := range c.pools {
		total += len(pl.syms)
	}
	if total < c.next || (!final && total < c.next+max(2, total/20)) {
		return nil
	}
	c.next = total + 1
	// Symbols combine only under the same parameters (OTI): group the
	// pools by OTI, the group of the largest pool first.
	var groups [][]poolKey
	for _, pk := range c.poolKeys() {
		i := slices.IndexFunc(groups, func(g []poolKey) bool { return g[0].oti == pk.oti })
		if i < 0 {
			groups = append(groups, nil)
			i = len(groups) - 1
		}
		groups[i] = append(groups[i], pk)
	}
	var keys []poolKey
	try := func(skip int) (bool, error) {
		var use []*pool
		for i, pk := range keys {
			if i != skip {
				use = append(use, c.pools[pk])
			}
		}
		if len(use) < 2 {
			return false, nil
		}
		p := use[0].p
		dec, err := fountain.NewDecoder(p)
		if err != nil {
			return false, err
		}
		seen := map[symKey]bool{}
		n := 0
		for _, pl := range use {
			for _, s := range pl.syms {
				k := symKey{s.sbn, s.esi}
				if !seen[k] {
					seen[k] = true
					n++
					dec.Add(s.sbn, s.esi, s.data)
				}
			}
		}
		data, err := dec.Bytes()
		if err != nil {
			return false, nil
		}
		return r.finish(c, p, n, data)
	}
	for gi, g := range groups {
		if gi == maxGroups {
			break
		}
		keys = g
		for skip := -1; skip < len(keys) && skip < maxCombos; skip++ {
			if ok, err := try(skip); ok || err != nil {
				return err
			}
		}
	}
	return nil
}

// poolKeys lists the pools, largest first.
func (c *collection) poolKeys() []poolKey {
	keys := make([]poolKey, 0, len(c.pools))
	for k := range c.pools {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := c.pools[keys[i]], c.pools[keys[j]]
		if len(a.syms) != len(b.syms) {
			return len(a.syms) > len(b.syms)
		}
		return bytes.Compare(keys[i].sender[:], keys[j].sender[:]) < 0
	})
	return keys
}

// dropSender forgets a sender whose symbols decoded to wrong data.
func (r *Receiver) dropSender(c *collection, s key.Public) {
	if s != airSender {
		// Compact air symbols have no sender to blame: their pool is
		// emptied and collected again from the next round.
		c.bad[s] = true
	}
	for pk, pl := range c.pools {
		if pk.sender == s {
			pl.file.Close()
			os.Remove(pl.path)
			delete(c.pools, pk)
		}
	}
	if s == airSender {
		r.opts.Log(fmt.Sprintf("%s: compact symbols decode to data that does not verify (some were damaged or forged); collecting them again", c.ann.Label()))
		return
	}
	r.opts.Log(fmt.Sprintf("%s: symbols signed by %s decode to data that does not verify; ignoring that sender", c.ann.Label(), s.Fingerprint()))
}

// finish verifies data and hands it to Deliver.
func (r *Receiver) finish(c *collection, p fountain.Params, held int, data []byte) (bool, error) {
	a := c.ann
	if p.F == uint64(AirObject(a)) && int64(len(data)) == AirObject(a) {
		data = rebuildAir(a, data) // air symbols code the archive up to its manifest
	}
	if int64(len(data)) != a.Length {
		return false, nil
	}
	ar, err := archive.Open(bytes.NewReader(data), int64(len(data)))
	if err == nil && ar.ID() != hex.EncodeToString(a.ID[:]) {
		err = fmt.Errorf("archive ID %s, announced %x", ar.ID(), a.ID)
	}
	if err == nil {
		err = ar.Verify(context.Background(), nil)
	}
	if ar != nil {
		ar.Close()
	}
	if err != nil {
		c.status.Retries++
		r.opts.Log(fmt.Sprintf("%s: decoded data does not verify (%v)", a.Label(), err))
		return false, nil
	}
	result, err := r.opts.Deliver(a, data)
	switch {
	case errors.Is(err, ErrRefused):
		result = err.Error()
	case err != nil:
		return false, err
	}
	line := strings.ReplaceAll(a.Label(), "\n", " ") + "\n" + strings.ReplaceAll(result, "\n", " ") + "\n"
	if err := atomicfile.WriteFile(filepath.Join(r.opts.State, fmt.Sprintf("%x.done", c.short)), []byte(line), 0o644); err != nil {
		return false, fmt.Errorf("%w: %v", ErrState, err)
	}
	c.status.AtDone = held
	c.status.AtPacket = r.stats.Packets
	c.status.Held = held
	c.status.Needed = needed(p)
	c.done, c.status.Done, c.status.Result = true, true, result
	for _, p := range c.pools {
		p.file.Close()
		os.Remove(p.path)
	}
	c.pools = nil
	os.Remove(filepath.Join(r.opts.State, fmt.Sprintf("%x.ann", c.short)))
	r.opts.Log(fmt.Sprintf("%s (%d bytes) decoded after %d symbols for K = %d: %s", a.Label(), len(data), c.status.AtDone, c.status.Needed, result))
	return true, nil
}

func needed(p fountain.Params) int {
	n := 0
	for b := 0; b < p.SourceBlocks(); b++ {
		n += p.SourceSymbols(b)
	}
	return n
}

// Flush makes a last decode attempt for every collection that grew since
// the previous one (call it at the end of the input).
func (r *Receiver) Flush() error {
	for _, c := range r.sorted() {
		if !c.done && c.ann != nil {
			if err := r.tryFinish(c, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// Stats returns the packet counts so far.
func (r *Receiver) Stats() Stats {
	s := r.stats
	for _, c := range r.cols {
		if c.ann == nil {
			s.Foreign += int64(len(c.pending))
		}
	}
	s.Foreign += int64(len(r.airPending))
	return s
}

func (r *Receiver) sorted() []*collection {
	cs := make([]*collection, 0, len(r.cols))
	for _, c := range r.cols {
		if c.ann != nil || c.done {
			cs = append(cs, c)
		}
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].status.ID < cs[j].status.ID })
	return cs
}

// Status reports every announced archive: symbols held and needed.
func (r *Receiver) Status() []Status {
	var out []Status
	for _, c := range r.sorted() {
		st := c.status
		if !c.done {
			st.Held, st.Needed = 0, 0
			for _, pl := range c.pools {
				st.Held = max(st.Held, len(pl.syms))
				st.Needed = needed(pl.p)
			}
		}
		out = append(out, st)
	}
	return out
}

// AllDone reports whether at least one archive was heard in this run (an
// announcement or a symbol of it) and every one heard is in the library;
// archives known only from the state folder are not waited for.
func (r *Receiver) AllDone() bool {
	seen := 0
	for _, c := range r.sorted() {
		if !c.seen {
			continue // known from an earlier run only: not waited for
		}
		seen++
		if !c.done {
			return false
		}
	}
	return seen > 0
}

// Close flushes and closes the state files.
func (r *Receiver) Close() error {
	var first error
	for _, c := range r.cols {
		for k, pl := range c.pools {
			delete(c.pools, k)
			if err := pl.file.Sync(); err != nil && first == nil {
				first = err
			}
			if err := pl.file.Close(); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

// decodeHex decodes s into dst, which it must fill exactly.
func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}
