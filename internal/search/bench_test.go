package search

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"ferry/internal/testkit/cpuclock"
	"ferry/internal/testkit/shared"
)

// BenchmarkBuildKorQuAD measures build throughput over the KorQuAD articles
// (MB/s of text), the index size per text byte, and the builder's heap per
// input byte just before WriteTo.
func BenchmarkBuildKorQuAD(b *testing.B) { benchBuild(b, -1) }

// BenchmarkBuildKorQuADSpill is BenchmarkBuildKorQuAD with a 512 KiB
// memory budget, so postings go through sorted runs on disk (heap/text is
// then what the Builder holds at the end, under the budget).
func BenchmarkBuildKorQuADSpill(b *testing.B) { benchBuild(b, 512<<10) }

func benchBuild(b *testing.B, spill int64) {
	k := loadKorQuAD(b)
	b.SetBytes(int64(k.textBytes))
	build := func() *Builder {
		bl := NewBuilder()
		bl.SpillBytes, bl.SpillDir = spill, b.TempDir()
		var wg sync.WaitGroup
		next := make(chan int)
		for range runtime.GOMAXPROCS(0) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					bl.Add(uint32(i), k.titles[i], k.bodies[i])
				}
			}()
		}
		for i := range k.titles {
			next <- i
		}
		close(next)
		wg.Wait()
		return bl
	}
	// Heap held by a full Builder, once, outside the timed loop.
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	bl := build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	heapPerByte := float64(after.HeapAlloc-before.HeapAlloc) / float64(k.textBytes)
	runtime.KeepAlive(bl)
	bl.Close()
	var size int
	cpu0 := cpuclock.Process().Seconds()
	for b.Loop() {
		n, err := build().WriteTo(io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		size = int(n)
	}
	if cpu := cpuclock.Process().Seconds() - cpu0; cpu > 0 {
		b.ReportMetric(float64(k.textBytes)*float64(b.N)/cpu/1e6, "MB/cpu-s")
	}
	b.ReportMetric(float64(size)/float64(k.textBytes), "index/text")
	b.ReportMetric(heapPerByte, "heap/text")
}

// BenchmarkSearchKorQuAD measures one query's latency over the KorQuAD
// index, cycling through the 5,774 questions.
func BenchmarkSearchKorQuAD(b *testing.B) {
	k := loadKorQuAD(b)
	ix := openBytes(b, k.build(b))
	i := 0
	cpu0 := cpuclock.Process().Seconds()
	defer func() {
		if cpu := cpuclock.Process().Seconds() - cpu0; cpu > 0 {
			b.ReportMetric(cpu/float64(b.N)*1e6, "cpu-µs/op")
		}
	}()
	for b.Loop() {
		if _, err := ix.Search(k.questions[i%len(k.questions)].q, 0, 10); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSearchKorQuADCold is BenchmarkSearchKorQuAD with a freshly
// opened Index (empty dictionary cache) for every query.
func BenchmarkSearchKorQuADCold(b *testing.B) {
	k := loadKorQuAD(b)
	idx := k.build(b)
	r := bytes.NewReader(idx)
	i := 0
	cpu0 := cpuclock.Process().Seconds()
	defer func() {
		if cpu := cpuclock.Process().Seconds() - cpu0; cpu > 0 {
			b.ReportMetric(cpu/float64(b.N)*1e6, "cpu-µs/op")
		}
	}()
	for b.Loop() {
		ix, err := Open(r, int64(len(idx)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ix.Search(k.questions[i%len(k.questions)].q, 0, 10); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSnippetKorQuAD measures snippet extraction from a whole article.
func BenchmarkSnippetKorQuAD(b *testing.B) {
	k := loadKorQuAD(b)
	i := 0
	cpu0 := cpuclock.Process().Seconds()
	defer func() {
		if cpu := cpuclock.Process().Seconds() - cpu0; cpu > 0 {
			b.ReportMetric(cpu/float64(b.N)*1e6, "cpu-µs/op")
		}
	}()
	for b.Loop() {
		q := k.questions[i%len(k.questions)]
		Snippet(k.bodies[q.article], q.q, 160)
		i++
	}
}

var (
	reDrop = regexp.MustCompile(`(?is)<(script|style)[^>]*>.*?</(script|style)>`)
	reTag  = regexp.MustCompile(`<[^>]*>`)
)

// BenchmarkIndexSizeHTML builds an index over the 129 mwoffliner-rendered
// English Wikipedia articles and reports index bytes per HTML byte and per
// (crudely extracted) text byte.
func BenchmarkIndexSizeHTML(b *testing.B) {
	dir := shared.Path(b, "html/enwiki_raycharles/A")
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var htmlBytes, textBytes int
	var texts []string
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		htmlBytes += len(raw)
		s := reTag.ReplaceAllString(reDrop.ReplaceAllString(string(raw), " "), " ")
		s = strings.Join(strings.Fields(s), " ")
		textBytes += len(s)
		texts = append(texts, s)
	}
	var size int
	for b.Loop() {
		bl := NewBuilder()
		for i, s := range texts {
			bl.Add(uint32(i), "", s)
		}
		var buf bytes.Buffer
		if _, err := bl.WriteTo(&buf); err != nil {
			b.Fatal(err)
		}
		size = buf.Len()
	}
	b.ReportMetric(float64(size)/float64(htmlBytes), "index/html")
	b.ReportMetric(float64(size)/float64(textBytes), "index/text")
	b.ReportMetric(float64(textBytes)/float64(htmlBytes), "text/html")
}
