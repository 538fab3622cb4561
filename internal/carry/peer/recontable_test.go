//go:build measure

package peer

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"ferry/internal/carry/peer/channel"
	"ferry/internal/carry/peer/riblt"
	"ferry/internal/testkit/cpuclock"
)

// TestReconTable measures reconciliation as a session runs it — the
// messages of §5.6 in frames over an encrypted channel on loopback — for
// sets of 10^3..10^6 items differing in 1..10^4, and prints the Markdown
// table of docs/benchmarks.md ("Device-to-device sync"). It takes minutes, so it runs only
// with FERRY_SYNC_BENCH=1 (FERRY_SYNC_BENCH_MAX=1e5 stops earlier).
func TestReconTable(t *testing.T) {
	if os.Getenv("FERRY_SYNC_BENCH") == "" {
		t.Skip("set FERRY_SYNC_BENCH=1 to measure reconciliation over a session")
	}
	maxN := 1_000_000
	if v := os.Getenv("FERRY_SYNC_BENCH_MAX"); v != "" {
		var f float64
		fmt.Sscan(v, &f)
		maxN = int(f)
	}
	var b strings.Builder
	b.WriteString("| n | d | wire bytes (both ways) | of which reconciliation payload | frames | round trips | symbols sent / d | full id list, framed | wire ÷ full list | CPU ms (both sides) |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for n := 1000; n <= maxN; n *= 10 {
		for d := 1; d <= 10000 && d <= n; d *= 10 {
			runs := 3
			if n >= 100000 {
				runs = 1
			}
			var sum reconRun
			for r := 0; r < runs; r++ {
				x := reconOnce(t, n, d, uint64(n*31+d*7+r))
				sum.wire += x.wire
				sum.payload += x.payload
				sum.frames += x.frames
				sum.rounds += x.rounds
				sum.symbols += x.symbols
				sum.cpu += x.cpu
			}
			k := int64(runs)
			full := int64(n*32) + int64(n*32/(channel.MaxMessage-1)+1)*(2+channel.Overhead+1)
			fmt.Fprintf(&b, "| %d | %d | %d | %d | %d | %.2f | %.2f | %d | %.4f | %.0f |\n", n, d, sum.wire/k, sum.payload/k, sum.frames/k,
				float64(sum.rounds)/float64(k), float64(sum.symbols)/float64(k)/float64(d), full, float64(sum.wire/k)/float64(full),
				float64(sum.cpu.Milliseconds())/float64(k))
		}
	}
	fmt.Print(b.String())
}

type reconRun struct {
	wire, payload, frames int64
	rounds, symbols       int
	cpu                   time.Duration
}

// reconOnce reconciles two sets of n 32-byte items differing in d (half on
// each side) over a paired channel and counts what crossed it after the
// handshake.
func reconOnce(t *testing.T, n, d int, seed uint64) reconRun {
	rng := rand.New(rand.NewPCG(seed, 9))
	item := func() []byte {
		b := make([]byte, 32)
		for i := 0; i < 32; i += 8 {
			binary.LittleEndian.PutUint64(b[i:], rng.Uint64())
		}
		return b
	}
	var encItems, decItems [][]byte
	for i := 0; i < n-(d+1)/2; i++ {
		it := item()
		encItems, decItems = append(encItems, it), append(decItems, it)
	}
	for range d / 2 {
		encItems = append(encItems, item())
	}
	for range (d + 1) / 2 {
		decItems = append(decItems, item())
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	code, _ := channel.NewCode(8)
	id1, _ := channel.NewIdentity()
	id2, _ := channel.NewIdentity()
	srv, _ := channel.NewServer(channel.ServerConfig{Config: channel.Config{Identity: id1}, Code: code})
	type side struct {
		c  *channel.Conn
		cc *countingConn
	}
	got := make(chan side, 1)
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			got <- side{}
			return
		}
		cc := &countingConn{Conn: nc}
		c, _ := srv.Handshake(context.Background(), cc)
		got <- side{c, cc}
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	cc := &countingConn{Conn: nc}
	dc, err := channel.Pair(context.Background(), cc, code, channel.Config{Identity: id2})
	if err != nil {
		t.Fatal(err)
	}
	ls := <-got
	if ls.c == nil {
		t.Fatal("handshake failed")
	}
	defer dc.Close()
	defer ls.c.Close()
	var key riblt.Key
	copy(key[:], dc.Binding("riblt", 16))
	runtime.GC()
	startWire := cc.read.Load() + cc.written.Load()
	startCPU := cpuclock.Process()
	res := reconRun{}
	errc := make(chan error, 1)
	go func() { // the coding side
		rs, err := newReconSender(key, 32, ls.c.MaxMessage(), encItems)
		if err != nil {
			errc <- err
			return
		}
		ms, err := rs.start()
		if err != nil {
			errc <- err
			return
		}
		for _, m := range ms {
			ls.c.WriteMessage(m)
		}
		for {
			m, err := ls.c.ReadMessage()
			if err != nil {
				errc <- err
				return
			}
			if m[0] != msgReconWant {
				res.symbols = rs.sent
				errc <- rs.finish(m[0], m[1:])
				return
			}
			ms, err := rs.want(m[1:])
			if err != nil {
				errc <- err
				return
			}
			for _, x := range ms {
				ls.c.WriteMessage(x)
			}
		}
	}()
	rr, err := newReconReceiver(key, 32, decItems, riblt.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for first := true; ; first = false {
		m, err := dc.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		res.payload += int64(len(m))
		res.frames++
		var replies [][]byte
		var done bool
		if first {
			replies, done, err = rr.onStart(m[1:])
		} else {
			replies, done, err = rr.onSymbols(m[1:])
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, reply := range replies {
			res.payload += int64(len(reply))
			res.frames++
			dc.WriteMessage(reply)
		}
		if done {
			break
		}
	}
	for rr.absorbing() {
		m, err := dc.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		res.payload += int64(len(m))
		res.frames++
		if _, _, err := rr.onSymbols(m[1:]); err != nil {
			t.Fatal(err)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	res.cpu = cpuclock.Process() - startCPU
	res.rounds = rr.rounds
	res.wire = cc.read.Load() + cc.written.Load() - startWire
	if len(rr.dec.Remote())+len(rr.dec.Local()) != d {
		t.Fatalf("n=%d d=%d: recovered %d", n, d, len(rr.dec.Remote())+len(rr.dec.Local()))
	}
	return res
}
