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
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/packtest"
)

// randomArchive packs a folder of incompressible files (size bytes in all)
// into a real signed archive.
func randomArchive(b *testing.B, size int) []byte {
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(7, 8))
	const file = 500 << 10
	for i := 0; i*file < size; i++ {
		buf := make([]byte, min(file, size-i*file))
		for j := 0; j+8 <= len(buf); j += 8 {
			v := rng.Uint64()
			for k := 0; k < 8; k++ {
				buf[j+k] = byte(v >> (8 * k))
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "r"+string(rune('a'+i/26))+string(rune('a'+i%26))+".bin"), buf, 0o600); err != nil {
			b.Fatal(err)
		}
	}
	// One article, so that no section is empty.
	page := "<html><head><title>Random</title></head><body><p>Incompressible test files for the broadcast benchmark.</p></body></html>"
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte(page), 0o600); err != nil {
		b.Fatal(err)
	}
	src, err := folder.New(dir)
	if err != nil {
		b.Fatal(err)
	}
	data, _ := packtest.Sources(b, archive.Info{Channel: "random", Edition: 1}, pack.Source{Source: src})
	return data
}

// BenchmarkEndToEnd50MB streams a ~50 MB archive (incompressible files
// packed into a real archive) with T = 1024 and 60% repair, drops 30% of the
// packets at random, shuffles the rest and feeds them to a receiver until
// the archive is written. It reports encode and receive MB/s (of archive
// bytes) and symbols (and packets) consumed ÷ K.
func BenchmarkEndToEnd50MB(b *testing.B) {
	data := randomArchive(b, 50<<20)
	if ar, err := archive.Open(bytes.NewReader(data), int64(len(data))); err != nil {
		b.Fatal(err)
	} else if err := ar.Verify(context.Background(), nil); err != nil {
		b.Fatalf("the packed archive itself does not verify: %v", err)
	}
	for i := 0; i < b.N; i++ {
		start := time.Now()
		src, err := NewSource(data, 1024)
		if err != nil {
			b.Fatal(err)
		}
		var pkts [][]byte
		if err := Send([]*Source{src}, SendOptions{Repair: 0.6}, func(p []byte) error {
			pkts = append(pkts, bytes.Clone(p))
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		encode := time.Since(start)
		rng := rand.New(rand.NewPCG(uint64(i), 9))
		kept := pkts[:0]
		for _, p := range pkts {
			if rng.Float64() >= 0.3 {
				kept = append(kept, p)
			}
		}
		rng.Shuffle(len(kept), func(i, j int) { kept[i], kept[j] = kept[j], kept[i] })
		lib := b.TempDir()
		start = time.Now()
		r := bareReceiver(b, ReceiveOptions{State: lib}, nil)
		for i := 0; i < len(kept) && !r.AllDone(); i += 256 {
			if err := r.HandleBatch(kept[i:min(i+256, len(kept))]); err != nil {
				b.Fatal(err)
			}
		}
		recv := time.Since(start)
		st := r.Status()
		r.Close()
		if len(st) != 1 || !st[0].Done {
			b.Fatalf("not decoded: %+v", st)
		}
		mb := float64(len(data)) / 1e6
		b.ReportMetric(mb, "archive-MB")
		b.ReportMetric(float64(st[0].Needed), "K")
		b.ReportMetric(float64(st[0].AtDone)/float64(st[0].Needed), "symbols/K")
		b.ReportMetric(float64(st[0].AtPacket)/float64(st[0].Needed), "packets/K")
		b.ReportMetric(mb/encode.Seconds(), "encode-MB/s")
		b.ReportMetric(mb/recv.Seconds(), "receive-MB/s")
	}
}
