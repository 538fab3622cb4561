package reader

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"

	"ferry/internal/archive"
	"ferry/internal/htmltext"
	"ferry/internal/testkit/browser"
	"ferry/internal/testkit/packtest"
	"ferry/internal/testkit/shared"
)

// glossPage is a Korean page with loanwords in text, in a link, in code
// and in a link's address.
const glossPage = `<!DOCTYPE html><html lang="ko"><head><title>손전화</title></head><body>
<h1>스마트폰 이야기</h1><p id="t">요즘은 스마트폰으로 인터넷에서 뉴스를 읽는다. 컴퓨터도 쓴다.</p>
<p><a href="/%EC%8A%A4%EB%A7%88%ED%8A%B8%ED%8F%B0/x.html">스마트폰 가게</a> <code>스마트폰</code></p>
<p>` + "그냥 긴 글입니다. 이 글은 좁은 화면에서도 옆으로 밀지 않고 읽을 수 있어야 합니다. " + `</p></body></html>`

// TestGlossary: Korean pages are served with South Korean loanwords
// marked and explained without JavaScript (abbr title, a list of words),
// never inside a link, code or an address; the switch (kept in the URL)
// turns it off; English UIs have it off unless chosen (issue 19).
func TestGlossary(t *testing.T) {
	b := packtest.FS(t, fstest.MapFS{"ko.html": {Data: []byte(glossPage)}}, archive.Info{Channel: "g", Title: "g", Languages: []string{"ko"}})
	h := New([]Library{openBytes(t, "g", b)}, Options{})
	on := do(h, "GET", "/kp/a/g/ko.html").Body.String()
	if strings.Count(on, `<abbr class="fg"`) < 3 {
		t.Fatalf("loanwords not marked:\n%s", on)
	}
	for _, bad := range []string{`<a href="/%EC%8A%A4%EB%A7%88%ED%8A%B8%ED%8F%B0/x.html"><abbr`, `<code><abbr`, `x.html"><abbr`} {
		if strings.Contains(on, bad) {
			t.Errorf("marked where it must not be: %s", bad)
		}
	}
	if !strings.Contains(on, `href="/kp-g0/a/g/ko.html"`) {
		t.Error("no switch to turn word notes off")
	}
	for _, u := range []string{"/kp-g0/a/g/ko.html", "/en/a/g/ko.html"} {
		if off := do(h, "GET", u).Body.String(); strings.Contains(off, `<abbr class="fg"`) {
			t.Errorf("%s: words marked with notes off", u)
		}
	}
	if en := do(h, "GET", "/en-g1/a/g/ko.html").Body.String(); !strings.Contains(en, `<abbr class="fg"`) {
		t.Error("English UI with notes chosen on: nothing marked")
	}
	if off := do(New([]Library{openBytes(t, "g", b)}, Options{NoGlossary: true}), "GET", "/kp/a/g/ko.html").Body.String(); strings.Contains(off, "fg") || strings.Contains(off, "g0/") {
		t.Error("NoGlossary still marks words or offers the switch")
	}
}

// TestPhoneWidth: pages that ferry's sources generate (feed pages, EPUB
// chapters) and publisher pages without a viewport are readable on a
// 360 px phone: the reader adds the viewport, so the page is laid out 360
// px wide and plain text needs no sideways scrolling (issue 13, item 9).
func TestPhoneWidth(t *testing.T) {
	own := packtest.FS(t, fstest.MapFS{
		"noviewport.html": {Data: []byte("<html><head><title>old page</title></head><body><h1>An old page</h1><p>" + strings.Repeat("Plain text written long before phones, with no viewport at all. ", 20) + "</p></body></html>")},
		"ko.html":         {Data: []byte(glossPage)},
	}, archive.Info{Channel: "own", Title: "own"})
	libs := []Library{openBytes(t, "own", own)}
	pages := []string{"/a/own/noviewport.html", "/a/own/ko.html"}
	for _, s := range []struct{ rel, name string }{{"feeds/gulp-releases.atom", "feed"}, {"epub/alice.epub", "book"}} {
		if shared.Root() == "" {
			break
		}
		if _, err := os.Stat(filepath.Join(shared.Root(), s.rel)); err != nil {
			continue
		}
		l := packSource(t, s.rel, s.name)
		libs = append(libs, l)
		// The first two generated pages of each.
		n := 0
		for i := 0; i < l.Edition.NumEntries() && n < 2; i++ {
			e, err := l.Edition.EntryAt(i)
			if err == nil && !e.Redirect && htmltext.IsHTML(e.MIME) {
				pages = append(pages, entryURL(s.name, e.Path))
				n++
			}
		}
	}
	srv := newServer(t, libs, Options{})
	ctx := browser.New(t, 90*time.Second)
	dir := shotDir(t)
	for _, p := range pages {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile), chromedp.Navigate(srv.URL+p), chromedp.WaitReady("body")); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[innerWidth, document.documentElement.scrollWidth,
			Math.round(Math.max.apply(null, Array.prototype.map.call(document.querySelectorAll('p'), function (e) { return e.getBoundingClientRect().right; }).concat([0])))]`))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if got[0] != 360 || got[1] > 360 || got[2] > 360 {
			wide, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(function(){var w='';Array.prototype.forEach.call(document.querySelectorAll('body *'),function(e){var r=e.getBoundingClientRect();if(r.right>360&&!w){w=e.tagName+' '+e.className+' '+Math.round(r.left)+'-'+Math.round(r.right)+' '+e.outerHTML.slice(0,200)}});return w})()`))
			t.Logf("%s: widest %s", p, wide)
			t.Errorf("%s on a 360 px phone: laid out %d px wide, scrolls to %d, text reaches %d", p, got[0], got[1], got[2])
		}
		if buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(dir, "phone-"+strings.NewReplacer("/", "_", ".", "_").Replace(strings.Trim(p, "/"))+".png"), buf, 0o644)
		}
	}
	t.Logf("%d pages at 360 px; screenshots in %s", len(pages), dir)
}

// TestNorthKoreanSession is a reader's visit on a 360 px phone with the
// 조선말 UI and word notes on: the UI speaks 조선말, a glossed word shows
// its explanation when tapped (no JavaScript needed: it takes focus), the
// choice holds across a link of the archive's own page, and nothing needs
// sideways scrolling (issue 19).
func TestNorthKoreanSession(t *testing.T) {
	b := packtest.FS(t, fstest.MapFS{
		"ko.html":    {Data: []byte(strings.Replace(glossPage, "</body>", `<p><a id="next" href="next.html">다음 페지</a></p></body>`, 1))},
		"next.html":  {Data: []byte(`<!DOCTYPE html><html lang="ko"><head><title>다음</title></head><body><p id="n">인터넷이 끊긴 곳.</p></body></html>`)},
		"index.html": {Data: []byte(`<!DOCTYPE html><html lang="ko"><head><title>처음</title></head><body><p><a href="ko.html">글</a></p></body></html>`)},
	}, archive.Info{Channel: "g", Title: "견본", Languages: []string{"ko"}, MainPage: "index.html"})
	srv := newServer(t, []Library{openBytes(t, "g", b)}, Options{})
	ctx := browser.New(t, 90*time.Second)
	dir := shotDir(t)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile),
		chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(".fp-lib")); err != nil {
		t.Fatal(err)
	}
	// Choose 조선말 with the switch, then open the library and a page.
	if err := chromedp.Do(ctx, chromedp.Click(`#ferry-bar a[lang="ko-KP"]`), chromedp.WaitVisible(".fp-lib")); err != nil {
		t.Fatal(err)
	}
	if h1, _ := chromedp.Run(ctx, chromedp.Text("main h1")); h1 != messages["kp"]["libraries"] {
		t.Errorf("home page in the 조선말 UI says %q", h1)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`.fp-btn`), chromedp.WaitVisible(`a[href="ko.html"]`),
		chromedp.Click(`a[href="ko.html"]`), chromedp.WaitVisible("#t")); err != nil {
		t.Fatal(err)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.Contains(loc, "/kp/a/g/ko.html") {
		t.Errorf("the archive's own link lost the choice: %s", loc)
	}
	// Tap the first glossed word: its explanation shows in place.
	if err := chromedp.Do(ctx, chromedp.Click(`#t abbr.fg`), chromedp.Sleep(200*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector('#t abbr.fg'), '::after').content`))
	if err != nil || len(shown) < 10 {
		t.Errorf("tapped word shows %q (%v)", shown, err)
	}
	if buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		os.WriteFile(filepath.Join(dir, "kp-gloss.png"), buf, 0o644)
	}
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - innerWidth`))
	if err != nil || w > 0 {
		t.Errorf("the page is %d px wider than the phone (%v)", w, err)
	}
	if bar, _ := chromedp.Run(ctx, chromedp.Text("#ferry-bar .fb-gloss")); bar != messages["kp"]["glossOff"] {
		t.Errorf("word-note switch says %q", bar)
	}
	// The archive's own relative link keeps the choice (followed from
	// script: a synthetic tap on it is not reliable under touch emulation).
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.getElementById('next').click(), true)`)); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible("#n")); err != nil {
		t.Fatal(err)
	}
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "/kp/a/g/next.html") {
		t.Errorf("next link lost the choice: %s", loc)
	}
}
