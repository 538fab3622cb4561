package harvest

import (
	"context"
	"ferry/internal/testkit/cpuclock"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// benchSite serves a generated site of n pages: page i links to pages
// 10i+1 … 10i+10, so depth 4 reaches 11,110 pages; each has an ETag.
func benchSite(b *testing.B, n int) *httptest.Server {
	body := func(i int) []byte {
		var sb strings.Builder
		fmt.Fprintf(&sb, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Page %d</title></head><body><h1>쪽 %d</h1>", i, i)
		for k := 0; k < 20; k++ {
			sb.WriteString("<p>모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다. All human beings are born free and equal.</p>")
		}
		for j := 10*i + 1; j <= 10*i+10 && j < n; j++ {
			fmt.Fprintf(&sb, "<a href=\"/p/%d.html\">%d</a> ", j, j)
		}
		sb.WriteString("</body></html>")
		return []byte(sb.String())
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			w.Write([]byte("User-agent: *\nDisallow: /nothing/\n"))
			return
		}
		s, ok := strings.CutPrefix(r.URL.Path, "/p/")
		i, err := strconv.Atoi(strings.TrimSuffix(s, ".html"))
		if !ok || err != nil || i < 0 || i >= n {
			http.NotFound(w, r)
			return
		}
		et := `"p` + strconv.Itoa(i) + `"`
		w.Header().Set("ETag", et)
		if r.Header.Get("If-None-Match") == et {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(body(i))
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkHarvest10k: go test -run '^$' -bench Harvest10k -benchtime 1x
// ./internal/publish/harvest (a minute or so on 2 cores). The CPU time
// includes the origin server's, which runs in the same process.
func BenchmarkHarvest10k(b *testing.B) {
	n := 10000
	if v, err := strconv.Atoi(os.Getenv("FERRY_BENCH_PAGES")); err == nil && v > 0 {
		n = v // a smaller site for a quick look
	}
	srv := benchSite(b, n)
	opts := func(dir string) Options {
		return Options{
			Out: filepath.Join(dir, "out"), StateDir: filepath.Join(dir, "state"),
			Delay: -1, PerHost: 8, Concurrency: 8, AllowPrivate: true, Timeout: 30 * time.Second,
		}
	}
	src := []Source{{Kind: Site, URL: srv.URL + "/p/0.html", Depth: 5, MaxPages: n}}
	run := func(b *testing.B, o Options, wantFetched, wantUnchanged int) {
		h, err := New(o)
		if err != nil {
			b.Fatal(err)
		}
		cpu0 := cpuclock.Process()
		t0 := time.Now()
		sum, err := h.Run(context.Background(), src)
		if err != nil {
			b.Fatal(err)
		}
		el := time.Since(t0)
		if sum.Fetched < wantFetched || sum.Unchanged < wantUnchanged || sum.Failed != 0 {
			b.Fatalf("fetched %d unchanged %d failed %d", sum.Fetched, sum.Unchanged, sum.Failed)
		}
		b.ReportMetric(float64(n)/el.Seconds(), "pages/s")
		b.ReportMetric((cpuclock.Process() - cpu0).Seconds(), "cpu-s")
		b.ReportMetric(float64(sum.Bytes)/1e6, "MB-received")
	}
	b.Run("first", func(b *testing.B) {
		for range b.N {
			run(b, opts(b.TempDir()), n, 0)
		}
		reportRSS(b)
	})
	b.Run("unchanged", func(b *testing.B) {
		dir := b.TempDir()
		h, _ := New(opts(dir))
		if _, err := h.Run(context.Background(), src); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for range b.N {
			run(b, opts(dir), 0, n)
		}
		reportRSS(b)
	})
	// An audit: the first run's WARC replayed with no web (Replay), from
	// reading the WARC to the rebuilt output.
	b.Run("replay", func(b *testing.B) {
		h, _ := New(opts(b.TempDir()))
		sum, err := h.Run(context.Background(), src)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		for range b.N {
			cpu0 := cpuclock.Process()
			t0 := time.Now()
			rp, err := NewReplay(sum.WARC)
			if err != nil {
				b.Fatal(err)
			}
			o := opts(b.TempDir())
			o.Transport = rp
			h, _ := New(o)
			got, err := h.Run(context.Background(), src)
			if err != nil || got.Fetched < n || got.Failed != 0 {
				b.Fatalf("replay: %v, fetched %d failed %d", err, got.Fetched, got.Failed)
			}
			b.ReportMetric(float64(n)/time.Since(t0).Seconds(), "pages/s")
			b.ReportMetric((cpuclock.Process() - cpu0).Seconds(), "cpu-s")
		}
		reportRSS(b)
	})
}
