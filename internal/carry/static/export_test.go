package static

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"

	"ferry/internal/archive"
	"ferry/internal/testkit/browser"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/packtest"
)

// site packs a corpus site (our own writing) and exports it.
func site(t *testing.T, o corpus.Options, info archive.Info, opts Options) (string, *archive.Reader) {
	t.Helper()
	fsys, err := corpus.Site(o)
	if err != nil {
		t.Fatal(err)
	}
	r := packtest.Open(t, packtest.FS(t, fsys, info))
	dir := filepath.Join(t.TempDir(), "card")
	if _, err := Export(context.Background(), dir, []archive.Contents{r}, opts); err != nil {
		t.Fatal(err)
	}
	return dir, r
}

// TestES5 parses the export's search script (and the search page's inline
// call) as ECMAScript 5: the browsers of Windows XP and 7 run nothing
// newer (issue 19).
func TestES5(t *testing.T) {
	for _, lang := range []string{"ko", "en"} {
		cfg := "var ferrySearchConfig = {shards: 1, docs: 1, chunk: 100, perFolder: 1000};\n"
		browser.CheckES5(t, "search.js ("+lang+")", []byte(cfg+searchWords(lang)+searchJS))
	}
	browser.CheckES5(t, "search.html's call", []byte("ferrySearch.start();"))
	// The index files are scripts too.
	dir, _ := site(t, corpus.Options{Pages: 30}, archive.Info{Channel: "c", Title: "c", Languages: []string{"ko"}}, Options{})
	for _, f := range []string{"search/s/0/0.js", "search/d/0/0.js"} {
		b, err := os.ReadFile(filepath.Join(dir, "c", filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		browser.CheckES5(t, f, b)
	}
}

// TestArticlePages: every article page links back to its archive's
// contents and search, in the archive's language (Korean words a North
// Korean reads; English in an English archive), has a viewport, and
// Korean pages have their loanwords explained; the archive's index says
// 첫 페지 (issue 13, item 13).
func TestArticlePages(t *testing.T) {
	fsys := fstest.MapFS{
		"ko.html":    {Data: []byte(`<html><head><title>손전화</title></head><body><p>스마트폰으로 인터넷에서 뉴스를 본다.</p></body></html>`)},
		"index.html": {Data: []byte(`<html><head><title>처음</title></head><body><p><a href="ko.html">글</a></p></body></html>`)},
	}
	ko := packtest.Open(t, packtest.FS(t, fsys, archive.Info{Channel: "ko", Title: "조선", Languages: []string{"ko"}, MainPage: "index.html"}))
	en := packtest.Open(t, packtest.FS(t, fstest.MapFS{"a.html": {Data: []byte(`<html><head><title>A</title></head><body><p>English text.</p></body></html>`)}},
		archive.Info{Channel: "en", Title: "English", Languages: []string{"en"}}))
	dir := filepath.Join(t.TempDir(), "card")
	if _, err := Export(context.Background(), dir, []archive.Contents{ko, en}, Options{}); err != nil {
		t.Fatal(err)
	}
	page := readFile(t, filepath.Join(dir, "ko", "ko.html"))
	for _, want := range []string{`id="ferry-nav"`, `href="index.html"`, "차례로", `href="search.html"`, `name="viewport"`, `<abbr class="fg"`} {
		if !strings.Contains(page, want) {
			t.Errorf("Korean article lacks %q:\n%s", want, page)
		}
	}
	if idx := readFile(t, filepath.Join(dir, "ko", "index.html")); !strings.Contains(idx, "첫 페지") || strings.Contains(idx, "페이지") || strings.Contains(idx, "Main page") {
		t.Errorf("Korean archive index words:\n%s", idx)
	}
	page = readFile(t, filepath.Join(dir, "en", "a.html"))
	if !strings.Contains(page, "Contents") || regexp.MustCompile(`[가-힣]`).MatchString(page) {
		t.Errorf("English article has Korean inserted or no link back:\n%s", page)
	}
	for _, f := range []string{"en/index.html", "en/search.html", "en/titles/a.html"} {
		if regexp.MustCompile(`[가-힣]`).MatchString(readFile(t, filepath.Join(dir, filepath.FromSlash(f)))) {
			t.Errorf("%s of an English archive has Korean text", f)
		}
	}
	if _, err := Export(context.Background(), filepath.Join(t.TempDir(), "plain"), []archive.Contents{ko}, Options{NoGlossary: true}); err != nil {
		t.Fatal(err)
	}
}

// TestFolderLimits: with a small folder limit, a folder's files continue
// in ~N subfolders (FAT32 holds 65,534 entries in a folder; long names
// take several), every link still reaches its file, and an entry larger
// than a FAT32 file is left out with a warning (issue 19).
func TestFolderLimits(t *testing.T) {
	old, oldMax := maxFolderSlots, maxFileSize
	maxFolderSlots, maxFileSize = 60, 200_000
	t.Cleanup(func() { maxFolderSlots, maxFileSize = old, oldMax })
	fsys, err := corpus.Site(corpus.Options{Pages: 120, Pictures: true})
	if err != nil {
		t.Fatal(err)
	}
	fsys["big.bin"] = &fstest.MapFile{Data: make([]byte, 300_000)}
	r := packtest.Open(t, packtest.FS(t, fsys, archive.Info{Channel: "c", Title: "c"}))
	dir := filepath.Join(t.TempDir(), "card")
	var warnings []string
	sum, err := Export(context.Background(), dir, []archive.Contents{r}, Options{Warn: func(s string) { warnings = append(warnings, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Skipped < 1 || len(warnings) != sum.Skipped || !strings.Contains(strings.Join(warnings, "\n"), "big.bin") {
		t.Errorf("big entry not left out with a warning: %d skipped, %q", sum.Skipped, warnings)
	}
	if _, err := os.Stat(filepath.Join(dir, "c", "big.bin")); err == nil {
		t.Error("big.bin written")
	}
	slots := map[string]int{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		slots[filepath.Dir(p)] += slotsOf(d.Name())
		return nil
	})
	subs := 0
	for d, n := range slots {
		if n > maxFolderSlots {
			t.Errorf("%s: %d directory entries", d, n)
		}
		if strings.Contains(d, "~") {
			subs++
		}
	}
	if subs == 0 {
		t.Error("no overflow folder made")
	}
	// Every article's links lead to existing files.
	checked := 0
	filepath.WalkDir(filepath.Join(dir, "c"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") || strings.Contains(p, "search") {
			return err
		}
		for _, m := range regexp.MustCompile(`(?:href|src)="([^"#?:]+)`).FindAllStringSubmatch(readFile(t, p), -1) {
			if _, err := os.Stat(filepath.Join(filepath.Dir(p), filepath.FromSlash(unescape(m[1])))); err != nil {
				t.Errorf("%s: link %s: %v", p, m[1], err)
			}
			checked++
		}
		return nil
	})
	if checked < 300 {
		t.Errorf("only %d links checked", checked)
	}
}

// TestLargeExportInBrowser exports a site of 1,500 pages of our own
// writing and opens it from file:// in chromium at 360 px: a search for
// a page's own word finds that page first, with a snippet, each page
// once; the page opens, links back to the contents, and its loanwords
// are explained; and it all reads with JavaScript off but the search.
func TestLargeExportInBrowser(t *testing.T) {
	pages := 1500
	if testing.Short() {
		pages = 400
	}
	fsys, err := corpus.Site(corpus.Options{Pages: pages, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	// The same page under a second path: one result, not two.
	fsys["A/copy-of-10.html"] = fsys[corpus.PagePath(10)]
	r := packtest.Open(t, packtest.FS(t, fsys, archive.Info{Channel: "big", Title: "큰 서고", Languages: []string{"ko", "en"}, MainPage: "index.html"}))
	dir := filepath.Join(t.TempDir(), "card")
	start := time.Now()
	sum, err := Export(context.Background(), dir, []archive.Contents{r}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("exported %d pages: %d files, %d bytes in %v", pages, sum.Files, sum.Bytes, time.Since(start).Round(time.Millisecond))
	ctx := browser.New(t, 120*time.Second)
	search := "file://" + filepath.ToSlash(filepath.Join(dir, "big", "search.html"))
	for _, i := range []int{10, 1235 % pages, pages - 1} {
		word := corpus.Keyword(i)
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile), chromedp.Navigate(search),
			chromedp.SetValue(`#q`, word), chromedp.Click(`input[type=submit]`)); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err := chromedp.Do(wctx, chromedp.WaitVisible(`#results li a`))
		cancel()
		if err != nil {
			st, _ := chromedp.Run(ctx, chromedp.Text(`#status`))
			t.Fatalf("%s: no result (status %q): %v", word, st, err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.prototype.map.call(document.querySelectorAll('#results li'), function (li) { return li.querySelector('a').getAttribute('href') + ' | ' + (li.querySelector('.snip') ? li.querySelector('.snip').textContent : ''); })`))
		if err != nil {
			t.Fatal(err)
		}
		first := strings.SplitN(got[0], " | ", 2)
		if path.Base(first[0]) != path.Base(corpus.PagePath(i)) || len(first) < 2 || len(first[1]) < 20 {
			t.Errorf("%s: first result %q", word, got[0])
		}
		hrefs := map[string]bool{}
		for _, g := range got {
			h := strings.SplitN(g, " | ", 2)[0]
			if hrefs[h] || i == 10 && strings.Contains(h, "copy-of-10") {
				t.Errorf("%s: %s listed twice", word, h)
			}
			hrefs[h] = true
		}
	}
	// The first result opens; the page links back; a Korean page has its
	// words explained (corpus pages hold loanwords: 인터넷...).
	if err := chromedp.Do(ctx, chromedp.Click(`#results li a`), chromedp.WaitVisible(`#ferry-nav`)); err != nil {
		t.Fatal(err)
	}
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - innerWidth`))
	if err != nil || w > 0 {
		t.Errorf("article %d px wider than the phone (%v)", w, err)
	}
	marked := 0
	for i := 0; i < 40 && marked == 0; i += 2 {
		marked += strings.Count(readFile(t, filepath.Join(dir, "big", filepath.FromSlash(corpus.PagePath(i)))), `<abbr class="fg"`)
	}
	if marked == 0 {
		t.Error("no loanword explained in 20 Korean pages")
	}
	// Without JavaScript: index → title page → article.
	nctx, cancel := chromedp.NewContext(ctx)
	defer cancel()
	home := "file://" + filepath.ToSlash(filepath.Join(dir, "index.html"))
	if err := chromedp.Do(nctx, browser.DisableScripts(), chromedp.Navigate(home), chromedp.Click(`a[href="big/index.html"]`),
		chromedp.WaitVisible(`.letters a`), chromedp.Click(`.letters a`), chromedp.WaitVisible(`ul li a`),
		chromedp.Click(`ul li a`), chromedp.WaitVisible(`#ferry-nav`)); err != nil {
		t.Fatalf("without JavaScript: %v", err)
	}
	fmt.Fprint(os.Stderr, "")
}

// TestExportCancelled: Ctrl+C during an export stops it and leaves no
// half-written folder behind.
func TestExportCancelled(t *testing.T) {
	fsys, err := corpus.Site(corpus.Options{Pages: 200, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	r := packtest.Open(t, packtest.FS(t, fsys, archive.Info{Channel: "news", Edition: 1}))
	ctx, cancel := context.WithCancel(context.Background())
	dir := filepath.Join(t.TempDir(), "card")
	var seen int64
	_, err = Export(ctx, dir, []archive.Contents{r}, Options{Progress: func(done, total int64) {
		if seen = done; done >= 50 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("export cancelled after %d entries: %v", seen, err)
	}
	if seen >= int64(r.NumEntries()) {
		t.Fatalf("the export ran to its end (%d entries) before stopping", seen)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the cancelled export left %s: %v", dir, err)
	}
}

// TestPlainTextArticles: a plain-text document of the archive is copied as
// it is and listed in the titles and the search index like a page.
func TestPlainTextArticles(t *testing.T) {
	doc := "대한민국헌법\n\n제70조 대통령의 임기는 5년으로 하며, 중임할 수 없다.\n"
	a := packtest.Open(t, packtest.FS(t, fstest.MapFS{
		"law.txt":    {Data: []byte(doc)},
		"index.html": {Data: []byte(`<html><head><title>처음</title></head><body><p>법</p></body></html>`)},
	}, archive.Info{Channel: "law", Title: "법", Languages: []string{"ko"}, MainPage: "index.html"}))
	dir := filepath.Join(t.TempDir(), "card")
	if _, err := Export(context.Background(), dir, []archive.Contents{a}, Options{}); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "law", "law.txt")); got != doc {
		t.Errorf("law.txt changed: %q", got)
	}
	var inTitles, inSearch bool
	err := filepath.WalkDir(filepath.Join(dir, "law"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, "law.txt") {
			return err
		}
		b := readFile(t, p)
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, "law/titles/") && strings.Contains(b, "대한민국헌법") && strings.Contains(b, "law.txt") {
			inTitles = true
		}
		if strings.HasSuffix(rel, ".js") && strings.Contains(b, "law.txt") {
			inSearch = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !inTitles || !inSearch {
		t.Errorf("the text document is in the titles: %v, in the search index: %v", inTitles, inSearch)
	}
}
