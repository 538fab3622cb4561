package peer

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"

	"ferry/internal/library"
)

// The taker asks for the archives it lacks and builds each one, piece by
// piece, into a partial file in the sync folder: pieces it already holds
// (same hash in any archive of its library) are copied locally, clusters
// whose entries it mostly holds are rebuilt from them and the missing
// entries the giver sends, and everything else is fetched as it is. Every
// piece is checked against the hash the signed manifest covers before it
// is written; the finished file goes through library.Add like any
// carrier's arrival.

const (
	// window is how many raw bytes of pieces may be asked for and not yet
	// received: enough to keep a long link busy, little memory.
	window = 8 << 20
	// maxQueuedRaw bounds the raw bytes waiting for the rebuild workers.
	maxQueuedRaw = 32 << 20
	// reserve is the free space always left on the library's disk.
	reserve = 64 << 20
)

// failure is an archive-level failure: the archive is given up for this
// session (its partial copy kept), and the session goes on.
type failure struct{ err error }

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

func fail(format string, args ...any) error { return &failure{fmt.Errorf(format, args...)} }

// take runs the taking phase: it receives the HEADs of the archives it
// asked for (by slot in ids), decides which the library wants, and takes
// them one by one.
func (s *session) take(ids [][32]byte) error {
	heads := make([]*signedHead, len(ids))
	got := uint64(0)
	for {
		m, err := s.expect(msgHead, msgHeadsEnd)
		if err != nil {
			return err
		}
		if m.typ == msgHeadsEnd {
			n, err := parseHeadsEnd(m.body)
			if err != nil {
				return err
			}
			if n != got {
				return protoErr("HEADS_END counts %d heads, %d came", n, got)
			}
			break
		}
		h, err := parseHead(m.body)
		if err != nil {
			return err
		}
		if h.Slot >= uint64(len(ids)) || heads[h.Slot] != nil {
			return protoErr("HEAD for slot %d", h.Slot)
		}
		got++
		sh, err := checkHead(ids[h.Slot], h.Size, h.Manifest, h.Sigs)
		if err != nil {
			if errors.Is(err, ErrProtocol) {
				return err
			}
			s.note("refused an archive the other device offered: %v", err)
			continue
		}
		heads[h.Slot] = sh
	}
	s.dropStaleParts()
	// Oldest first in each channel, so a base comes before its deltas.
	order := make([]int, 0, len(heads))
	for i, h := range heads {
		if h != nil {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		x, y := heads[order[a]].M, heads[order[b]].M
		if x.Channel != y.Channel {
			return x.Channel < y.Channel
		}
		return x.Edition < y.Edition
	})
	var used int64
	for _, slot := range order {
		h := heads[slot]
		l, err := library.Load(s.hold.dir, false)
		if err != nil {
			return err
		}
		if err := l.Wants(hex.EncodeToString(h.ID[:]), h.M, h.Signers, false); err != nil {
			// Held already, or older than what is held: the usual case of a
			// device a week behind meeting one a week ahead, not news.
			if !errors.Is(err, library.ErrHeld) && !errors.Is(err, library.ErrRollback) {
				s.note("not taking %s: %v", label(h), err)
			}
			continue
		}
		if s.opts.Max > 0 && used+h.M.FileSize > s.opts.Max {
			s.note("not taking %s (%d bytes): over the size cap --max", label(h), h.M.FileSize)
			continue
		}
		if err := s.takeOne(uint64(slot), h); err != nil {
			var f *failure
			if !errors.As(err, &f) {
				return err
			}
			s.sum.Failed = append(s.sum.Failed, transferOf(h, f.err))
			s.event(Event{Kind: EventFailed, Receiving: true, Channel: h.M.Channel, Edition: h.M.Edition, Delta: h.M.Base != nil,
				ID: hex.EncodeToString(h.ID[:]), Total: h.M.FileSize, Err: f.err})
			continue
		}
		used += h.M.FileSize
	}
	return s.send([]byte{msgTakeEnd})
}

func label(h *signedHead) string {
	if h.M.Base != nil {
		return fmt.Sprintf("%s delta to edition %d", h.M.Channel, h.M.Edition)
	}
	return fmt.Sprintf("%s edition %d", h.M.Channel, h.M.Edition)
}

func transferOf(h *signedHead, err error) Transfer {
	return Transfer{Channel: h.M.Channel, Edition: h.M.Edition, Delta: h.M.Base != nil, ID: hex.EncodeToString(h.ID[:]), Size: h.M.FileSize, Err: err}
}

// dropStaleParts removes partial archives the library would no longer
// take (held by now, refused, or unreadable), so the sync folder does not
// fill up with archives that will never be finished.
func (s *session) dropStaleParts() {
	l, err := library.Load(s.hold.dir, false)
	if err != nil {
		return
	}
	for _, p := range staleParts(s.hold.syncDir) {
		keep := false
		if p.st != nil {
			if sh, err := checkHead(p.id, uint64(p.st.Size), p.st.Manifest, p.st.Sigs); err == nil {
				keep = l.Wants(p.st.ID, sh.M, sh.Signers, false) == nil
			}
		}
		if !keep {
			os.Remove(p.path + ".part")
			os.Remove(p.path + ".json")
		}
	}
}

// gapReq is a rebuild whose gaps were asked for.
type gapReq struct {
	rs   []crange
	gaps []span
}

// pending is a GET sent and not yet answered.
type pending struct {
	g   get
	raw int64 // expected raw length of the chunk
}

// jobResult is what a worker reports about a cluster or section it
// copied locally or rebuilt.
type jobResult struct {
	kind    int // jobLocal, jobRebuild, jobSection
	index   int
	raw     int64 // raw bytes compressed (rebuild), for the rate estimate
	bytes   int64 // bytes placed
	took    time.Duration
	err     error
	written bool
}

const (
	jobLocal = iota
	jobRebuild
	jobSection
)

// tArchive is one archive being taken.
type tArchive struct {
	s    *session
	ctx  context.Context
	slot uint64
	h    *signedHead
	lay  *layout
	part *partial
	mode byte
	view *viewItems
	idx  *localIndex

	rsend      *reconSender
	reconSent  bool
	plan       *cplan
	planState  planState
	planFinal  bool
	entriesSet bool

	out        []pending
	outRaw     int64
	stage      int     // 0: tables, 1: clusters, 2: other sections
	secReq     []int64 // next offset to ask for, per section
	secJob     []bool  // a local copy of the section is running
	secNoLocal []bool  // the local copy did not verify: fetch it
	cNext      int     // next cluster to consider
	waiting    []int   // clusters put aside until the workers can take them
	cBusy      []bool  // cluster being fetched, copied or rebuilt
	cReq       map[int]int64
	hashes     map[int]hash.Hash
	retry      []int // clusters to fetch as they are, after a failed rebuild or local copy
	noZstd     bool  // compressed clusters are not rebuilt (a rebuild failed)
	failed     int

	gapReq  map[int]gapReq // rebuilds waiting for their gaps
	jobs    chan func() jobResult
	results chan jobResult
	running int   // jobs reserved: under way, or waiting for gaps
	maxJobs int   // cap on running: jobs reserved (each holds memory only while a worker runs it)
	queued  int64 // raw bytes of rebuilds not yet done
	queuedZ int64 // of which compressed clusters: processor work ahead

	cur   *inPiece
	chunk int64 // raw bytes asked for in one GET
	// resumed marks progress kept from an earlier session: if it does not
	// verify in the end, that session's peer may have sent bad bytes, and
	// the piece is fetched again from the start instead of failing.
	resumedC map[int]bool
	resumedS []bool
	rate     rates
	progress time.Time
}

// takeOne takes one archive and tells the giver how it ended. A *failure
// error means this archive is given up (its partial copy kept); any other
// error ends the session.
func (s *session) takeOne(slot uint64, h *signedHead) error {
	err := s.takeArchive(slot, h)
	var f *failure
	if err != nil && !errors.As(err, &f) {
		return err
	}
	res := byte(resultAdded)
	if f != nil {
		res = resultFailed
	}
	if serr := s.send(appendFinished(nil, slot, res)); serr != nil {
		return serr
	}
	// Whatever was asked for before FINISHED still arrives: drop it until
	// the giver echoes FINISHED.
	for {
		m, rerr := s.recv()
		if rerr != nil {
			return rerr
		}
		switch m.typ {
		case msgPiece, msgData, msgSkip, msgPlan, msgReconWant, msgReconDone, msgReconStop:
			continue
		case msgFinished:
			es, eres, perr := parseFinished(m.body)
			if perr != nil {
				return perr
			}
			if es != slot || eres != res {
				return protoErr("FINISHED echo for another archive")
			}
			return err
		}
		return protoErr("unexpected message %#02x after FINISHED", m.typ)
	}
}

// takeArchive assembles one archive and adds it to the library.
func (s *session) takeArchive(slot uint64, h *signedHead) (err error) {
	lay, err := newLayout(h.ID, h.M, len(h.Manifest), len(h.Sigs))
	if err != nil {
		return &failure{err}
	}
	// The partial copy takes its size; library.Add links it into place,
	// or, where it cannot, copies it once more.
	need := lay.Size + reserve
	if !linksInto(s.hold.syncDir, s.hold.dir) {
		need += lay.Size
	}
	if free, ok := freeSpace(s.hold.dir); ok && free < need {
		return fail("not enough free space for %s: %d bytes needed, %d free", label(h), need, free)
	}
	part, err := openPartial(s.hold.syncDir, h, lay)
	if err != nil {
		return err
	}
	workers := s.opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	t := &tArchive{s: s, ctx: s.ctx, slot: slot, h: h, lay: lay, part: part, idx: s.hold.index(),
		secReq: make([]int64, len(lay.Secs)), secJob: make([]bool, len(lay.Secs)), secNoLocal: make([]bool, len(lay.Secs)), gapReq: map[int]gapReq{},
		cReq: map[int]int64{}, hashes: map[int]hash.Hash{}, maxJobs: 64, chunk: chunkLimit}
	if s.opts.testChunk > 0 {
		t.chunk = s.opts.testChunk
	}
	// Jobs never wait to be queued: at most maxJobs rebuilds and copies,
	// and one copy per section, are ever reserved; the workers take them in
	// turn. Many may be reserved, so that the link need not wait for the
	// workers to fetch what comes after them.
	t.jobs = make(chan func() jobResult, t.maxJobs+len(lay.Secs)+1)
	t.results = make(chan jobResult, t.maxJobs+len(lay.Secs)+1)
	t.resumedC, t.resumedS = map[int]bool{}, make([]bool, len(lay.Secs))
	for i := range lay.Secs {
		t.secReq[i] = part.st.Sections[i].Offset
		t.resumedS[i] = part.st.Sections[i].Offset > 0
	}
	t.mode = modeWhole
	if h.M.Base == nil && s.hold.bases[h.M.Channel] != nil && lay.Size >= 64<<10 {
		t.mode = modeUpdate
		t.view = s.hold.viewOf(h.M.Channel)
	}
	t.rate = newRates(workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range t.jobs {
				t.results <- j()
			}
		}()
	}
	defer func() {
		t.dropPiece()
		close(t.jobs)
		wg.Wait()
		if t.part.f != nil {
			if serr := t.part.save(true); serr != nil && err == nil {
				err = serr
			}
			t.part.close()
		}
	}()
	s.event(Event{Kind: EventStart, Receiving: true, Channel: h.M.Channel, Edition: h.M.Edition, Delta: h.M.Base != nil,
		ID: hex.EncodeToString(h.ID[:]), Total: lay.Size, Done: t.inPlace()})
	if err := s.send(take{Slot: slot, Mode: t.mode}.append(nil)); err != nil {
		return err
	}
	began := time.Now()
	err = t.loop()
	s.sum.Transfer += time.Since(began)
	if err != nil {
		var f *failure
		if !errors.As(err, &f) && !errors.Is(err, ErrProtocol) {
			t.drain()
		}
		return err
	}
	return t.finish()
}

// drain keeps what had already arrived when the connection broke: the
// reader may hold DATA the loop had not taken yet.
func (t *tArchive) drain() {
	deadline := time.After(time.Second)
	for {
		select {
		case m, ok := <-t.s.in:
			if !ok || m.err != nil {
				return
			}
			if m.typ == msgPiece || m.typ == msgData {
				if t.handle(m) != nil {
					return
				}
			}
		case <-deadline:
			return
		}
	}
}

// inPlace counts the bytes already in place, for progress.
func (t *tArchive) inPlace() int64 {
	n := int64(headerSize) + t.lay.Size - t.lay.TailOff
	for i, s := range t.lay.Secs {
		if t.part.st.Sections[i].Done {
			n += s.Length + 32*blocks(s)
		} else {
			n += t.part.st.Sections[i].Offset
		}
	}
	if t.lay.Clusters != nil {
		for i, c := range t.lay.Clusters {
			if t.part.clusterDone(i) {
				n += c.Stored
			}
		}
	}
	return n
}

func (t *tArchive) sectionsDone(names ...string) bool {
	for _, n := range names {
		if i := t.lay.section(n); i >= 0 && !t.part.st.Sections[i].Done {
			return false
		}
	}
	return true
}

func (t *tArchive) complete() bool {
	for i := range t.lay.Secs {
		if !t.part.st.Sections[i].Done {
			return false
		}
	}
	if t.lay.Clusters == nil {
		return false
	}
	for i := range t.lay.Clusters {
		if !t.part.clusterDone(i) {
			return false
		}
	}
	return len(t.out) == 0 && t.running == 0
}

// loop asks for pieces, takes them in, and runs local copies and rebuilds
// until every piece is in place.
func (t *tArchive) loop() error {
	s := t.s
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	var viewReady <-chan struct{}
	if t.mode == modeUpdate {
		viewReady = t.view.ready
	}
	for {
		if err := t.advance(); err != nil {
			return err
		}
		if t.complete() {
			return nil
		}
		if err := t.fill(); err != nil {
			return err
		}
		if t.complete() {
			return nil
		}
		select {
		case <-s.ctx.Done():
			return s.ctx.Err()
		case <-viewReady:
			viewReady = nil
			if err := t.startRecon(); err != nil {
				return err
			}
		case m, ok := <-s.in:
			if !ok {
				return s.connErr(errors.New("peer: connection closed"))
			}
			if m.err != nil {
				return m.err
			}
			if err := t.handle(m); err != nil {
				return err
			}
		case r := <-t.results:
			if err := t.result(r); err != nil {
				return err
			}
		case <-tick.C:
			if err := t.part.maybeSave(); err != nil {
				return err
			}
			t.report()
		}
	}
}

func (t *tArchive) report() {
	if time.Since(t.progress) < 200*time.Millisecond {
		return
	}
	t.progress = time.Now()
	t.s.event(Event{Kind: EventProgress, Receiving: true, Channel: t.h.M.Channel, Edition: t.h.M.Edition, Delta: t.h.M.Base != nil,
		ID: hex.EncodeToString(t.h.ID[:]), Total: t.lay.Size, Done: t.inPlace()})
}

// startRecon sends the taker's entry set once its edition's hashes are
// known; without them (an archive of the edition unreadable) it stops the
// update and takes the archive whole.
func (t *tArchive) startRecon() error {
	if t.view.err != nil {
		t.s.note("updating %s from this library's edition is not possible (%v); taking it whole", label(t.h), t.view.err)
		t.view = nil
	}
	var items [][]byte
	if t.view != nil {
		items = t.view.items
	}
	rs, err := newReconSender(t.s.key, 32, t.s.maxMsg, items)
	if err != nil {
		return err
	}
	t.rsend = rs
	ms, err := rs.start()
	if err != nil {
		return err
	}
	t.reconSent = true
	return t.s.sendAll(ms)
}

// advance moves from stage to stage as the tables arrive.
func (t *tArchive) advance() error {
	if t.lay.Clusters == nil && t.sectionsDone("clusters") {
		b, err := t.readPlaced("clusters")
		if err != nil {
			return err
		}
		if err := t.lay.setClusters(b); err != nil {
			return &failure{err}
		}
		t.cBusy = make([]bool, len(t.lay.Clusters))
		for i, cp := range t.part.st.Partial {
			if i < 0 || i >= len(t.lay.Clusters) {
				delete(t.part.st.Partial, i)
				continue
			}
			h := sha256.New()
			if h.(encoding.BinaryUnmarshaler).UnmarshalBinary(cp.State) != nil || cp.Offset <= 0 || cp.Offset >= t.lay.Clusters[i].Stored {
				delete(t.part.st.Partial, i)
				continue
			}
			t.hashes[i] = h
			t.resumedC[i] = true
		}
	}
	if t.mode == modeUpdate && !t.entriesSet && t.sectionsDone("entries", "strings") && t.lay.Clusters != nil {
		es, err := t.readPlaced("entries")
		if err != nil {
			return err
		}
		ss, err := t.readPlaced("strings")
		if err != nil {
			return err
		}
		if err := t.lay.setEntries(es, ss); err != nil {
			return &failure{err}
		}
		t.entriesSet = true
	}
	if t.stage == 0 && t.lay.Clusters != nil && (t.mode == modeWhole || (t.entriesSet && t.planFinal)) {
		t.stage = 1
	}
	return nil
}

// readPlaced reads a complete section back from the partial file.
func (t *tArchive) readPlaced(name string) ([]byte, error) {
	s := t.lay.Secs[t.lay.section(name)]
	b := make([]byte, s.Length)
	if _, err := t.part.f.ReadAt(b, s.Offset); err != nil {
		return nil, err
	}
	return b, nil
}

// fill asks for more pieces and starts local work while the window and
// the workers allow.
func (t *tArchive) fill() error {
	for t.outRaw < window {
		g, raw, ok, err := t.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		if err := t.s.send(g.append(nil)); err != nil {
			return err
		}
		t.out = append(t.out, pending{g, raw})
		t.outRaw += raw
		t.rate.asked(raw)
	}
	return nil
}

// next picks the next thing to do; it returns a GET to send, or ok false
// when nothing can be asked for now.
func (t *tArchive) next() (g get, raw int64, ok bool, err error) {
	// The tables first: the cluster table, and for an update the directory.
	first := []string{"clusters"}
	if t.mode == modeUpdate {
		first = append(first, "entries", "strings")
	}
	for _, name := range first {
		if g, raw, ok := t.nextSection(t.lay.section(name)); ok {
			return g, raw, true, nil
		}
	}
	// Then the other sections: they need no plan, so they keep the link
	// busy while entries are reconciled.
	for i := range t.lay.Secs {
		if g, raw, ok := t.nextSection(i); ok {
			return g, raw, true, nil
		}
	}
	if t.stage == 0 {
		return get{}, 0, false, nil
	}
	for len(t.retry) > 0 {
		i := t.retry[0]
		t.retry = t.retry[1:]
		if g, raw, ok := t.storedGet(i); ok {
			return g, raw, true, nil
		}
	}
	// A cluster being fetched in several chunks goes on first.
	for i, off := range t.cReq {
		c := t.lay.Clusters[i]
		if off < c.Stored {
			n := min(t.chunk, c.Stored-off)
			t.cReq[i] = off + n
			return get{Slot: t.slot, Kind: kindCluster, Index: uint64(i), Offset: uint64(off), Length: uint64(n)}, n, true, nil
		}
		delete(t.cReq, i)
	}
	// Clusters that waited for the workers go first, once they can start.
	for len(t.waiting) > 0 {
		g, raw, ask, wait := t.startCluster(t.waiting[0])
		if wait {
			break
		}
		t.waiting = t.waiting[1:]
		if ask {
			return g, raw, true, nil
		}
	}
	// The others in order; one that must wait for the workers is put aside,
	// so the link goes on with the clusters after it.
	for t.cNext < len(t.lay.Clusters) {
		i := t.cNext
		t.cNext++
		g, raw, ask, wait := t.startCluster(i)
		if wait {
			t.waiting = append(t.waiting, i)
			continue
		}
		if ask {
			return g, raw, true, nil
		}
	}
	// The link has nothing else to do: under PolicyTime, a compressed
	// cluster put aside is fetched if that is done before the workers
	// would get to it.
	if t.s.opts.Policy == PolicyTime {
		for k, i := range t.waiting {
			c := t.lay.Clusters[i]
			if _, local := t.idx.clusters[c.Hash]; local || c.codec() != codecZstd || !t.rate.fetchSooner(c, t.outRaw, t.queued) {
				continue
			}
			t.waiting = append(t.waiting[:k], t.waiting[k+1:]...)
			if g, raw, ok := t.storedGet(i); ok {
				return g, raw, true, nil
			}
			break
		}
	}
	return get{}, 0, false, nil
}

// startCluster starts cluster i: a local copy, a rebuild (asking for its
// gaps if any) or a fetch as stored. It returns the GET to send, if any;
// wait says the workers are full and the cluster is to be tried later.
func (t *tArchive) startCluster(i int) (g get, raw int64, ask, wait bool) {
	if t.part.clusterDone(i) || t.cBusy[i] {
		return get{}, 0, false, false
	}
	c := t.lay.Clusters[i]
	if l, ok := t.idx.clusters[c.Hash]; ok {
		if !t.canStart(0) {
			return get{}, 0, false, true
		}
		t.cBusy[i] = true
		t.running++
		t.jobs <- func() jobResult { return t.copyLocal(i, l) }
		return get{}, 0, false, false
	}
	if rs, gaps, gapBytes, ok := t.rebuildable(i); ok && t.rate.rebuild(t.s.opts.Policy, c, gapBytes, t.outRaw, t.queuedZ) {
		if !t.canStart(c.Raw) {
			// The workers hold all they can. Under PolicyTime a
			// compressed cluster is fetched as it is if that arrives
			// before the workers could rebuild it (a fast link); else
			// (or under PolicyBytes) it is put aside, and fetched later
			// only if the link runs out of other work first (next).
			if t.s.opts.Policy == PolicyTime && c.codec() == codecZstd && t.rate.fetchSooner(c, t.outRaw, t.queued) {
				g, raw, ok := t.storedGet(i)
				return g, raw, ok, false
			}
			return get{}, 0, false, true
		}
		t.cBusy[i] = true
		t.running++
		t.queued += c.Raw
		if c.codec() == codecZstd {
			t.queuedZ += c.Raw
		}
		if gapBytes == 0 {
			t.jobs <- func() jobResult { return t.rebuild(i, rs, gaps, nil) }
			return get{}, 0, false, false
		}
		t.gapReq[i] = gapReq{rs, gaps}
		return get{Slot: t.slot, Kind: kindGaps, Index: uint64(i), Length: uint64(gapBytes)}, gapBytes, true, false
	}
	g, raw, ok := t.storedGet(i)
	return g, raw, ok, false
}

// canStart reports whether a job of raw bytes may be reserved now.
func (t *tArchive) canStart(raw int64) bool {
	return t.running == 0 || t.running < t.maxJobs && t.queued+raw <= maxQueuedRaw
}

// storedGet starts fetching cluster i as it is stored.
func (t *tArchive) storedGet(i int) (get, int64, bool) {
	if t.part.clusterDone(i) {
		return get{}, 0, false
	}
	c := t.lay.Clusters[i]
	off := int64(0)
	if cp, ok := t.part.st.Partial[i]; ok && t.hashes[i] != nil {
		off = cp.Offset
	} else {
		delete(t.part.st.Partial, i)
		t.hashes[i] = sha256.New()
	}
	t.cBusy[i] = true
	n := min(t.chunk, c.Stored-off)
	if off+n < c.Stored {
		t.cReq[i] = off + n
	}
	return get{Slot: t.slot, Kind: kindCluster, Index: uint64(i), Offset: uint64(off), Length: uint64(n)}, n, true
}

// nextSection returns the GET for the next chunk of section i, or starts a
// local copy of it when this library holds a section with the same root.
func (t *tArchive) nextSection(i int) (get, int64, bool) {
	if i < 0 {
		return get{}, 0, false
	}
	s := t.lay.Secs[i]
	st := &t.part.st.Sections[i]
	if st.Done || t.secJob[i] || t.secReq[i] >= s.Length {
		return get{}, 0, false
	}
	if l, ok := t.idx.sections[root(s)]; ok && st.Offset == 0 && t.secReq[i] == 0 && !t.secNoLocal[i] {
		t.secJob[i] = true
		t.running++
		t.jobs <- func() jobResult { return t.copySection(i, l) }
		return get{}, 0, false
	}
	off := t.secReq[i]
	n := sectionChunk(s, off, t.chunk)
	t.secReq[i] = off + n
	return get{Slot: t.slot, Kind: kindSection, Index: uint64(i), Offset: uint64(off), Length: uint64(n)}, n, true
}

// rebuildable says whether cluster i can be rebuilt from entries of this
// library's edition and the gaps, and how many gap bytes must travel.
func (t *tArchive) rebuildable(i int) ([]crange, []span, int64, bool) {
	if t.plan == nil || t.view == nil || t.plan.flags&planNone != 0 {
		return nil, nil, 0, false
	}
	c := t.lay.Clusters[i]
	if c.codec() == codecZstd && (t.plan.flags&planRebuildZstd == 0 || t.noZstd) {
		return nil, nil, 0, false
	}
	rs := rangesOf(t.lay, i)
	if rs == nil {
		return nil, nil, 0, false
	}
	gaps := t.plan.gaps(rs)
	var n int64
	for _, g := range gaps {
		n += g.n
	}
	if n > t.chunk || n*2 > c.Raw {
		return nil, nil, 0, false // mostly new: as stored, it is smaller
	}
	return rs, gaps, n, true
}

// handle takes one message from the giver.
func (t *tArchive) handle(m inMsg) error {
	switch m.typ {
	case msgPiece:
		return t.onPiece(m.piece)
	case msgData:
		return t.onData(m.body, m.last)
	case msgSkip:
		g, err := parseSkip(m.body)
		if err != nil {
			return err
		}
		return fail("the other device cannot send part %d/%d of %s", g.Kind, g.Index, label(t.h))
	case msgReconWant, msgReconDone, msgReconStop:
		if t.rsend == nil {
			return protoErr("reconciliation reply before RECON_START")
		}
		if m.typ == msgReconWant {
			ms, err := t.rsend.want(m.body)
			if err != nil {
				return err
			}
			return t.s.sendAll(ms)
		}
		return t.rsend.finish(m.typ, m.body)
	case msgPlan:
		if t.mode != modeUpdate || t.rsend == nil || !t.rsend.done || t.planFinal {
			return protoErr("PLAN out of place")
		}
		p, err := parsePlan(m.body, &t.planState, uint64(t.lay.NEntries))
		if err != nil {
			return err
		}
		if p.Slot != t.slot {
			return protoErr("PLAN for another archive")
		}
		if t.plan == nil {
			t.plan = &cplan{flags: p.Flags, missing: make([]bool, t.lay.NEntries), moved: map[int][16]byte{}}
		} else if t.plan.flags != p.Flags {
			return protoErr("PLAN flags changed between chunks")
		}
		for _, i := range p.Missing {
			t.plan.missing[i] = true
		}
		for _, mv := range p.Moved {
			if !t.plan.missing[mv.Entry] {
				return protoErr("PLAN moves an entry it does not name as missing")
			}
			t.plan.moved[int(mv.Entry)] = mv.Path
		}
		t.planFinal = p.Final
		return nil
	}
	return protoErr("unexpected message %#02x while taking", m.typ)
}

// finish hands the complete file to the library, through the one door.
func (t *tArchive) finish() error {
	s := t.s
	// The library links the file into its archives folder (or copies it,
	// from another filesystem), syncs it and checks every byte: the
	// partial file need not reach the disk first (after a crash the
	// state's claims are checked again, and a copy that does not verify is
	// fetched again). Nothing writes to it from here on.
	if err := t.part.saveState(false); err != nil {
		return err
	}
	id := hex.EncodeToString(t.h.ID[:])
	ev := Event{Receiving: true, Channel: t.h.M.Channel, Edition: t.h.M.Edition, Delta: t.h.M.Base != nil, ID: id, Total: t.lay.Size}
	began := time.Now()
	res, err := library.AddTo(s.ctx, s.hold.dir, []library.Arrival{{From: s.fromLabel(), R: t.part.f, Path: t.part.path, Size: t.lay.Size}}, library.AddOptions{})
	s.sum.Adding += time.Since(began)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		var ae *library.AddError
		if errors.As(err, &ae) && errors.Is(err, library.ErrCopy) {
			// Some piece on disk does not verify after all (a disk
			// that lost writes, or a damaged archive in this library
			// that a piece was copied from unhashed): forget what is in
			// place and start over, hashing local copies from now on.
			s.hold.setCheckLocal()
			t.part.remove()
			return fail("%s: the assembled copy did not verify (%v); it will be fetched again", label(t.h), err)
		}
		if library.IsRefusal(err) && errors.As(err, &ae) {
			t.part.remove()
			return fail("the library refused %s: %v", label(t.h), ae.Refused[0].Err)
		}
		// The library could not keep it (a full disk, a failed write):
		// the received part stays, to be added next time.
		return fmt.Errorf("%s was received but could not be added to the library (%w); the received copy is kept and is added at the next sync once this is fixed", label(t.h), err)
	}
	for _, w := range res.Warnings {
		s.note("%s", w)
	}
	t.part.remove()
	s.sum.Received = append(s.sum.Received, transferOf(t.h, nil))
	ev.Kind, ev.Done = EventDone, t.lay.Size
	s.event(ev)
	return nil
}
