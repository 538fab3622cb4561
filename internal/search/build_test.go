package search

import (
	"bytes"
	"os"
	"runtime"
	"testing"
)

// TestBuilderSpillCall: Spill puts what the Builder holds on disk (its
// heap falls by most of the postings), does nothing for a small build,
// and the index written is byte for byte the one of a Builder that never
// spilled.
func TestBuilderSpillCall(t *testing.T) {
	k := loadOwn(t)
	build := func(spillAt []int, limit int64, dir string) ([]byte, int) {
		b := NewBuilder()
		b.SpillBytes, b.SpillDir = limit, dir
		for i := range k.titles {
			for _, at := range spillAt {
				if i == at {
					if err := b.Spill(); err != nil {
						t.Fatal(err)
					}
				}
			}
			b.Add(uint32(i), k.titles[i], k.bodies[i])
		}
		if err := b.Spill(); err != nil {
			t.Fatal(err)
		}
		runs := len(b.runs)
		var buf bytes.Buffer
		if _, err := b.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes(), runs
	}
	want, _ := build(nil, -1, "")
	n := len(k.titles)
	dir := t.TempDir()
	got, runs := build([]int{n / 3, 2 * n / 3}, 1<<30, dir)
	if runs != 0 {
		// 1 GiB: an eighth of it is far more than these pages hold.
		t.Errorf("a small build spilled %d runs, want none", runs)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("index differs after Spill calls that did nothing")
	}
	got, runs = build([]int{n / 3, 2 * n / 3}, 256<<10, dir)
	if runs < 3 {
		t.Errorf("%d runs with Spill called twice and at the end, want at least 3", runs)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("index after Spill calls differs (%d bytes, want %d)", len(got), len(want))
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%d spill files left behind", len(left))
	}

	// The heap the postings took is given back.
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	b := NewBuilder()
	b.SpillBytes, b.SpillDir = 1<<30, t.TempDir()
	defer b.Close()
	for round := range 4 { // the pages under other ids: more postings
		for i := range k.titles {
			b.Add(uint32(round*n+i), k.titles[i], k.bodies[i])
		}
	}
	before, est := heap(), b.mem
	if est < 512<<10 {
		t.Fatalf("the pages make only %d bytes of postings; the test needs more", est)
	}
	b.SpillBytes = 8 * est // Spill only acts above an eighth of the limit
	if err := b.Spill(); err != nil {
		t.Fatal(err)
	}
	after := heap()
	t.Logf("postings estimated at %d KiB: heap %d KiB before Spill, %d KiB after", est>>10, before>>10, after>>10)
	if before < after || before-after < uint64(est/2) {
		t.Errorf("Spill gave back %d KiB of heap, want at least half the %d KiB estimated", (int64(before)-int64(after))>>10, est>>10)
	}
	if len(b.terms) != 0 || b.mem != 0 || len(b.runs) != 1 {
		t.Errorf("after Spill: %d terms, %d bytes estimated, %d runs; want 0, 0, 1", len(b.terms), b.mem, len(b.runs))
	}
	runtime.KeepAlive(b)
}

// TestRunBuffers: the read buffers of the runs being merged stay within
// mergeBufferBytes however many runs there are (a pack of several GB
// spills hundreds), each between 4 KiB and 64 KiB.
func TestRunBuffers(t *testing.T) {
	for _, runs := range []int{0, 1, 10, 64, 65, 200, 1000, 5000} {
		size := runBufferSize(runs)
		if size < 4<<10 || size > 64<<10 {
			t.Errorf("%d runs: buffers of %d bytes, want 4 KiB to 64 KiB", runs, size)
		}
		if total := size * runs; runs*4<<10 <= mergeBufferBytes && total > mergeBufferBytes {
			t.Errorf("%d runs: %d bytes of buffers, want at most %d", runs, total, mergeBufferBytes)
		}
	}
}
