package peer

import (
	"bytes"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"ferry/internal/library"
	"ferry/internal/testkit/corpus"
)

// cutConn closes the connection once n bytes have crossed it, in either
// direction: a cable pulled at that byte.
type cutConn struct {
	net.Conn
	mu   sync.Mutex
	left int64
}

func (c *cutConn) take(n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if int64(n) >= c.left {
		n = int(max(0, c.left))
		c.left = 0
		return n
	}
	c.left -= int64(n)
	return n
}

func (c *cutConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if k := c.take(n); k < n {
		c.Conn.Close()
		return k, net.ErrClosed
	}
	return n, err
}

func (c *cutConn) Write(p []byte) (int, error) {
	k := c.take(len(p))
	n, err := c.Conn.Write(p[:k])
	if k < len(p) {
		c.Conn.Close()
		return n, net.ErrClosed
	}
	return n, err
}

// progressOf measures what a library has of the given archives so that
// it can only grow while nothing is lost: an archive held counts as many
// pieces as any archive can have, a piece in place as the largest a piece
// can be (the archive's size), a piece in part as its bytes in place.
func progressOf(t *testing.T, dir string, want map[string][]byte) int64 {
	t.Helper()
	l, err := library.Load(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for id, b := range want {
		size := int64(len(b))
		if _, ok := l.Record(id); ok {
			n += size * size
			continue
		}
		st, err := loadState(filepath.Join(dir, SyncDir, partsDir, id+".json"))
		if err != nil {
			continue
		}
		for _, s := range st.Sections {
			if s.Done {
				n += size
			}
			n += s.Offset
		}
		for _, c := range st.Clusters {
			for ; c != 0; c &= c - 1 {
				n += size
			}
		}
		for _, p := range st.Partial {
			n += p.Offset
		}
	}
	return n
}

// TestResume: the connection is cut at 20 random points, in the handshake,
// in reconciliation, in the middle of pieces, in both directions; each
// cut loses nothing already verified, and the next session continues. In
// the end both libraries hold the union, byte for byte the publisher's.
func TestResume(t *testing.T) {
	opts := corpus.Options{Pages: 900, Seed: 11, Pictures: true}
	s41, e41 := site(t, opts, "news", 41)
	_, e42 := edit(t, s41, opts, 20, nil, 3, "news", 42)
	_, books := site(t, corpus.Options{Pages: 400, Seed: 12}, "books", 1)
	_, radio := site(t, corpus.Options{Pages: 60, Seed: 13, Pictures: true}, "radio", 1)
	a, b := newLib(t), newLib(t)
	addTo(t, a, e42, books)
	addTo(t, b, e41, radio)
	toB := map[string][]byte{idHex(t, e42): e42, idHex(t, books): books}
	toA := map[string][]byte{idHex(t, radio): radio}
	rng := rand.New(rand.NewPCG(17, 18))
	lastA, lastB := int64(0), int64(0)
	for i := 0; i < 20; i++ {
		// What is left to do, from copies of both libraries: that session
		// must finish, from whatever state the cuts left, with the
		// publisher's bytes; then the real one is cut at a random byte of it.
		ca, cb := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
		if err := os.CopyFS(ca, os.DirFS(a)); err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(cb, os.DirFS(b)); err != nil {
			t.Fatal(err)
		}
		ocb := testOpts(cb)
		ocb.Policy = PolicyBytes
		_, rest := mustSync(t, testOpts(ca), ocb)
		checkHeld(t, ca, toA)
		checkHeld(t, cb, toB)
		left := rest.WireRead + rest.WireWritten
		cut := 1 + rng.Int64N(left)
		ob := testOpts(b)
		ob.Policy = PolicyBytes
		ob.testWrap = func(c net.Conn) net.Conn { return &cutConn{Conn: c, left: cut} }
		_, sb, ea, eb := pairSync(t, testOpts(a), ob)
		if ea == nil && eb == nil {
			t.Errorf("cut %d at byte %d of %d: the session finished first (%s)", i, cut, left, sb)
		}
		pa, pb := progressOf(t, a, toA), progressOf(t, b, toB)
		if pa < lastA || pb < lastB {
			t.Fatalf("cut %d at byte %d lost progress: a %d -> %d, b %d -> %d (%v / %v)", i, cut, lastA, pa, lastB, pb, ea, eb)
		}
		lastA, lastB = pa, pb
		held(t, a) // every archive held still opens as itself
		held(t, b)
	}
	ob := testOpts(b)
	ob.Policy = PolicyBytes
	_, last := mustSync(t, testOpts(a), ob)
	t.Logf("after 20 cuts the last session took %d bytes", last.WireRead+last.WireWritten)
	checkHeld(t, a, toA)
	checkHeld(t, b, toB)
	for _, dir := range []string{a, b} {
		parts, _ := os.ReadDir(filepath.Join(dir, SyncDir, partsDir))
		if len(parts) != 0 {
			t.Errorf("%s: partial files left after the last sync: %d", dir, len(parts))
		}
	}
}

// checkHeld fails unless the library holds each archive, byte for byte.
func checkHeld(t *testing.T, dir string, want map[string][]byte) {
	t.Helper()
	h := held(t, dir)
	for id, b := range want {
		if !bytes.Equal(h[id], b) {
			t.Errorf("%s: archive %s is not the publisher's", dir, id[:12])
		}
	}
}
