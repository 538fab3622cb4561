package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"ferry/internal/htmltext"
	"ferry/internal/search"
	"ferry/internal/testkit/cpuclock"
)

// buildIndex writes the search index of the pages under dir to out, as a
// pack would (each file a document id in walk order, HTML pages analysed
// by their title and visible text, other files counted but not indexed),
// without compressing anything else: the index of a corpus of several GB
// in a fraction of a pack's time, to measure search on.
func buildIndex(dir, out string) error {
	c0, t0 := cpuclock.Process(), time.Now()
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	b := search.NewBuilder()
	b.SpillDir = filepath.Dir(out)
	var wg sync.WaitGroup
	next := make(chan int)
	var mu sync.Mutex
	var firstErr error
	pages := 0
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				data, err := os.ReadFile(files[i])
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					continue
				}
				if !htmltext.IsHTML(sniff(data)) {
					continue
				}
				title, text := htmltext.Extract(data)
				if title == "" {
					title = strings.ReplaceAll(path.Base(filepath.ToSlash(files[i])), "_", " ")
				}
				b.Add(uint32(i), title, text)
				mu.Lock()
				pages++
				mu.Unlock()
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	n, err := b.WriteTo(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	fmt.Printf("files %d\npages %d\nindex_bytes %d\nbuild_s %.1f\nbuild_cpu_s %.1f\n", len(files), pages, n, time.Since(t0).Seconds(), (cpuclock.Process() - c0).Seconds())
	return nil
}

// sniff is the MIME type of a page's first bytes, as the folder source
// guesses it for files without a telling name.
func sniff(data []byte) string {
	head := strings.ToLower(string(data[:min(len(data), 512)]))
	if strings.Contains(head, "<html") || strings.Contains(head, "<!doctype html") {
		return "text/html"
	}
	return "application/octet-stream"
}

// searchIndex asks the queries of qfile (the first n; 0: all) of a bare
// index file written by buildIndex, one at a time after a warm-up pass
// over the first 50, and prints CPU per query and the slowest queries.
// Each query is asked repeat times in a row and its least CPU time kept:
// on a loaded machine other work inflates single measurements.
//
// With dump set, the hits of every query (doc and exact score) are written
// there, one query a line; with compare set, they are compared with such a
// file written by another build (compareHits).
func searchIndex(file, qfile string, n, repeat int, dump, compare string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	ix, err := search.Open(f, st.Size())
	if err != nil {
		return err
	}
	qs, err := readQueries(qfile, n)
	if err != nil {
		return err
	}
	for _, q := range qs[:min(50, len(qs))] {
		if _, err := ix.Search(q, 0, 10); err != nil {
			return err
		}
	}
	type timing struct {
		q   string
		cpu time.Duration
	}
	var ts []timing
	var hits []search.Results
	if profile != nil {
		pprof.StartCPUProfile(profile)
	}
	for _, q := range qs {
		best := time.Duration(-1)
		var res search.Results
		for range max(repeat, 1) {
			c0 := cpuclock.Process()
			res, err = ix.Search(q, 0, 10)
			if err != nil {
				return fmt.Errorf("%q: %w", q, err)
			}
			if d := cpuclock.Process() - c0; best < 0 || d < best {
				best = d
			}
		}
		ts = append(ts, timing{q, best})
		hits = append(hits, res)
	}
	if profile != nil {
		pprof.StopCPUProfile()
		profile.Close()
	}
	if dump != "" {
		cpu := make([]time.Duration, len(ts))
		for i, t := range ts {
			cpu[i] = t.cpu
		}
		if err := writeHits(dump, qs, cpu, hits); err != nil {
			return err
		}
	}
	if compare != "" {
		if err := compareHits(compare, hits); err != nil {
			return err
		}
	}
	var cpu []time.Duration
	for _, t := range ts {
		cpu = append(cpu, t.cpu)
	}
	sort.Slice(cpu, func(i, j int) bool { return cpu[i] < cpu[j] })
	fmt.Printf("index_bytes %d\ndocs %d\nterms %d\nqueries %d\n", st.Size(), ix.DocCount(), ix.TermCount(), len(ts))
	var sum time.Duration
	for _, d := range cpu {
		sum += d
	}
	fmt.Printf("index_cpu_mean_ms %.3f\n", ms(sum/time.Duration(len(cpu))))
	fmt.Printf("index_cpu_p50_ms %.3f\nindex_cpu_p99_ms %.3f\nindex_cpu_max_ms %.3f\n", ms(pct(cpu, 50)), ms(pct(cpu, 99)), ms(cpu[len(cpu)-1]))
	sort.Slice(ts, func(i, j int) bool { return ts[i].cpu > ts[j].cpu })
	for _, t := range ts[:min(5, len(ts))] {
		fmt.Printf("slowest %.2f ms CPU %s\n", ms(t.cpu), t.q)
	}
	return nil
}

// writeHits writes each query's number, CPU time in ms and hits as
// "doc:score" pairs (the score in the shortest form that reads back
// exactly), one query a line, then a tab and the query.
func writeHits(file string, qs []string, cpu []time.Duration, res []search.Results) error {
	var b strings.Builder
	for i, r := range res {
		fmt.Fprintf(&b, "%d %.3f", i, ms(cpu[i]))
		for _, h := range r.Hits {
			fmt.Fprintf(&b, " %d:%s", h.Doc, strconv.FormatFloat(h.Score, 'g', -1, 64))
		}
		fmt.Fprintf(&b, "\t%s\n", qs[i])
	}
	return os.WriteFile(file, []byte(b.String()), 0o644)
}

// compareHits compares the hits of each query with those a dump file
// holds and prints how many queries rank the same documents in the same
// order, how many differ only by swapping documents whose scores are
// equal to 10⁻⁹ (a tie broken by the last bit of the score), how many
// differ otherwise (each printed), and the largest relative difference of
// a score.
func compareHits(file string, res []search.Results) error {
	lines, err := readLines(file)
	if err != nil {
		return err
	}
	if len(lines) != len(res) {
		return fmt.Errorf("%s holds %d queries, this run %d", file, len(lines), len(res))
	}
	same, swaps, diff, maxRel := 0, 0, 0, 0.0
	for i, l := range lines {
		head, _, _ := strings.Cut(l, "\t")
		f := strings.Fields(head)
		if len(f) < 2 {
			return fmt.Errorf("%s line %d: no hits field", file, i+1)
		}
		var old []search.Hit
		for _, p := range f[2:] {
			d, sc, ok := strings.Cut(p, ":")
			doc, err1 := strconv.ParseUint(d, 10, 32)
			score, err2 := strconv.ParseFloat(sc, 64)
			if !ok || err1 != nil || err2 != nil {
				return fmt.Errorf("%s line %d: bad hit %q", file, i+1, p)
			}
			old = append(old, search.Hit{Doc: uint32(doc), Score: score})
		}
		hits := res[i].Hits
		order, near := len(old) == len(hits), len(old) == len(hits)
		for j := range min(len(old), len(hits)) {
			rel := math.Abs(old[j].Score-hits[j].Score) / math.Max(math.Abs(old[j].Score), 1e-300)
			maxRel = max(maxRel, rel)
			order = order && old[j].Doc == hits[j].Doc
			near = near && rel <= 1e-9
		}
		switch {
		case order && near:
			same++
		case near:
			swaps++
		default:
			diff++
			fmt.Printf("compare_differs %d %v %v\n", i, old, hits)
		}
	}
	fmt.Printf("compare_same %d\ncompare_tie_swaps %d\ncompare_different %d\ncompare_max_rel_score_diff %.3g\n", same, swaps, diff, maxRel)
	return nil
}
