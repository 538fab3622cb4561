package harvest

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const newsBody = `<p>모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다. 인간은 천부적으로 이성과 양심을 부여받았으며 서로 형제애의 정신으로 행동하여야 한다.</p>
<p>모든 사람은 인종, 피부색, 성, 언어, 종교, 정치적 또는 기타의 견해, 민족적 또는 사회적 출신, 재산, 출생 또는 기타의 신분과 같은 어떠한 종류의 차별이 없이, 이 선언에 규정된 모든 권리와 자유를 향유할 자격이 있다.</p>
<p>모든 사람은 생명과 신체의 자유와 안전에 대한 권리를 가진다. 어느 누구도 노예상태 또는 예속상태에 놓여지지 아니한다. 모든 형태의 노예제도와 노예매매는 금지된다.</p>
<p>어느 누구도 고문, 또는 잔혹하거나, 비인도적이거나, 굴욕적인 처우 또는 형벌을 받지 아니한다. 모든 사람은 어디에서나 법 앞에 인간으로서 인정받을 권리를 가진다.</p>`

// newsOrigin adds a made-up Korean news site with an RSS and a JSON feed.
func newsOrigin(t *testing.T) *origin {
	or := newOrigin(t)
	page := func(title string) string {
		return `<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>` + title + ` - 소식</title></head><body>
<nav><a href="/">첫 화면</a> <a href="/menu">메뉴 링크</a> <a href="/login">로그인</a></nav>
<aside class="ads">광고 배너를 누르세요</aside>
<article><h1>` + title + `</h1>` + newsBody + `<figure><img src="/img/news.jpg" alt="사진"></figure>` + newsBody + `</article>
<footer>저작권 고지 바닥글</footer></body></html>`
	}
	or.pages["/news/1.html"] = page("첫째 소식")
	or.pages["/news/2.html"] = page("둘째 소식")
	rss := `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>오늘의 소식</title><link>` + or.URL + `/</link><description>시험</description>
<item><title>첫째 소식</title><link>` + or.URL + `/news/1.html</link><pubDate>Mon, 06 Jan 2025 09:00:00 +0900</pubDate><author>reporter@news.example (홍길동)</author><description>요약 하나</description></item>
<item><title>둘째 소식</title><link>/news/2.html</link><description>요약 둘</description></item>
<item><title>링크 없는 소식</title><guid isPermaLink="false">no-link-1</guid><description>&lt;p&gt;피드에만 있는 글 &lt;b&gt;굵게&lt;/b&gt;&lt;/p&gt;</description></item>
<item><title>사라진 소식</title><link>` + or.URL + `/news/gone.html</link><description>&lt;p&gt;사라진 글의 요약&lt;/p&gt;</description></item>
<item><title>생방송</title><link>` + or.URL + `/live/now.html</link></item>
</channel></rss>`
	jsonFeed := `{"version":"https://jsonfeed.org/version/1.1","title":"JSON 소식","items":[{"id":"1","url":"` + or.URL + `/news/2.html","title":"둘째 소식 (JSON)","content_text":"x"}]}`
	or.extra = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed.xml":
			or.serve(w, r, "application/rss+xml", []byte(rss))
		case "/feed.json":
			or.serve(w, r, "application/feed+json", []byte(jsonFeed))
		case "/not-a-feed.xml":
			or.serve(w, r, "application/xml", []byte("<html><body>not a feed</body></html>"))
		default:
			http.NotFound(w, r)
		}
	})
	return or
}

func TestFeed(t *testing.T) {
	or := newsOrigin(t)
	o := testOptions(t)
	host := strings.ReplaceAll(strings.TrimPrefix(or.URL, "http://"), ":", "_")
	src := Source{Kind: Feed, URL: or.URL + "/feed.xml", Articles: true, Resources: true, Exclude: []string{"/live/**"}}
	sum, events := harvestOnce(t, o, src)

	for path, res := range map[string]Result{
		"/feed.xml": Fetched, "/news/1.html": Fetched, "/news/2.html": Fetched,
		"/news/gone.html": Failed, "/live/now.html": Skipped, "/img/news.jpg": Fetched,
	} {
		if e := findEvent(events, or.URL+path); e == nil || e.Result != res {
			t.Errorf("%s: %+v, want %s", path, e, res)
		}
	}
	if or.count("/live/now.html") != 0 {
		t.Error("excluded article fetched")
	}
	// The article: the feed's title and date, the main text, the picture made
	// local, and none of the page's menus, ads and footer.
	art := readOut(t, o, host+"/news/1.html")
	for _, s := range []string{"<h1>첫째 소식</h1>", "존엄과 권리에 있어 동등하다", `src="../img/news.jpg"`, "2025-01-06", "홍길동"} {
		if !strings.Contains(art, s) {
			t.Errorf("article lacks %q:\n%s", s, art)
		}
	}
	for _, s := range []string{"메뉴 링크", "광고 배너", "바닥글", "로그인"} {
		if strings.Contains(art, s) {
			t.Errorf("article keeps boilerplate %q", s)
		}
	}
	if _, err := os.Stat(filepath.Join(o.Out, host, "img", "news.jpg")); err != nil {
		t.Errorf("article image: %v", err)
	}
	// A relative item link is resolved against the feed.
	if a2 := readOut(t, o, host+"/news/2.html"); !strings.Contains(a2, "둘째 소식") {
		t.Error("second article missing")
	}
	// An article that cannot be fetched keeps the feed's own text.
	if g := readOut(t, o, host+"/news/gone.html"); !strings.Contains(g, "사라진 글의 요약") {
		t.Errorf("fallback article:\n%s", g)
	}
	// An item without a link becomes a page of its own.
	var noLink, index string
	for _, p := range sum.Pages {
		if p.Title == "링크 없는 소식" {
			noLink = p.File
		}
		if p.What == "feed" {
			index = p.File
		}
	}
	if noLink == "" || !strings.Contains(readOut(t, o, noLink), "<b>굵게</b>") {
		t.Errorf("item without a link: %q", noLink)
	}
	// The feed's index lists the items, linked to the local pages.
	if index != host+"/feed.xml.feed.html" {
		t.Fatalf("index page %q", index)
	}
	idx := readOut(t, o, index)
	for _, s := range []string{"<h1>오늘의 소식</h1>", `href="news/1.html"`, `href="news/gone.html"`, "링크 없는 소식"} {
		if !strings.Contains(idx, s) {
			t.Errorf("index lacks %q:\n%s", s, idx)
		}
	}
	if strings.Contains(idx, "생방송") {
		t.Error("excluded item listed")
	}

	// Again: the feed and articles are 304s, the pages the same.
	sum2, events2 := harvestOnce(t, o, src)
	for _, p := range []string{"/feed.xml", "/news/1.html", "/news/2.html", "/img/news.jpg"} {
		if e := findEvent(events2, or.URL+p); e == nil || e.Result != Unchanged {
			t.Errorf("second run %s: %+v", p, e)
		}
	}
	if readOut(t, o, host+"/news/1.html") != art || len(sum2.Pages) != len(sum.Pages) {
		t.Error("second run output differs")
	}
}

func TestFeedKinds(t *testing.T) {
	or := newsOrigin(t)
	_, events := harvestOnce(t, testOptions(t),
		Source{Kind: Feed, URL: or.URL + "/feed.json", Articles: true},
		Source{Kind: Feed, URL: or.URL + "/not-a-feed.xml", Articles: true},
	)
	if e := findEvent(events, "/news/2.html"); e == nil || e.Result != Fetched {
		t.Errorf("JSON feed article: %+v", e)
	}
	if e := findEvent(events, "/not-a-feed.xml"); e == nil || e.Result != Failed || !strings.Contains(e.Err.Error(), "not a feed") {
		t.Errorf("not a feed: %+v", e)
	}
	// Articles off: no article page is fetched, and the limit of 2 items
	// skips the other three.
	before := or.count("/news/2.html")
	sum, events := harvestOnce(t, testOptions(t), Source{Kind: Feed, URL: or.URL + "/feed.xml", Articles: false, MaxPages: 2})
	if or.count("/news/1.html") != 0 || or.count("/news/2.html") != before {
		t.Error("article fetched with Articles: false")
	}
	n := 0
	for _, e := range events {
		if e.Result == Skipped && errors.Is(e.Err, ErrLimit) {
			n++
		}
	}
	articles := 0
	for _, p := range sum.Pages {
		if p.What == "article" {
			articles++
		}
	}
	if n != 3 || articles != 2 {
		t.Errorf("%d items skipped by the limit (want 3), %d article pages (want 2)", n, articles)
	}
}

// testdata is the project's shared real content, read in place.
func testdata(t *testing.T, parts ...string) string {
	p := filepath.Join(append([]string{"..", "..", "..", "..", "shared", "testdata"}, parts...)...)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared test data %s missing (%v): these tests read ../shared/testdata beside the repository", p, err)
	}
	return p
}

// TestRealFeed harvests GitHub's real Atom feed (relative links, escaped
// HTML content) with its articles served as the real UDHR page.
func TestRealFeed(t *testing.T) {
	atom, err := os.ReadFile(filepath.Join(testdata(t, "feeds"), "gulp-releases.atom"))
	if err != nil {
		t.Fatal(err)
	}
	article, err := os.ReadFile(filepath.Join(testdata(t, "udhr"), "eng.html"))
	if err != nil {
		t.Fatal(err)
	}
	or := newOrigin(t)
	or.extra = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/releases.atom":
			or.serve(w, r, "application/atom+xml", atom)
		case strings.HasPrefix(r.URL.Path, "/gulpjs/gulp/releases/tag/"):
			or.serve(w, r, "text/html; charset=utf-8", article)
		default:
			http.NotFound(w, r)
		}
	})
	o := testOptions(t)
	sum, _ := harvestOnce(t, o, Source{Kind: Feed, URL: or.URL + "/releases.atom", Articles: true})
	entries := strings.Count(string(atom), "<entry>")
	articles := 0
	for _, p := range sum.Pages {
		if p.What == "article" {
			articles++
			body := readOut(t, o, p.File)
			if !strings.Contains(body, "Universal Declaration of Human Rights") && !strings.Contains(body, "inherent dignity") {
				t.Errorf("%s: no main text of the article", p.File)
			}
		}
	}
	if articles != entries || sum.Failed != 0 {
		t.Errorf("%d articles for %d entries, %d failed: %v", articles, entries, sum.Failed, sum.Errors)
	}
}

// TestRealSite crawls 129 real Wikipedia articles (mwoffliner HTML, names
// without extensions) from a file server, then again with nothing changed.
func TestRealSite(t *testing.T) {
	dir := testdata(t, "html", "enwiki_raycharles")
	or := newOrigin(t)
	or.extra = http.StripPrefix("/wiki", http.FileServer(http.Dir(dir)))
	o := testOptions(t)
	o.Concurrency = 1 // the same 40 pages both times
	src := Source{Kind: Site, URL: or.URL + "/wiki/A/Ray_Charles", Depth: 6, MaxPages: 40, Resources: true, Include: []string{"/wiki/A/*"}}
	sum, _ := harvestOnce(t, o, src)
	pages, resources := 0, 0
	for _, p := range sum.Pages {
		switch p.What {
		case "page":
			pages++
		case "resource":
			resources++
		}
	}
	// mwoffliner left links to articles it did not take: those are 404s.
	for _, e := range sum.Errors {
		if !strings.Contains(e.Error(), "404") {
			t.Errorf("failure other than a missing article: %v", e)
		}
	}
	if pages+len(sum.Errors) != 40 || pages < 30 || resources == 0 {
		t.Errorf("%d pages, %d resources, %d failed", pages, resources, sum.Failed)
	}
	host := strings.ReplaceAll(strings.TrimPrefix(or.URL, "http://"), ":", "_")
	start := readOut(t, o, host+"/wiki/A/Ray_Charles.html")
	if !strings.Contains(start, "<title>Ray Charles</title>") || !strings.Contains(start, `href="../-/s/css_modules/style.css"`) {
		t.Errorf("start page not rewritten as expected")
	}
	// FileServer answers If-Modified-Since: everything is a 304 now.
	sum2, _ := harvestOnce(t, o, src)
	if sum2.Unchanged != sum.Fetched-1 || sum2.Fetched != 1 { // robots.txt is always fetched
		t.Errorf("second run: %d unchanged, %d fetched; first fetched %d", sum2.Unchanged, sum2.Fetched, sum.Fetched)
	}
}

// TestRealKorean keeps the real Korean UDHR page's text and language.
func TestRealKorean(t *testing.T) {
	dir := testdata(t, "udhr")
	or := newOrigin(t)
	or.extra = http.StripPrefix("/udhr", http.FileServer(http.Dir(dir)))
	o := testOptions(t)
	harvestOnce(t, o, Source{Kind: Site, URL: or.URL + "/udhr/kor.html"})
	host := strings.ReplaceAll(strings.TrimPrefix(or.URL, "http://"), ":", "_")
	if k := readOut(t, o, host+"/udhr/kor.html"); !strings.Contains(k, "세 계 인 권 선 언") || !strings.Contains(k, `lang="ko"`) {
		t.Error("Korean page changed")
	}
}
