package reader

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"

	"ferry/internal/archive"
	"ferry/internal/testkit/browser"
	"ferry/internal/testkit/packtest"
)

// hostileLib packs browser.HostilePages pointing at host, plus a page
// whose scripts try every way to leave (for ArchiveScripts).
func hostileLib(t *testing.T, host string) Library {
	fs := fstest.MapFS{}
	for p, b := range browser.HostilePages(host) {
		fs[p] = &fstest.MapFile{Data: []byte(b)}
	}
	u := "http://" + host
	fs["scripts.html"] = &fstest.MapFile{Data: []byte(`<!DOCTYPE html><html><head><title>s</title></head><body><p id="p">scripts</p><img src="ok.png" alt="">
<script src="run.js"></script></body></html>`)}
	fs["run.js"] = &fstest.MapFile{Data: []byte(`document.getElementById("p").textContent = "ran";
new Image().src = "ran.png";
try { fetch("/a/hostile/loads.html").then(function (r) { return r.text(); }).then(function () { new Image().src = "read-other.png"; }); } catch (e) {}
try { var m = document.createElement("meta"); m.httpEquiv = "refresh"; m.content = "0;url=` + u + `/s-meta"; document.head.appendChild(m); } catch (e) {}
try { parent.document.body.innerHTML = "x"; new Image().src = "parent.png"; } catch (e) {}
try { window.open("` + u + `/s-open"); } catch (e) {}
try { var f = document.createElement("form"); f.action = "` + u + `/s-form"; document.body.appendChild(f); f.submit(); } catch (e) {}
setTimeout(function () { try { top.location.href = "` + u + `/s-top"; } catch (e) {} }, 50);
setTimeout(function () { location.href = "` + u + `/s-self"; }, 100);
`)}
	fs["ok.png"] = &fstest.MapFile{Data: tinyPNG}
	b := packtest.FS(t, fs, archive.Info{Channel: "hostile", Title: "hostile"})
	return openBytes(t, "hostile", b)
}

// tinyPNG is a 1×1 picture.
var tinyPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82")

// TestNothingLeavesServe opens every hostile page in chromium through the
// reader: no connection may reach the trap (a loopback listener that
// stands for a server elsewhere), and no page may navigate away
// (issue 14, items 2 and 3).
func TestNothingLeavesServe(t *testing.T) {
	trap := browser.NewTrap(t)
	srv := newServer(t, []Library{hostileLib(t, trap.Host())}, Options{})
	ctx := browser.New(t, 90*time.Second)
	var names []string
	for p := range browser.HostilePages(trap.Host()) {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		wait := 250 * time.Millisecond
		if !strings.HasPrefix(p, "refresh") {
			wait = time.Second
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/a/hostile/"+p), chromedp.Sleep(wait)); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		loc, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil || !strings.HasPrefix(loc, srv.URL) {
			t.Errorf("%s: the tab went to %s (%v)", p, loc, err)
		}
		if n, _ := trap.Hits(); n > 0 {
			t.Logf("after %s: %d", p, n)
		}
	}
	if n, lines := trap.Hits(); n > 0 {
		t.Errorf("the trap was reached %d times: %q", n, lines)
	}
}

// TestArchiveScriptsCannotLeave: with ArchiveScripts, an archive page's
// scripts run (inside the sandboxed frame) but cannot navigate the tab,
// open windows, submit forms elsewhere, insert a refresh that works, reach
// into ferry's page or read another page of the reader (issue 14, item 6:
// location.href reached a listener before).
func TestArchiveScriptsCannotLeave(t *testing.T) {
	trap := browser.NewTrap(t)
	h := New([]Library{hostileLib(t, trap.Host())}, Options{ArchiveScripts: true})
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: 200}
		h.ServeHTTP(rec, r)
		mu.Lock()
		seen[r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]] = rec.code
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	ctx := browser.New(t, 60*time.Second)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/a/hostile/scripts.html"), chromedp.WaitVisible("#ferry-bar"), chromedp.Sleep(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || loc != srv.URL+"/a/hostile/scripts.html" {
		t.Errorf("the tab went to %s (%v)", loc, err)
	}
	mu.Lock()
	if seen["ran.png"] != 404 { // requested, so the script ran (there is no such picture)
		t.Errorf("the archive's script did not run (ran.png: %d)", seen["ran.png"])
	}
	if seen["ok.png"] != 200 {
		t.Errorf("the page's own picture did not load in the frame: %d", seen["ok.png"])
	}
	for _, bad := range []string{"read-other.png", "parent.png"} {
		if _, ok := seen[bad]; ok {
			t.Errorf("the script could %s", strings.TrimSuffix(bad, ".png"))
		}
	}
	mu.Unlock()
	// What remains (docs/reader.md): Chromium connects to the host of a
	// navigation the policy then stops, so a script can make it connect
	// (and look the name up), though it sends no request.
	if n, lines := trap.Hits(); len(lines) > 0 {
		t.Errorf("requests reached the trap: %q", lines)
	} else if n > 0 {
		t.Logf("%d bare connections reached the trap (blocked navigations; no request sent)", n)
	}
	// A framed page is never served as a top-level page.
	ctx, cancel := chromedp.NewContext(ctx)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/f/"+h.frameKey+"/hostile/ok.png"), chromedp.Sleep(time.Second)); err != nil {
		t.Fatal(err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != srv.URL+"/a/hostile/ok.png" {
		t.Errorf("framed page opened on its own at %s", loc)
	}
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(c int) { s.code = c; s.ResponseWriter.WriteHeader(c) }
