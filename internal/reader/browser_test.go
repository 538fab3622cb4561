package reader

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/browser"
)

// shotDir is where screenshots go: $FERRY_SCREENSHOTS if set, else a
// temporary folder of the test (logged).
func shotDir(t *testing.T) string {
	if d := os.Getenv("FERRY_SCREENSHOTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestBrowser drives Debian's chromium (360 px wide, a phone) through a
// visit: the home page, a Korean search, a result, the audio (duration,
// seeking, a Range request from the page), a picture, title suggestions,
// and both ways to hide. Screenshots of home, search and article pages
// are saved.
func TestBrowser(t *testing.T) {
	ctx := browser.New(t, 120*time.Second) // a ceiling for loaded CI machines; a run takes ~15 s
	libs := []Library{Sample()}            // the stand-ins would outrank the sample's radio page
	if haveRealLibs() {
		libs = testLibs(t)
	}
	srv := newServer(t, libs, Options{})
	dir := shotDir(t)
	t.Logf("screenshots in %s", dir)
	// Collect what the browser logs: ferry's own pages and the sample must
	// cause no CSP violation and no script error.
	var (
		mu      sync.Mutex
		console []string
	)
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, string(m.Type)+": "+m.Text)
			mu.Unlock()
		}
	}()
	checkConsole := func() {
		mu.Lock()
		defer mu.Unlock()
		for _, m := range console {
			if strings.Contains(m, "Content Security Policy") || strings.HasPrefix(m, "exception") || strings.HasPrefix(m, "error") {
				t.Errorf("browser console: %s", m)
			}
		}
		console = nil
	}
	save := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name), buf, 0o644)
		})
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	// eval waits until expr is true; it retries while a navigation
	// replaces the page's context under it.
	eval := func(expr string) bool {
		t.Helper()
		var err error
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
			var ok bool
			ok, err = chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(5*time.Second)))
			if err == nil {
				return ok
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("waiting for %s: %v", expr, err)
		return false
	}

	// Home page and a Korean search (typed by setting the field: key
	// events cannot carry an input method's Korean).
	// A small phone's screen: 360 CSS pixels wide. Nothing may need
	// sideways scrolling.
	narrow := func(what string) {
		t.Helper()
		w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - innerWidth`))
		if err != nil || w > 0 {
			t.Errorf("%s is %d px wider than a 360 px screen (%v)", what, w, err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740), chromedp.Navigate(srv.URL+"/?lang=ko"), chromedp.WaitVisible(".fp-lib"), save("home.png")); err != nil {
		t.Fatal(err)
	}
	narrow("the home page")
	if err := chromedp.Do(ctx, chromedp.SetValue("#fb-q", "라지오"), chromedp.Submit("#fb-q"), chromedp.WaitVisible(".fp-results li"), save("search.png")); err != nil {
		t.Fatal(err)
	}
	narrow("the search page")
	if h1 := text(".fp-main h1"); h1 != "가지고 있는 서고" && !strings.Contains(h1, "라지오") {
		t.Errorf("h1 %q", h1)
	}
	if m := text(".fp-results mark"); m != "라지오" {
		t.Errorf("first marked word %q", m)
	}

	// Open the first result: the radio page with the sound clip.
	if err := chromedp.Do(ctx, chromedp.Click(".fp-results li a.fp-rt"), chromedp.WaitVisible("main h1")); err != nil {
		t.Fatal(err)
	}
	if h := text("main h1"); h != "라지오 신호 들어 보기" {
		t.Errorf("result opened %q", h)
	}
	if body := text("main"); !strings.Contains(body, "재생 단추를 누르십시오") {
		t.Errorf("article text not shown: %.200q", body)
	}
	eval(`document.querySelector('audio').readyState >= 1`)
	if !eval(`Math.abs(document.querySelector('audio').duration - 2.4) < 0.05`) {
		t.Error("audio duration wrong")
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector('audio').currentTime = 1.2`)); err != nil {
		t.Fatal(err)
	}
	eval(`(function(a){return !a.seeking && Math.abs(a.currentTime-1.2) < 0.05})(document.querySelector('audio'))`)
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch('/a/sample/media/signal.wav', {headers: {Range: 'bytes=0-99'}}).then(r => r.status)`, chromedp.EvalAwaitPromise))
	if err != nil || status != 206 {
		t.Errorf("Range request from the page: %d %v", status, err)
	}
	if err := chromedp.Do(ctx, save("article.png")); err != nil {
		t.Fatal(err)
	}
	narrow("the article")
	// Scrolled to the end, the hide button is still on the screen.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/a/sample/ko/safety.html"), chromedp.WaitVisible("main h1")); err != nil {
		t.Fatal(err)
	}
	if !eval(`(scrollTo(0, document.body.scrollHeight), (function(r){return scrollY > 300 && r.top >= 0 && r.bottom <= innerHeight})(document.getElementById('ferry-hide').getBoundingClientRect()))`) {
		t.Error("hide button not on screen on a scrolled page")
	}
	if buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err != nil {
		t.Fatal(err)
	} else if err := os.WriteFile(filepath.Join(dir, "scrolled.png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}

	// A picture loads; suggestions appear while typing; the hide button
	// blanks the page and Back does not return to it.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/a/sample/en/editions.html"), chromedp.WaitVisible("main img")); err != nil {
		t.Fatal(err)
	}
	if !eval(`document.querySelector('main img').complete && document.querySelector('main img').naturalWidth === 520`) {
		t.Error("image did not load")
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys("#fb-q", "Glos"), chromedp.WaitVisible("#fb-suggest li a")); err != nil {
		t.Fatalf("no title suggestions: %v", err)
	}
	if s := text("#fb-suggest li a"); !strings.HasPrefix(s, "Glossary") {
		t.Errorf("suggestion %q", s)
	}
	if err := chromedp.Do(ctx, save("suggest.png"), chromedp.Click("#ferry-hide")); err != nil {
		t.Fatal(err)
	}
	eval(`location.pathname === '/hide' && document.body.innerText === ''`)
	if err := chromedp.Do(ctx, chromedp.NavigateBack()); err != nil {
		t.Fatal(err)
	}
	if back, _ := chromedp.Run(ctx, chromedp.Location()); strings.Contains(back, "editions.html") {
		t.Errorf("Back returned to the hidden page %s", back)
	}

	// Esc twice hides too.
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/a/sample/ko/safety.html"), chromedp.WaitVisible("main h1"),
		chromedp.KeyEvent(kb.Escape), chromedp.KeyEvent(kb.Escape)); err != nil {
		t.Fatal(err)
	}
	if !eval(`location.pathname === '/hide'`) {
		t.Error("Esc twice did not hide")
	}

	checkConsole()

	// Real pages made by others (packed from the shared test data): the
	// bar sits on top and their own pictures and styles load under the CSP.
	query := "signal" // in the sample's English radio page
	if haveRealLibs() {
		query = "freedom"
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/a/enwiki/A/Ray_Charles"), chromedp.WaitVisible("#ferry-bar"), save("wikipedia.png")); err != nil {
			t.Fatal(err)
		}
		if body := text("body"); !strings.Contains(body, "Ray Charles Robinson") {
			t.Errorf("Wikipedia article text not shown: %.200q", body)
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/a/wikibooks/Wikibooks.html"), chromedp.WaitVisible("#ferry-bar"), save("wikibooks.png")); err != nil {
			t.Fatal(err)
		}
		if !eval(`Array.prototype.filter.call(document.images, function(i){return i.complete && i.naturalWidth > 0}).length >= 3`) {
			t.Error("pictures of the Wikibooks page did not load")
		}
	} else {
		t.Log("real Wikipedia and Wikibooks pages not checked: no shared test data (../shared/testdata)")
	}

	// Without JavaScript everything but suggestions works: searching,
	// reading, and the hide link (a plain link to the blank page).
	nctx, cancel := chromedp.NewContext(ctx)
	defer cancel()
	if err := chromedp.Do(nctx, browser.DisableScripts(), chromedp.Navigate(srv.URL+"/?lang=en"),
		chromedp.SetValue("#fb-q", query), chromedp.Submit("#fb-q"), chromedp.WaitVisible(".fp-results li a.fp-rt"),
		chromedp.Click(".fp-results li a.fp-rt"), chromedp.WaitVisible("#ferry-hide"),
		chromedp.Click("#ferry-hide"), chromedp.WaitReady("body")); err != nil {
		t.Fatalf("without JavaScript: %v", err)
	}
	if loc, _ := chromedp.Run(nctx, chromedp.Location()); !strings.HasSuffix(loc, "/hide") {
		t.Errorf("hide link without JavaScript went to %s", loc)
	}
}

// TestHideNotHijacked: a page that puts its own element with the hide
// button's id before the bar cannot take the button's place: the real
// button still hides the page so that Back does not bring it back.
func TestHideNotHijacked(t *testing.T) {
	page := `<!DOCTYPE html><html><head><title>x</title></head><span id="ferry-hide"></span><span id="fb-q"></span><body><p id="text">secret text</p></body></html>`
	var buf bytes.Buffer
	_, err := pack.Pack(context.Background(), &buf, pack.Options{
		Info:    archive.Info{Channel: "evil", Edition: 1, Title: "evil"},
		Signers: []*key.Secret{publisherKey(t)},
		Sources: []pack.Source{{Source: folder.NewFS(fstest.MapFS{"index.html": {Data: []byte(page)}})}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := browser.New(t, 60*time.Second)
	srv := newServer(t, []Library{openBytes(t, "evil", buf.Bytes())}, Options{})
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/a/evil/index.html"), chromedp.WaitVisible("#text"),
		chromedp.Sleep(300*time.Millisecond), // the deferred script has run
		chromedp.Click("#ferry-bar #ferry-hide")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Sleep(300*time.Millisecond), chromedp.NavigateBack()); err != nil {
		t.Fatal(err)
	}
	if back, _ := chromedp.Run(ctx, chromedp.Location()); strings.Contains(back, "/a/evil/") {
		t.Errorf("Back returned to the hidden page %s", back)
	}
}
