package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"ferry/internal/publish/config"
	"ferry/internal/publish/index"
	"ferry/internal/publish/opds"
	"ferry/internal/publish/publishtest"
	"ferry/internal/store"
	"ferry/internal/store/s3test"
	"ferry/internal/testkit/corpus"
)

// opener opens the store a test publishes into.
type opener func(ctx context.Context, loc string) (store.Store, error)

// pathChannel writes a made-up site into a folder and returns a config
// publishing it from there (no web: the race tests are about the store).
func pathChannel(t *testing.T, dir, name, keyPath, storeLoc, site string) *config.Config {
	t.Helper()
	path := publishtest.Config(t, dir, name+".toml", filepath.Join(dir, "state-"+name), publishtest.Channel{
		Name: strings.SplitN(name, "@", 2)[0], Key: keyPath, Store: storeLoc, Sources: []string{`path = "` + filepath.ToSlash(site) + `"`},
	})
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func writeSite(t *testing.T, dir string, fs fstest.MapFS) {
	t.Helper()
	os.RemoveAll(dir)
	if err := corpus.WriteDir(dir, fs); err != nil {
		t.Fatal(err)
	}
}

// testRace runs 4 workers at once, each on its own state folder (as on
// four machines), against one store: first on one channel, for three
// rounds (an edition number is published once, the losers get
// ErrConflict and leave nothing behind, the index loses no edition), then
// on four channels at once (the shared channel list and catalogue lose no
// channel).
func testRace(t *testing.T, open opener, loc string) {
	ctx := context.Background()
	dir := t.TempDir()
	_, k, _ := publishtest.Key(t, dir, "news")
	site := filepath.Join(dir, "site")
	pages, _ := corpus.Site(corpus.Options{Pages: 8, Seed: 1})
	writeSite(t, site, pages)
	var workers []*config.Config
	for i := range 4 {
		workers = append(workers, pathChannel(t, dir, fmt.Sprintf("news@%d", i), k, loc, site))
	}
	opts := Options{OpenStore: open}
	published := 0
	for round := range 3 {
		next, _, err := corpus.Edit(pages, corpus.Options{Pages: 8, Seed: uint64(round)}, 2, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		pages = next
		writeSite(t, site, pages)
		var wg sync.WaitGroup
		results := make([]*Result, 4)
		start := make(chan struct{})
		for i, cfg := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res, _ := Run(ctx, cfg, opts)
				results[i] = res[0]
			}()
		}
		close(start)
		wg.Wait()
		wins := map[uint64]int{}
		for i, r := range results {
			switch {
			case r.Err == nil && r.Published:
				wins[r.Edition]++
				published++
			case r.Err == nil && r.Unchanged:
				// it read the index after another worker published this content
			case errors.Is(r.Err, ErrConflict):
			default:
				t.Fatalf("round %d worker %d: %v", round, i, r.Err)
			}
		}
		if len(wins) == 0 {
			t.Fatalf("round %d: nobody published", round)
		}
		for e, n := range wins {
			if n != 1 {
				t.Fatalf("round %d: edition %d published %d times", round, e, n)
			}
		}
	}
	st, err := open(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	ix := checkStore(t, st, "news")
	if len(ix.Editions) != published || int(ix.Sequence) != published {
		t.Fatalf("%d editions published, the index lists %d (sequence %d)", published, len(ix.Editions), ix.Sequence)
	}
	for i, e := range ix.Editions[1:] {
		if e.Delta == nil || e.Delta.Base != ix.Chain(e.Delta.ID)[len(ix.Chain(e.Delta.ID))-2].ID || e.Delta.BaseEdition != ix.Editions[i].Edition {
			t.Fatalf("edition %d does not build on edition %d", e.Edition, ix.Editions[i].Edition)
		}
	}

	// Four channels at once into the same store.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range 4 {
		cfg := pathChannel(t, dir, fmt.Sprintf("ch%d", i), k, loc, site)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = Run(ctx, cfg, opts)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("channel %d: %v", i, err)
		}
	}
	rc, _, err := st.Get(ctx, index.ChannelsKey)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	list, err := index.ParseChannels(b)
	if err != nil || len(list.Channels) != 5 {
		t.Fatalf("channels.json: %v, %d channels, want 5", err, len(list.Channels))
	}
	rc, _, err = st.Get(ctx, index.CatalogKey)
	if err != nil {
		t.Fatal(err)
	}
	feed, _ := io.ReadAll(rc)
	rc.Close()
	if want := opds.Feed("", opds.Title, list.Channels, list.Updated); string(feed) != string(want) {
		t.Fatalf("the catalogue is not made from the final channel list:\n%s", feed)
	}
}

// hookStore calls before once when a key with the given part is first put.
type hookStore struct {
	store.Store
	part   string
	before func()
	once   sync.Once
}

func (h *hookStore) Put(ctx context.Context, k string, r io.Reader, size int64, c store.Cond) (store.Info, error) {
	if strings.Contains(k, h.part) {
		h.once.Do(h.before)
	}
	return h.Store.Put(ctx, k, r, size, c)
}

// TestConflictAfterClaim: worker A claims edition 2, and while it uploads
// its delta worker B, seeing 2 taken, publishes edition 3 on edition 1. A's
// index update then fails (its base is no longer the latest), it says so,
// and removes what it uploaded; the index goes 1, 3.
func TestConflictAfterClaim(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	_, k, _ := publishtest.Key(t, dir, "news")
	site := filepath.Join(dir, "site")
	pages, _ := corpus.Site(corpus.Options{Pages: 8, Seed: 1})
	writeSite(t, site, pages)
	loc := filepath.Join(dir, "store")
	os.MkdirAll(loc, 0o755)
	a := pathChannel(t, dir, "news@a", k, loc, site)
	b := pathChannel(t, dir, "news@b", k, loc, site)
	if _, err := Run(ctx, a, Options{}); err != nil {
		t.Fatal(err)
	}
	next, _, _ := corpus.Edit(pages, corpus.Options{Pages: 8, Seed: 1}, 2, nil, 1)
	writeSite(t, site, next)
	var bres []*Result
	hook := func(ctx context.Context, l string) (store.Store, error) {
		st, err := store.Open(ctx, l, store.Options{})
		return &hookStore{Store: st, part: "deltas/", before: func() {
			bres, _ = Run(ctx, b, Options{})
		}}, err
	}
	ares, err := Run(ctx, a, Options{OpenStore: hook})
	if !errors.Is(err, ErrConflict) || !strings.Contains(err.Error(), "edition 3 was published") {
		t.Fatalf("A: %v", err)
	}
	if bres[0].Err != nil || bres[0].Edition != 3 || ares[0].Edition != 2 {
		t.Fatalf("B: %+v", bres[0])
	}
	st, _ := store.NewFolder(loc)
	ix := checkStore(t, st, "news") // A's edition 2 is gone
	if len(ix.Editions) != 2 || ix.Latest != 3 || ix.Editions[1].Delta.BaseEdition != 1 {
		t.Fatalf("index: %+v", ix.Index)
	}
	// A's next run builds on edition 3.
	res, err := Run(ctx, a, Options{})
	if err != nil || !res[0].Unchanged {
		t.Fatalf("A again: %v %+v", err, res[0])
	}
}

func TestRaceFolder(t *testing.T) {
	loc := filepath.Join(t.TempDir(), "store")
	os.MkdirAll(loc, 0o755)
	testRace(t, func(ctx context.Context, l string) (store.Store, error) { return store.Open(ctx, l, store.Options{}) }, loc)
}

// TestS3 runs the S3 tests on one SeaweedFS (it takes seconds to start).
func TestS3(t *testing.T) {
	srv := s3test.Start(t)
	var n atomic.Int64
	direct := func(ctx context.Context, loc string) (store.Store, error) {
		return store.Open(ctx, loc, store.Options{S3: store.S3Options{
			Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}})
	}
	t.Run("Race", func(t *testing.T) { testRace(t, direct, srv.URL(fmt.Sprintf("race%d", n.Add(1)))) })
	t.Run("Harvest", func(t *testing.T) {
		s := newSetup(t, 20, "")
		s.cfg.Channels[0].Store = srv.URL("harvest")
		if r := s.run(Options{OpenStore: direct}); r.Err != nil || !r.Published {
			t.Fatalf("%v %+v", r.Err, r)
		}
		st, _ := direct(context.Background(), srv.URL("harvest"))
		if ix := checkStore(t, st, "news"); len(ix.Editions[0].WARC) != 1 {
			t.Fatal("no WARC with the edition")
		}
	})
	t.Run("FailingStore", func(t *testing.T) { testFailingStore(t, srv) })
}

// cutProxy is a reverse proxy in front of the S3 server that drops the
// client's connection on requests it is told to: half way through the
// body of an upload (the server never gets it whole), or after the
// server answered (the answer is lost).
type cutProxy struct {
	*http.Server
	URL    string
	mu     sync.Mutex
	match  string // cut PUT requests whose path contains this
	after  bool   // let the request through, lose the answer
	cuts   int
	target *url.URL
	rp     *httputil.ReverseProxy
}

func newCutProxy(t *testing.T, endpoint string) *cutProxy {
	u, _ := url.Parse(endpoint)
	p := &cutProxy{target: u}
	p.rp = &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(u)
		r.Out.Host = r.In.Host // the client signed this Host
	}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.URL = "http://" + ln.Addr().String()
	p.Server = &http.Server{Handler: p}
	go p.Serve(ln)
	t.Cleanup(func() { p.Close() })
	return p
}

func (p *cutProxy) arm(match string, after bool) {
	p.mu.Lock()
	p.match, p.after = match, after
	p.mu.Unlock()
}

func (p *cutProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	cut := p.match != "" && (r.Method == http.MethodPut || r.Method == http.MethodPost) && strings.Contains(r.URL.Path, p.match)
	after := p.after
	if cut {
		p.cuts++
	}
	p.mu.Unlock()
	if !cut {
		p.rp.ServeHTTP(w, r)
		return
	}
	if after {
		p.rp.ServeHTTP(&lostAnswer{}, r)
	} else {
		io.CopyN(io.Discard, r.Body, r.ContentLength/2)
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

// lostAnswer takes the server's answer and throws it away.
type lostAnswer struct{ h http.Header }

func (l *lostAnswer) Header() http.Header {
	if l.h == nil {
		l.h = http.Header{}
	}
	return l.h
}
func (l *lostAnswer) Write(b []byte) (int, error) { return len(b), nil }
func (l *lostAnswer) WriteHeader(int)             {}

// testFailingStore publishes through a proxy that cuts connections: mid
// upload of the full edition, of the delta, and after the index was
// written. Each failure says what happened, the index never names a
// partial edition, nothing unindexed stays in the store, and the next run
// publishes.
func testFailingStore(t *testing.T, srv *s3test.Server) {
	ctx := context.Background()
	proxy := newCutProxy(t, srv.Endpoint)
	via := func(ctx context.Context, loc string) (store.Store, error) {
		return store.Open(ctx, loc, store.Options{S3: store.S3Options{
			Endpoint: proxy.URL, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey}})
	}
	dir := t.TempDir()
	_, k, _ := publishtest.Key(t, dir, "news")
	site := filepath.Join(dir, "site")
	pages, _ := corpus.Site(corpus.Options{Pages: 30, Seed: 2, Pictures: true})
	writeSite(t, site, pages)
	loc := srv.URL("failing")
	cfg := pathChannel(t, dir, "news", k, loc, site)
	opts := Options{OpenStore: via}
	edit := func(round int) {
		next, _, err := corpus.Edit(pages, corpus.Options{Pages: 30, Seed: uint64(10 + round), Pictures: true}, 3, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		pages = next
		writeSite(t, site, pages)
	}
	publishOK := func(want uint64) {
		t.Helper()
		res, err := Run(ctx, cfg, opts)
		if err != nil || !res[0].Published || res[0].Edition != want {
			t.Fatalf("publish: %v %+v", err, res[0])
		}
	}
	st, _ := via(ctx, loc)
	latest := func() uint64 {
		ix := checkStore(t, st, "news") // also: nothing unindexed in the store
		return ix.Latest
	}
	publishOK(1)

	for _, c := range []struct{ match, what string }{
		{"editions/", "the full edition"},
		{"deltas/", "the delta"},
	} {
		edit(len(c.match))
		proxy.arm(c.match, false)
		res, err := Run(ctx, cfg, opts)
		proxy.arm("", false)
		if err == nil || !strings.Contains(err.Error(), "nothing of this run was published") {
			t.Fatalf("cut upload of %s: %v", c.what, err)
		}
		if l := latest(); l != res[0].Previous {
			t.Fatalf("after a cut upload of %s the index says edition %d", c.what, l)
		}
	}
	// Lost answer of the index write: the run reads the index again, finds
	// its edition there, and succeeds; nothing is removed.
	proxy.arm("index.json", true)
	res, err := Run(ctx, cfg, opts)
	proxy.arm("", false)
	if err != nil || !res[0].Published || proxy.cuts != 3 {
		t.Fatalf("lost index answer: %v %+v, %d cuts", err, res[0], proxy.cuts)
	}
	if l := latest(); l != res[0].Edition {
		t.Fatalf("index says %d, published %d", l, res[0].Edition)
	}
	// And a store that is not there at all.
	proxy.Close()
	edit(9)
	if _, err := Run(ctx, cfg, opts); err == nil || !strings.Contains(err.Error(), proxy.URL[len("http://"):]) {
		t.Fatalf("unreachable store: %v", err)
	}
}
