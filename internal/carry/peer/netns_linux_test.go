//go:build linux

package peer

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"golang.org/x/sys/unix"

	"ferry/internal/archive"
	"ferry/internal/carry/peer/channel"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/packtest"
)

// link is two network namespaces joined as two devices that meet would
// be: by a veth pair shaped with tc netem where the kernel has netem, or
// else by two TUN devices and a netem-like emulator in this process (the
// kernel this project's tests run on is built without sch_netem; the
// kernels on both ends still run real TCP over the lossy, slow link).
type link struct {
	a, b   string // namespace names
	ipA    string // address of a's end
	shaped string
	emu    *emulator
}

// makeLink makes the namespaces (names with a prefix of this process, so
// that parallel runs do not meet) and removes them, by name, when the test
// ends. It skips the test, saying why, where namespaces cannot be made.
func makeLink(t *testing.T, sh shape) *link {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root; the loopback tests cover the protocol")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) is not installed: network namespace test skipped")
	}
	id := fmt.Sprintf("fsync%d%02d", os.Getpid()%100000, rand.IntN(100))
	l := &link{a: id + "a", b: id + "b", ipA: "10.199.7.1"}
	run := func(args ...string) error {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	if err := run("ip", "netns", "add", l.a); err != nil {
		t.Skipf("cannot make a network namespace here (%v): skipped", err)
	}
	t.Cleanup(func() { run("ip", "netns", "delete", l.a) })
	if err := run("ip", "netns", "add", l.b); err != nil {
		t.Skipf("cannot make a second network namespace (%v): skipped", err)
	}
	t.Cleanup(func() { run("ip", "netns", "delete", l.b) })
	for _, ns := range []string{l.a, l.b} {
		if err := run("ip", "-n", ns, "link", "set", "lo", "up"); err != nil {
			t.Skipf("cannot set up a namespace (%v): skipped", err)
		}
	}
	va, vb := id+"x", id+"y"
	vethErr := func() error {
		steps := [][]string{
			{"ip", "link", "add", va, "netns", l.a, "type", "veth", "peer", "name", vb, "netns", l.b},
			{"ip", "-n", l.a, "addr", "add", l.ipA + "/24", "dev", va},
			{"ip", "-n", l.b, "addr", "add", "10.199.7.2/24", "dev", vb},
			{"ip", "-n", l.a, "link", "set", va, "up"},
			{"ip", "-n", l.b, "link", "set", vb, "up"},
		}
		f := strings.Fields(sh.netem())
		steps = append(steps,
			append([]string{"tc", "-n", l.a, "qdisc", "add", "dev", va, "root", "netem"}, f...),
			append([]string{"tc", "-n", l.b, "qdisc", "add", "dev", vb, "root", "netem"}, f...))
		for _, s := range steps {
			if err := run(s...); err != nil {
				return err
			}
		}
		return nil
	}()
	if vethErr == nil {
		l.shaped = "veth + tc netem " + sh.netem()
		return l
	}
	// No netem here: the TUN emulator instead.
	run("ip", "-n", l.a, "link", "delete", va)
	var ta, tb *os.File
	if err := in(l.a, func() (err error) { ta, err = openTun(va); return }); err != nil {
		t.Skipf("no tc netem (%v) and no TUN device (%v): skipped", vethErr, err)
	}
	if err := in(l.b, func() (err error) { tb, err = openTun(vb); return }); err != nil {
		ta.Close()
		t.Skipf("no tc netem (%v) and no TUN device (%v): skipped", vethErr, err)
	}
	for _, s := range [][]string{
		{"ip", "-n", l.a, "addr", "add", l.ipA + "/32", "peer", "10.199.7.2", "dev", va},
		{"ip", "-n", l.b, "addr", "add", "10.199.7.2/32", "peer", l.ipA, "dev", vb},
		{"ip", "-n", l.a, "link", "set", va, "up"},
		{"ip", "-n", l.b, "link", "set", vb, "up"},
	} {
		if err := run(s...); err != nil {
			ta.Close()
			tb.Close()
			t.Skipf("cannot set up the TUN link (%v): skipped", err)
		}
	}
	l.emu = startEmulator(ta, tb, sh)
	t.Cleanup(l.emu.stop)
	l.shaped = "TUN emulator (the kernel has no sch_netem) " + sh.netem()
	return l
}

// in runs fn on a thread moved into namespace ns: sockets fn makes belong
// to it, wherever they are used later. The thread is never given back (it
// ends with its goroutine), so no other code runs in the namespace.
func in(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// syncOver runs one session between libraries a (listening in namespace
// l.a) and b (dialling from l.b).
func syncOver(t *testing.T, l *link, a, b Options) (sa, sb *Summary, ea, eb error) {
	t.Helper()
	var ln net.Listener
	if err := in(l.a, func() (err error) { ln, err = net.Listen("tcp", l.ipA+":4040"); return }); err != nil {
		t.Fatal(err)
	}
	lst, err := listenOn(ln, a)
	if err != nil {
		t.Fatal(err)
	}
	defer lst.Close()
	var nc net.Conn
	if err := in(l.b, func() (err error) { nc, err = net.DialTimeout("tcp", l.ipA+":4040", 10*time.Second); return }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); sa, ea = lst.Serve(ctx) }()
	id, _ := channel.NewIdentity()
	sb, eb = dialOn(ctx, nc, nc.RemoteAddr().String(), lst.Pairing().Code, channel.PeerKey{}, id, b.withDefaults())
	wg.Wait()
	return
}

// TestNetns: two libraries in separate network namespaces, joined by a
// link with 15 ms of delay each way, 1% loss and 20 Mbit/s: after one
// session each holds the other's archives, the changed edition rebuilt,
// byte for byte the publisher's.
func TestNetns(t *testing.T) {
	l := makeLink(t, shape{delay: 15 * time.Millisecond, loss: 0.01, rate: 20e6, queue: 256 << 10})
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
		t.Fatalf("sync over %s: %v / %v", l.shaped, ea, eb)
	}
	checkHeld(t, b, map[string][]byte{idHex(t, e42): e42, idHex(t, books): books})
	checkHeld(t, a, map[string][]byte{idHex(t, radio): radio})
	if sb.Rebuilt == 0 {
		t.Errorf("edition 42 was not rebuilt from 41 over the slow link: %+v", sb)
	}
	t.Logf("over %s: a: %s; b: %s (local %d, rebuilt %d, fetched %d)", l.shaped, sa, sb, sb.Local, sb.Rebuilt, sb.Fetched)
	if l.emu != nil {
		t.Logf("emulator: %d packets passed, %d dropped", l.emu.passed, l.emu.dropped)
	}
}

// TestNetnsThroughput measures a whole archive over 20 Mbit/s with 30 ms
// of round trip: the goal is 80% of the link. It times the transfer, so it
// runs only when FERRY_SYNC_THROUGHPUT is set (bench/sync prints the same
// figure).
func TestNetnsThroughput(t *testing.T) {
	if os.Getenv("FERRY_SYNC_THROUGHPUT") == "" {
		t.Skip("set FERRY_SYNC_THROUGHPUT=1 to measure throughput over a shaped link")
	}
	l := makeLink(t, shape{delay: 15 * time.Millisecond, rate: 20e6, queue: 1 << 20})
	media := mediaArchive(t, 24<<20)
	base := plainTCP(t, l, len(media))
	a, b := newLib(t), newLib(t)
	addTo(t, a, media)
	_, sb, ea, eb := syncOver(t, l, testOpts(a), testOpts(b))
	if ea != nil || eb != nil {
		t.Fatal(ea, eb)
	}
	goodput := float64(len(media)) * 8 / sb.Transfer.Seconds()
	t.Logf("over %s: plain TCP %.2f Mbit/s; sync moved the %d-byte archive in %v (%v with adding it to the library): %.2f Mbit/s, %.1f%% of 20 Mbit/s, %.1f%% of plain TCP (wire %d bytes)",
		l.shaped, base/1e6, len(media), sb.Transfer, sb.Duration, goodput/1e6, goodput/20e6*100, goodput/base*100, sb.WireRead+sb.WireWritten)
	if goodput < 0.8*20e6 {
		t.Errorf("throughput %.1f%% of the link, goal 80%%", goodput/20e6*100)
	}
}

// plainTCP measures the link with a bare TCP transfer of n bytes.
func plainTCP(t *testing.T, l *link, n int) float64 {
	var ln net.Listener
	if err := in(l.a, func() (err error) { ln, err = net.Listen("tcp", l.ipA+":4041"); return }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 64<<10)
		for sent := 0; sent < n; sent += len(buf) {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	var c net.Conn
	if err := in(l.b, func() (err error) { c, err = net.Dial("tcp", l.ipA+":4041"); return }); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	got, _ := io.Copy(io.Discard, io.LimitReader(c, int64(n)))
	return float64(got) * 8 / time.Since(start).Seconds()
}

// mediaArchive packs made-up media files (random bytes, which do not
// compress, as video does not) of about size bytes.
func mediaArchive(t testing.TB, size int) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(61, 62))
	fs := fstest.MapFS{}
	for i := 0; i*(1<<20) < size; i++ {
		b := make([]byte, 1<<20)
		for j := 0; j < len(b); j += 8 {
			v := rng.Uint64()
			for k := 0; k < 8; k++ {
				b[j+k] = byte(v >> (8 * k))
			}
		}
		fs[fmt.Sprintf("media/clip%03d.mp4", i)] = &fstest.MapFile{Data: b}
	}
	fs["index.html"] = &fstest.MapFile{Data: []byte("<html><head><title>Clips</title></head><body><p>Clips.</p></body></html>")}
	return packtest.FS(t, fs, archive.Info{Channel: "clips", Edition: 1, Created: time.Unix(1700000000, 0)})
}
