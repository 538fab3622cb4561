package reader

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"slices"
	"strings"
	"testing"
	"time"

	"ferry/internal/testkit/cpuclock"
	"ferry/internal/testkit/korquad"
)

// BenchmarkServerNotes measures what word notes add to the whole server's
// CPU per article (issue 19: at most 10% more). The server runs in a
// process of its own (this test binary again, TestNotesServer): a reader
// handler for the benchmark's archives (read from files, as `ferry serve`
// opens them) on a loopback listener, holding nothing else, so its heap
// and its garbage collector's work are a server's. This process is the
// client: it sends the 140 KorQuAD articles one by one over one kept-alive
// connection, and asks the server for its process CPU time (user +
// system, every thread: HTTP, the handler, GC) before and after each
// batch. One b.N round sends every article once per mode, the modes
// taking turns batch by batch:
//
//   - off: word notes off (/ko-g0/…);
//   - first: notes on, every view a first view (no page or marks kept
//     between requests), marks from the archive's table;
//   - kept: notes on, the server's caches as configured (from the second
//     round on, every page comes glossed from memory).
//
// Reports µs of server CPU per request for each, first/off and kept/off
// (the mean over all rounds and the median of the rounds' ratios), the
// bytes sent and the bytes the server allocated per request, and its GC
// cycles per round. The GC's CPU (the runtime's own estimate) lands in
// lumps, a cycle in whichever batch triggers it; the -gcshared figures
// count each mode's CPU without it plus a share of the whole GC in
// proportion to the bytes the mode allocated.
// FERRY_NOTES_ONLY=mode runs one mode alone; FERRY_NOTES_PROFILE=file
// writes a CPU profile of the server.
// Run: go test ./internal/reader -run '^$' -bench ServerNotes -benchtime 60x
func BenchmarkServerNotes(b *testing.B) {
	dir := benchLibDir(b)
	set := korquad.Load(b)
	var paths []string
	for _, a := range set.Articles {
		paths = append(paths, "/a/korquad/"+(&url.URL{Path: korquad.Path(a.Title)}).EscapedPath())
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNotesServer$", "-test.count=1")
	cmd.Env = append(os.Environ(), "FERRY_NOTES_SERVER="+dir)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		in.Close()
		cmd.Wait()
	}()
	out := bufio.NewReader(outPipe)
	ask := func(line string) string {
		if _, err := fmt.Fprintln(in, line); err != nil {
			b.Fatal(err)
		}
		reply, err := out.ReadString('\n')
		if err != nil {
			b.Fatalf("server: %q: %v", line, err)
		}
		return strings.TrimSuffix(reply, "\n")
	}
	base, ok := strings.CutPrefix(ask("url"), "url ")
	if !ok {
		b.Fatal("server gave no address")
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	// usage is the server's CPU time, GC count, bytes allocated and GC
	// CPU time so far.
	usage := func() (time.Duration, uint32, uint64, time.Duration) {
		var ns, gcns int64
		var gcs uint32
		var alloc uint64
		if _, err := fmt.Sscanf(ask("cpu"), "cpu %d %d %d %d", &ns, &gcs, &alloc, &gcns); err != nil {
			b.Fatal(err)
		}
		return time.Duration(ns), gcs, alloc, time.Duration(gcns)
	}
	var sent [3]int64
	var gcs [3]uint32
	var allocs [3]uint64
	var gcCPU [3]time.Duration
	modes := []string{"off", "first", "kept"}
	batch := func(k int) time.Duration {
		if r := ask(modes[k]); r != "ok" {
			b.Fatalf("server: %q", r)
		}
		prefix := "/ko"
		if k == 0 {
			prefix = "/ko-g0"
		}
		c0, g0, a0, gc0 := usage()
		for _, p := range paths {
			resp, err := client.Get(base + prefix + p)
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("%s: status %d, %v", p, resp.StatusCode, err)
			}
			sent[k] += n
		}
		c1, g1, a1, gc1 := usage()
		gcs[k] += g1 - g0
		allocs[k] += a1 - a0
		gcCPU[k] += gc1 - gc0
		return c1 - c0
	}
	only := os.Getenv("FERRY_NOTES_ONLY")
	// A warm-up round: the connection, the archives' caches, kept pages.
	for k := range modes {
		batch(k)
	}
	sent, gcs, allocs, gcCPU = [3]int64{}, [3]uint32{}, [3]uint64{}, [3]time.Duration{}
	var sum [3]time.Duration
	var ratios [2][]float64
	b.ResetTimer()
	for i := range b.N {
		var round [3]time.Duration
		for j := range modes {
			k := (i + j) % len(modes) // each mode goes first in turn
			if only != "" && only != modes[k] {
				continue
			}
			round[k] = batch(k)
			sum[k] += round[k]
		}
		if round[0] > 0 {
			ratios[0] = append(ratios[0], float64(round[1])/float64(round[0]))
			ratios[1] = append(ratios[1], float64(round[2])/float64(round[0]))
		}
	}
	b.StopTimer()
	n := float64(b.N * len(paths))
	for k, m := range modes {
		b.ReportMetric(float64(sum[k].Nanoseconds())/1e3/n, m+"-µs/req")
		b.ReportMetric(float64(sent[k])/n, m+"-B/req")
		b.ReportMetric(float64(gcs[k])/float64(b.N), m+"-GCs/round")
		b.ReportMetric(float64(allocs[k])/n, m+"-allocB/req")
	}
	if only == "" {
		// A GC cycle runs in whichever batch reaches its trigger, and one
		// costs as much as dozens of requests: per batch the GC share is
		// lumpy. Its total is shared out by the bytes each mode allocated
		// (what makes cycles come), the rest counted as measured.
		var gcAll time.Duration
		var allocAll uint64
		for k := range modes {
			gcAll += gcCPU[k]
			allocAll += allocs[k]
		}
		var fair [3]float64
		for k, m := range modes {
			fair[k] = float64(sum[k]-gcCPU[k]) + float64(gcAll)*float64(allocs[k])/float64(allocAll)
			b.ReportMetric(fair[k]/1e3/n, m+"-gcshared-µs/req")
			b.ReportMetric(float64(gcCPU[k].Nanoseconds())/1e3/n, m+"-gc-µs/req")
		}
		b.ReportMetric(fair[1]/fair[0], "first/off-gcshared")
		b.ReportMetric(fair[2]/fair[0], "kept/off-gcshared")
	}
	if sum[0] > 0 {
		b.ReportMetric(float64(sum[1])/float64(sum[0]), "first/off")
		b.ReportMetric(float64(sum[2])/float64(sum[0]), "kept/off")
		for k, name := range []string{"first/off-median", "kept/off-median"} {
			slices.Sort(ratios[k])
			b.ReportMetric(ratios[k][len(ratios[k])/2], name)
		}
	}
}

// TestNotesServer is the server side of BenchmarkServerNotes, run in its
// own process: it skips unless FERRY_NOTES_SERVER names a folder of
// archives. It serves them on loopback and answers lines on stdin: "url"
// (its address), "off", "first", "kept" (how its caches work for the
// next batch: see the benchmark) and "cpu" (its CPU time in ns so far,
// its GC cycles, the bytes it allocated and its GC's CPU time in ns).
func TestNotesServer(t *testing.T) {
	dir := os.Getenv("FERRY_NOTES_SERVER")
	if dir == "" {
		t.Skip("the server process of BenchmarkServerNotes")
	}
	libs, err := OpenPaths([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	defer Close(libs)
	h := New(libs, Options{})
	srv := httptest.NewServer(h)
	defer srv.Close()
	if prof := os.Getenv("FERRY_NOTES_PROFILE"); prof != "" {
		// A CPU profile of the server process (FERRY_NOTES_PROFILE=file).
		f, err := os.Create(prof)
		if err != nil {
			t.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	var ms runtime.MemStats
	// The runtime's estimate of the CPU time its GC used (mark workers,
	// assists, pauses).
	gcSample := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		switch cmd := lines.Text(); cmd {
		case "url":
			fmt.Println("url " + srv.URL)
		case "cpu":
			runtime.ReadMemStats(&ms)
			metrics.Read(gcSample)
			gc := int64(0)
			if gcSample[0].Value.Kind() == metrics.KindFloat64 {
				gc = int64(gcSample[0].Value.Float64() * 1e9)
			}
			fmt.Printf("cpu %d %d %d %d\n", cpuclock.Process().Nanoseconds(), ms.NumGC, ms.TotalAlloc, gc)
		case "off", "first", "kept":
			first := cmd != "kept"
			h.marks.mu.Lock()
			h.marks.off = first
			if first {
				h.marks.m, h.marks.order, h.marks.words = nil, nil, 0
			}
			h.marks.mu.Unlock()
			h.pages.mu.Lock()
			h.pages.off = first // kept pages stay for the next kept batch
			h.pages.mu.Unlock()
			fmt.Println("ok")
		default:
			fmt.Println("unknown command " + cmd)
		}
	}
}
