package peer

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"ferry/internal/carry/peer/riblt"
)

// reconSets returns two sets of 32-byte items of n each, differing in d
// (half on each side).
func reconSets(rng *rand.Rand, n, d int) (enc, dec [][]byte) {
	item := func() []byte {
		b := make([]byte, 32)
		for i := 0; i < 32; i += 8 {
			binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
		}
		return b
	}
	for range n - (d+1)/2 {
		it := item()
		enc, dec = append(enc, it), append(dec, it)
	}
	for range d / 2 {
		enc = append(enc, item())
	}
	for range (d + 1) / 2 {
		dec = append(dec, item())
	}
	return enc, dec
}

// TestReconStream runs the exchange of docs/sync.md §5.6 message by
// message, with the receiver's credits answered in order and the symbols
// still on their way when it decodes delivered after RECON_DONE, as over
// a connection. Large differences decode in two round trips with at most
// 1.5 symbols per item; every difference is recovered; a symbol past
// those asked for is refused.
func TestReconStream(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 5))
	var key riblt.Key
	for _, c := range []struct{ n, d int }{{2000, 1}, {2000, 40}, {2000, 300}, {5000, 1000}, {20000, 3000}} {
		encItems, decItems := reconSets(rng, c.n, c.d)
		rs, err := newReconSender(key, 32, 1<<16, encItems)
		if err != nil {
			t.Fatal(err)
		}
		rr, err := newReconReceiver(key, 32, decItems, riblt.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		wire, err := rs.start() // messages from the sender, in order
		if err != nil {
			t.Fatal(err)
		}
		// The sender answers each request as it reads it; its answers
		// queue behind the symbols still on their way.
		var last []byte
		done := false
		for first := true; !done; first = false {
			if len(wire) == 0 {
				t.Fatalf("n=%d d=%d: the exchange stalled", c.n, c.d)
			}
			m := wire[0]
			wire = wire[1:]
			var replies [][]byte
			if first {
				replies, done, err = rr.onStart(m[1:])
			} else {
				replies, done, err = rr.onSymbols(m[1:])
			}
			if err != nil {
				t.Fatalf("n=%d d=%d: %v", c.n, c.d, err)
			}
			for _, w := range replies {
				if w[0] != msgReconWant {
					last = w
					continue
				}
				ms, err := rs.want(w[1:])
				if err != nil {
					t.Fatal(err)
				}
				wire = append(wire, ms...)
			}
		}
		if last == nil || last[0] != msgReconDone {
			t.Fatalf("n=%d d=%d: ended without RECON_DONE", c.n, c.d)
		}
		if err := rs.finish(last[0], last[1:]); err != nil {
			t.Fatal(err)
		}
		// What was still on its way is taken and dropped.
		for _, m := range wire {
			if !rr.absorbing() {
				t.Fatalf("n=%d d=%d: symbols came that were not asked for, and were not refused", c.n, c.d)
			}
			if _, _, err := rr.onSymbols(m[1:]); err != nil {
				t.Fatalf("n=%d d=%d: symbols asked for before RECON_DONE: %v", c.n, c.d, err)
			}
		}
		if rr.absorbing() {
			t.Fatalf("n=%d d=%d: still waiting for symbols after all came", c.n, c.d)
		}
		if got := len(rr.dec.Remote()) + len(rr.dec.Local()); got != c.d {
			t.Fatalf("n=%d d=%d: recovered %d", c.n, c.d, got)
		}
		t.Logf("n=%d d=%d: %d symbols sent (%.2f per item), %d round trips", c.n, c.d, rs.sent, float64(rs.sent)/float64(c.d), rr.rounds)
		if c.d >= 1000 {
			if rr.rounds > 2 {
				t.Errorf("n=%d d=%d: %d round trips", c.n, c.d, rr.rounds)
			}
			// The goal of 1.5 per item is a mean over runs (bench/riblt,
			// TestReconTable); a single run of this test varies (12 runs
			// at d = 3000: eight at 1.40-1.43, four at 1.56-1.65, the
			// stream overshooting by part of a window of credits). 1.7
			// catches a regression to the old fixed margins (1.54-1.67
			// on average) without failing a good run.
			if float64(rs.sent) > 1.7*float64(c.d) {
				t.Errorf("n=%d d=%d: %d symbols sent, over 1.7 per item", c.n, c.d, rs.sent)
			}
		}
		// One more symbol than was asked for is a protocol error.
		extra, err := rs.batches(nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := rr.onSymbols(extra[0][1:]); err == nil {
			t.Fatalf("n=%d d=%d: a symbol past those asked for was taken", c.n, c.d)
		}
	}
}
