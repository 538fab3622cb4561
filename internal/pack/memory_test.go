package pack

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"ferry/internal/glossary"
)

// TestMarksSpool: the glossary marks of a pack wait in a temporary file,
// not on the heap (which grew ~116 bytes a page with them: 37 MB at
// 322,000 pages, docs/benchmarks.md issue 15), and come back as the same
// table the pages would have made in memory; the file goes when the
// spool is closed, and a missing folder is a clear error.
func TestMarksSpool(t *testing.T) {
	const pages = 20_000
	g := glossary.Default()
	dir := t.TempDir()
	m := &marksSpool{dir: dir}
	defer m.close()
	heap := func() uint64 {
		var s runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&s)
		return s.HeapAlloc
	}
	rec := func(i int) []byte { return bytes.Repeat(fmt.Appendf(nil, "%d;", i), 1+i%40) }
	if err := m.add("A/0", rec(0)); err != nil { // the file and its buffer
		t.Fatal(err)
	}
	before := heap()
	var recBytes int
	for i := 1; i < pages; i++ {
		p := fmt.Sprintf("A/%d", i)
		recBytes += len(rec(i))
		if err := m.add(p, rec(i)); err != nil {
			t.Fatal(err)
		}
	}
	after := heap()
	grew := int64(after) - int64(before)
	t.Logf("%d pages, %d KiB of records: the heap grew %d KiB", pages, recBytes>>10, grew>>10)
	if grew > int64(recBytes/20) {
		t.Errorf("the heap grew %d KiB for %d KiB of records, want at most a twentieth", grew>>10, recBytes>>10)
	}
	if runtime.GOOS != "windows" {
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("%d files visible in the temporary folder while packing, want none (unlinked)", len(left))
		}
	}
	direct := g.NewMarksTable()
	direct.Add("A/0", rec(0))
	for i := 1; i < pages; i++ {
		direct.Add(fmt.Sprintf("A/%d", i), rec(i))
	}
	got, err := m.table(g)
	if err != nil {
		t.Fatal(err)
	}
	if got.Len() != pages || !bytes.Equal(got.Bytes(), direct.Bytes()) {
		t.Errorf("table from the spool: %d pages, %d bytes; want %d pages, %d bytes, equal", got.Len(), len(got.Bytes()), pages, len(direct.Bytes()))
	}
	m.close()
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("%d files left in the temporary folder", len(left))
	}

	// Nothing is made for a pack without marks.
	empty := &marksSpool{dir: filepath.Join(t.TempDir(), "missing")}
	if tb, err := empty.table(g); err != nil || tb.Len() != 0 {
		t.Errorf("empty spool: table of %d pages, error %v", tb.Len(), err)
	}
	if err := empty.add("A/1", rec(1)); err == nil || !strings.Contains(err.Error(), "temporary file for glossary marks") {
		t.Errorf("spool in a missing folder: error %v, want one naming the temporary file", err)
	}
	empty.close()
}
