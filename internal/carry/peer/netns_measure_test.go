//go:build measure

package peer

import (
	"ferry/internal/archive"
	"ferry/internal/carry/peer/netlab"
	"ferry/internal/testkit/packtest"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"testing/fstest"
	"time"
)

// TestNetnsThroughput measures a whole archive over 20 Mbit/s with 30 ms
// of round trip (FERRY_SYNC_DELAY sets the one-way delay instead, e.g.
// 30ms): the goal is 80% of the link. It times the transfer, so it runs
// only when FERRY_SYNC_THROUGHPUT is set.
func TestNetnsThroughput(t *testing.T) {
	if os.Getenv("FERRY_SYNC_THROUGHPUT") == "" {
		t.Skip("set FERRY_SYNC_THROUGHPUT=1 to measure throughput over a shaped link")
	}
	delay := 15 * time.Millisecond
	if v := os.Getenv("FERRY_SYNC_DELAY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("FERRY_SYNC_DELAY: %v", err)
		}
		delay = d
	}
	l := makeLink(t, netlab.Shape{Delay: delay, Rate: 20e6, Queue: 1 << 20})
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
		l.Kind, base/1e6, len(media), sb.Transfer, sb.Duration, goodput/1e6, goodput/20e6*100, goodput/base*100, sb.WireRead+sb.WireWritten)
	if goodput < 0.8*20e6 {
		t.Errorf("throughput %.1f%% of the link, goal 80%%", goodput/20e6*100)
	}
}

// plainTCP measures the link with a bare TCP transfer of n bytes.
func plainTCP(t *testing.T, l *netlab.Link, n int) float64 {
	var ln net.Listener
	if err := l.In(l.A, func() (err error) { ln, err = net.Listen("tcp", l.AddrA+":4041"); return }); err != nil {
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
	if err := l.In(l.B, func() (err error) { c, err = net.Dial("tcp", l.AddrA+":4041"); return }); err != nil {
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
