package broadcast

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"ferry/internal/archive"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/packtest"
)

func airArchive(t *testing.T) []byte {
	t.Helper()
	site, err := corpus.Site(corpus.Options{Pages: 12, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	return packtest.FS(t, site, archive.Info{Channel: "radio", Edition: 1, Title: "라지오 소식"})
}

func airPackets(t *testing.T, data []byte, size int, repair float64, rounds int) [][]byte {
	t.Helper()
	var out [][]byte
	err := SendAir(data, AirOptions{PacketSize: size, Repair: repair, Rounds: rounds}, func(p []byte) error {
		if len(p) > size {
			t.Fatalf("packet of %d bytes for frames of %d", len(p), size)
		}
		out = append(out, bytes.Clone(p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAirRoundTrip: air packets (compact symbols of the archive without
// its tail, ordinary announcement parts cut to fit a frame), lost and
// reordered, rebuild the archive byte for byte in the library; the cost
// on air is the archive plus the announcement plus 6 bytes a symbol,
// nothing of the archive sent twice.
func TestAirRoundTrip(t *testing.T) {
	data := airArchive(t)
	for _, size := range []int{122, 250, 506} {
		pkts := airPackets(t, data, size, 0.5, 2)
		k, anns, err := AirSymbols(data, size)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(size), 1))
		var kept [][]byte
		for _, p := range pkts {
			if rng.Float64() >= 0.25 {
				kept = append(kept, p)
			}
		}
		rng.Shuffle(len(kept), func(i, j int) { kept[i], kept[j] = kept[j], kept[i] })
		lib := t.TempDir()
		r := newReceiver(t, lib, "")
		feed(t, r, kept)
		r.Close()
		checkLibrary(t, lib, [][]byte{data})
		// What one round needs at least: K symbols and one announcement.
		ann, _ := NewAnnouncement(packtest.Open(t, data), data)
		onAir := k*size + anns*size
		tail := len(ann.Manifest) + len(ann.SigBlock) + trailerLen
		// The object is the archive without its tail, padded to K symbols;
		// the announcement carries the tail once.
		if limit := (len(data) - tail) + k*airHeader + (size - airHeader) + len(ann.Body()) + anns*(announceHead+crcSize) + size; onAir > limit {
			t.Errorf("frames of %d: %d bytes on air for an archive of %d (limit %d)", size, onAir, len(data), limit)
		}
	}
}

// TestAirForgedSymbols: compact symbols carry no signature; forged ones
// (right tag, random bytes) never yield content — the rebuilt archive must
// verify — and the genuine symbols of a later round still decode.
func TestAirForgedSymbols(t *testing.T) {
	data := airArchive(t)
	genuine := airPackets(t, data, 250, 0.3, 3)
	id := packtest.Open(t, data).ID()
	var tag [airTag]byte
	for i := range tag {
		tag[i] = hexByte(id[2*i:])
	}
	rng := rand.New(rand.NewPCG(5, 5))
	var mixed [][]byte
	for i, p := range genuine {
		mixed = append(mixed, p)
		if i < len(genuine)/3 && p[0] == AirSymbol {
			f := make([]byte, len(p))
			f[0] = AirSymbol
			copy(f[1:], tag[:])
			f[4], f[5] = p[4], p[5] // the same ESI as a genuine symbol, or near it
			for j := airHeader; j < len(f); j++ {
				f[j] = byte(rng.Uint32())
			}
			mixed = append(mixed, f)
		}
	}
	lib := t.TempDir()
	r := newReceiver(t, lib, "")
	feed(t, r, mixed)
	r.Close()
	checkLibrary(t, lib, [][]byte{data})
}

func hexByte(s string) byte {
	v := func(c byte) byte {
		if c >= 'a' {
			return c - 'a' + 10
		}
		return c - '0'
	}
	return v(s[0])<<4 | v(s[1])
}

// TestAirJunkBeforeAnnouncement: a flood of compact symbols under random
// tags, never announced, neither blocks the budget of signed packets (an
// ordinary broadcast after it decodes) nor keeps out a genuine air
// broadcast whose symbols all come before its announcements.
func TestAirJunkBeforeAnnouncement(t *testing.T) {
	got := 0
	r := bareReceiver(t, ReceiveOptions{MaxPending: 1 << 20, Log: func(string) {}}, &got)
	defer r.Close()
	rng := rand.New(rand.NewPCG(9, 10))
	junk := func() {
		for range 20000 {
			p := make([]byte, 100)
			p[0] = AirSymbol
			for j := 1; j < len(p); j++ {
				p[j] = byte(rng.Uint32())
			}
			if err := r.Handle(p); err != nil {
				t.Fatal(err)
			}
		}
	}
	junk()
	feed(t, r, packets(t, testArchives(t)[:1], SendOptions{Repair: 0.5}, 512))
	if got != 1 {
		t.Fatalf("after 20000 junk air packets an ordinary broadcast decoded %d archives, want 1", got)
	}
	junk()
	var syms, anns [][]byte
	for _, p := range airPackets(t, airArchive(t), 250, 0.5, 1) {
		if p[0] == AirSymbol {
			syms = append(syms, p)
		} else {
			anns = append(anns, p)
		}
	}
	feed(t, r, append(syms, anns...))
	if got != 2 {
		t.Fatalf("air symbols held before their announcement, after junk: %d archives decoded, want 2 (stats %+v)", got, r.Stats())
	}
	if r.airPendingB > (1<<20)/8 {
		t.Errorf("%d bytes of compact symbols held, over an eighth of MaxPending", r.airPendingB)
	}
}

// TestAirDoneInEarlierRun: the same air broadcast heard again after a
// restart counts as duplicates (the archive is known done from the state
// folder); no compact symbol of it is held in memory.
func TestAirDoneInEarlierRun(t *testing.T) {
	data := airArchive(t)
	lib := t.TempDir()
	pkts := airPackets(t, data, 250, 0.5, 2)
	r := newReceiver(t, lib, "")
	feed(t, r, pkts)
	r.Close()
	checkLibrary(t, lib, [][]byte{data})
	r2 := newReceiver(t, lib, "")
	defer r2.Close()
	feed(t, r2, pkts)
	st := r2.Stats()
	if len(r2.airPending) > 0 || st.Duplicate < int64(len(pkts))*9/10 {
		t.Fatalf("second run: %d compact symbols held, stats %+v (want every packet a duplicate)", len(r2.airPending), st)
	}
}

// TestAirRefusedForgetsHeld: compact symbols held before an announcement
// the receiver does not want are dropped and counted foreign with it.
func TestAirRefusedForgetsHeld(t *testing.T) {
	var syms, anns [][]byte
	for _, p := range airPackets(t, airArchive(t), 250, 0.5, 1) {
		if p[0] == AirSymbol {
			syms = append(syms, p)
		} else {
			anns = append(anns, p)
		}
	}
	got := 0
	r := bareReceiver(t, ReceiveOptions{Log: func(string) {}, Want: func(*Announcement) error { return errors.New("not this one") }}, &got)
	defer r.Close()
	feed(t, r, append(syms, anns...))
	if got != 0 || len(r.airPending) != 0 || r.Stats().Foreign < int64(len(syms)) {
		t.Fatalf("decoded %d, %d compact symbols still held, stats %+v", got, len(r.airPending), r.Stats())
	}
}
