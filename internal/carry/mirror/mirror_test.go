package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"ferry/internal/key"
	"ferry/internal/library"
	"ferry/internal/publish"
	"ferry/internal/publish/config"
	"ferry/internal/publish/index"
	"ferry/internal/publish/publishtest"
	"ferry/internal/store"
	"ferry/internal/testkit/corpus"
	"ferry/internal/trust"
)

// world is a publisher's folder store with two editions of a channel made
// from a local folder of our own writing, and the key that signs them.
type world struct {
	dir    string
	store  string
	pub    key.Public
	cfg    *config.Config
	site   string
	pages  fstest.MapFS
	ix     *index.Signed
	cutMu  sync.Mutex
	cutKey string // the mirror cuts this object half way, once
}

func writeSite(t *testing.T, dir string, fs fstest.MapFS) {
	t.Helper()
	os.RemoveAll(dir)
	if err := corpus.WriteDir(dir, fs); err != nil {
		t.Fatal(err)
	}
}

func newWorld(t *testing.T, pages int) *world {
	t.Helper()
	w := &world{dir: t.TempDir()}
	w.store = filepath.Join(w.dir, "store")
	w.site = filepath.Join(w.dir, "site")
	s, k, _ := publishtest.Key(t, w.dir, "news")
	w.pub = s.Public()
	var err error
	if w.pages, err = corpus.Site(corpus.Options{Pages: pages, Seed: 7, Pictures: true}); err != nil {
		t.Fatal(err)
	}
	writeSite(t, w.site, w.pages)
	path := publishtest.Config(t, w.dir, "ferry.toml", filepath.Join(w.dir, "state"), publishtest.Channel{
		Name: "news", Title: "소식", Key: k, Store: w.store, Sources: []string{`path = "` + filepath.ToSlash(w.site) + `"`},
	})
	if w.cfg, err = config.Load(path); err != nil {
		t.Fatal(err)
	}
	w.publish(t)
	return w
}

// publish publishes the next edition and reads the index.
func (w *world) publish(t *testing.T) {
	t.Helper()
	res, err := publish.Run(context.Background(), w.cfg, publish.Options{})
	if err != nil || !res[0].Published {
		t.Fatalf("publish: %v %+v", err, res)
	}
	b, err := os.ReadFile(filepath.Join(w.store, "news", "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if w.ix, err = index.Parse(b); err != nil {
		t.Fatal(err)
	}
}

// edit changes every fifth page, removes one, adds two, and publishes.
func (w *world) edit(t *testing.T, round int) {
	t.Helper()
	next, _, err := corpus.Edit(w.pages, corpus.Options{Pages: len(w.pages), Seed: 7 + uint64(round), Pictures: true}, 5, []int{round}, 2)
	if err != nil {
		t.Fatal(err)
	}
	w.pages = next
	writeSite(t, w.site, next)
	w.publish(t)
}

// serve serves the store over HTTP on loopback, as 'ferry mirror serve'.
func (w *world) serve(t *testing.T) string {
	t.Helper()
	st, err := store.NewFolder(w.store)
	if err != nil {
		t.Fatal(err)
	}
	h := Handler(st, ServeOptions{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.cutMu.Lock()
		cut := w.cutKey != "" && r.URL.Path == "/"+w.cutKey
		if cut {
			w.cutKey = ""
		}
		w.cutMu.Unlock()
		if cut {
			rw = &cutter{ResponseWriter: rw, left: 3000}
		}
		h.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// cutter ends a response after some bytes, as a dropped connection does.
type cutter struct {
	http.ResponseWriter
	left int
}

func (c *cutter) Write(b []byte) (int, error) {
	if len(b) > c.left {
		c.ResponseWriter.Write(b[:c.left])
		c.ResponseWriter.(http.Flusher).Flush()
		c.left = 0
		panic(http.ErrAbortHandler) // the server drops the connection
	}
	c.left -= len(b)
	return c.ResponseWriter.Write(b)
}

// reader is a reader's library that trusts the publisher.
func (w *world) reader(t *testing.T, trusted bool) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "library")
	l, err := library.Load(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if trusted {
		if err := l.State.Trust.Add(trust.Anchor{Label: "news", Keys: []key.Public{w.pub}, Threshold: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Save(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// give puts a stored archive into a library as a card would.
func give(t *testing.T, lib, file string) {
	t.Helper()
	a, closeFile, err := library.OpenArrival(file)
	if err != nil {
		t.Fatal(err)
	}
	defer closeFile()
	if _, err := library.AddTo(context.Background(), lib, []library.Arrival{a}, library.AddOptions{}); err != nil {
		t.Fatal(err)
	}
}

func presents(t *testing.T, lib, channel string) uint64 {
	t.Helper()
	o, err := library.Open(lib, library.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	c := o.Channel(channel)
	if c == nil || c.View == nil {
		return 0
	}
	return c.Edition
}

func open(t *testing.T, loc string) Origin {
	t.Helper()
	o, err := Open(context.Background(), loc, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestGetDelta: a library holding edition 1 gets edition 2 as the delta
// alone, from a mirror over HTTP; then it is up to date, and what get
// learned says so.
func TestGetDelta(t *testing.T) {
	w := newWorld(t, 30)
	lib := w.reader(t, true)
	give(t, lib, filepath.Join(w.store, "news", "editions", "000001.ferry"))
	w.edit(t, 1)
	url := w.serve(t)

	res, err := Get(context.Background(), open(t, url), GetOptions{Library: lib})
	if err != nil {
		t.Fatal(err)
	}
	d := w.ix.Edition(2).Delta
	cg := res.Channels[0]
	if len(cg.Plan) != 1 || !cg.Plan[0].Delta || res.Bytes != d.Size || len(cg.Added) != 1 {
		t.Fatalf("plan %+v, %d bytes, delta %d bytes, full %d", cg.Plan, res.Bytes, d.Size, cg.FullBytes)
	}
	if got := presents(t, lib, "news"); got != 2 {
		t.Fatalf("library presents edition %d", got)
	}
	k, err := ReadKnown(lib)
	if err != nil {
		t.Fatal(err)
	}
	if kc := k.Channels["news"]; kc.Latest != 2 || kc.Held != 2 || kc.UpdateBytes != 0 {
		t.Errorf("known: %+v", kc)
	}
	if _, newer := k.Newer("news", 2); newer {
		t.Error("Newer says edition 2 is newer than 2")
	}
	res, err = Get(context.Background(), open(t, url), GetOptions{Library: lib})
	if err != nil || !res.Channels[0].UpToDate || res.Bytes != 0 {
		t.Fatalf("second get: %v %+v", err, res.Channels[0])
	}
	// Nothing left behind in the get folder but what it learned.
	ents, _ := os.ReadDir(filepath.Join(lib, GetDir))
	if len(ents) != 1 {
		t.Errorf("get folder holds %d files", len(ents))
	}
}

// TestGetFreshAndKnown: an empty library takes the cheapest way to the
// newest edition that later deltas build on; a library that does not trust
// the publisher takes nothing, and says why when the channel is named; what
// a get learned without fetching shows as a newer edition.
func TestGetFreshAndKnown(t *testing.T) {
	w := newWorld(t, 20)
	w.edit(t, 1)
	url := w.serve(t)
	lib := w.reader(t, true)
	res, err := Get(context.Background(), open(t, url), GetOptions{Library: lib})
	if err != nil {
		t.Fatal(err)
	}
	cg := res.Channels[0]
	if presents(t, lib, "news") != 2 || cg.Plan[len(cg.Plan)-1].arch.ID != w.ix.Tip {
		t.Fatalf("plan %+v does not end at the tip %.8s", cg.Plan, w.ix.Tip)
	}
	var planned int64
	for _, s := range cg.Plan {
		planned += s.Size
	}
	if res.Bytes != planned || planned > cg.FullBytes*3/2 {
		t.Errorf("fetched %d bytes for a plan of %d, full edition %d", res.Bytes, planned, cg.FullBytes)
	}

	other := w.reader(t, false)
	res, err = Get(context.Background(), open(t, url), GetOptions{Library: other})
	if err != nil || len(res.Channels) != 0 || res.Bytes != 0 {
		t.Fatalf("untrusted, unnamed: %v %+v", err, res)
	}
	res, err = Get(context.Background(), open(t, url), GetOptions{Library: other, Channels: []string{"news"}})
	if err != nil || res.Bytes != 0 || !strings.Contains(res.Channels[0].Skipped, "trust") {
		t.Fatalf("untrusted, named: %v %+v", err, res.Channels[0])
	}
	k, _ := ReadKnown(other)
	if kc, newer := k.Newer("news", 0); !newer || kc.Latest != 2 || kc.Skipped == "" {
		t.Errorf("known after a skipped get: %+v", kc)
	}
}

// TestGetResume: a download cut half way is kept; the next get asks only
// for the rest and the library gets the edition.
func TestGetResume(t *testing.T) {
	w := newWorld(t, 30)
	lib := w.reader(t, true)
	give(t, lib, filepath.Join(w.store, "news", "editions", "000001.ferry"))
	w.edit(t, 1)
	url := w.serve(t)
	d := w.ix.Edition(2).Delta
	w.cutKey = d.Key
	res, err := Get(context.Background(), open(t, url), GetOptions{Library: lib})
	if !errors.Is(err, ErrCut) || !strings.Contains(err.Error(), "resume") {
		t.Fatalf("cut get: %v", err)
	}
	first := res.Bytes
	if first <= 0 || first >= d.Size || presents(t, lib, "news") != 1 {
		t.Fatalf("cut after %d of %d bytes", first, d.Size)
	}
	res, err = Get(context.Background(), open(t, url), GetOptions{Library: lib})
	if err != nil {
		t.Fatal(err)
	}
	if res.Channels[0].Plan[0].Resumed != first || first+res.Bytes != d.Size {
		t.Fatalf("resumed from %d, fetched %d more, of %d", res.Channels[0].Plan[0].Resumed, res.Bytes, d.Size)
	}
	if presents(t, lib, "news") != 2 {
		t.Fatal("not added after the resume")
	}
}

// TestPullThenGet: a mirror pulled over HTTP holds every object intact and
// serves them in turn; a second pull fetches only what is new; a reader
// gets from the mirror's mirror.
func TestPullThenGet(t *testing.T) {
	w := newWorld(t, 20)
	url := w.serve(t)
	mdir := filepath.Join(t.TempDir(), "mirror")
	res, err := Pull(context.Background(), open(t, url), mdir, PullOptions{Trust: []key.Public{w.pub}})
	if err != nil || res.Channels != 1 || res.Fetched != res.Objects {
		t.Fatalf("pull: %v %+v", err, res)
	}
	w.edit(t, 1)
	res, err = Pull(context.Background(), open(t, url), mdir, PullOptions{})
	// Edition 2 and its delta are new; edition 1 is there (a path source
	// has no WARCs).
	if err != nil || res.Fetched != 2 || res.Objects != 3 {
		t.Fatalf("second pull fetched %d of %d objects: %v", res.Fetched, res.Objects, err)
	}
	mst, err := store.NewFolder(mdir)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range w.ix.Keys() {
		info, err := mst.Stat(context.Background(), o.Key)
		if err != nil || info.ETag != o.SHA256 {
			t.Fatalf("mirror's %s: %v", o.Key, err)
		}
	}
	// A pull trusting another key refuses the index.
	other, _ := key.Generate()
	if _, err := Pull(context.Background(), open(t, url), t.TempDir(), PullOptions{Trust: []key.Public{other.Public()}}); err == nil {
		t.Fatal("a pull trusting another key took the index")
	}
	// The mirror's mirror, served, feeds a reader.
	w2 := &world{store: mdir}
	url2 := w2.serve(t)
	lib := w.reader(t, true)
	if _, err := Get(context.Background(), open(t, url2), GetOptions{Library: lib}); err != nil {
		t.Fatal(err)
	}
	if presents(t, lib, "news") != 2 {
		t.Fatal("the reader did not get edition 2 from the pulled mirror")
	}
	// A store location works as an origin too.
	lib2 := w.reader(t, true)
	if _, err := Get(context.Background(), open(t, mdir), GetOptions{Library: lib2}); err != nil || presents(t, lib2, "news") != 2 {
		t.Fatalf("get from a folder store: %v", err)
	}
}

func readAll(t *testing.T, r io.Reader) string {
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestGetHostile: a mirror that sends other bytes than the index names, or
// more of them, or cannot be reached, gives a clear error and leaves the
// library as it was; a tampered index is refused before anything is
// fetched.
func TestGetHostile(t *testing.T) {
	w := newWorld(t, 20)
	lib := w.reader(t, true)
	give(t, lib, filepath.Join(w.store, "news", "editions", "000001.ferry"))
	w.edit(t, 1)
	st, err := store.NewFolder(w.store)
	if err != nil {
		t.Fatal(err)
	}
	good := Handler(st, ServeOptions{})
	d := w.ix.Edition(2).Delta
	var mode atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch m, _ := mode.Load().(string); {
		case m == "flip" && r.URL.Path == "/"+d.Key:
			b, _ := os.ReadFile(filepath.Join(w.store, filepath.FromSlash(d.Key)))
			b[len(b)/2] ^= 1
			rw.Header().Set("Content-Length", fmt.Sprint(len(b)))
			rw.Write(b)
		case m == "longer" && r.URL.Path == "/"+d.Key:
			rw.Header().Set("Content-Length", fmt.Sprint(d.Size+10))
			b, _ := os.ReadFile(filepath.Join(w.store, filepath.FromSlash(d.Key)))
			rw.Write(append(b, "0123456789"...))
		case m == "index" && r.URL.Path == "/news/index.json":
			b, _ := os.ReadFile(filepath.Join(w.store, "news", "index.json"))
			rw.Write(bytes.Replace(b, []byte(`"sig": "`), []byte(`"sig": "AAAA`), 1))
		default:
			good.ServeHTTP(rw, r)
		}
	}))
	defer srv.Close()
	for _, c := range []struct{ mode, want string }{
		{"flip", "does not match its signed index"},
		{"longer", "its index says"},
		{"index", "signature"},
	} {
		mode.Store(c.mode)
		res, err := Get(context.Background(), open(t, srv.URL), GetOptions{Library: lib})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: %v", c.mode, err)
		}
		if presents(t, lib, "news") != 1 || len(res.Channels[0].Added) != 0 {
			t.Fatalf("%s: the library changed", c.mode)
		}
	}
	mode.Store("")
	if _, err := Get(context.Background(), open(t, srv.URL), GetOptions{Library: lib}); err != nil || presents(t, lib, "news") != 2 {
		t.Fatalf("good mirror after the bad ones: %v", err)
	}
	srv.Close()
	if _, err := Get(context.Background(), open(t, srv.URL), GetOptions{Library: lib}); err == nil || !strings.Contains(err.Error(), "channel list") {
		t.Fatalf("unreachable mirror: %v", err)
	}
}

// TestGetProxy: with a proxy, every request goes through it.
func TestGetProxy(t *testing.T) {
	w := newWorld(t, 10)
	url := w.serve(t)
	var through atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		through.Add(1)
		// A forward proxy gets absolute URLs.
		if !r.URL.IsAbs() {
			http.Error(rw, "not a proxy request", http.StatusBadRequest)
			return
		}
		(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.Out.URL = r.URL }}).ServeHTTP(rw, r)
	}))
	defer proxy.Close()
	o, err := Open(context.Background(), url, OpenOptions{Proxy: proxy.URL})
	if err != nil {
		t.Fatal(err)
	}
	lib := w.reader(t, true)
	res, err := Get(context.Background(), o, GetOptions{Library: lib})
	if err != nil || presents(t, lib, "news") != 1 || through.Load() < 3 {
		t.Fatalf("%v %+v, %d requests through the proxy", err, res, through.Load())
	}
	if _, err := Open(context.Background(), url, OpenOptions{Proxy: "gopher://x"}); err == nil {
		t.Fatal("a gopher proxy was taken")
	}
}

// TestGetSmallestFirst: of two channels, the one with the smaller download
// is fetched first, so a short connection brings the most.
func TestGetSmallestFirst(t *testing.T) {
	w := newWorld(t, 40)
	small := filepath.Join(w.dir, "small-site")
	pages, _ := corpus.Site(corpus.Options{Pages: 3, Seed: 1})
	writeSite(t, small, pages)
	path := publishtest.Config(t, w.dir, "small.toml", filepath.Join(w.dir, "state"), publishtest.Channel{
		Name: "small", Key: w.cfg.Channels[0].Key, Store: w.store, Sources: []string{`path = "` + filepath.ToSlash(small) + `"`},
	})
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := publish.Run(context.Background(), cfg, publish.Options{}); err != nil {
		t.Fatal(err)
	}
	lib := w.reader(t, true)
	res, err := Get(context.Background(), open(t, w.store), GetOptions{Library: lib})
	if err != nil || len(res.Channels) != 2 {
		t.Fatalf("%v %+v", err, res)
	}
	if res.Channels[0].Name != "small" || res.Channels[0].PlanBytes >= res.Channels[1].PlanBytes {
		t.Fatalf("order: %s (%d bytes), %s (%d bytes)", res.Channels[0].Name, res.Channels[0].PlanBytes, res.Channels[1].Name, res.Channels[1].PlanBytes)
	}
	// A named channel limits the get.
	lib2 := w.reader(t, true)
	res, err = Get(context.Background(), open(t, w.store), GetOptions{Library: lib2, Channels: []string{"small"}})
	if err != nil || len(res.Channels) != 1 || presents(t, lib2, "news") != 0 || presents(t, lib2, "small") != 1 {
		t.Fatalf("named: %v %+v", err, res)
	}
	if _, err := Get(context.Background(), open(t, w.store), GetOptions{Library: lib2, Channels: []string{"none"}}); err == nil {
		t.Fatal("an unknown channel was taken")
	}
}
