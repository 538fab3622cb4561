package reader

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ferry/internal/glossary"
	"ferry/internal/key"
	"ferry/internal/testkit/cpuclock"
	"ferry/internal/testkit/korquad"
)

// benchServer serves the sample and the real test archives from files (as
// `ferry serve` does) on loopback.
func benchServer(b *testing.B) *httptest.Server {
	b.Helper()
	libs, err := OpenPaths([]string{benchLibDir(b)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { Close(libs) })
	srv := httptest.NewServer(New(libs, Options{}))
	b.Cleanup(srv.Close)
	return srv
}

// benchLibDir writes the archives benchServer serves into a new folder.
func benchLibDir(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	k := publisherKey(b)
	files := map[string][]byte{
		// The sample's pages packed as Korean, so that they carry
		// glossary marks (the committed sample predates them).
		"sample.ferry": packFolder(b, "../sample/content", "ferry-sample", []string{"ko", "en"}, k),
		"udhr.ferry":   packDir(b, "udhr", "udhr", []string{"ko", "en"}, k),
		"enwiki.ferry": packDir(b, "html/enwiki_raycharles", "enwiki", []string{"en"}, k),
		// KorQuAD's articles as Wikipedia-like pages: the pages word notes
		// are for.
		"korquad.ferry": packKorQuAD(b, k),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// packKorQuAD packs the KorQuAD articles as pages A/<title>, as Korean.
func packKorQuAD(b *testing.B, k *key.Secret) []byte {
	dir := filepath.Join(os.TempDir(), "ferry-bench-korquad-"+strconv.Itoa(os.Getpid()))
	if _, ok := packed.Load(dir); !ok {
		if _, err := korquad.Load(b).WriteFolder(dir, 1); err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(dir)
	}
	return packFolder(b, dir, "korquad", []string{"ko"}, k)
}

// korquadPage is the path of the KorQuAD page with the most glossed words.
func korquadPage(b *testing.B) string {
	set := korquad.Load(b)
	best, most := 0, -1
	for i := range set.Articles {
		if n := len(glossary.Default().FindMarks(set.HTML(i, 0), glossary.Options{}).Words); n > most {
			best, most = i, n
		}
	}
	return "/a/korquad/" + (&url.URL{Path: korquad.Path(set.Articles[best].Title)}).EscapedPath()
}

// load runs GET url from parallel clients over kept-alive connections and
// reports requests per second.
func load(b *testing.B, srv *httptest.Server, target string, hdr ...string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}}
	b.Cleanup(client.CloseIdleConnections)
	get := func() (int, error) {
		req, _ := http.NewRequest("GET", srv.URL+target, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 && resp.StatusCode != 206 {
			return 0, &statusError{resp.StatusCode}
		}
		return int(n), nil
	}
	n, err := get() // warm the caches
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(n))
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := get(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

type statusError struct{ code int }

func (e *statusError) Error() string { return "status " + strconv.Itoa(e.code) }

func BenchmarkArticleSample(b *testing.B) {
	load(b, benchServer(b), "/a/sample/ko/safety.html")
}

func BenchmarkArticleWikipedia(b *testing.B) {
	srv := benchServer(b)
	load(b, srv, "/a/enwiki/A/Ray_Charles")
}

func BenchmarkImage(b *testing.B) {
	load(b, benchServer(b), "/a/sample/img/path.png")
}

func BenchmarkAudioRange(b *testing.B) {
	load(b, benchServer(b), "/a/sample/media/signal.wav", "Range", "bytes=20000-29999")
}

func BenchmarkSearchEnglish(b *testing.B) {
	load(b, benchServer(b), "/search?q=music+record")
}

func BenchmarkSearchKorean(b *testing.B) {
	load(b, benchServer(b), "/search?q=%EC%9D%B8%EA%B6%8C")
}

func BenchmarkSuggest(b *testing.B) {
	load(b, benchServer(b), "/suggest?q=ra")
}

// BenchmarkServerMemory reports the heap and the process RSS with every
// test archive open, after one pass over all their articles and a few
// searches (caches warm).
func BenchmarkServerMemory(b *testing.B) {
	srv := benchServer(b)
	for i := 0; i < b.N; i++ {
		for _, q := range []string{"music", "인권", "라지오", "freedom"} {
			resp, err := http.Get(srv.URL + "/search?q=" + q)
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		for _, l := range []string{"sample", "udhr", "enwiki"} {
			resp, err := http.Get(srv.URL + "/list/" + l)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, part := range strings.Split(string(body), `href="/a/`)[1:] {
				u := "/a/" + part[:strings.IndexByte(part, '"')]
				if r, err := http.Get(srv.URL + u); err == nil {
					io.Copy(io.Discard, r.Body)
					r.Body.Close()
				}
			}
		}
	}
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
	if rss := vmRSS(); rss > 0 {
		b.ReportMetric(float64(rss)/(1<<20), "rss-MiB")
	}
}

// vmRSS reads the resident set size from /proc (Linux), or 0.
func vmRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkArticleNotes serves Korean articles with word notes off and on
// and reports the process's CPU time per request (the server's cost;
// client and server share the process, so the difference of the two is
// what glossing adds): whole-page glossing must cost at most 10% more
// (issue 19). Run: go test ./internal/reader -run '^$' -bench ArticleNotes -benchtime 3s
func BenchmarkArticleNotes(b *testing.B) {
	srv := benchServer(b)
	h := srv.Config.Handler.(*Handler)
	for _, page := range []string{korquadPage(b), "/a/udhr/kor.html", "/a/sample/ko/safety.html", "/a/sample/ko/glossary.html"} {
		for _, mode := range []string{"/ko-g0", "/ko", "/ko-marks", "/ko-first", "/ko-fresh"} {
			name := strings.TrimPrefix(mode, "/") + strings.ReplaceAll(page, "/", "_")
			if strings.HasPrefix(page, "/a/korquad/") {
				name = strings.TrimPrefix(mode, "/") + "_korquad"
			}
			b.Run(name, func(b *testing.B) {
				// ko: the glossed page is kept whole; ko-marks: only where
				// its words are (marked again per view); ko-first: every
				// view is a first view (nothing kept here), with the marks
				// the archive keeps; ko-fresh: the same without them (the
				// words found on every view).
				first := mode == "/ko-first" || mode == "/ko-fresh"
				h.marks.mu.Lock()
				h.marks.off, h.marks.m, h.marks.order, h.marks.words = first, nil, nil, 0
				h.marks.noStored = mode == "/ko-fresh"
				h.marks.mu.Unlock()
				h.pages.mu.Lock()
				h.pages.off, h.pages.m, h.pages.order, h.pages.bytes = mode != "/ko", nil, nil, 0
				h.pages.mu.Unlock()
				prefix := "/ko"
				if mode == "/ko-g0" {
					prefix = mode
				}
				before := cpuclock.Process()
				load(b, srv, prefix+page)
				cpu := cpuclock.Process() - before
				b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/req")
			})
		}
	}
}

// BenchmarkFirstView measures what word notes add to the server's work
// for a page's first view, in the handler alone (no network, no client):
// requests with notes off, on with the archive's stored marks, and on
// finding the words, interleaved one by one on one locked thread, each
// timed by the thread's own CPU time (CLOCK_THREAD_CPUTIME_ID), so that
// other load on the machine drifts all three alike; the median of each
// page's requests counts (GC work done by the runtime's own threads is
// not in it). Reports µs of CPU per request for each (korquad-all: the
// mean over KorQuAD's 140 articles, one round of all per b.N) and the
// ratios to notes off.
// Run: go test ./internal/reader -run '^$' -bench FirstView -benchtime 15x
func BenchmarkFirstView(b *testing.B) {
	srv := benchServer(b)
	h := srv.Config.Handler.(*Handler)
	h.pages.mu.Lock()
	h.pages.off = true
	h.pages.mu.Unlock()
	set := korquad.Load(b)
	var all []string // every KorQuAD article, in turn
	for _, a := range set.Articles {
		all = append(all, "/a/korquad/"+(&url.URL{Path: korquad.Path(a.Title)}).EscapedPath())
	}
	for _, page := range []string{"all", korquadPage(b), "/a/udhr/kor.html", "/a/sample/ko/safety.html", "/a/sample/ko/glossary.html"} {
		name := strings.ReplaceAll(strings.TrimPrefix(page, "/a/"), "/", "_")
		switch {
		case page == "all":
			name = "korquad-all"
		case strings.HasPrefix(page, "/a/korquad/"):
			name = "korquad-most-words"
		}
		b.Run(name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			modes := []struct {
				prefix, name string
				noStored     bool
			}{
				{prefix: "/ko-g0", name: "off"},
				{prefix: "/ko", name: "stored"},
				{prefix: "/ko", noStored: true, name: "found"},
			}
			pages := []string{page}
			if page == "all" {
				pages = all
			}
			// samples[mode][page]: each request's CPU time; the median
			// per page is robust to requests that a preemption or a GC
			// assist lengthened.
			samples := make([][][]time.Duration, len(modes))
			for k := range samples {
				samples[k] = make([][]time.Duration, len(pages))
			}
			for i := range b.N + 1 {
				for pi, p := range pages {
					for k, m := range modes {
						h.marks.mu.Lock()
						h.marks.off, h.marks.m, h.marks.order, h.marks.words, h.marks.noStored = true, nil, nil, 0, m.noStored
						h.marks.mu.Unlock()
						c0 := cpuclock.Thread()
						var w *httptest.ResponseRecorder
						// Labelled, so that a -cpuprofile can be split by mode
						// (go tool pprof -tagfocus mode=stored).
						pprof.Do(context.Background(), pprof.Labels("mode", m.name), func(context.Context) {
							w = do(h, "GET", m.prefix+p)
						})
						if i > 0 { // the first round warms the caches
							samples[k][pi] = append(samples[k][pi], cpuclock.Thread()-c0)
						}
						if w.Code != 200 {
							b.Fatalf("%s: %d", m.prefix+p, w.Code)
						}
					}
				}
			}
			var sum [3]float64 // µs per article, the medians' mean
			for k := range modes {
				for _, ds := range samples[k] {
					slices.Sort(ds)
					sum[k] += float64(ds[len(ds)/2].Nanoseconds()) / 1e3 / float64(len(pages))
				}
			}
			for k, m := range modes {
				b.ReportMetric(sum[k], m.name+"-µs")
				if k > 0 {
					b.ReportMetric(sum[k]/sum[0], m.name+"/off")
				}
			}
		})
	}
}
