package peer

import (
	"bytes"
	"testing"

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
