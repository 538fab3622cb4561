//go:build linux

package peer

import (
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// shape is a link's character, as tc netem takes it: one-way delay, random
// loss and a rate, with a queue that drops what overflows it.
type shape struct {
	delay time.Duration
	loss  float64 // 0..1
	rate  float64 // bits per second; 0: unlimited
	queue int     // bytes a direction may hold waiting to be sent
}

func (s shape) netem() string {
	out := fmt.Sprintf("delay %dms", s.delay.Milliseconds())
	if s.loss > 0 {
		out += fmt.Sprintf(" loss %g%%", s.loss*100)
	}
	if s.rate > 0 {
		out += fmt.Sprintf(" rate %dkbit", int(s.rate/1000))
	}
	return out + fmt.Sprintf(" limit %d", max(1000, s.queue/1500))
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
	sh   shape
	wg   sync.WaitGroup
	mu   sync.Mutex
	rng  *rand.Rand

	dropped, passed int
}

func startEmulator(a, b *os.File, sh shape) *emulator {
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
	var queued int64 // bytes sent to out and not yet on the wire (serialisation)
	var qmu sync.Mutex
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
		drop := e.sh.loss > 0 && e.rng.Float64() < e.sh.loss
		e.mu.Unlock()
		start := now
		if wireFree.After(start) {
			start = wireFree
		}
		qmu.Lock()
		// Bytes still waiting to be serialised, at the rate.
		if e.sh.rate > 0 {
			queued = int64(start.Sub(now).Seconds() * e.sh.rate / 8)
		}
		full := e.sh.queue > 0 && queued+int64(n) > int64(e.sh.queue)
		qmu.Unlock()
		e.mu.Lock()
		if drop || full {
			e.dropped++
			e.mu.Unlock()
			continue
		}
		e.passed++
		e.mu.Unlock()
		tx := time.Duration(0)
		if e.sh.rate > 0 {
			tx = time.Duration(float64(n*8) / e.sh.rate * float64(time.Second))
		}
		wireFree = start.Add(tx)
		p := make([]byte, n)
		copy(p, buf[:n])
		select {
		case out <- timed{p, wireFree.Add(e.sh.delay)}:
		default: // more in flight than the channel holds: dropped too
		}
	}
}

func (e *emulator) stop() {
	e.a.Close()
	e.b.Close()
	e.wg.Wait()
}
