package reader

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"ferry/internal/testkit/cpuclock"
	"ferry/internal/testkit/korquad"
)

// BenchmarkServerNotes measures what word notes add to the whole server's
// CPU per article (issue 19: at most 10% more): a real reader handler on a
// loopback listener serves the 140 KorQuAD articles to a client that runs
// in another process (this test binary again, TestNotesClient), so the
// process CPU clock (user + system, all threads: HTTP, the handler, GC)
// counts the server alone. One b.N round sends every article once per
// mode, the modes taking turns batch by batch:
//
//   - off: word notes off (/ko-g0/…);
//   - first: notes on, every view a first view (nothing kept between
//     requests), marks from the archive's table;
//   - kept: notes on with the server's caches as configured (after the
//     first round, pages come glossed from memory).
//
// Reports µs of server CPU per request for each, and first/off, kept/off:
// the mean over all rounds and the median of the rounds' ratios.
// Run: go test ./internal/reader -run '^$' -bench ServerNotes -benchtime 20x
func BenchmarkServerNotes(b *testing.B) {
	srv := benchServer(b)
	h := srv.Config.Handler.(*Handler)
	set := korquad.Load(b)
	var paths []string
	for _, a := range set.Articles {
		paths = append(paths, "/a/korquad/"+(&url.URL{Path: korquad.Path(a.Title)}).EscapedPath())
	}
	list := filepath.Join(b.TempDir(), "paths")
	if err := os.WriteFile(list, []byte(strings.Join(paths, "\n")), 0o644); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNotesClient$", "-test.count=1")
	cmd.Env = append(os.Environ(), "FERRY_NOTES_CLIENT="+srv.URL, "FERRY_NOTES_PATHS="+list)
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
	out := bufio.NewReader(outPipe)
	defer func() {
		in.Close()
		cmd.Wait()
	}()
	// batch has the client send every article with prefix and returns the
	// server's CPU time for it.
	var bytes [3]int64
	var gcs [3]uint32
	var ms runtime.MemStats
	batch := func(k int, prefix string) time.Duration {
		runtime.ReadMemStats(&ms)
		gc0 := ms.NumGC
		c0 := cpuclock.Process()
		if _, err := fmt.Fprintln(in, prefix); err != nil {
			b.Fatal(err)
		}
		reply, err := out.ReadString('\n')
		cpu := cpuclock.Process() - c0
		var n int64
		if _, serr := fmt.Sscanf(reply, "ok %d", &n); err != nil || serr != nil {
			b.Fatalf("client: %q %v", reply, err)
		}
		runtime.ReadMemStats(&ms)
		bytes[k] += n
		gcs[k] += ms.NumGC - gc0
		return cpu
	}
	set1 := func(first bool) {
		h.marks.mu.Lock()
		h.marks.off, h.marks.m, h.marks.order, h.marks.words, h.marks.noStored = first, nil, nil, 0, false
		h.marks.mu.Unlock()
		h.pages.mu.Lock()
		h.pages.off = first
		if first {
			h.pages.m, h.pages.order, h.pages.bytes = nil, nil, 0
		}
		h.pages.mu.Unlock()
	}
	modes := []struct {
		name, prefix string
		first        bool
	}{{"off", "/ko-g0", true}, {"first", "/ko", true}, {"kept", "/ko", false}}
	// A warm-up round: connections, the archives' caches, the kept pages.
	for k, m := range modes {
		set1(m.first)
		batch(k, m.prefix)
	}
	bytes, gcs = [3]int64{}, [3]uint32{}
	var sum [3]time.Duration
	var ratios [2][]float64
	b.ResetTimer()
	for i := range b.N {
		var round [3]time.Duration
		for j := range modes {
			k := (i + j) % len(modes) // each mode goes first in turn
			if only := os.Getenv("FERRY_NOTES_ONLY"); only != "" && only != modes[k].name {
				continue
			}
			set1(modes[k].first)
			round[k] = batch(k, modes[k].prefix)
			sum[k] += round[k]
		}
		ratios[0] = append(ratios[0], float64(round[1])/float64(round[0]))
		ratios[1] = append(ratios[1], float64(round[2])/float64(round[0]))
	}
	b.StopTimer()
	n := float64(b.N * len(paths))
	for k, m := range modes {
		b.ReportMetric(float64(sum[k].Nanoseconds())/1e3/n, m.name+"-µs/req")
		b.ReportMetric(float64(bytes[k])/n, m.name+"-B/req")
		b.ReportMetric(float64(gcs[k])/float64(b.N), m.name+"-GCs/round")
	}
	b.ReportMetric(float64(sum[1])/float64(sum[0]), "first/off")
	b.ReportMetric(float64(sum[2])/float64(sum[0]), "kept/off")
	for k, name := range []string{"first/off-median", "kept/off-median"} {
		slices.Sort(ratios[k])
		b.ReportMetric(ratios[k][len(ratios[k])/2], name)
	}
}

// TestNotesClient is the client side of BenchmarkServerNotes, run in its
// own process: it skips unless FERRY_NOTES_CLIENT names the server. For
// every line read from stdin (a URL prefix) it GETs every path of the file
// FERRY_NOTES_PATHS under that prefix, one by one over one kept-alive
// connection, and answers "ok" (or what went wrong).
func TestNotesClient(t *testing.T) {
	base := os.Getenv("FERRY_NOTES_CLIENT")
	if base == "" {
		t.Skip("the client process of BenchmarkServerNotes")
	}
	raw, err := os.ReadFile(os.Getenv("FERRY_NOTES_PATHS"))
	if err != nil {
		t.Fatal(err)
	}
	paths := strings.Split(string(raw), "\n")
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 1}}
	lines := bufio.NewScanner(os.Stdin)
	for lines.Scan() {
		reply, total := "ok", int64(0)
		for _, p := range paths {
			resp, err := client.Get(base + lines.Text() + p)
			if err != nil {
				reply = err.Error()
				break
			}
			n, err := io.Copy(io.Discard, resp.Body)
			total += n
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				reply = fmt.Sprintf("%s: status %d, %v", p, resp.StatusCode, err)
				break
			}
		}
		if reply == "ok" {
			reply = fmt.Sprintf("ok %d", total)
		}
		fmt.Println(strings.ReplaceAll(reply, "\n", " "))
	}
}
