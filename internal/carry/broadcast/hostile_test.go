package broadcast

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"ferry/internal/archive"
	"ferry/internal/carry/broadcast/fountain"
	"ferry/internal/key"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/packtest"
)

// TestHostileChannelName: anyone can sign an archive; a channel name that
// is a path must not lead out of the library, nor stop the receiver.
func TestHostileChannelName(t *testing.T) {
	site, err := corpus.Site(corpus.Options{Pages: 6, Seed: 43})
	if err != nil {
		t.Fatal(err)
	}
	for _, channel := range []string{"../escaped", "a/b", "..", ""} {
		data := packtest.FS(t, site, archive.Info{Channel: channel, Edition: 1, Title: "x"})
		root := t.TempDir()
		lib := filepath.Join(root, "lib")
		r := newReceiver(t, lib, "")
		feed(t, r, packets(t, [][]byte{data}, SendOptions{Repair: 0.3}, 512))
		r.Close()
		st := r.Status()
		if len(st) != 1 || !st[0].Done {
			t.Fatalf("channel %q: %+v", channel, st)
		}
		checkLibrary(t, lib, [][]byte{data})
		if left, _ := os.ReadDir(root); len(left) != 1 {
			t.Errorf("channel %q: %d entries beside the library", channel, len(left))
		}
	}
}

// TestUntilDoneWaitsForThisRun: a receiver whose state holds only a
// finished archive is not done before it hears anything (--until-done
// must listen), and is done once it hears that archive again.
func TestUntilDoneWaitsForThisRun(t *testing.T) {
	data := testArchives(t)[:1]
	pkts := packets(t, data, SendOptions{Repair: 0.5}, 256)
	lib := t.TempDir()
	r := newReceiver(t, lib, "")
	feed(t, r, pkts)
	r.Close()
	checkLibrary(t, lib, data)
	r = newReceiver(t, lib, "")
	defer r.Close()
	if r.AllDone() {
		t.Fatal("done before hearing anything in this run")
	}
	feed(t, r, pkts[:3])
	if !r.AllDone() {
		t.Fatal("not done after hearing the finished archive again")
	}
}

// TestDamagedSymbolFileHeader: a state file whose header was damaged is
// started again, so the symbols of the next run are kept for the run after.
func TestDamagedSymbolFileHeader(t *testing.T) {
	data := testArchives(t)[:1]
	pkts := packets(t, data, SendOptions{Repair: 0.5}, 128)
	var anns, syms [][]byte
	for _, p := range pkts {
		if pp, _ := ParsePacket(p); pp.Kind == KindAnnounce {
			anns = append(anns, p)
		} else {
			syms = append(syms, p)
		}
	}
	rand.New(rand.NewPCG(7, 8)).Shuffle(len(syms), func(i, j int) { syms[i], syms[j] = syms[j], syms[i] })
	s, _ := NewSource(data[0], 128)
	k := needed(s.Params)
	n := k * 4 / 10
	lib := t.TempDir()
	run := func(part [][]byte) {
		r := newReceiver(t, lib, "")
		feed(t, r, append(append([][]byte{}, anns...), part...))
		r.Close()
	}
	run(syms[:n])
	files, _ := filepath.Glob(filepath.Join(lib, ".broadcast", "*.sym"))
	if len(files) != 1 {
		t.Fatalf("%d symbol files", len(files))
	}
	f, _ := os.OpenFile(files[0], os.O_WRONLY, 0)
	f.WriteAt([]byte("XXXXX"), 0)
	f.Close()
	run(syms[n : 2*n])
	run(syms[2*n : 2*n+k*7/10]) // with the second run's symbols, enough
	checkLibrary(t, lib, data)
}

// TestPoolCap: a pool keeps at most maxPoolSymbols symbols.
func TestPoolCap(t *testing.T) {
	data := testArchives(t)[:1]
	s, _ := NewSource(data[0], 1024)
	limit := maxPoolSymbols(s.Params)
	if k := needed(s.Params); limit < 2*k || limit > 2*k+64*s.Params.SourceBlocks() {
		t.Fatalf("limit %d for K %d", limit, k)
	}
	lib := t.TempDir()
	r := newReceiver(t, lib, "")
	defer r.Close()
	pkts := packets(t, data, SendOptions{Repair: 1}, 1024)
	for _, p := range pkts {
		if pp, _ := ParsePacket(p); pp.Kind == KindAnnounce {
			feed(t, r, [][]byte{p})
		}
	}
	var c *collection
	for _, cc := range r.cols {
		c = cc
	}
	if c == nil || c.ann == nil {
		t.Fatal("announcement not accepted")
	}
	pl, err := r.pool(c, poolKey{}, s.Params)
	if err != nil {
		t.Fatal(err)
	}
	payload := make([]byte, 1024)
	for esi := range uint32(limit + 100) {
		if err := r.addSymbol(c, pl, 0, 1_000_000+esi, payload, true); err != nil {
			t.Fatal(err)
		}
	}
	if len(pl.syms) != limit {
		t.Errorf("pool holds %d symbols, limit %d", len(pl.syms), limit)
	}
}

// TestJunkAnnouncementsFlood: announcement parts and early symbols under
// thousands of random IDs, more than the pending budget and the collection
// table hold, arrive before the genuine stream, which still decodes.
func TestJunkAnnouncementsFlood(t *testing.T) {
	data := testArchives(t)[:1]
	lib := t.TempDir()
	got := 0
	r := bareReceiver(t, ReceiveOptions{State: filepath.Join(lib, ".broadcast"), MaxPending: 1 << 20, Log: func(string) {}}, &got)
	defer r.Close()
	rng := rand.New(rand.NewPCG(9, 10))
	chunk := make([]byte, 900)
	for i := 0; i < 3*maxCollections; i++ {
		var id [IDSize]byte
		for j := range id {
			id[j] = byte(rng.Uint32())
		}
		if err := r.Handle(AppendAnnounce(nil, id, 0, 3, 2700, chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if len(r.cols) > maxCollections || r.pendingB > 1<<20 {
		t.Fatalf("%d collections, %d bytes pending", len(r.cols), r.pendingB)
	}
	feed(t, r, packets(t, data, SendOptions{Repair: 0.5}, 512))
	if got != 1 {
		t.Fatalf("%d archives decoded, want 1", got)
	}
}

// TestUnionDespiteOtherOTI: two genuine recordings, each too short alone,
// must combine even when the largest pool is an attacker's with other
// parameters (OTI) that never decodes.
func TestUnionDespiteOtherOTI(t *testing.T) {
	data := testArchives(t)[:1]
	recs := twoRecordings(t, data)
	// The attacker: the genuine ID and length, symbol size 64 (another
	// OTI), and 600 symbols: fewer than its K (852), so it never decodes,
	// but more than either genuine pool.
	genuine, err := NewSource(data[0], 128)
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Clone(data[0])
	for i := 100; i < len(bad); i += 997 {
		bad[i] ^= 0x5a
	}
	p, err := fountain.NewParams(uint64(len(bad)), 64, 0)
	if err != nil || p.SourceSymbols(0) <= 600 {
		t.Fatalf("params %+v %v", p, err)
	}
	fake := &Source{Ann: genuine.Ann, Params: p}
	if fake.enc, err = newEncoder(bad, p); err != nil {
		t.Fatal(err)
	}
	ak, _ := key.Generate()
	var attack [][]byte
	Send([]*Source{fake}, SendOptions{Repair: 3, Key: ak}, func(b []byte) error {
		if pp, _ := ParsePacket(b); pp.Kind == KindSymbol && len(attack) < 600 {
			attack = append(attack, bytes.Clone(b))
		}
		return nil
	})
	if len(attack) < 600 {
		t.Fatalf("%d attack symbols", len(attack))
	}
	lib := t.TempDir()
	r := newReceiver(t, lib, "")
	defer r.Close()
	feed(t, r, recs[0][:len(recs[0])/2])
	feed(t, r, attack)
	feed(t, r, recs[0][len(recs[0])/2:])
	feed(t, r, recs[1])
	checkLibrary(t, lib, data)
}

// TestOversizedAnnouncement: a part claiming a body over MaxAnnounceBody is
// not a valid packet: dropped as damaged, nothing kept.
func TestOversizedAnnouncement(t *testing.T) {
	r := newReceiver(t, t.TempDir(), "")
	defer r.Close()
	var id [IDSize]byte
	n := uint32(MaxAnnounceBody + 1)
	lo, hi, ok := partRange(n, 1000, 0)
	if !ok {
		t.Fatal("bad cut")
	}
	if err := r.Handle(AppendAnnounce(nil, id, 0, 1000, n, make([]byte, hi-lo))); err != nil {
		t.Fatal(err)
	}
	if len(r.cols) != 0 || r.pendingB != 0 || r.Stats().Damaged != 1 {
		t.Errorf("kept: %d collections, %d bytes, stats %+v", len(r.cols), r.pendingB, r.Stats())
	}
}

// TestJunkPartsForGenuineID: before the genuine stream, an attacker sends
// for the genuine archive ID four junk variants of every announcement part
// and a dozen junk cuts; the genuine announcement still gets in.
func TestJunkPartsForGenuineID(t *testing.T) {
	data := testArchives(t)[:1]
	pkts := packets(t, data, SendOptions{Repair: 0.5, Rounds: 2}, 512)
	var junk [][]byte
	rng := rand.New(rand.NewPCG(11, 12))
	for _, b := range pkts {
		pp, _ := ParsePacket(b)
		if pp.Kind != KindAnnounce {
			continue
		}
		for v := 0; v < maxVariants; v++ {
			chunk := make([]byte, len(pp.Payload))
			for i := range chunk {
				chunk[i] = byte(rng.Uint32())
			}
			junk = append(junk, AppendAnnounce(nil, pp.ID, pp.Part, pp.Parts, pp.BodyLen, chunk))
		}
		if pp.Part == 0 {
			for cut := 0; cut < 12; cut++ {
				n := uint32(300 + cut)
				lo, hi, _ := partRange(n, 1, 0)
				junk = append(junk, AppendAnnounce(nil, pp.ID, 0, 1, n, make([]byte, hi-lo)))
			}
		}
	}
	if len(junk) < maxVariants+12 {
		t.Fatalf("%d junk packets", len(junk))
	}
	lib := t.TempDir()
	r := newReceiver(t, lib, "")
	defer r.Close()
	feed(t, r, junk)
	feed(t, r, pkts)
	checkLibrary(t, lib, data)
}
