//go:build unix

package peer

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"ferry/internal/carry/peer/channel"
	"ferry/internal/library"
	"ferry/internal/testkit/corpus"
)

// killConn kills its own process once n bytes have crossed it: the
// device's battery dies, or the program is killed, at that byte. Nothing
// deferred runs and no state is saved on the way out.
type killConn struct {
	net.Conn
	cut *cutConn
}

func (c *killConn) Read(p []byte) (int, error) {
	n, err := c.cut.Read(p)
	if err == net.ErrClosed {
		die()
	}
	return n, err
}

func (c *killConn) Write(p []byte) (int, error) {
	n, err := c.cut.Write(p)
	if err == net.ErrClosed {
		die()
	}
	return n, err
}

func die() {
	p, _ := os.FindProcess(os.Getpid())
	p.Kill()
	select {} // until the signal lands
}

// TestKilled: the taking device's process is killed (not its connection
// cut) at a random byte of what is left, until nothing is (at most 12 times); each time the library it leaves
// opens, holds only verified archives, and the next session — in a new
// process, with the lock the dead one held released by the kernel —
// continues. In the end it holds the giver's archives, byte for byte.
func TestKilled(t *testing.T) {
	if os.Getenv("FERRY_PEER_KILLED_CHILD") != "" {
		killedChild()
		return
	}
	opts := corpus.Options{Pages: 500, Seed: 21, Pictures: true}
	s1, e1 := site(t, opts, "news", 1)
	_, e2 := edit(t, s1, opts, 20, nil, 3, "news", 2)
	a, b := newLib(t), newLib(t)
	addTo(t, a, e2)
	addTo(t, b, e1)
	want := map[string][]byte{idHex(t, e2): e2}
	for k, name := range []string{"books", "radio", "songs", "maps", "school"} {
		_, x := site(t, corpus.Options{Pages: 60 + 40*k, Seed: uint64(30 + k), Pictures: k%2 == 0}, name, 1)
		addTo(t, a, x)
		want[idHex(t, x)] = x
	}

	rng := rand.New(rand.NewPCG(23, 24))
	killed := 0
	for i := 0; i < 12; i++ {
		// What is left to do, from copies of both libraries; the real
		// session is killed at a random byte of it.
		ca, cb := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
		if err := os.CopyFS(ca, os.DirFS(a)); err != nil {
			t.Fatal(err)
		}
		if err := os.CopyFS(cb, os.DirFS(b)); err != nil {
			t.Fatal(err)
		}
		_, rest := mustSync(t, testOpts(ca), testOpts(cb))
		checkHeld(t, cb, want)
		if len(rest.Received) == 0 {
			break
		}
		total := rest.WireRead + rest.WireWritten
		cut := 1 + rng.Int64N(total)
		l, err := Listen("127.0.0.1:0", testOpts(a))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		served := make(chan error, 1)
		go func() { _, err := l.Serve(ctx); served <- err }()
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestKilled$")
		cmd.Env = append(os.Environ(), "FERRY_PEER_KILLED_CHILD=1", "FERRY_PEER_LIB="+b,
			"FERRY_PEER_ADDR="+l.Addr().String(), "FERRY_PEER_CODE="+string(l.Pairing().Code), "FERRY_PEER_CUT="+strconv.FormatInt(cut, 10))
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Logf("kill %d at byte %d of %d: the session finished first", i, cut, total)
		} else if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
			t.Fatalf("kill %d at byte %d: the child failed otherwise: %v\n%s", i, cut, err, out)
		} else {
			killed++
		}
		<-served
		l.Close()
		cancel()
		// What the dead process left: a library that loads, every archive
		// it holds itself; partial state that may lag but not lie.
		if _, err := library.Load(b, false); err != nil {
			t.Fatalf("kill %d at byte %d: the library does not load: %v", i, cut, err)
		}
		for id, x := range held(t, b) {
			if w, ok := want[id]; ok && !bytes.Equal(w, x) {
				t.Fatalf("kill %d: archive %s is not the publisher's", i, id[:12])
			}
		}
	}
	if killed < 3 {
		t.Errorf("only %d sessions were killed", killed)
	}
	_, last := mustSync(t, testOpts(a), testOpts(b))
	t.Logf("%d kills; the last session took %d bytes", killed, last.WireRead+last.WireWritten)
	checkHeld(t, b, want)
	parts, _ := os.ReadDir(filepath.Join(b, SyncDir, partsDir))
	if len(parts) != 0 {
		t.Errorf("partial files left after the last sync: %d", len(parts))
	}
}

// killedChild is the taking side of TestKilled, in its own process.
func killedChild() {
	cut, _ := strconv.ParseInt(os.Getenv("FERRY_PEER_CUT"), 10, 64)
	o := testOpts(os.Getenv("FERRY_PEER_LIB"))
	o.testWrap = func(c net.Conn) net.Conn { return &killConn{Conn: c, cut: &cutConn{Conn: c, left: cut}} }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := Dial(ctx, os.Getenv("FERRY_PEER_ADDR"), channel.Code(os.Getenv("FERRY_PEER_CODE")), o); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(3)
	}
}
