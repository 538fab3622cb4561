package archive

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"ferry/internal/key"
)

// TestSetMemoryLimit: a limit scales the shared cache and the decode
// budget, readers keep working under the smallest one (many goroutines
// reading many clusters of several archives, each item bigger than half
// the cache), the heap they hold stays within the limit, and 0 restores
// the defaults.
func TestSetMemoryLimit(t *testing.T) {
	defer SetMemoryLimit(0)
	SetMemoryLimit(256 << 20)
	if c, d := MemoryLimits(); c != 16<<20 || d != 64<<20 {
		t.Fatalf("256 MiB: cache %d, decode %d", c, d)
	}
	SetMemoryLimit(1) // as small as it goes
	if c, d := MemoryLimits(); c != 1<<20 || d != 4<<20 {
		t.Fatalf("tiny limit: cache %d, decode %d", c, d)
	}
	k, _ := key.Generate()
	var readers []*Reader
	pages := map[string][]byte{}
	for a := range 3 {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, WriterOptions{ClusterSize: 2 << 20})
		if err != nil {
			t.Fatal(err)
		}
		for i := range 40 {
			p := fmt.Sprintf("a%d/p%02d.html", a, i)
			page := bytes.Repeat([]byte(fmt.Sprintf("<p>%s 자료묶음 %d번째 쪽입니다. ", p, i*7919%1000)), 2000+i*50)
			pages[p] = page
			if err := w.Add(Input{Path: p, MIME: "text/html", Article: true, Data: page}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Finish(Info{Channel: fmt.Sprintf("m%d", a), Edition: 1}, nil, k); err != nil {
			t.Fatal(err)
		}
		r, err := Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		readers = append(readers, r)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				a := (g + i) % 3
				p := fmt.Sprintf("a%d/p%02d.html", a, (i*13+g)%40)
				got, err := readers[a].Cat(p)
				if err == nil && !bytes.Equal(got, pages[p]) {
					err = fmt.Errorf("%s: wrong content", p)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if sharedCache.used > sharedCache.max {
		t.Errorf("shared cache holds %d bytes, bound %d", sharedCache.used, sharedCache.max)
	}
	// What stays reachable is the cache and the test's own pages.
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 8<<20 {
		t.Errorf("heap grew by %d MiB under a 1 MiB cache", grown>>20)
	}
	ours := map[uint64]bool{}
	for _, r := range readers {
		ours[r.cid] = true
		r.Close()
	}
	sharedCache.mu.Lock()
	for k := range sharedCache.items {
		if ours[k.owner] {
			t.Errorf("a closed reader left %v in the shared cache", k)
		}
	}
	sharedCache.mu.Unlock()
	SetMemoryLimit(0)
	if c, d := MemoryLimits(); c != defaultCacheBytes || d != defaultDecodeBytes {
		t.Fatalf("defaults: cache %d, decode %d", c, d)
	}
}
