package harvest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nlnwa/gowarc/v3"
)

// testOptions are fast options for a local origin.
func testOptions(t *testing.T) Options {
	dir := t.TempDir()
	return Options{
		Out:          filepath.Join(dir, "out"),
		StateDir:     filepath.Join(dir, "state"),
		Contact:      "https://ngo.example/crawler",
		Delay:        time.Millisecond,
		Timeout:      4 * time.Second, // generous: the machine may be busy; only the endless drip reaches it
		MaxPageSize:  10 << 20,
		Retries:      1,
		RetryBase:    10 * time.Millisecond,
		AllowPrivate: true,
	}
}

// harvestOnce runs one harvest and checks what is true of every run.
func harvestOnce(t *testing.T, o Options, src ...Source) (*Summary, []Event) {
	t.Helper()
	var mu sync.Mutex
	var events []Event
	busy := false
	o.Progress = func(e Event) {
		mu.Lock()
		if busy {
			t.Error("Progress called concurrently")
		}
		busy = true
		events = append(events, e)
		busy = false
		mu.Unlock()
	}
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := h.Run(context.Background(), src)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := sum.Fetched + sum.Unchanged + sum.Failed + sum.Skipped; n != len(events) {
		t.Errorf("summary counts %d URLs, %d events", n, len(events))
	}
	if len(events) > 0 && events[len(events)-1].Done != len(events) {
		t.Errorf("last event Done = %d, want %d", events[len(events)-1].Done, len(events))
	}
	if _, err := os.Stat(sum.WARC); err != nil {
		t.Errorf("WARC: %v", err)
	}
	return sum, events
}

func findEvent(events []Event, suffix string) *Event {
	for i := range events {
		if strings.HasSuffix(events[i].URL, suffix) {
			return &events[i]
		}
	}
	return nil
}

func readOut(t *testing.T, o Options, file string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(o.Out, filepath.FromSlash(file)))
	if err != nil {
		t.Fatalf("output %s: %v", file, err)
	}
	return string(b)
}

func TestSite(t *testing.T) {
	or := newOrigin(t)
	o := testOptions(t)
	src := Source{Kind: Site, URL: or.URL + "/", Depth: 2, Sitemap: true, Resources: true, Exclude: []string{"/skip/**"}}
	sum, events := harvestOnce(t, o, src)
	host := strings.ReplaceAll(strings.TrimPrefix(or.URL, "http://"), ":", "_")

	want := map[string]Result{
		"/": Fetched, "/a.html": Fetched, "/b/": Fetched, "/b/sub/c.html": Fetched, "/a/deeper.html": Fetched,
		"/private/ok.html": Fetched, "/private/secret.html": Skipped, "/flaky.html": Fetched,
		"/euckr.html": Fetched, "/latin1.html": Fetched, "/moved.html": Fetched, "/from-sitemap.html": Fetched,
		"/style.css": Fetched, "/img/logo.png": Fetched, "/img/a.png": Fetched, "/robots.txt": Fetched, "/sitemap.xml": Fetched,
		"/slow.html": Failed, "/huge.html": Failed, "/bomb.html": Failed, "/loop1": Failed, "/to-ftp": Failed,
		"/offsite": Skipped, "/err500.html": Failed, "/missing.html": Failed,
	}
	for path, res := range want {
		e := findEvent(events, or.URL+path)
		if e == nil {
			t.Errorf("%s: no event", path)
			continue
		}
		if e.Result != res {
			t.Errorf("%s: %s (%v), want %s", path, e.Result, e.Err, res)
		}
	}
	errWant := map[string]error{
		"/slow.html": ErrTimeout, "/huge.html": ErrTooLarge, "/bomb.html": ErrBomb, "/loop1": ErrRedirectLoop,
		"/to-ftp": ErrRedirectUnsafe, "/offsite": ErrOffSite, "/err500.html": ErrStatus, "/missing.html": ErrStatus,
		"/private/secret.html": ErrRobots,
	}
	for path, want := range errWant {
		if e := findEvent(events, or.URL+path); e != nil && !errors.Is(e.Err, want) {
			t.Errorf("%s: error %v, want %v", path, e.Err, want)
		}
	}
	if len(events) != len(want) {
		for _, e := range events {
			if _, ok := want[strings.TrimPrefix(e.URL, or.URL)]; !ok {
				t.Errorf("unexpected event %s %s %v", e.URL, e.Result, e.Err)
			}
		}
	}
	// Never asked for: disallowed, excluded, too deep, the srcset's other size.
	for _, p := range []string{"/private/secret.html", "/skip/me.html", "/a/deepest.html", "/img/logo-2x.png"} {
		if n := or.count(p); n != 0 {
			t.Errorf("%s was requested %d times", p, n)
		}
	}
	// A 500 is tried again once (Retries: 1); robots.txt is read once.
	if n := or.count("/err500.html"); n != 2 {
		t.Errorf("/err500.html requested %d times, want 2", n)
	}
	if n := or.count("/robots.txt"); n != 1 {
		t.Errorf("/robots.txt requested %d times, want 1", n)
	}
	for ua := range or.agents {
		if !strings.HasPrefix(ua, "ferry/1 (") || !strings.Contains(ua, "https://ngo.example/crawler") {
			t.Errorf("User-Agent %q", ua)
		}
	}
	if sum.Requests < len(want) || sum.Bytes <= 0 {
		t.Errorf("requests %d, bytes %d", sum.Requests, sum.Bytes)
	}

	// The home page, rewritten for offline reading.
	home := readOut(t, o, host+"/index.html")
	for _, s := range []string{`href="a.html"`, `href="b/index.html"`, `src="img/logo.png"`, `href="style.css"`,
		`href="a.html#part"`, `href="target.html"`, `href="` + or.URL + `/private/secret.html"`, `href="mailto:x@example.org"`} {
		if !strings.Contains(home, s) {
			t.Errorf("home page lacks %s:\n%s", s, home)
		}
	}
	if strings.Contains(home, "srcset") {
		t.Error("srcset kept although only src was fetched")
	}
	// <base href> was followed and removed.
	b := readOut(t, o, host+"/b/index.html")
	if !strings.Contains(b, `href="sub/c.html"`) || strings.Contains(b, "<base") {
		t.Errorf("b/index.html:\n%s", b)
	}
	if c := readOut(t, o, host+"/b/sub/c.html"); !strings.Contains(c, `href="../../a.html"`) {
		t.Errorf("c.html:\n%s", c)
	}
	// Encodings: EUC-KR without a declaration and ISO-8859-1 from the header
	// are UTF-8 now.
	if k := readOut(t, o, host+"/euckr.html"); !strings.Contains(k, "한국어 쪽") || !strings.Contains(k, "존엄과 권리") {
		t.Errorf("euckr.html not converted:\n%s", k)
	}
	if l := readOut(t, o, host+"/latin1.html"); !strings.Contains(l, "Café") || !strings.Contains(l, "naïve") {
		t.Errorf("latin1.html not converted:\n%s", l)
	}
	if got := readOut(t, o, host+"/img/logo.png"); got != "\x89PNG\r\n\x1a\n/img/logo.png" {
		t.Errorf("logo.png = %q", got)
	}
	titles := map[string]string{}
	for _, p := range sum.Pages {
		titles[p.File] = p.Title
		if !p.Changed {
			t.Errorf("%s not changed on a first run", p.File)
		}
	}
	if titles[host+"/index.html"] != "Home page" || titles[host+"/from-sitemap.html"] != "Only in the sitemap" {
		t.Errorf("titles: %v", titles)
	}

	// The WARC has each request and response.
	recs := warcRecords(t, sum.WARC)
	if recs[gowarc.Warcinfo] != 1 || recs[gowarc.Request] != sum.Requests || recs[gowarc.Response] != sum.Requests {
		t.Errorf("WARC records %v for %d requests", recs, sum.Requests)
	}

	// Second run: everything with an ETag is a 304 that costs nothing,
	// and Out is written again the same.
	before := or.count("/a.html")
	t.Logf("first run: fetched %d unchanged %d failed %d skipped %d requests %d bytes %d files %d", sum.Fetched, sum.Unchanged, sum.Failed, sum.Skipped, sum.Requests, sum.Bytes, len(sum.Pages))
	sum2, events2 := harvestOnce(t, o, src)
	t.Logf("second run: fetched %d unchanged %d failed %d skipped %d requests %d bytes %d", sum2.Fetched, sum2.Unchanged, sum2.Failed, sum2.Skipped, sum2.Requests, sum2.Bytes)
	if or.count("/a.html") != before+1 {
		t.Error("a.html not revalidated")
	}
	for _, p := range []string{"/", "/a.html", "/b/sub/c.html", "/euckr.html", "/style.css", "/img/logo.png", "/from-sitemap.html"} {
		if e := findEvent(events2, or.URL+p); e == nil || e.Result != Unchanged {
			t.Errorf("second run %s: %+v, want unchanged", p, e)
		}
	}
	if sum2.Fetched > 4 { // robots.txt, sitemap.xml and the two redirect/retry pages may be fetched
		t.Errorf("second run fetched %d", sum2.Fetched)
	}
	if len(sum2.Pages) != len(sum.Pages) {
		t.Errorf("second run wrote %d files, first %d", len(sum2.Pages), len(sum.Pages))
	}
	if home2 := readOut(t, o, host+"/index.html"); home2 != home {
		t.Error("home page differs on the second run")
	}
	if recs := warcRecords(t, sum2.WARC); recs[gowarc.Revisit] < sum2.Unchanged {
		t.Errorf("second WARC %v has fewer revisits than %d unchanged", recs, sum2.Unchanged)
	}
}

// warcRecords counts a WARC's records by type, reading it with strict
// validation of digests.
func warcRecords(t *testing.T, path string) map[gowarc.RecordType]int {
	t.Helper()
	r, err := gowarc.NewWarcFileReader(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := map[gowarc.RecordType]int{}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("WARC %s: %v", path, err)
		}
		if len(rec.Validation) > 0 {
			t.Errorf("WARC record %s: %v", rec.WarcRecord, rec.Validation)
		}
		n[rec.WarcRecord.Type()]++
		rec.Close()
	}
	return n
}

func TestRobotsUnavailable(t *testing.T) {
	// A server whose robots.txt is a 502: nothing else is fetched from it.
	var mu sync.Mutex
	hits := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits[r.URL.Path]++
		mu.Unlock()
		if r.URL.Path == "/robots.txt" {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		w.Write([]byte("<html><body>hi</body></html>"))
	}))
	defer srv.Close()
	o := testOptions(t)
	sum, events := harvestOnce(t, o, Source{Kind: Site, URL: srv.URL + "/", Depth: 1})
	if e := findEvent(events, "/robots.txt"); e == nil || e.Result != Failed {
		t.Errorf("robots.txt event %+v", e)
	}
	if e := findEvent(events, srv.URL+"/"); e == nil || !errors.Is(e.Err, ErrRobots) {
		t.Errorf("start page event %+v, want skipped by robots", e)
	}
	mu.Lock()
	defer mu.Unlock()
	if hits["/"] != 0 || sum.Fetched != 0 {
		t.Errorf("fetched %d with robots.txt unavailable", sum.Fetched)
	}
	if hits["/robots.txt"] != 2 {
		t.Errorf("robots.txt asked %d times, want 2 (one retry)", hits["/robots.txt"])
	}
}

func TestPrivateAddressRefused(t *testing.T) {
	or := newOrigin(t)
	o := testOptions(t)
	o.AllowPrivate = false
	o.Retries = -1
	_, events := harvestOnce(t, o, Source{Kind: Site, URL: or.URL + "/"})
	if e := findEvent(events, "/robots.txt"); e == nil || !errors.Is(e.Err, ErrPrivate) {
		t.Errorf("robots.txt: %+v, want ErrPrivate", e)
	}
	if n := len(or.hits); n != 0 {
		t.Errorf("the loopback server got requests: %s", fmtHits(or))
	}
}

func TestOutFolderNotOurs(t *testing.T) {
	o := testOptions(t)
	os.MkdirAll(o.Out, 0o755)
	os.WriteFile(filepath.Join(o.Out, "precious.txt"), []byte("mine"), 0o644)
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Run(context.Background(), nil); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("Run into a foreign folder: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(o.Out, "precious.txt")); string(b) != "mine" {
		t.Error("a foreign file was touched")
	}
}

func TestBadSources(t *testing.T) {
	h, err := New(testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []Source{
		{Kind: "zim", URL: "http://x.example/"},
		{Kind: Site, URL: "ftp://x.example/"},
		{Kind: Site, URL: "http://u:p@x.example/"},
		{Kind: Feed, URL: "http://x.example/f", Include: []string{"/a/["}},
	} {
		if _, err := h.Run(context.Background(), []Source{s}); err == nil {
			t.Errorf("source %+v accepted", s)
		}
	}
	if _, err := New(Options{}); err == nil {
		t.Error("New without Out and StateDir accepted")
	}
}

func TestCancelled(t *testing.T) {
	or := newOrigin(t)
	o := testOptions(t)
	h, _ := New(o)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	sum, err := h.Run(ctx, []Source{{Kind: Site, URL: or.URL + "/", Depth: 2}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run with a cancelled context: %v", err)
	}
	if sum == nil || sum.WARC == "" {
		t.Error("no summary after cancellation")
	}
}

// TestForget: a URL no run has seen for 90 days leaves the state with its
// cached body; what a run uses stays.
func TestForget(t *testing.T) {
	or := newOrigin(t)
	o := testOptions(t)
	src := Source{Kind: Site, URL: or.URL + "/a.html"}
	harvestOnce(t, o, src)
	stale := cacheName("http://gone.example/old.html")
	os.MkdirAll(filepath.Join(o.StateDir, "cache", stale[:2]), 0o755)
	os.WriteFile(filepath.Join(o.StateDir, "cache", stale[:2], stale), []byte("old"), 0o644)
	st, _ := loadState(filepath.Join(o.StateDir, "state.json"))
	st.URLs["http://gone.example/old.html"] = &entry{Cache: stale, Seen: time.Now().Add(-100 * 24 * time.Hour)}
	st.save()
	harvestOnce(t, o, src)
	st, _ = loadState(filepath.Join(o.StateDir, "state.json"))
	if _, ok := st.URLs["http://gone.example/old.html"]; ok {
		t.Error("stale entry kept")
	}
	if _, err := os.Stat(filepath.Join(o.StateDir, "cache", stale[:2], stale)); err == nil {
		t.Error("stale cache file kept")
	}
	e := st.URLs[or.URL+"/a.html"]
	if e == nil {
		t.Fatal("a.html not in the state")
	}
	if _, err := os.Stat(filepath.Join(o.StateDir, "cache", e.Cache[:2], e.Cache)); err != nil {
		t.Errorf("a.html's cache removed: %v", err)
	}
}
