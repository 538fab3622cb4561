package peer

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"ferry/internal/carry/peer/netlab"
	"ferry/internal/testkit/corpus"
)

// makeLink joins two network namespaces by a link of this shape, and
// removes them when the test ends; it skips the test, saying why, where
// they cannot be made.
func makeLink(t *testing.T, sh netlab.Shape) *netlab.Link {
	t.Helper()
	l, err := netlab.New(sh)
	if err != nil {
		t.Skipf("%v: the loopback tests cover the protocol", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// syncOver runs one session between libraries a (listening in namespace
// l.a) and b (dialling from l.b).
func syncOver(t *testing.T, l *netlab.Link, a, b Options) (sa, sb *Summary, ea, eb error) {
	t.Helper()
	var ln net.Listener
	if err := l.In(l.A, func() (err error) { ln, err = net.Listen("tcp", l.AddrA+":4040"); return }); err != nil {
		t.Fatal(err)
	}
	lst, err := ListenOn(ln, a)
	if err != nil {
		t.Fatal(err)
	}
	defer lst.Close()
	var nc net.Conn
	if err := l.In(l.B, func() (err error) { nc, err = net.DialTimeout("tcp", l.AddrA+":4040", 10*time.Second); return }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); sa, ea = lst.Serve(ctx) }()
	sb, eb = DialConn(ctx, nc, lst.Pairing().Code, b)
	wg.Wait()
	return
}

// TestNetns: two libraries in separate network namespaces, joined by a
// link with 15 ms of delay each way, 1% loss and 20 Mbit/s: after one
// session each holds the other's archives, the changed edition rebuilt,
// byte for byte the publisher's, with at most 1.1 times the missing
// archives' bytes (plus 2 KiB) on the wire.
func TestNetns(t *testing.T) {
	l := makeLink(t, netlab.Shape{Delay: 15 * time.Millisecond, Loss: 0.01, Rate: 20e6, Queue: 256 << 10})
	opts := corpus.Options{Pages: 300, Seed: 51, Pictures: true}
	s41, e41 := site(t, opts, "news", 41)
	_, e42 := edit(t, s41, opts, 20, []int{7}, 2, "news", 42)
	_, books := site(t, corpus.Options{Pages: 80, Seed: 52}, "books", 1)
	_, radio := site(t, corpus.Options{Pages: 40, Seed: 53, Pictures: true}, "radio", 1)
	a, b := newLib(t), newLib(t)
	addTo(t, a, e42, books)
	addTo(t, b, e41, radio)
	ob := testOpts(b)
	ob.Policy = PolicyBytes // rebuild whatever can be, so that rebuilding over a lossy link is tested
	sa, sb, ea, eb := syncOver(t, l, testOpts(a), ob)
	if ea != nil || eb != nil {
		t.Fatalf("sync over %s: %v / %v", l.Kind, ea, eb)
	}
	checkHeld(t, b, map[string][]byte{idHex(t, e42): e42, idHex(t, books): books})
	checkHeld(t, a, map[string][]byte{idHex(t, radio): radio})
	if sb.Rebuilt == 0 {
		t.Errorf("edition 42 was not rebuilt from 41 over the slow link: %+v", sb)
	}
	missing := int64(len(e42) + len(books) + len(radio))
	if wire := sb.WireRead + sb.WireWritten; wire > missing*11/10+2048 {
		t.Errorf("%d bytes on the wire for %d missing", wire, missing)
	}
	passed, dropped := l.Stats()
	t.Logf("over %s: a: %s; b: %s (local %d, rebuilt %d, fetched %d; emulator: %d packets passed, %d dropped)", l.Kind, sa, sb, sb.Local, sb.Rebuilt, sb.Fetched, passed, dropped)
}
