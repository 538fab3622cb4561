package peer

import (
	"bytes"
	"ferry/internal/archive"
	"fmt"
	"os"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// The giver answers a taker: it sends the HEAD of every archive asked for
// that it offers, then serves the pieces the taker asks for, one archive at
// a time, strictly in the order asked. It never writes to its library.

// gArchive is an offered archive being given.
type gArchive struct {
	off    offeredArchive
	la     *localArchive
	f      *os.File
	taken  bool
	mode   byte
	served int64

	recon   *reconReceiver
	hashes  [][32]byte
	hashed  chan error // the content hashes, computed in the background from TAKE
	plan    *cplan     // after reconciliation
	planned bool
}

// give runs the giving phase for the taker's list of archive ids.
func (s *session) give(ids [][32]byte) error {
	arch := make([]*gArchive, len(ids))
	defer func() {
		for _, a := range arch {
			if a != nil && a.f != nil {
				a.f.Close()
			}
		}
	}()
	n := 0
	for slot, id := range ids {
		i, ok := s.hold.byID[id]
		if !ok {
			continue // not ours to offer: a taker may list anything
		}
		off := s.hold.offered[i]
		la, err := openLocal(off.Path, false)
		if err != nil {
			s.note("not offering %s edition %d: %v", off.Rec.Channel, off.Rec.Edition, err)
			continue
		}
		if len(la.Head.Manifest)+len(la.Head.Sigs) > maxHead {
			s.note("not offering %s edition %d: its manifest is too large to send", off.Rec.Channel, off.Rec.Edition)
			continue
		}
		arch[slot] = &gArchive{off: off, la: la}
		h := head{Slot: uint64(slot), Size: uint64(la.Lay.Size), Manifest: la.Head.Manifest, Sigs: la.Head.Sigs}
		if err := s.send(h.append(nil)); err != nil {
			return err
		}
		n++
	}
	if err := s.send(appendHeadsEnd(nil, n)); err != nil {
		return err
	}
	var cur *gArchive
	var curSlot uint64
	for {
		m, err := s.recv()
		if err != nil {
			return err
		}
		switch m.typ {
		case msgTake:
			t, err := parseTake(m.body)
			if err != nil {
				return err
			}
			if cur != nil || t.Slot >= uint64(len(arch)) || arch[t.Slot] == nil || arch[t.Slot].taken {
				return protoErr("TAKE of archive %d out of place", t.Slot)
			}
			cur, curSlot = arch[t.Slot], t.Slot
			cur.taken, cur.mode = true, t.Mode
			if cur.f, err = openRead(cur.off.Path); err != nil {
				return err
			}
			if t.Mode == modeUpdate {
				if cur.la, err = openLocal(cur.off.Path, true); err != nil {
					return err
				}
				// Hash the entries while the sections are served.
				a := cur
				a.hashed = make(chan error, 1)
				go func() {
					hs, err := contentHashes(a.la, s.hold.syncDir)
					a.hashes = hs
					a.hashed <- err
				}()
			}
			s.event(Event{Kind: EventStart, Channel: cur.off.Rec.Channel, Edition: cur.off.Rec.Edition, Delta: cur.off.Rec.Base != "", ID: cur.off.Rec.ID, Total: cur.la.Lay.Size})
		case msgReconStart, msgReconSymbols:
			if cur != nil && cur.planned && m.typ == msgReconSymbols && cur.recon != nil && cur.recon.absorbing() {
				// Asked for before the entries decoded: dropped.
				if _, _, err := cur.recon.onSymbols(m.body); err != nil {
					return err
				}
				continue
			}
			if cur == nil || cur.mode != modeUpdate || cur.planned {
				return protoErr("reconciliation out of place")
			}
			if err := s.giveRecon(cur, curSlot, m); err != nil {
				return err
			}
		case msgGet:
			g, err := parseGet(m.body)
			if err != nil {
				return err
			}
			if cur == nil || g.Slot != curSlot {
				return protoErr("GET for an archive not being taken")
			}
			if err := s.serve(cur, g); err != nil {
				return err
			}
		case msgFinished:
			slot, res, err := parseFinished(m.body)
			if err != nil {
				return err
			}
			if cur == nil || slot != curSlot {
				return protoErr("FINISHED for an archive not being taken")
			}
			rec := cur.off.Rec
			tr := Transfer{Channel: rec.Channel, Edition: rec.Edition, Delta: rec.Base != "", ID: rec.ID, Size: rec.Size}
			ev := Event{Channel: rec.Channel, Edition: rec.Edition, Delta: rec.Base != "", ID: rec.ID, Total: rec.Size, Done: cur.served}
			if res == resultAdded {
				s.sum.Sent = append(s.sum.Sent, tr)
				ev.Kind = EventDone
			} else {
				ev.Kind, ev.Err = EventFailed, fmt.Errorf("the other device did not finish it")
			}
			s.event(ev)
			cur.f.Close()
			cur.f, cur = nil, nil
			if err := s.send(appendFinished(nil, slot, res)); err != nil {
				return err
			}
		case msgTakeEnd:
			if err := empty("TAKE_END", m.body); err != nil {
				return err
			}
			if cur != nil {
				return protoErr("TAKE_END in the middle of an archive")
			}
			return nil
		default:
			return protoErr("unexpected message %#02x while giving", m.typ)
		}
	}
}

// giveRecon decodes the taker's entry set against the archive's, then
// sends the plan.
func (s *session) giveRecon(a *gArchive, slot uint64, m inMsg) error {
	if a.recon == nil {
		if m.typ != msgReconStart {
			return protoErr("RECON_SYMBOLS before RECON_START")
		}
		if err := <-a.hashed; err != nil {
			return err
		}
		hs := a.hashes
		items := make([][]byte, 0, len(a.la.Lay.Entries))
		for _, e := range a.la.Lay.Entries {
			it := entryItem(e.Path, hs[e.Index])
			items = append(items, it[:])
		}
		rr, err := newReconReceiver(s.key, 32, items, defaultEntryLimits)
		if err != nil {
			return err
		}
		ours := int64(len(items))
		// Worth it only if enough of the archive's entries are shared.
		rr.stop = func(est float64, theirs int64) bool {
			common := (float64(ours) + float64(theirs) - est) / 2
			return est > float64(defaultEntryLimits.MaxDiff) || common < float64(ours)/8
		}
		a.recon = rr
	}
	var replies [][]byte
	var done bool
	var err error
	if m.typ == msgReconStart {
		replies, done, err = a.recon.onStart(m.body)
	} else {
		replies, done, err = a.recon.onSymbols(m.body)
	}
	if err != nil {
		return err
	}
	if err := s.sendAll(replies); err != nil {
		return err
	}
	if !done {
		return nil
	}
	a.planned = true
	a.plan = a.makePlan(s.hold.syncDir)
	return s.sendPlan(slot, a.plan)
}

// makePlan turns the decoded difference into the plan: which entries the
// taker lacks, and which of those it holds under another path.
func (a *gArchive) makePlan(syncDir string) *cplan {
	lay := a.la.Lay
	p := &cplan{missing: make([]bool, lay.NEntries), moved: map[int][16]byte{}}
	if a.recon.stopped {
		p.flags = planNone
		for _, e := range lay.Entries {
			p.missing[e.Index] = true
		}
		return p
	}
	byItem := make(map[[32]byte]int, len(lay.Entries))
	for _, e := range lay.Entries {
		byItem[entryItem(e.Path, a.hashes[e.Index])] = e.Index
	}
	theirs := map[[16]byte][16]byte{} // content prefix -> path key, of entries only the taker has
	for _, it := range a.recon.dec.Remote() {
		var c, k [16]byte
		copy(k[:], it[:16])
		copy(c[:], it[16:])
		theirs[c] = k
	}
	for _, it := range a.recon.dec.Local() {
		var x [32]byte
		copy(x[:], it)
		i, ok := byItem[x]
		if !ok {
			continue
		}
		p.missing[i] = true
		var c [16]byte
		copy(c[:], a.hashes[i][:16])
		if k, ok := theirs[c]; ok {
			p.moved[i] = k
		}
	}
	if ok, hangul := a.zstdReproducible(); ok {
		p.flags |= planRebuildZstd
		if hangul {
			p.flags |= planRebuildHangul
		}
	}
	return p
}

// zstdReproducible checks, on one compressed cluster, that compressing its
// raw bytes again as ferry's packer does with its default parameters
// (archive.CompressCluster) gives the stored bytes: only then may the taker
// rebuild compressed clusters. hangul says the writer packed Korean text
// clusters (codec 3): it did when any cluster is stored so, and then the
// check is made on such a cluster.
func (a *gArchive) zstdReproducible() (ok, hangul bool) {
	first := -1
	for i, c := range a.la.Lay.Clusters {
		if c.codec() == codecNone {
			continue
		}
		var b [1]byte
		if _, err := a.f.ReadAt(b[:], c.Off); err != nil {
			return false, false
		}
		if b[0] == codecZstdHangul {
			first, hangul = i, true
			break
		}
		if b[0] == codecZstd && first < 0 {
			first = i
		}
	}
	if first < 0 {
		return false, false
	}
	c := a.la.Lay.Clusters[first]
	stored := make([]byte, c.Stored)
	if _, err := a.f.ReadAt(stored, c.Off); err != nil {
		return false, false
	}
	raw, err := decodeCluster(c, stored)
	if err != nil {
		return false, false
	}
	return bytes.Equal(archive.CompressCluster(raw, hangul), stored), hangul
}

// sendPlan sends the plan as PLAN chunks that each fit a frame.
func (s *session) sendPlan(slot uint64, p *cplan) error {
	var st planState
	chunk := planChunk{Slot: slot, Flags: p.flags}
	size := 0
	flush := func(final bool) error {
		chunk.Final = final
		if err := s.send(chunk.append(nil, &st)); err != nil {
			return err
		}
		chunk = planChunk{Slot: slot, Flags: p.flags}
		size = 0
		return nil
	}
	limit := s.maxMsg - 64
	if p.flags&planNone == 0 {
		for i, m := range p.missing {
			if !m {
				continue
			}
			if size+10 > limit {
				if err := flush(false); err != nil {
					return err
				}
			}
			chunk.Missing = append(chunk.Missing, uint64(i))
			size += 10
			if k, ok := p.moved[i]; ok {
				chunk.Moved = append(chunk.Moved, moved{Entry: uint64(i), Path: k})
				size += 26
			}
		}
	}
	return flush(true)
}

// serve answers one GET.
func (s *session) serve(a *gArchive, g get) error {
	lay := a.la.Lay
	if a.served > 3*lay.Size+64<<20 {
		return protoErr("asked for archive %s more than three times over", short(lay.ID))
	}
	skip := func() error { return s.send(appendSkip(nil, g)) }
	switch g.Kind {
	case kindSection:
		if g.Index >= uint64(len(lay.Secs)) {
			return protoErr("GET of section %d", g.Index)
		}
		sec := lay.Secs[g.Index]
		end := g.Offset + g.Length
		if g.Offset >= uint64(sec.Length) || g.Offset%uint64(sec.BlockSize) != 0 || g.Length > uint64(sec.Length)-g.Offset ||
			(end != uint64(sec.Length) && end%uint64(sec.BlockSize) != 0) {
			return protoErr("GET of section bytes %d+%d", g.Offset, g.Length)
		}
		raw := make([]byte, g.Length)
		if _, err := a.f.ReadAt(raw, sec.Offset+int64(g.Offset)); err != nil {
			return skip()
		}
		return s.giveChunk(a, g, raw, true)
	case kindCluster:
		if g.Index >= uint64(len(lay.Clusters)) {
			return protoErr("GET of cluster %d", g.Index)
		}
		c := lay.Clusters[g.Index]
		if g.Offset >= uint64(c.Stored) || g.Length > uint64(c.Stored)-g.Offset {
			return protoErr("GET of cluster bytes %d+%d", g.Offset, g.Length)
		}
		raw := make([]byte, g.Length)
		if _, err := a.f.ReadAt(raw, c.Off+int64(g.Offset)); err != nil {
			return skip()
		}
		return s.giveChunk(a, g, raw, false)
	case kindGaps:
		if g.Index >= uint64(len(lay.Clusters)) || g.Offset != 0 {
			return protoErr("GET of the gaps of cluster %d", g.Index)
		}
		if a.plan == nil {
			return protoErr("GET of gaps before the plan")
		}
		r := rangesOf(lay, int(g.Index))
		gaps := a.plan.gaps(r)
		total := int64(0)
		for _, x := range gaps {
			total += x.n
		}
		if r == nil || total == 0 || total > chunkLimit || uint64(total) != g.Length {
			return skip()
		}
		stored := make([]byte, lay.Clusters[g.Index].Stored)
		if _, err := a.f.ReadAt(stored, lay.Clusters[g.Index].Off); err != nil {
			return skip()
		}
		raw, err := decodeCluster(lay.Clusters[g.Index], stored)
		if err != nil {
			s.note("your copy of %s edition %d is damaged (%v): check it with 'ferry verify'", a.off.Rec.Channel, a.off.Rec.Edition, err)
			return skip()
		}
		out := make([]byte, 0, total)
		for _, x := range gaps {
			out = append(out, raw[x.off:x.off+x.n]...)
		}
		return s.giveChunk(a, g, out, true)
	}
	return protoErr("GET kind %d", g.Kind)
}

// giveChunk sends one chunk, compressed when that makes it smaller.
func (s *session) giveChunk(a *gArchive, g get, raw []byte, compress bool) error {
	p := piece{Slot: g.Slot, Kind: g.Kind, Index: g.Index, Offset: g.Offset, Enc: encRaw, Raw: uint64(len(raw)), Wire: uint64(len(raw))}
	data := raw
	if compress && len(raw) > 64 {
		if z := wireEncoder().EncodeAll(raw, make([]byte, 0, len(raw)/2)); len(z) < len(raw)-len(raw)/32 {
			p.Enc, p.Wire, data = encZstd, uint64(len(z)), z
		}
	}
	a.served += int64(len(data))
	s.event(Event{Kind: EventProgress, Channel: a.off.Rec.Channel, Edition: a.off.Rec.Edition, Delta: a.off.Rec.Base != "", ID: a.off.Rec.ID, Done: a.served, Total: a.la.Lay.Size})
	return s.sendPiece(p, data)
}

var (
	wireOnce sync.Once
	wireEnc  *zstd.Encoder
)

// wireEncoder compresses sections and gaps for the wire: a fast level,
// since the archive's own clusters are already compressed.
func wireEncoder() *zstd.Encoder {
	wireOnce.Do(func() {
		var err error
		wireEnc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false))
		if err != nil {
			panic("peer: internal error: zstd encoder: " + err.Error())
		}
	})
	return wireEnc
}
