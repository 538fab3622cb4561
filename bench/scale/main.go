// Command scale measures one archive the way a reader's device uses it, for
// the Wikipedia-sized benchmark (bench/scale.sh):
//
//	go run ./bench/scale -archive X.ferry -queries Q.txt [-n 1000] [-verify]
//	go run ./bench/scale -build-index DIR -o X.index
//	go run ./bench/scale -index X.index -queries Q.txt [-n 1000] [-repeat 3] [-cpuprofile F] [-dump HITS] [-compare HITS]
//
// It prints "key value" lines: open time (median of 20 opens), search
// latency and CPU per query (the edition's ranked search for 10 results,
// as the web reader and 'ferry search' call it, then the same with the 10
// snippets the reader shows), the slowest queries, the verify time and the
// process's peak memory. Queries are asked one at a time, in the file's
// order, after one warm-up pass over the first 50.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/search"
	"ferry/internal/testkit/cpuclock"
)

func main() {
	path := flag.String("archive", "", "archive file")
	qfile := flag.String("queries", "", "file of queries, one a line")
	n := flag.Int("n", 1000, "queries to ask (0: all)")
	verify := flag.Bool("verify", false, "also time a full verify")
	snippets := flag.Bool("snippets", true, "also measure search with the 10 snippets")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the timed searches here")
	buildDir := flag.String("build-index", "", "instead: write the search index of the pages under this folder to -o")
	out := flag.String("o", "", "with -build-index: the index file to write")
	indexFile := flag.String("index", "", "instead: search a bare index file written by -build-index")
	repeat := flag.Int("repeat", 1, "with -index: ask each query this many times and keep its least CPU time")
	dump := flag.String("dump", "", "with -index: write every query's hits (doc:score) to this file")
	compare := flag.String("compare", "", "with -index: compare every query's hits with this -dump file of another build")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "scale:", err)
			os.Exit(1)
		}
		profile = f
	}
	var err error
	switch {
	case *buildDir != "":
		err = buildIndex(*buildDir, *out)
	case *indexFile != "":
		err = searchIndex(*indexFile, *qfile, *n, *repeat, *dump, *compare)
	default:
		err = run(*path, *qfile, *n, *verify, *snippets)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

func run(path, qfile string, n int, verify, snippets bool) error {
	var opens []time.Duration
	for range 20 {
		t := time.Now()
		r, err := archive.OpenFile(path)
		if err != nil {
			return err
		}
		opens = append(opens, time.Since(t))
		r.Close()
	}
	fmt.Printf("open_ms %.3f\n", ms(median(opens)))
	r, err := archive.OpenFile(path)
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Printf("archive_bytes %d\nentries %d\n", r.Size(), r.NumEntries())
	if s, ok := r.Manifest().Sections["search"]; ok {
		fmt.Printf("index_bytes %d\n", s.Length)
	}
	fmt.Printf("data_bytes %d\n", r.Manifest().Data.Length)
	v, err := edition.Of(r)
	if err != nil {
		return err
	}
	qs, err := readQueries(qfile, n)
	if err != nil {
		return err
	}
	for _, q := range qs[:min(50, len(qs))] {
		if _, _, err := v.Search(q, 0, 10); err != nil {
			return err
		}
	}
	type timing struct {
		q        string
		wall     time.Duration
		cpu      time.Duration
		hits     int
		withSnip time.Duration
	}
	var ts []timing
	if profile != nil {
		pprof.StartCPUProfile(profile)
	}
	for _, q := range qs {
		c0, t0 := cpuclock.Process(), time.Now()
		hits, _, err := v.Search(q, 0, 10)
		if err != nil {
			return fmt.Errorf("%q: %w", q, err)
		}
		t := timing{q: q, wall: time.Since(t0), cpu: cpuclock.Process() - c0, hits: len(hits)}
		if snippets {
			t1 := time.Now()
			m := search.NewMatcher(q)
			for _, h := range hits {
				edition.Snippet(v, h.Entry, m)
			}
			t.withSnip = t.wall + time.Since(t1)
		}
		ts = append(ts, t)
	}
	if profile != nil {
		pprof.StopCPUProfile()
		profile.Close()
	}
	pick := func(f func(timing) time.Duration) []time.Duration {
		var d []time.Duration
		for _, t := range ts {
			d = append(d, f(t))
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d
	}
	wall := pick(func(t timing) time.Duration { return t.wall })
	cpu := pick(func(t timing) time.Duration { return t.cpu })
	fmt.Printf("queries %d\n", len(ts))
	fmt.Printf("search_p50_ms %.3f\nsearch_p99_ms %.3f\nsearch_max_ms %.3f\n", ms(pct(wall, 50)), ms(pct(wall, 99)), ms(wall[len(wall)-1]))
	fmt.Printf("search_cpu_p50_ms %.3f\nsearch_cpu_p99_ms %.3f\nsearch_cpu_max_ms %.3f\n", ms(pct(cpu, 50)), ms(pct(cpu, 99)), ms(cpu[len(cpu)-1]))
	if snippets {
		ws := pick(func(t timing) time.Duration { return t.withSnip })
		fmt.Printf("snippets_p50_ms %.3f\nsnippets_p99_ms %.3f\nsnippets_max_ms %.3f\n", ms(pct(ws, 50)), ms(pct(ws, 99)), ms(ws[len(ws)-1]))
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].cpu > ts[j].cpu })
	for _, t := range ts[:min(5, len(ts))] {
		fmt.Printf("slowest %.2f ms CPU (%.2f ms wall, %d hits) %s\n", ms(t.cpu), ms(t.wall), t.hits, t.q)
	}
	hits := 0
	for _, t := range ts {
		if t.hits > 0 {
			hits++
		}
	}
	fmt.Printf("answered %d\n", hits)
	if verify {
		// A fresh reader with no cache to speak of, as 'ferry verify' reads.
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		c0, t0 := cpuclock.Process(), time.Now()
		vr, err := archive.OpenWith(f, r.Size(), archive.ReaderOptions{CacheBytes: 64 << 10})
		if err != nil {
			return err
		}
		if err := edition.Verify(context.Background(), vr, nil); err != nil {
			return err
		}
		fmt.Printf("verify_s %.1f\nverify_cpu_s %.1f\n", time.Since(t0).Seconds(), (cpuclock.Process() - c0).Seconds())
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("heap_sys_mb %.1f\n", float64(ms.HeapSys)/1e6)
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmHWM:") || strings.HasPrefix(l, "VmPeak:") {
				f := strings.Fields(l)
				fmt.Printf("%s_kb %s\n", strings.ToLower(strings.TrimSuffix(f[0], ":")), f[1])
			}
		}
	}
	return nil
}

var profile *os.File

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

// readQueries reads the first n queries of a file, one a line (n 0: all).
func readQueries(path string, n int) ([]string, error) {
	qs, err := readLines(path)
	if n > 0 && n < len(qs) {
		qs = qs[:n]
	}
	return qs, err
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}
