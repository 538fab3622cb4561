package archive

import (
	"bytes"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"

	"ferry/internal/key"
)

// TestZstdCappedAtClaimedLength: a cluster that claims 200 raw bytes but
// expands to 64 MiB is refused after 201 bytes (it was decoded up to the
// decoder's 128 MiB limit first).
func TestZstdCappedAtClaimedLength(t *testing.T) {
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	bomb := enc.EncodeAll(make([]byte, 64<<20), nil)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := decodeZstd(bomb, 200, true)
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "more than 200") {
		t.Fatalf("err %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Errorf("%d MiB allocated to refuse it", n>>20)
	}
	if got, err := decodeZstd(bomb, 64<<20, true); err != nil || len(got) != 64<<20 {
		t.Fatalf("the whole frame: %d bytes, %v", len(got), err)
	}
}

// TestConcurrentReadsShareOneDecode: fifty requests at once for an entry in
// one big compressible cluster decode it once and hold one copy (six
// requests took 667 MB and fifty 2.95 GB: each allocated the cluster
// before the decoders bounded concurrency).
func TestConcurrentReadsShareOneDecode(t *testing.T) {
	k, _ := key.Generate()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{ClusterSize: 32 << 20, ChunkSize: 32 << 20})
	if err != nil {
		t.Fatal(err)
	}
	page := bytes.Repeat([]byte("<p>같은 말을 되풀이합니다. The same words again.</p>\n"), (24<<20)/60)
	if err := w.Add(Input{Path: "big.html", MIME: "text/html", Article: true, Data: page}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(Info{Channel: "big", Edition: 1}, nil, k); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if len(b) > 2<<20 {
		t.Fatalf("archive is %d bytes: the page did not compress", len(b))
	}
	r, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	e, err := r.Lookup("big.html")
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sr, err := r.Open(e)
			if err == nil {
				var head [4096]byte
				_, err = sr.ReadAt(head[:], int64(len(page)/2))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if n := int64(after.TotalAlloc - before.TotalAlloc); n > 4*int64(len(page)) {
		t.Errorf("50 reads allocated %d MiB for a %d MiB cluster", n>>20, len(page)>>20)
	}
	if d := r.decoded.Load(); d > 4*int64(len(page)) {
		t.Errorf("decompressed %d MiB for a %d MiB cluster", d>>20, len(page)>>20)
	}
}
