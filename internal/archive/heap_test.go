package archive

import (
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"ferry/internal/key"
)

// TestWriterHeapPerEntry: what a Writer holds per entry on the heap, after
// a collection, stays under 32 bytes between 20,000 and 200,000 entries
// (half small pictures, stored at once, half small pages, grouped at
// Finish). With Go maps for its content and path hashes, a slice of
// document ids and a 12-byte loc it was ~140 bytes, with an index of
// every path's hashes 32, which grew a pack's peak memory with the entry
// count (docs/benchmarks.md, issue 15); about 24 now, the table of recent
// paths' 1 MiB included.
func TestWriterHeapPerEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("adds 200,000 entries")
	}
	const first, total, limit = 20_000, 200_000, 32
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

// TestDuplicatePathFarApart: a path added again right after itself is
// refused by Add; one added again 300,000 entries later, when the table of
// recent paths has forgotten it, is refused by Finish with the same
// message, and no archive is made.
func TestDuplicatePathFarApart(t *testing.T) {
	if testing.Short() {
		t.Skip("adds 300,000 entries")
	}
	w, err := NewWriter(io.Discard, WriterOptions{TempDir: t.TempDir(), Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(Input{Path: "A/x", MIME: "text/html", Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	err = w.Add(Input{Path: "A/x", MIME: "text/html", Data: []byte("y")})
	if err == nil || !strings.Contains(err.Error(), `duplicate entry path "A/x"`) {
		t.Fatalf("adjacent duplicate: error %v", err)
	}
	for i := range 300_000 {
		if err := w.Add(Input{Path: fmt.Sprintf("B/%d", i), MIME: "image/png", Data: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Add(Input{Path: "A/x", MIME: "text/html", Data: []byte("z")}); err != nil {
		t.Logf("the table still held A/x: %v", err) // possible, if no later path took its slot
		return
	}
	k, err := key.Generate()
	if err != nil {
		t.Fatal(err)
	}
	_, err = w.Finish(Info{Channel: "c"}, nil, k)
	if err == nil || !strings.Contains(err.Error(), `duplicate entry path "A/x": two inputs map to it`) {
		t.Fatalf("far duplicate: Finish gave %v, want the duplicate path error", err)
	}
}
