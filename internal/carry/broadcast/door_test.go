package broadcast

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"ferry/internal/archive"
	"ferry/internal/delta"
	"ferry/internal/edition"
	"ferry/internal/key"
	"ferry/internal/library"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/packtest"
)

// editions packs two editions of a made-up site and the delta between
// them: full edition 1, full edition 2, delta 2-on-1.
func editions(t *testing.T) (ed1, ed2, d2 []byte) {
	t.Helper()
	opts := corpus.Options{Pages: 30, Seed: 7, Pictures: true}
	site1, err := corpus.Site(opts)
	if err != nil {
		t.Fatal(err)
	}
	site2, _, err := corpus.Edit(site1, opts, 5, []int{3}, 2)
	if err != nil {
		t.Fatal(err)
	}
	ed1 = packtest.FS(t, site1, archive.Info{Channel: "news-ko", Edition: 1, Title: "소식"})
	ed2 = packtest.FS(t, site2, archive.Info{Channel: "news-ko", Edition: 2, Title: "소식"})
	v1, v2 := packtest.View(t, packtest.Open(t, ed1)), packtest.View(t, packtest.Open(t, ed2))
	var d bytes.Buffer
	if _, err := delta.Make(context.Background(), v1, v2, &d, delta.Options{Signers: []*key.Secret{packtest.Key(t)}}); err != nil {
		t.Fatal(err)
	}
	return ed1, ed2, d.Bytes()
}

// TestBroadcastEndsInLibrary: what a broadcast brings goes through the
// library's door. Edition 1 comes on a card; the delta 2-on-1 comes by
// broadcast and is listed and served as edition 2; an old edition sent
// afterwards is refused as a rollback and changes nothing.
func TestBroadcastEndsInLibrary(t *testing.T) {
	ed1, ed2, d2 := editions(t)
	lib := t.TempDir()
	trustKeys(t, lib, packtest.Key(t).Public())
	card := filepath.Join(t.TempDir(), "news-ko-1.ferry")
	if err := os.WriteFile(card, ed1, 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := library.Load(lib, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.AddFiles(context.Background(), []string{card}, library.AddOptions{}); err != nil {
		t.Fatal(err)
	}

	r := newReceiver(t, lib, "")
	feed(t, r, packets(t, [][]byte{d2}, SendOptions{Repair: 0.3}, 512))
	st := r.Status()
	if len(st) != 1 || !st[0].Done || st[0].Result != "added to the library" {
		t.Fatalf("status %+v", st)
	}
	r.Close()
	o, err := library.Open(lib, library.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ch := o.Channel("news-ko")
	if ch == nil || ch.View == nil || ch.Edition != 2 || len(ch.Chain) != 2 || ch.Chain[1].Base == "" {
		t.Fatalf("channel after the broadcast: %+v", ch)
	}
	sameContent(t, ch.View, packtest.View(t, packtest.Open(t, ed2)))
	o.Close()

	// Edition 1 again, by broadcast, after edition 2 was seen: a rollback
	// the library refuses (an old edition is not collected at all).
	old := packtest.FS(t, mustSite(t), archive.Info{Channel: "news-ko", Edition: 1, Title: "옛 판"})
	before, _ := os.ReadFile(filepath.Join(lib, library.StateFile))
	r = newReceiver(t, lib, "")
	feed(t, r, packets(t, [][]byte{old}, SendOptions{Repair: 0.3}, 512))
	oldID := packtest.Open(t, old).ID()
	for _, s := range r.Status() {
		if strings.HasPrefix(oldID, s.ID) {
			t.Fatalf("a rollback was collected: %+v", s)
		}
	}
	if r.Stats().Foreign == 0 {
		t.Errorf("rollback packets not counted as foreign: %+v", r.Stats())
	}
	r.Close()
	after, _ := os.ReadFile(filepath.Join(lib, library.StateFile))
	if !bytes.Equal(before, after) {
		t.Error("the refused edition changed the library's state")
	}
}

// TestBroadcastRefusedByDoor: an archive the receiver collects but the
// library refuses when it arrives (its publisher was distrusted while it
// was being collected) is marked done with the library's reason and never
// kept.
func TestBroadcastRefusedByDoor(t *testing.T) {
	ed1, _, _ := editions(t)
	lib := t.TempDir()
	log := func(m string) { t.Log(m) }
	_, deliver := IntoLibrary(context.Background(), lib, nil, log)
	r, err := NewReceiver(ReceiveOptions{State: filepath.Join(lib, ".broadcast"), Deliver: deliver, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	feed(t, r, packets(t, [][]byte{ed1}, SendOptions{Repair: 0.3}, 512))
	st := r.Status()
	if len(st) != 1 || !st[0].Done || !strings.Contains(st[0].Result, "refused") || !strings.Contains(st[0].Result, "trust") {
		t.Fatalf("status %+v", st)
	}
	l, _ := library.Load(lib, false)
	if len(l.State.Archives) != 0 {
		t.Fatalf("library holds %d archives", len(l.State.Archives))
	}
	if ents, _ := os.ReadDir(filepath.Join(lib, library.ArchiveDir)); len(ents) != 0 {
		t.Fatalf("%d files written to the archives folder", len(ents))
	}
}

// TestLibraryWriteFailureKeepsSymbols: when the library cannot write (here
// its archives folder is a file; in the field, a full card) the receiver
// stops with an error saying so and marks nothing done: the symbols stay
// in the state folder, and once the fault is fixed the same broadcast
// completes the archive.
func TestLibraryWriteFailureKeepsSymbols(t *testing.T) {
	data := testArchives(t)[:1]
	lib := t.TempDir()
	r := newReceiver(t, lib, "")
	blocker := filepath.Join(lib, library.ArchiveDir)
	if err := os.WriteFile(blocker, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	pkts := packets(t, data, SendOptions{Repair: 0.5}, 512)
	var err error
	for _, p := range pkts {
		if err = r.Handle(p); err != nil {
			break
		}
	}
	if err == nil {
		err = r.Flush()
	}
	if err == nil || !strings.Contains(err.Error(), "could not add") || !strings.Contains(err.Error(), "kept") {
		t.Fatalf("receiving into a library that cannot write: %v", err)
	}
	for _, st := range r.Status() {
		if st.Done {
			t.Fatalf("marked done after the library failed to write: %+v", st)
		}
	}
	r.Close()
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	r2 := newReceiver(t, lib, "")
	defer r2.Close()
	feed(t, r2, pkts[:len(pkts)/3])
	checkLibrary(t, lib, data)
}

func mustSite(t *testing.T) fstest.MapFS {
	t.Helper()
	s, err := corpus.Site(corpus.Options{Pages: 5, Seed: 99})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sameContent checks that two editions hold the same entries and bytes.
func sameContent(t *testing.T, got, want *edition.View) {
	t.Helper()
	if got.NumEntries() != want.NumEntries() {
		t.Fatalf("%d entries, want %d", got.NumEntries(), want.NumEntries())
	}
	for i := 0; i < want.NumEntries(); i++ {
		g, _ := got.EntryAt(i)
		w, _ := want.EntryAt(i)
		gb, err1 := got.ReadAll(g)
		wb, err2 := want.ReadAll(w)
		if g.Path != w.Path || err1 != nil || err2 != nil || !bytes.Equal(gb, wb) {
			t.Fatalf("entry %d: %q vs %q (%v %v)", i, g.Path, w.Path, err1, err2)
		}
	}
}
