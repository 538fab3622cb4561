package peer

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"ferry/internal/library"
	"ferry/internal/testkit/corpus"
)

// TestUnion: two libraries that each lack archives of the other end with
// the union of their trusted archives, every file byte for byte the
// publisher's, and the wire carries little more than the missing archives.
func TestUnion(t *testing.T) {
	_, news1 := site(t, corpus.Options{Pages: 30, Seed: 1, Pictures: true}, "news", 1)
	_, books1 := site(t, corpus.Options{Pages: 20, Seed: 2}, "books", 1)
	_, radio1 := site(t, corpus.Options{Pages: 10, Seed: 3, Pictures: true}, "radio", 1)
	a, b := newLib(t), newLib(t)
	addTo(t, a, news1, books1)
	addTo(t, b, radio1)
	sa, sb := mustSync(t, testOpts(a), testOpts(b))
	ha, hb := held(t, a), held(t, b)
	if len(ha) != 3 || len(hb) != 3 {
		t.Fatalf("after sync: a holds %d, b holds %d archives", len(ha), len(hb))
	}
	for id, x := range ha {
		if !bytes.Equal(x, hb[id]) {
			t.Errorf("archive %s differs between the libraries", id[:12])
		}
	}
	for _, want := range [][]byte{news1, books1, radio1} {
		if !bytes.Equal(ha[idHex(t, want)], want) {
			t.Errorf("archive %s is not the publisher's bytes", idHex(t, want)[:12])
		}
	}
	if len(sa.Received) != 1 || len(sa.Sent) != 2 || len(sb.Received) != 2 || len(sb.Sent) != 1 {
		t.Errorf("summaries: a %+v, b %+v", sa, sb)
	}
	missing := int64(len(news1) + len(books1) + len(radio1))
	wire := sb.WireRead + sb.WireWritten
	if limit := missing*11/10 + 2048; wire > limit {
		t.Errorf("%d bytes on the wire for %d missing: over %d", wire, missing, limit)
	}
	t.Logf("missing %d bytes, wire %d (%.3f×); a: %s; b: %s", missing, wire, float64(wire)/float64(missing), sa, sb)
	// A second session finds nothing to do.
	sa, sb = mustSync(t, testOpts(a), testOpts(b))
	if len(sa.Received)+len(sb.Received) != 0 {
		t.Errorf("second sync moved archives: %s / %s", sa, sb)
	}
	if wire := sb.WireRead + sb.WireWritten; wire > 2048 {
		t.Errorf("a sync with nothing to do took %d bytes", wire)
	}
}

// TestUpdate: the giver has edition 42, the taker edition 41 of the same
// channel, and no delta exists: the taker rebuilds edition 42 from its own
// entries and the changed ones, byte for byte the signed original.
func TestUpdate(t *testing.T) {
	opts := corpus.Options{Pages: 400, Seed: 7, Pictures: true}
	s41, e41 := site(t, opts, "news", 41)
	_, e42 := edit(t, s41, opts, 25, []int{3}, 4, "news", 42)
	a, b := newLib(t), newLib(t)
	addTo(t, a, e42)
	addTo(t, b, e41)
	ob := testOpts(b)
	ob.Policy = PolicyBytes
	_, sb := mustSync(t, testOpts(a), ob)
	hb := held(t, b)
	if !bytes.Equal(hb[idHex(t, e42)], e42) {
		t.Fatalf("edition 42 not received byte for byte")
	}
	wire := sb.WireRead + sb.WireWritten
	t.Logf("edition 42: %d bytes; wire %d (%.3f×); local %d, rebuilt %d, fetched %d", len(e42), wire, float64(wire)/float64(len(e42)), sb.Local, sb.Rebuilt, sb.Fetched)
	if sb.Rebuilt == 0 {
		t.Errorf("no cluster was rebuilt")
	}
}

// TestSmallChunks asks for every piece in chunks of 4 KiB, so that large
// sections and clusters travel in many chunks, with updates and both
// directions: the result is the same archives.
func TestSmallChunks(t *testing.T) {
	opts := corpus.Options{Pages: 200, Seed: 14, Pictures: true}
	s1, e1 := site(t, opts, "news", 1)
	_, e2 := edit(t, s1, opts, 10, nil, 2, "news", 2)
	_, books := site(t, corpus.Options{Pages: 50, Seed: 15}, "books", 1)
	a, b := newLib(t), newLib(t)
	addTo(t, a, e2)
	addTo(t, b, e1, books)
	oa, ob := testOpts(a), testOpts(b)
	oa.testChunk, ob.testChunk = 4096, 4096
	ob.Policy = PolicyBytes
	mustSync(t, oa, ob)
	checkHeld(t, b, map[string][]byte{idHex(t, e2): e2})
	checkHeld(t, a, map[string][]byte{idHex(t, books): books})
}

// TestRemember: devices that paired with --remember sync again without a
// code (Noise IK with the kept keys); one that did not remember cannot.
func TestRemember(t *testing.T) {
	_, e1 := site(t, corpus.Options{Pages: 10, Seed: 16}, "news", 1)
	_, e2 := site(t, corpus.Options{Pages: 10, Seed: 17}, "books", 1)
	a, b, c := newLib(t), newLib(t), newLib(t)
	addTo(t, a, e1)
	oa, ob := testOpts(a), testOpts(b)
	oa.Remember, ob.Remember = true, true
	l, err := Listen("127.0.0.1:0", oa)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr := l.Addr().String()
	serve := func() chan error {
		errc := make(chan error, 1)
		go func() { _, err := l.Serve(context.Background()); errc <- err }()
		return errc
	}
	errc := serve()
	if _, err := Dial(context.Background(), addr, l.Pairing().Code, ob); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	// Later: a has a new archive; b reconnects without a code.
	addTo(t, a, e2)
	errc = serve()
	sum, err := Dial(context.Background(), addr, "", ob)
	if err != nil {
		t.Fatalf("reconnection: %v", err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if sum.Paired || len(sum.Received) != 1 {
		t.Errorf("reconnection summary: %+v", sum)
	}
	checkHeld(t, b, map[string][]byte{idHex(t, e1): e1, idHex(t, e2): e2})
	// c never paired: it has no key for that address.
	if _, err := Dial(context.Background(), addr, "", testOpts(c)); err == nil {
		t.Error("a device that never paired reconnected")
	}
	if err := Forget(b); err != nil {
		t.Fatal(err)
	}
	if _, err := Dial(context.Background(), addr, "", ob); err == nil {
		t.Error("reconnected after Forget")
	}
}

// TestChoices: --channel offers only the channels named; --max leaves out
// what does not fit; a channel only one side offers is not used as a
// base, so its entries are not revealed.
func TestChoices(t *testing.T) {
	_, news := site(t, corpus.Options{Pages: 20, Seed: 18}, "news", 1)
	_, books := site(t, corpus.Options{Pages: 20, Seed: 19}, "books", 1)
	a, b := newLib(t), newLib(t)
	addTo(t, a, news, books)
	oa := testOpts(a)
	oa.Channels = []string{"books"}
	mustSync(t, oa, testOpts(b))
	hb := held(t, b)
	if _, ok := hb[idHex(t, news)]; ok || len(hb) != 1 {
		t.Errorf("b holds %v: only books was offered", ids(hb))
	}
	ob := testOpts(b)
	ob.Max = int64(len(news)) - 1
	_, sb := mustSync(t, testOpts(a), ob)
	if len(sb.Received) != 0 || len(sb.Notes) == 0 {
		t.Errorf("--max smaller than the archive: %+v", sb)
	}
	if _, err := Listen("127.0.0.1:0", Options{Library: a, Channels: []string{"nope"}}); err != nil {
		t.Fatal(err) // the listener starts; the session refuses
	}
	_, _, ea, _ := pairSync(t, Options{Library: a, Channels: []string{"nope"}}, testOpts(b))
	if ea == nil {
		t.Error("offering a channel the library lacks should fail")
	}
}

// TestLocalDamaged: a cluster of the taker's own edition 41, which edition
// 42 shares, is damaged on its disk after it was added. Local copies are
// not hashed, so the first session assembles a copy the library's final
// check refuses: it fails that archive, keeps nothing of it, and marks the
// library; the next session hashes local copies, fetches the damaged
// cluster instead, and ends with edition 42 byte for byte.
func TestLocalDamaged(t *testing.T) {
	opts := corpus.Options{Pages: 200, Seed: 9, Pictures: true}
	s41, e41 := site(t, opts, "news", 41)
	_, e42 := edit(t, s41, opts, 25, nil, 2, "news", 42)
	a, b := newLib(t), newLib(t)
	addTo(t, a, e42)
	addTo(t, b, e41)
	l41, err := openLocal(filepath.Join(b, library.ArchiveDir, idHex(t, e41)+".ferry"), false)
	if err != nil {
		t.Fatal(err)
	}
	shared := clusterHashes(t, e42)
	var off int64 = -1
	for _, c := range l41.Lay.Clusters {
		if shared[c.Hash] && c.Stored > 16 {
			off = c.Off + c.Stored/2
			break
		}
	}
	if off < 0 {
		t.Fatal("editions 41 and 42 share no cluster")
	}
	path := filepath.Join(b, library.ArchiveDir, idHex(t, e41)+".ferry")
	flipByte(t, path, off)

	_, sb := mustSync(t, testOpts(a), testOpts(b))
	if len(sb.Received) != 0 || len(sb.Failed) != 1 {
		t.Fatalf("first session: received %d, failed %d; want the archive failed", len(sb.Received), len(sb.Failed))
	}
	if _, ok := held(t, b)[idHex(t, e42)]; ok {
		t.Fatal("a copy that did not verify was kept")
	}
	if _, err := os.Stat(filepath.Join(b, SyncDir, checkLocalFile)); err != nil {
		t.Fatalf("the library was not marked to hash local copies: %v", err)
	}
	_, sb = mustSync(t, testOpts(a), testOpts(b))
	if len(sb.Received) != 1 || !bytes.Equal(held(t, b)[idHex(t, e42)], e42) {
		t.Fatalf("second session: %s; edition 42 not received byte for byte", sb)
	}
}
