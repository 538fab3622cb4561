package broadcast

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/library"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/packtest"
	"ferry/internal/trust"
)

var (
	archOnce sync.Once
	archs    [][]byte
	archKey  *key.Secret
)

// testArchives packs two archives of made-up sites of our own writing
// (package corpus), signed by packtest.Key: a small one (about 50 KB:
// more than 600 symbols of 64 bytes, as TestUnionDespiteOtherOTI needs)
// and a bigger one (about 150 KB: several source blocks of 16 KiB, as
// TestSeveralBlocks needs), both of Korean and English pages with
// pictures.
func testArchives(t testing.TB) [][]byte {
	t.Helper()
	archOnce.Do(func() {
		archKey = packtest.Key(t)
		small, err := corpus.Site(corpus.Options{Pages: 16, Seed: 41, Pictures: true})
		if err != nil {
			t.Fatal(err)
		}
		big, err := corpus.Site(corpus.Options{Pages: 360, Seed: 42, Pictures: true})
		if err != nil {
			t.Fatal(err)
		}
		archs = [][]byte{
			packtest.FS(t, small, archive.Info{Channel: "rights", Edition: 3, Title: "권리"}),
			packtest.FS(t, big, archive.Info{Channel: "books", Edition: 7, Title: "Books"}),
		}
	})
	if archs == nil {
		t.Fatal("packing the test archives failed in an earlier test")
	}
	return archs
}

// packets returns the packet stream of the archives.
func packets(t testing.TB, data [][]byte, opts SendOptions, symbolSize int) [][]byte {
	t.Helper()
	var srcs []*Source
	for _, d := range data {
		s, err := NewSource(d, symbolSize)
		if err != nil {
			t.Fatal(err)
		}
		srcs = append(srcs, s)
	}
	var out [][]byte
	if err := Send(srcs, opts, func(p []byte) error { out = append(out, bytes.Clone(p)); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// newReceiver makes a receiver that ends in the library lib, through its
// door (IntoLibrary). With trust keys, the library trusts those keys and
// the receiver collects only archives signed by them; without, the library
// is made to trust every key the test archives were signed with
// (archKey), and any other signer is refused by the library.
func newReceiver(t testing.TB, lib, state string, trust ...key.Public) *Receiver {
	t.Helper()
	if state == "" {
		state = filepath.Join(lib, ".broadcast")
	}
	trustKeys(t, lib, append(trust, packtest.Key(t).Public())...)
	log := func(m string) { t.Log(m) }
	want, deliver := IntoLibrary(context.Background(), lib, trust, log)
	r, err := NewReceiver(ReceiveOptions{State: state, Want: want, Deliver: deliver, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// bareReceiver is a receiver with no library: what decodes is counted in
// *got (fuzzing, benchmarks, floods).
func bareReceiver(tb testing.TB, opts ReceiveOptions, got *int) *Receiver {
	tb.Helper()
	if opts.State == "" {
		opts.State = tb.TempDir()
	}
	opts.Deliver = func(*Announcement, []byte) (string, error) {
		if got != nil {
			*got++
		}
		return "decoded", nil
	}
	r, err := NewReceiver(opts)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// trustKeys makes the library in dir (created if missing) trust keys.
func trustKeys(t testing.TB, dir string, keys ...key.Public) {
	t.Helper()
	l, err := library.Load(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k == (key.Public{}) || slices.ContainsFunc(l.State.Trust.Anchors, func(a trust.Anchor) bool { return a.Keys[0] == k }) {
			continue
		}
		if err := l.State.Trust.Add(trust.Anchor{Label: k.Fingerprint(), Keys: []key.Public{k}, Threshold: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Save(); err != nil {
		t.Fatal(err)
	}
}

func feed(t testing.TB, r *Receiver, pkts [][]byte) {
	t.Helper()
	for _, p := range pkts {
		if err := r.Handle(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
}

// checkLibrary asserts that every archive is in the library lib: recorded
// in its state and byte-identical in its archives folder.
func checkLibrary(t *testing.T, lib string, data [][]byte) {
	t.Helper()
	l, err := library.Load(lib, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range data {
		ar, err := archive.Open(bytes.NewReader(d), int64(len(d)))
		if err != nil {
			t.Fatal(err)
		}
		m := ar.Manifest()
		rec, ok := l.Record(ar.ID())
		if !ok {
			t.Fatalf("archive %s edition %d not in the library", m.Channel, m.Edition)
		}
		got, err := os.ReadFile(l.Path(rec))
		if err != nil {
			t.Fatalf("archive %s not written: %v", m.Channel, err)
		}
		if !bytes.Equal(got, d) {
			t.Fatalf("archive %s differs from the original", m.Channel)
		}
	}
}

func TestLossReorderDuplicatesBitFlips(t *testing.T) {
	data := testArchives(t)
	pkts := packets(t, data, SendOptions{Repair: 0.8, Rounds: 1}, 256)
	rng := rand.New(rand.NewPCG(1, 2))
	var got [][]byte
	flipped := 0
	for _, p := range pkts {
		if rng.Float64() < 0.3 {
			continue // lost
		}
		p = bytes.Clone(p)
		if rng.Float64() < 0.05 {
			p[rng.IntN(len(p))] ^= 1 << rng.IntN(8)
			flipped++
		}
		got = append(got, p)
		if rng.Float64() < 0.1 {
			got = append(got, p) // duplicate
		}
	}
	rng.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
	// Through a stream file, with bit flips in length prefixes too.
	var stream bytes.Buffer
	for _, p := range got {
		WriteStreamPacket(&stream, p)
	}
	sb := stream.Bytes()
	for i := 0; i < 5; i++ {
		sb[rng.IntN(len(sb))] ^= 0x80
	}
	lib := t.TempDir()
	r := newReceiver(t, lib, "")
	defer r.Close()
	if _, err := Receive(bytes.NewReader(sb), r); err != nil {
		t.Fatal(err)
	}
	t.Logf("status %+v", r.Status())
	checkLibrary(t, lib, data)
	st := r.Stats()
	t.Logf("%d packets sent, %d received, %d flipped: %+v", len(pkts), len(got), flipped, st)
	if st.Damaged < int64(flipped)/2 || st.Duplicate == 0 {
		t.Errorf("damaged/duplicate packets not counted: %+v", st)
	}
	if !r.AllDone() {
		t.Error("AllDone is false")
	}
}

func TestTwoPartialRecordingsAndResume(t *testing.T) {
	data := testArchives(t)[:1]
	pkts := packets(t, data, SendOptions{Repair: 0.5, Rounds: 2}, 128)
	var syms, anns [][]byte
	for _, p := range pkts {
		if pp, _ := ParsePacket(p); pp.Kind == KindAnnounce {
			anns = append(anns, p)
		} else {
			syms = append(syms, p)
		}
	}
	k := 0
	{
		s, _ := NewSource(data[0], 128)
		k = needed(s.Params)
	}
	// Two recordings of 60% of K each, disjoint, each with announcements.
	rng := rand.New(rand.NewPCG(3, 4))
	rng.Shuffle(len(syms), func(i, j int) { syms[i], syms[j] = syms[j], syms[i] })
	n := k * 6 / 10
	recA := append(append([][]byte{}, anns...), syms[:n]...)
	recB := append(append([][]byte{}, anns...), syms[n:2*n]...)

	for _, rec := range [][][]byte{recA, recB} {
		lib := t.TempDir()
		r := newReceiver(t, lib, "")
		feed(t, r, rec)
		if r.AllDone() {
			t.Fatal("one partial recording alone decoded")
		}
		r.Close()
	}
	// Together in one run.
	lib := t.TempDir()
	r := newReceiver(t, lib, "")
	feed(t, r, recA)
	feed(t, r, recB)
	r.Close()
	checkLibrary(t, lib, data)

	// Across two runs with the same state folder.
	lib = t.TempDir()
	r = newReceiver(t, lib, "")
	feed(t, r, recA)
	st := r.Status()
	if len(st) != 1 || st[0].Held != n || st[0].Needed != k || st[0].Done {
		t.Fatalf("status after first run: %+v (want %d of %d)", st, n, k)
	}
	r.Close()
	r = newReceiver(t, lib, "")
	if st := r.Status(); len(st) != 1 || st[0].Held != n {
		t.Fatalf("state not reloaded: %+v", st)
	}
	feed(t, r, recB)
	r.Close()
	checkLibrary(t, lib, data)
	// A third run sees the archive as done and counts duplicates.
	r = newReceiver(t, lib, "")
	feed(t, r, recA[:50])
	if !r.AllDone() || r.Stats().Duplicate != 50 {
		t.Errorf("after completion: done %v, stats %+v", r.AllDone(), r.Stats())
	}
	r.Close()
}

// forgedStream encodes a tampered copy of data (same length, same
// parameters) under the genuine archive's ID, signed by the forger's key, as
// an attacker who knows the format would.
func forgedStream(t *testing.T, genuine *Source, data []byte, opts SendOptions) [][]byte {
	t.Helper()
	bad := bytes.Clone(data)
	for i := 100; i < len(bad)-4096; i += 997 {
		bad[i] ^= 0x5a
	}
	fake := &Source{Ann: genuine.Ann, Params: genuine.Params}
	enc, err := newEncoder(bad, genuine.Params)
	if err != nil {
		t.Fatal(err)
	}
	fake.enc = enc
	var out [][]byte
	if err := Send([]*Source{fake}, opts, func(p []byte) error { out = append(out, bytes.Clone(p)); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// resign replaces a symbol packet's payload and fixes its CRC, keeping the
// genuine sender's key and (now invalid) signature.
func recrc(p []byte) []byte {
	p = bytes.Clone(p)
	binary.BigEndian.PutUint32(p[len(p)-4:], crc32.Checksum(p[:len(p)-4], castagnoli))
	return p
}

func TestForgedSymbols(t *testing.T) {
	data := testArchives(t)[:1]
	const T = 128
	src, err := NewSource(data[0], T)
	if err != nil {
		t.Fatal(err)
	}
	k := needed(src.Params)
	publisher, _ := key.Generate()
	genuine := packets(t, data, SendOptions{Repair: 1, Rounds: 1, Key: publisher}, T)
	rng := rand.New(rand.NewPCG(5, 6))
	// The forger sends a consistent fake world, more of it than the genuine
	// stream, on the same ESIs and on others.
	forged := forgedStream(t, src, data[0], SendOptions{Repair: 2, Rounds: 1})
	// Random junk with valid checksums under other keys.
	var attack [][]byte
	attack = append(attack, forged...)
	for i := 0; i < k; i++ {
		sym := make([]byte, T)
		for j := range sym {
			sym[j] = byte(rng.Uint32())
		}
		attack = append(attack, AppendSymbol(nil, src.Ann.ShortID(), src.Params.Encode(), 0, uint32(rng.IntN(3*k)), sym, publisher)[:0])
		jk, _ := key.Generate()
		attack[len(attack)-1] = AppendSymbol(nil, src.Ann.ShortID(), src.Params.Encode(), 0, uint32(rng.IntN(3*k)), sym, jk)
	}
	// Genuine packets with the payload altered: bad signature, good CRC.
	var altered [][]byte
	for _, p := range genuine[:len(genuine)/2] {
		if pp, _ := ParsePacket(p); pp.Kind == KindSymbol {
			q := bytes.Clone(p)
			q[symbolHeader+3] ^= 1
			altered = append(altered, recrc(q))
		}
	}
	attack = append(attack, altered...)
	mixed := append(append([][]byte{}, forged...), genuine[:len(genuine)/3]...)
	rng.Shuffle(len(mixed), func(i, j int) { mixed[i], mixed[j] = mixed[j], mixed[i] })

	lib := t.TempDir()
	r := newReceiver(t, lib, "")
	defer r.Close()
	feed(t, r, mixed)
	if r.AllDone() {
		t.Fatal("accepted an archive from forged symbols")
	}
	if ents, _ := filepath.Glob(filepath.Join(lib, "*.ferry")); len(ents) != 0 {
		t.Fatalf("wrote %v from forged symbols", ents)
	}
	st := r.Status()
	if len(st) != 1 || st[0].Retries == 0 {
		t.Fatalf("forged decode not detected: %+v", st)
	}
	// More attack: junk under many keys, altered genuine packets; then
	// enough genuine packets.
	rng.Shuffle(len(attack), func(i, j int) { attack[i], attack[j] = attack[j], attack[i] })
	feed(t, r, attack)
	feed(t, r, genuine[len(genuine)/3:])
	if !r.AllDone() {
		t.Fatalf("did not decode once enough genuine packets arrived: %+v %+v", r.Status(), r.Stats())
	}
	checkLibrary(t, lib, data)
	if r.Stats().Forged < int64(len(altered)) {
		t.Errorf("altered packets not counted as forged: %+v", r.Stats())
	}
	t.Logf("status %+v stats %+v (K = %d)", r.Status(), r.Stats(), k)
}

func TestForgedAnnouncement(t *testing.T) {
	data := testArchives(t)[:1]
	src, err := NewSource(data[0], 512)
	if err != nil {
		t.Fatal(err)
	}
	body := src.Ann.Body()
	// A tampered manifest (claims another edition) with the old signatures.
	forgedBody := bytes.Replace(body, []byte(`"edition":3`), []byte(`"edition":9`), 1)
	if bytes.Equal(forgedBody, body) {
		t.Fatal("test could not tamper with the manifest")
	}
	if _, err := ParseAnnouncement(forgedBody); !errors.Is(err, ErrForged) {
		t.Fatalf("tampered announcement: %v", err)
	}
	// A whole announcement re-signed by another key under the same ID: the
	// signature verifies but the receiver trusts only the publisher.
	other, _ := key.Generate()
	a := *src.Ann
	sig := other.Sign(append([]byte(sigPrefix), a.Manifest...))
	pub := other.Public()
	a.SigBlock = append(append([]byte{1}, pub[:]...), sig...)
	send := func(body []byte, id [IDSize]byte) [][]byte {
		var out [][]byte
		parts := (len(body) + 511) / 512
		for i := 0; i < parts; i++ {
			lo, hi, ok := partRange(uint32(len(body)), uint16(parts), uint16(i))
			if !ok {
				t.Fatal("bad part count")
			}
			out = append(out, AppendAnnounce(nil, id, uint16(i), uint16(parts), uint32(len(body)), body[lo:hi]))
		}
		return out
	}
	for _, forged := range [][]byte{forgedBody, a.Body()} {
		r := newReceiver(t, t.TempDir(), "", archKey.Public())
		feed(t, r, send(forged, src.Ann.ShortID()))
		if st := r.Status(); len(st) != 0 {
			t.Fatalf("forged announcement accepted: %+v", st)
		}
		if r.Stats().Forged == 0 && r.Stats().Foreign == 0 {
			t.Errorf("forged announcement not counted: %+v", r.Stats())
		}
		r.Close()
	}
	lib := t.TempDir()
	r := newReceiver(t, lib, "", archKey.Public())
	defer r.Close()
	feed(t, r, send(forgedBody, src.Ann.ShortID()))
	// The genuine announcement is still accepted afterwards.
	feed(t, r, send(body, src.Ann.ShortID()))
	if st := r.Status(); len(st) != 1 || st[0].Name != "rights edition 3" {
		t.Fatalf("genuine announcement not accepted: %+v", st)
	}
}

func TestStreamResync(t *testing.T) {
	data := testArchives(t)[:1]
	pkts := packets(t, data, SendOptions{Repair: 0.1}, 300)
	var b bytes.Buffer
	b.WriteString("garbage before the stream FRYB")
	for _, p := range pkts {
		WriteStreamPacket(&b, p)
	}
	var n int
	skipped, err := ReadStream(bytes.NewReader(b.Bytes()), func(p []byte) error {
		if _, err := ParsePacket(p); err == nil {
			n++
		}
		return nil
	})
	if err != nil || n != len(pkts) || skipped != 30 {
		t.Fatalf("read %d of %d packets, skipped %d: %v", n, len(pkts), skipped, err)
	}
}

// TestTwoSendersCombine: two broadcasts of one archive signed by different
// keys, each recorded only in part, decode together through the union of
// the two pools.
// twoRecordings returns two recordings of data by broadcasters with
// different keys, each with the announcements and 250 symbols (T = 128),
// holding different ESIs: too few alone, enough together.
func twoRecordings(t *testing.T, data [][]byte) [][][]byte {
	var recs [][][]byte
	for i := 0; i < 2; i++ {
		k, _ := key.Generate()
		pkts := packets(t, data, SendOptions{Repair: 0.5, Rounds: 2, Key: k}, 128)
		var rec [][]byte
		syms := 0
		for j, p := range pkts {
			pp, _ := ParsePacket(p)
			// Recording i keeps the announcements and every other symbol,
			// offset so that the two recordings hold different ESIs.
			if pp.Kind == KindAnnounce || (j%2 == i && syms < 250) {
				rec = append(rec, p)
				if pp.Kind == KindSymbol {
					syms++
				}
			}
		}
		recs = append(recs, rec)
	}
	return recs
}

func TestTwoSendersCombine(t *testing.T) {
	data := testArchives(t)[:1]
	recs := twoRecordings(t, data)
	lib := t.TempDir()
	r := newReceiver(t, lib, "")
	defer r.Close()
	feed(t, r, recs[0])
	if r.AllDone() {
		t.Fatal("one recording alone decoded")
	}
	feed(t, r, recs[1])
	checkLibrary(t, lib, data)
}

// TestSeveralBlocks: an archive cut into several source blocks and
// sub-blocks survives 30% loss and reordering.
func TestSeveralBlocks(t *testing.T) {
	data := testArchives(t)[1:]
	src, err := NewSourceWith(data[0], 256, 16<<10)
	if err != nil {
		t.Fatal(err)
	}
	if src.Params.Z < 3 || src.Params.N < 2 {
		t.Fatalf("want several blocks and sub-blocks, got %+v", src.Params)
	}
	var pkts [][]byte
	if err := Send([]*Source{src}, SendOptions{Repair: 0.7}, func(p []byte) error { pkts = append(pkts, bytes.Clone(p)); return nil }); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(11, 12))
	var got [][]byte
	for _, p := range pkts {
		if rng.Float64() >= 0.3 {
			got = append(got, p)
		}
	}
	rng.Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
	lib := t.TempDir()
	r := newReceiver(t, lib, "")
	defer r.Close()
	if err := r.HandleBatch(got); err != nil {
		t.Fatal(err)
	}
	if err := r.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Logf("params %+v, status %+v, stats %+v", src.Params, r.Status(), r.Stats())
	checkLibrary(t, lib, data)
}
