package peer

import (
	"bytes"
	"context"
	"testing"

	"ferry/internal/delta"
	"ferry/internal/key"
	"ferry/internal/library"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/packtest"
)

// TestSyncThroughTheDoor: what a sync brings goes through the library's
// one door like a card's archives. An older edition a peer offers is not
// taken (rollback), and a delta it offers is applied: the taker then
// presents the newer edition as a chain on the base it held.
func TestSyncThroughTheDoor(t *testing.T) {
	opts := corpus.Options{Pages: 40, Seed: 21, Pictures: true}
	s1, e1 := site(t, opts, "news", 1)
	_, e2 := edit(t, s1, opts, 8, nil, 1, "news", 2)
	var d2 bytes.Buffer
	if _, err := delta.Make(context.Background(), packtest.View(t, packtest.Open(t, e1)), packtest.View(t, packtest.Open(t, e2)), &d2,
		delta.Options{Signers: []*key.Secret{packtest.Key(t)}}); err != nil {
		t.Fatal(err)
	}

	// Rollback: the peer holds only edition 1, the taker edition 2.
	old, cur := newLib(t), newLib(t)
	addTo(t, old, e1)
	addTo(t, cur, e2)
	mustSync(t, testOpts(old), testOpts(cur))
	if h := held(t, cur); len(h) != 1 || h[idHex(t, e2)] == nil {
		t.Fatalf("the taker holding edition 2 now holds %d archives: an older edition came in", len(h))
	}
	l, err := library.Load(cur, false)
	if err != nil || l.State.Channels["news"].Highest != 2 {
		t.Fatalf("taker's channel state after a peer offered edition 1: %v %+v", err, l.State.Channels["news"])
	}

	// A delta: the peer holds edition 1 and the delta 2-on-1, the taker
	// edition 1; the taker ends with the chain and presents edition 2.
	giver, taker := newLib(t), newLib(t)
	addTo(t, giver, e1, d2.Bytes())
	addTo(t, taker, e1)
	mustSync(t, testOpts(giver), testOpts(taker))
	if h := held(t, taker); !bytes.Equal(h[idHex(t, d2.Bytes())], d2.Bytes()) {
		t.Fatalf("the delta did not arrive byte for byte (taker holds %d archives)", len(h))
	}
	o, err := library.Open(taker, library.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if c := o.Channel("news"); c == nil || c.Edition != 2 || len(c.Chain) != 2 || c.View == nil {
		t.Fatalf("taker presents %+v, want edition 2 as a chain of 2", c)
	}
}
