package broadcast

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ferry/internal/archive"
	"ferry/internal/library"
	"ferry/internal/testkit/killtest"
	"ferry/internal/testkit/packtest"
)

// TestMain runs the test binary as TestKillReceive's child when
// FERRY_TEST_RECEIVE_LIBRARY is set (a receiver to be killed midway), and
// the tests otherwise.
func TestMain(m *testing.M) {
	killtest.Main(m, "FERRY_TEST_RECEIVE_LIBRARY", func(lib string) error {
		return helperReceive(lib, os.Getenv("FERRY_TEST_RECEIVE_STREAM"))
	})
}

// helperReceive receives the stream file into the library lib, slowly
// enough that a kill lands in the middle.
func helperReceive(lib, stream string) error {
	f, err := os.Open(stream)
	if err != nil {
		return err
	}
	defer f.Close()
	want, deliver := IntoLibrary(context.Background(), lib, nil, func(string) {})
	r, err := NewReceiver(ReceiveOptions{State: filepath.Join(lib, ".broadcast"), Want: want, Deliver: deliver})
	if err != nil {
		return err
	}
	n := 0
	if _, err := ReadStream(f, func(p []byte) error {
		if n++; n%16 == 0 {
			time.Sleep(time.Millisecond)
		}
		return r.Handle(p)
	}); err != nil {
		return err
	}
	if err := r.Flush(); err != nil {
		return err
	}
	return r.Close()
}

// TestKillReceive kills a receiving process with SIGKILL at random
// moments: after each kill the library loads and every archive it lists
// verifies, the receiver's state folder opens again, and a last run ends
// with every archive in the library.
func TestKillReceive(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	data := testArchives(t)
	pkts := packets(t, data, SendOptions{Repair: 0.6}, 256)
	rand.New(rand.NewPCG(9, 10)).Shuffle(len(pkts), func(i, j int) { pkts[i], pkts[j] = pkts[j], pkts[i] })
	var stream bytes.Buffer
	for _, p := range pkts {
		if err := WriteStreamPacket(&stream, p); err != nil {
			t.Fatal(err)
		}
	}
	streamFile := filepath.Join(t.TempDir(), "stream.pkt")
	if err := os.WriteFile(streamFile, stream.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	lib := t.TempDir()
	trustKeys(t, lib, packtest.Key(t).Public())
	rng := rand.New(rand.NewPCG(11, 12))
	run := func(kill time.Duration) error {
		return killtest.Run(t, []string{"FERRY_TEST_RECEIVE_LIBRARY=" + lib, "FERRY_TEST_RECEIVE_STREAM=" + streamFile}, kill)
	}
	killed := 0
	for i := 0; i < 6; i++ {
		if err := run(time.Duration(20+rng.IntN(200)) * time.Millisecond); err != nil {
			killed++
		}
		l, err := library.Load(lib, false)
		if err != nil {
			t.Fatalf("library after a kill: %v", err)
		}
		for _, rec := range l.State.Archives {
			a, err := archive.OpenFile(l.Path(rec))
			if err == nil {
				err = a.Verify(context.Background(), nil)
				a.Close()
			}
			if err != nil {
				t.Fatalf("archive %s listed after a kill does not verify: %v", rec.ID[:12], err)
			}
		}
		r := newReceiver(t, lib, "")
		r.Close()
	}
	if killed == 0 {
		t.Fatal("no receiver was killed midway: the test checked nothing")
	}
	if err := run(0); err != nil {
		t.Fatalf("final run: %v", err)
	}
	checkLibrary(t, lib, data)
	t.Logf("%d of 6 receivers killed, %d packets", killed, len(pkts))
}
