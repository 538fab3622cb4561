// Command publish measures the publisher's service and its carriers, and
// prints Markdown tables for docs/benchmarks.md:
//
//		go run ./bench/publish                 # everything (several minutes)
//		go run ./bench/publish -only harvest   # one part: harvest, s3, serve, get
//
//	  - harvest: `publish.Run` of a channel crawling a 10,000-page site of our
//	    own writing from a local origin server, twice (the second run finds
//	    everything unchanged: all 304s, nothing published). Each run is a
//	    child process, so its CPU time and peak RSS are its own; both include
//	    the origin server's.
//	  - s3: 100 small channels published into SeaweedFS (bash .ci/seaweedfs.sh
//	    builds it), by one worker and by four at once.
//	  - serve: requests per second of `mirror.Handler` over a folder store
//	    and over the S3 store, side by side with Go's http.FileServer on the
//	    same folder (the floor for serving files), 8 clients at once.
//	  - get: the bytes `mirror.Get` fetches for weekly updates (5% of the
//	    pages rewritten, 1% added, 0.5% removed each week) against the size
//	    of the full edition, for a reader who gets every week, one who gets
//	    every fourth week and a new reader.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing/fstest"
	"time"

	"ferry/internal/carry/mirror"
	"ferry/internal/key"
	"ferry/internal/library"
	"ferry/internal/progress"
	"ferry/internal/publish"
	"ferry/internal/publish/config"
	"ferry/internal/publish/index"
	"ferry/internal/store"
	"ferry/internal/store/s3test"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/cpuclock"
	"ferry/internal/trust"
)

var (
	only     = flag.String("only", "", "run only these parts (comma-separated: harvest, s3, serve, get)")
	pages    = flag.Int("pages", 10000, "pages of the harvested site")
	channels = flag.Int("channels", 100, "channels published into S3")
	weeks    = flag.Int("weeks", 9, "weekly editions for the get measurement")
	child    = flag.String("child", "", "internal: run one harvest publish in this state folder")
	port     = flag.String("addr", "", "internal: the origin's address (the same for both runs: the state is kept by URL)")
)

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench/publish:", err)
	os.Exit(1)
}

func want(part string) bool {
	if *only == "" {
		return true
	}
	for _, p := range strings.Split(*only, ",") {
		if strings.TrimSpace(p) == part {
			return true
		}
	}
	return false
}

func main() {
	flag.Parse()
	if *child != "" {
		harvestChild(*child)
		return
	}
	dir, err := os.MkdirTemp("", "ferry-bench-publish-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	if want("harvest") {
		benchHarvest(filepath.Join(dir, "harvest"))
	}
	var srv *s3test.Server
	if want("s3") || want("serve") {
		srv, err = s3test.StartServer(mkdir(filepath.Join(dir, "weed")))
		if err != nil {
			fmt.Printf("\nS3 parts skipped: %v\n", err)
		} else {
			defer srv.Stop()
		}
	}
	if srv != nil && want("s3") {
		benchS3(srv, filepath.Join(dir, "s3"))
	}
	if srv != nil && want("serve") {
		benchServe(srv, filepath.Join(dir, "serve"))
	}
	if want("get") {
		benchGet(filepath.Join(dir, "get"))
	}
}

func mkdir(d string) string {
	if err := os.MkdirAll(d, 0o755); err != nil {
		fail(err)
	}
	return d
}

func writeSite(dir string, fs fstest.MapFS) {
	os.RemoveAll(dir)
	for p, f := range fs {
		full := filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, f.Data, 0o644); err != nil {
			fail(err)
		}
	}
}

func newKey(dir string) (string, key.Public) {
	s, err := key.Generate()
	if err != nil {
		fail(err)
	}
	base := filepath.Join(mkdir(dir), "bench")
	if err := key.WriteFiles(base, s, "bench"); err != nil {
		fail(err)
	}
	return base + ".key", s.Public()
}

// --- harvest ---

type childResult struct {
	Fetched, Unchanged, Failed, Pages int
	Bytes                             int64
	HarvestSeconds, TotalSeconds      float64
	CPUSeconds                        float64
	PeakRSSMB                         float64
	Published, Unchanged2             bool
	FullBytes, WARCBytes              int64
}

// harvestChild is one publish run, in its own process.
func harvestChild(dir string) {
	site, err := corpus.Site(corpus.Options{Pages: *pages, Seed: 42})
	if err != nil {
		fail(err)
	}
	ln, err := net.Listen("tcp", *port)
	if err != nil {
		fail(err)
	}
	o := httptest.NewUnstartedServer(&originHandler{site: site})
	o.Listener.Close()
	o.Listener = ln
	o.Start()
	defer o.Close()
	k := filepath.Join(dir, "keys", "bench.key")
	cfgPath := filepath.Join(dir, "ferry.toml")
	cfg := fmt.Sprintf(`[harvest]
delay = "0s"
concurrency = 8
per_host = 8
retries = 0
allow_private = true
state = "state"

[[channel]]
name = "site"
title = "10,000 pages"
languages = ["ko", "en"]
key = %q
store = "store"

[[channel.source]]
site = %q
depth = 2
max_pages = %d
resources = false
sitemap = false
`, k, o.URL+"/", *pages+10)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		fail(err)
	}
	c, err := config.Load(cfgPath)
	if err != nil {
		fail(err)
	}
	start := time.Now()
	res, err := publish.Run(context.Background(), c, publish.Options{})
	if err != nil {
		fail(err)
	}
	r := res[0]
	h := r.Harvest
	out := childResult{Fetched: h.Fetched, Unchanged: h.Unchanged, Failed: h.Failed, Pages: len(h.Pages), Bytes: h.Bytes,
		HarvestSeconds: h.Duration.Seconds(), TotalSeconds: time.Since(start).Seconds(),
		CPUSeconds: cpuclock.Process().Seconds(), PeakRSSMB: peakRSSMB(), Published: r.Published, Unchanged2: r.Unchanged,
		FullBytes: r.FullBytes, WARCBytes: r.WARCBytes}
	json.NewEncoder(os.Stdout).Encode(out)
}

// originHandler serves a site with ETags and 304s.
type originHandler struct{ site fstest.MapFS }

func (o *originHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	if name == "robots.txt" {
		w.Write([]byte("User-agent: *\nAllow: /\n"))
		return
	}
	if name == "" {
		name = "index.html"
	}
	f := o.site[name]
	if f == nil {
		http.NotFound(w, r)
		return
	}
	et := fmt.Sprintf(`"%x"`, len(f.Data)*31+int(f.Data[len(f.Data)/2]))
	w.Header().Set("ETag", et)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if r.Header.Get("If-None-Match") == et {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(f.Data)
}

func benchHarvest(dir string) {
	mkdir(dir)
	newKey(filepath.Join(dir, "keys"))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var rows []childResult
	for range 2 {
		cmd := exec.Command(os.Args[0], "-child", dir, "-pages", fmt.Sprint(*pages), "-addr", addr)
		cmd.Dir = dir
		cmd.Stderr = os.Stderr
		b, err := cmd.Output()
		if err != nil {
			fail(fmt.Errorf("harvest child: %w", err))
		}
		var r childResult
		if err := json.Unmarshal(b, &r); err != nil {
			fail(err)
		}
		rows = append(rows, r)
	}
	fmt.Printf("\n### Harvest and publish of a %d-page local site\n\n", *pages)
	fmt.Println("| run | pages fetched / unchanged / failed | harvest pages/s | whole publish | CPU | peak RSS | received | published |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for i, r := range rows {
		name := "first (empty state)"
		pub := fmt.Sprintf("edition 1: %s, WARC %s", progress.Bytes(r.FullBytes), progress.Bytes(r.WARCBytes))
		if i == 1 {
			name = "second, nothing changed"
			pub = "nothing (unchanged)"
			if r.Published {
				pub = "edition 2 (unexpected)"
			}
		}
		fmt.Printf("| %s | %d / %d / %d | %.0f | %.1f s | %.1f s (%.2f ms/page) | %.0f MB | %s | %s |\n", name,
			r.Fetched, r.Unchanged, r.Failed, float64(r.Pages)/r.HarvestSeconds, r.TotalSeconds, r.CPUSeconds,
			1000*r.CPUSeconds/float64(r.Pages), r.PeakRSSMB, progress.Bytes(r.Bytes), pub)
	}
}

// --- s3 ---

func s3Config(srv *s3test.Server, dir, prefix, keyPath string, names []string, sites map[string]string) *config.Config {
	var b strings.Builder
	fmt.Fprintf(&b, "[harvest]\nstate = %q\n\n[s3]\nendpoint = %q\naccess_key_id = %q\nsecret_access_key = %q\npath_style = true\n\n",
		filepath.Join(dir, "state"), srv.Endpoint, srv.AccessKey, srv.SecretKey)
	for _, n := range names {
		fmt.Fprintf(&b, "[[channel]]\nname = %q\ntitle = %q\nlanguages = [\"ko\"]\nkey = %q\nstore = %q\n\n[[channel.source]]\npath = %q\n\n",
			n, n, keyPath, srv.URL(prefix), sites[n])
	}
	p := filepath.Join(mkdir(dir), "ferry.toml")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		fail(err)
	}
	c, err := config.Load(p)
	if err != nil {
		fail(err)
	}
	return c
}

func benchS3(srv *s3test.Server, dir string) {
	keyPath, _ := newKey(filepath.Join(dir, "keys"))
	sites := map[string]string{}
	var names []string
	for i := range *channels {
		n := fmt.Sprintf("ch%03d", i)
		names = append(names, n)
		s, err := corpus.Site(corpus.Options{Pages: 10, Seed: uint64(i)})
		if err != nil {
			fail(err)
		}
		sites[n] = filepath.Join(dir, "sites", n)
		writeSite(sites[n], s)
	}
	// SeaweedFS makes its first volumes on the first writes: not measured.
	warm := s3Config(srv, filepath.Join(dir, "warm"), "warm", keyPath, []string{names[0]}, sites)
	if _, err := publish.Run(context.Background(), warm, publish.Options{}); err != nil {
		fail(err)
	}
	fmt.Printf("\n### %d small channels published into SeaweedFS\n\n", *channels)
	fmt.Println("| workers | wall time | per channel | CPU of this process | objects in the store |")
	fmt.Println("|---|---|---|---|---|")
	for _, workers := range []int{1, 4} {
		prefix := fmt.Sprintf("bench%d", workers)
		var cfgs []*config.Config
		for w := range workers {
			var mine []string
			for i, n := range names {
				if i%workers == w {
					mine = append(mine, n)
				}
			}
			cfgs = append(cfgs, s3Config(srv, filepath.Join(dir, fmt.Sprintf("%s-w%d", prefix, w)), prefix, keyPath, mine, sites))
		}
		cpu0 := cpuclock.Process()
		start := time.Now()
		var wg sync.WaitGroup
		var errs atomic.Int64
		for _, c := range cfgs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := publish.Run(context.Background(), c, publish.Options{}); err != nil {
					fmt.Fprintln(os.Stderr, err)
					errs.Add(1)
				}
			}()
		}
		wg.Wait()
		wall := time.Since(start)
		if errs.Load() > 0 {
			fail(fmt.Errorf("%d workers failed", errs.Load()))
		}
		st, err := store.Open(context.Background(), srv.URL(prefix), store.Options{S3: store.S3Options{
			Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}})
		if err != nil {
			fail(err)
		}
		n := 0
		st.List(context.Background(), "", func(store.Info) error { n++; return nil })
		rc, _, err := st.Get(context.Background(), index.ChannelsKey)
		if err != nil {
			fail(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		list, err := index.ParseChannels(b)
		if err != nil || len(list.Channels) != *channels {
			fail(fmt.Errorf("channels.json lists %d channels: %v", len(list.Channels), err))
		}
		fmt.Printf("| %d | %.1f s | %.0f ms | %.1f s | %d (channels.json lists all %d) |\n", workers, wall.Seconds(),
			wall.Seconds()*1000/float64(*channels), (cpuclock.Process() - cpu0).Seconds(), n, len(list.Channels))
	}
}

// --- serve ---

func benchServe(srv *s3test.Server, dir string) {
	ctx := context.Background()
	keyPath, _ := newKey(filepath.Join(dir, "keys"))
	site := filepath.Join(dir, "site")
	s, err := corpus.Site(corpus.Options{Pages: 300, Seed: 9, Pictures: true})
	if err != nil {
		fail(err)
	}
	writeSite(site, s)
	folder := mkdir(filepath.Join(dir, "store"))
	for _, loc := range []string{folder, srv.URL("serve")} {
		c := s3Config(srv, filepath.Join(dir, "cfg"+fmt.Sprint(len(loc))), "serve", keyPath, []string{"news"}, map[string]string{"news": site})
		c.Channels[0].Store = loc
		if _, err := publish.Run(ctx, c, publish.Options{}); err != nil {
			fail(err)
		}
	}
	fst, err := store.NewFolder(folder)
	if err != nil {
		fail(err)
	}
	sst, err := store.Open(ctx, srv.URL("serve"), store.Options{S3: store.S3Options{
		Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}})
	if err != nil {
		fail(err)
	}
	ed := "news/editions/000001.ferry"
	info, _ := fst.Stat(ctx, ed)
	servers := []struct {
		name string
		h    http.Handler
	}{
		{"mirror.Handler, folder store", mirror.Handler(fst, mirror.ServeOptions{})},
		{"mirror.Handler, S3 store", mirror.Handler(sst, mirror.ServeOptions{})},
		{"http.FileServer, same folder", http.FileServer(http.Dir(folder))},
	}
	reqs := []struct{ name, path, rng string }{
		{"index.json", "/news/index.json", ""},
		{"64 KiB range of an edition", "/" + ed, "bytes=65536-131071"},
		{fmt.Sprintf("whole edition (%s)", progress.Bytes(info.Size)), "/" + ed, ""},
		// FileServer serves the stored catalogue; the Handler makes it with
		// absolute links from the channel list.
		{"OPDS catalogue", "/catalog.opds.xml", ""},
	}
	fmt.Printf("\n### Mirror serving, 8 clients at once on loopback, 3 s per cell\n\n")
	fmt.Print("| server |")
	for _, r := range reqs {
		fmt.Printf(" %s |", r.name)
	}
	fmt.Print("\n|---|")
	for range reqs {
		fmt.Print("---|")
	}
	fmt.Println()
	for _, sv := range servers {
		hs := httptest.NewServer(sv.h)
		fmt.Printf("| %s |", sv.name)
		for _, r := range reqs {
			n, bytes := load(hs.URL+r.path, r.rng, 8, 3*time.Second)
			fmt.Printf(" %.0f req/s (%.0f MB/s) |", n, bytes/1e6)
		}
		fmt.Println()
		hs.Close()
	}
}

// load fetches url with c clients for d and returns requests and bytes per second.
func load(url, rng string, c int, d time.Duration) (float64, float64) {
	var n, bytes atomic.Int64
	deadline := time.Now().Add(d)
	tr := &http.Transport{MaxIdleConnsPerHost: c, DisableCompression: true}
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				if rng != "" {
					req.Header.Set("Range", rng)
				}
				resp, err := client.Do(req)
				if err != nil {
					fail(err)
				}
				m, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 && resp.StatusCode != 206 {
					fail(fmt.Errorf("%s: %s", url, resp.Status))
				}
				n.Add(1)
				bytes.Add(m)
			}
		}()
	}
	wg.Wait()
	tr.CloseIdleConnections()
	return float64(n.Load()) / d.Seconds(), float64(bytes.Load()) / d.Seconds()
}

// --- get ---

func benchGet(dir string) {
	ctx := context.Background()
	keyPath, pub := newKey(filepath.Join(dir, "keys"))
	const n = 2000
	opts := corpus.Options{Pages: n, Seed: 5, Pictures: true}
	s, err := corpus.Site(opts)
	if err != nil {
		fail(err)
	}
	site := filepath.Join(dir, "site")
	writeSite(site, s)
	loc := mkdir(filepath.Join(dir, "store"))
	cfgPath := filepath.Join(dir, "ferry.toml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf("[harvest]\nstate = \"state\"\n\n[[channel]]\nname = \"weekly\"\ntitle = \"weekly\"\nlanguages = [\"ko\", \"en\"]\nkey = %q\nstore = %q\n\n[[channel.source]]\npath = %q\n",
		keyPath, loc, site)), 0o644)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		fail(err)
	}
	origin, err := mirror.Open(ctx, loc, mirror.OpenOptions{})
	if err != nil {
		fail(err)
	}
	newLib := func(name string) string {
		d := filepath.Join(dir, name)
		l, err := library.Load(d, true)
		if err != nil {
			fail(err)
		}
		l.State.Trust.Add(trust.Anchor{Label: "bench", Keys: []key.Public{pub}, Threshold: 1})
		if err := l.Save(); err != nil {
			fail(err)
		}
		return d
	}
	weekly, monthly := newLib("weekly-reader"), newLib("monthly-reader")
	get := func(lib string) int64 {
		res, err := mirror.Get(ctx, origin, mirror.GetOptions{Library: lib})
		if err != nil {
			fail(err)
		}
		return res.Bytes
	}
	fmt.Printf("\n### `get` for weekly editions of a %d-page site (5%% of pages rewritten, 1%% added, 0.5%% removed a week)\n\n", n)
	fmt.Println("| week | full edition | its delta | weekly reader fetched | ÷ full | reader every 4th week fetched | new reader fetched |")
	fmt.Println("|---|---|---|---|---|---|---|")
	total, totalFull := int64(0), int64(0)
	for week := 1; week <= *weeks; week++ {
		if week > 1 {
			var removed []int
			for i := range n / 200 {
				removed = append(removed, (week*37+i*199)%n)
			}
			next, _, err := corpus.Edit(s, corpus.Options{Pages: n, Seed: uint64(100 + week), Pictures: true}, 20, removed, n/100)
			if err != nil {
				fail(err)
			}
			s = next
			writeSite(site, s)
		}
		res, err := publish.Run(ctx, cfg, publish.Options{})
		if err != nil {
			fail(err)
		}
		r := res[0]
		w := get(weekly)
		m := "—"
		if week%4 == 1 {
			m = progress.Bytes(get(monthly))
		}
		fresh := get(newLib(fmt.Sprintf("new-%d", week)))
		chain := ""
		if r.NewChain && week > 1 {
			chain = " (new chain)"
		}
		if week > 1 {
			total += w
			totalFull += r.FullBytes
		}
		fmt.Printf("| %d%s | %s | %s | %s | %.3f | %s | %s |\n", week, chain, progress.Bytes(r.FullBytes), progress.Bytes(r.DeltaBytes),
			progress.Bytes(w), float64(w)/float64(r.FullBytes), m, progress.Bytes(fresh))
	}
	fmt.Printf("\nWeeks 2–%d: the weekly reader fetched %s in all, %.3f× what the full editions would have cost (%s).\n",
		*weeks, progress.Bytes(total), float64(total)/float64(totalFull), progress.Bytes(totalFull))
}
