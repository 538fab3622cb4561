package archive

import (
	"fmt"
	"io"
	"runtime"
	"testing"
)

// TestWriterHeapPerEntry: what a Writer holds per entry on the heap, after
// a collection, stays under 48 bytes between 20,000 and 200,000 entries
// (half small pictures, stored at once, half small pages, grouped at
// Finish). With Go maps for its content and path hashes, a slice of
// document ids and a 12-byte loc it was ~100 bytes, which grew a pack's
// peak memory with the entry count (docs/benchmarks.md, issue 15).
func TestWriterHeapPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("adds 200,000 entries")
	}
	const first, total, limit = 20_000, 200_000, 48
	w, err := NewWriter(io.Discard, WriterOptions{TempDir: t.TempDir(), SortBytes: 256 << 10, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var at uint64
	for i := range total {
		if i == first {
			at = heap()
		}
		in := Input{Path: fmt.Sprintf("I/%07d.png", i), MIME: "image/png", Data: fmt.Appendf(nil, "png %d", i)}
		if i%2 == 1 {
			in = Input{Path: fmt.Sprintf("A/%07d.html", i), MIME: "text/html", Article: true, Title: fmt.Sprint(i),
				Data: fmt.Appendf(nil, "<p>page %d</p>", i)}
		}
		if err := w.Add(in); err != nil {
			t.Fatal(err)
		}
	}
	end := heap()
	per := (float64(end) - float64(at)) / (total - first)
	t.Logf("heap %d KiB at %d entries, %d KiB at %d: %.1f bytes an entry", at>>10, first, end>>10, total, per)
	if per > limit {
		t.Errorf("%.1f bytes of heap an entry, want at most %d", per, limit)
	}
	runtime.KeepAlive(w)
}
