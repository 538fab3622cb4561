//go:build linux

package netlab

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Link is two network namespaces, A and B, joined: AddrA is A's address
// as B reaches it, AddrB the reverse. Kind says how the link is made.
type Link struct {
	A, B         string
	AddrA, AddrB string
	Kind         string
	emu          *emulator
	made         []string
}

// New makes the namespaces (named after this process, so parallel runs do
// not meet) and the link. Close removes them, by name.
func New(sh Shape) (*Link, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: they need root", ErrUnavailable)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return nil, fmt.Errorf("%w: ip (iproute2) is not installed", ErrUnavailable)
	}
	id := fmt.Sprintf("fsync%d%02d", os.Getpid()%100000, rand.IntN(100))
	l := &Link{A: id + "a", B: id + "b", AddrA: "10.199.7.1", AddrB: "10.199.7.2"}
	fail := func(err error) (*Link, error) {
		l.Close()
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	for _, ns := range []string{l.A, l.B} {
		if err := run("ip", "netns", "add", ns); err != nil {
			return fail(err)
		}
		l.made = append(l.made, ns)
		if err := run("ip", "-n", ns, "link", "set", "lo", "up"); err != nil {
			return fail(err)
		}
	}
	va, vb := id+"x", id+"y"
	f := strings.Fields(sh.Netem())
	vethErr := runAll([][]string{
		{"ip", "link", "add", va, "netns", l.A, "type", "veth", "peer", "name", vb, "netns", l.B},
		{"ip", "-n", l.A, "addr", "add", l.AddrA + "/24", "dev", va},
		{"ip", "-n", l.B, "addr", "add", l.AddrB + "/24", "dev", vb},
		{"ip", "-n", l.A, "link", "set", va, "up"},
		{"ip", "-n", l.B, "link", "set", vb, "up"},
		append([]string{"tc", "-n", l.A, "qdisc", "add", "dev", va, "root", "netem"}, f...),
		append([]string{"tc", "-n", l.B, "qdisc", "add", "dev", vb, "root", "netem"}, f...),
	})
	if vethErr == nil {
		l.Kind = "veth pair, tc netem " + sh.Netem()
		return l, nil
	}
	run("ip", "-n", l.A, "link", "delete", va)
	var ta, tb *os.File
	if err := l.In(l.A, func() (err error) { ta, err = openTun(va); return }); err != nil {
		return fail(fmt.Errorf("no tc netem (%v) and no TUN device (%v)", vethErr, err))
	}
	if err := l.In(l.B, func() (err error) { tb, err = openTun(vb); return }); err != nil {
		ta.Close()
		return fail(fmt.Errorf("no tc netem (%v) and no TUN device (%v)", vethErr, err))
	}
	if err := runAll([][]string{
		{"ip", "-n", l.A, "addr", "add", l.AddrA + "/32", "peer", l.AddrB, "dev", va},
		{"ip", "-n", l.B, "addr", "add", l.AddrB + "/32", "peer", l.AddrA, "dev", vb},
		{"ip", "-n", l.A, "link", "set", va, "up"},
		{"ip", "-n", l.B, "link", "set", vb, "up"},
	}); err != nil {
		ta.Close()
		tb.Close()
		return fail(err)
	}
	l.emu = startEmulator(ta, tb, sh)
	l.Kind = "TUN pair and an emulator in this process (the kernel has no sch_netem), " + sh.Netem()
	return l, nil
}

func run(args ...string) error {
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func runAll(steps [][]string) error {
	for _, s := range steps {
		if err := run(s...); err != nil {
			return err
		}
	}
	return nil
}

// Close stops the emulator and deletes the namespaces it made.
func (l *Link) Close() error {
	if l.emu != nil {
		l.emu.stop()
		l.emu = nil
	}
	var first error
	for _, ns := range l.made {
		if err := run("ip", "netns", "delete", ns); err != nil && first == nil {
			first = err
		}
	}
	l.made = nil
	return first
}

// In runs fn on a thread moved into namespace ns: sockets fn makes belong
// to it, wherever they are used later. The thread is never given back (it
// ends with its goroutine), so no other code runs in the namespace.
func (l *Link) In(ns string, fn func() error) error {
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

// Command is a command run in namespace ns ("ip netns exec").
func (l *Link) Command(ns, name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// Stats is what the emulator passed and dropped (0, 0 for netem).
func (l *Link) Stats() (passed, dropped int) {
	if l.emu == nil {
		return 0, 0
	}
	l.emu.mu.Lock()
	defer l.emu.mu.Unlock()
	return l.emu.passed, l.emu.dropped
}

// openTun makes a TUN device (raw IP packets, no header) in the calling
// thread's network namespace.
func openTun(name string) (*os.File, error) {
	fd, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	ifr.SetUint16(unix.IFF_TUN | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(fd, unix.TUNSETIFF, ifr); err != nil {
		unix.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "/dev/net/tun:"+name), nil
}

// emulator carries IP packets between two TUN devices the way netem would
// between two ends of a cable: each direction serialises packets at the
// rate, queues at most queue bytes (dropping the rest, as a full router
// queue does), drops at random with the loss probability, and delivers
// each packet the delay after it was sent. The kernels' TCP on both ends
// see a real lossy, slow, distant link.
type emulator struct {
	a, b *os.File
	sh   Shape
	wg   sync.WaitGroup
	mu   sync.Mutex
	rng  *rand.Rand

	dropped, passed int
}

func startEmulator(a, b *os.File, sh Shape) *emulator {
	e := &emulator{a: a, b: b, sh: sh, rng: rand.New(rand.NewPCG(71, 72))}
	e.wg.Add(2)
	go e.forward(a, b)
	go e.forward(b, a)
	return e
}

type timed struct {
	pkt []byte
	at  time.Time
}

func (e *emulator) forward(from, to *os.File) {
	defer e.wg.Done()
	out := make(chan timed, 1<<14)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range out {
			if d := time.Until(p.at); d > 0 {
				time.Sleep(d)
			}
			to.Write(p.pkt)
		}
	}()
	var wireFree time.Time // when the sender's "wire" is next free
	buf := make([]byte, 65536)
	for {
		n, err := from.Read(buf)
		if err != nil {
			close(out)
			<-done
			return
		}
		now := time.Now()
		e.mu.Lock()
		drop := e.sh.Loss > 0 && e.rng.Float64() < e.sh.Loss
		e.mu.Unlock()
		start := now
		if wireFree.After(start) {
			start = wireFree
		}
		// Bytes still waiting to be serialised, at the rate.
		var queued int64
		if e.sh.Rate > 0 {
			queued = int64(start.Sub(now).Seconds() * e.sh.Rate / 8)
		}
		full := e.sh.Queue > 0 && queued+int64(n) > int64(e.sh.Queue)
		e.mu.Lock()
		if drop || full {
			e.dropped++
			e.mu.Unlock()
			continue
		}
		e.passed++
		e.mu.Unlock()
		tx := time.Duration(0)
		if e.sh.Rate > 0 {
			tx = time.Duration(float64(n*8) / e.sh.Rate * float64(time.Second))
		}
		wireFree = start.Add(tx)
		p := make([]byte, n)
		copy(p, buf[:n])
		select {
		case out <- timed{p, wireFree.Add(e.sh.Delay)}:
		default: // more in flight than the channel holds: dropped too
		}
	}
}

func (e *emulator) stop() {
	e.a.Close()
	e.b.Close()
	e.wg.Wait()
}
