package static

import (
	"bytes"
	"context"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	xhtml "golang.org/x/net/html"

	"ferry/internal/archive"
	"ferry/internal/testkit/browser"
	"ferry/internal/testkit/packtest"
)

func open(t *testing.T, name string, info archive.Info) *archive.Reader {
	b, _ := packtest.Folder(t, name, info)
	r, err := archive.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func exportTest(t *testing.T) (string, []*archive.Reader) {
	t.Helper()
	rs := []*archive.Reader{
		open(t, "udhr", archive.Info{Channel: "udhr", Title: "세계인권선언 / UDHR", Languages: []string{"ko", "en"}, MainPage: "kor.html"}),
		open(t, "html/enwiki_raycharles", archive.Info{Channel: "ray", Title: "Ray Charles", MainPage: "A/Ray_Charles"}),
		open(t, "html/wikibooks_en", archive.Info{Channel: "wikibooks", Title: "Wikibooks", MainPage: "Wikibooks.html"}),
	}
	dir := filepath.Join(t.TempDir(), "card")
	var as []archive.Contents
	for _, r := range rs {
		as = append(as, r)
	}
	sum, err := Export(context.Background(), dir, as, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("exported %d files, %d bytes", sum.Files, sum.Bytes)
	return dir, rs
}

// TestFAT32Names checks every written name against FAT32/Windows rules.
func TestFAT32Names(t *testing.T) {
	dir, _ := exportTest(t)
	seen := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if u := units(rel); u > maxPath {
			t.Errorf("%s: path of %d UTF-16 units", rel, u)
		}
		name := d.Name()
		if units(name) > 255 || strings.ContainsAny(name, `<>:"/\|?*`) || strings.TrimRight(name, ". ") != name {
			t.Errorf("%s: name not valid on FAT32", rel)
		}
		for _, c := range name {
			if c < 0x20 {
				t.Errorf("%s: control character", rel)
			}
		}
		stem := strings.ToLower(name)
		if i := strings.IndexByte(stem, '.'); i >= 0 {
			stem = stem[:i]
		}
		if reserved[stem] {
			t.Errorf("%s: reserved device name", rel)
		}
		if other, ok := seen[strings.ToLower(rel)]; ok {
			t.Errorf("%s and %s differ only in case", rel, other)
		}
		seen[strings.ToLower(rel)] = rel
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNames(t *testing.T) {
	n := newNamer()
	cases := []struct{ path, mime, want string }{
		{"A/Ray_Charles", "text/html", "A/Ray_Charles.html"},
		{"A/ray_charles", "text/html", "A/ray_charles~2.html"},
		{"A/What'd_I_Say", "text/html", "A/What'd_I_Say.html"},
		{"-/s/css_modules/a|b.css", "text/css", "-/s/css_modules/a_b.css"},
		{"I/con.png", "image/png", "I/_con.png"},
		{"-/favicon", "image/png", "-/favicon.png"},
		{"dir/name. ", "text/plain", "dir/name.txt"},
		{"I/nul .html", "text/html", "I/_nul .html"},
		{"I/COM¹.txt", "text/plain", "I/_COM¹.txt"},
		{"I/CONOUT$", "text/plain", "I/_CONOUT$.txt"},
	}
	for _, c := range cases {
		if got := n.name(c.path, c.mime); got != c.want {
			t.Errorf("name(%q) = %q, want %q", c.path, got, c.want)
		}
	}
	// An entry inside a folder ferry writes itself moves aside.
	own := newNamer("index.html", "titles", "search", "search.html")
	if got := own.name("titles/a.html", "text/html"); got != "_titles/a.html" {
		t.Errorf("titles/a.html named %q", got)
	}
	long := strings.Repeat("가", 200)
	if got := n.name("A/"+long, "text/html"); units(got) > maxPath || !strings.HasSuffix(got, ".html") {
		t.Errorf("long name %q", got)
	}
}

// TestLinksResolve checks that every link of an article that pointed at an
// entry of the archive points at an exported file.
func TestLinksResolve(t *testing.T) {
	dir, rs := exportTest(t)
	ray := rs[1]
	checked := 0
	err := filepath.WalkDir(filepath.Join(dir, "ray", "A"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, l := range links(b) {
			u, err := url.Parse(l)
			if err != nil || u.Scheme != "" || u.Host != "" || u.Path == "" {
				continue
			}
			target := filepath.Join(filepath.Dir(p), filepath.FromSlash(u.Path))
			if _, err := os.Stat(target); err == nil {
				checked++
				continue
			}
			// Not a file: then it must not name an entry either.
			rel, _ := filepath.Rel(filepath.Join(dir, "ray"), target)
			ap := filepath.ToSlash(rel)
			if _, err := ray.Lookup(strings.TrimSuffix(ap, ".html")); err == nil {
				t.Errorf("%s: link %q names an entry but no file", p, l)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 1000 {
		t.Fatalf("only %d working links checked", checked)
	}
	t.Logf("%d links resolve to exported files", checked)
}

func links(page []byte) []string {
	var out []string
	z := xhtml.NewTokenizer(bytes.NewReader(page))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return out
		}
		if tt == xhtml.StartTagToken || tt == xhtml.SelfClosingTagToken {
			for _, a := range z.Token().Attr {
				if a.Key == "href" || a.Key == "src" {
					out = append(out, a.Val)
				}
			}
		}
	}
}

func TestTokensMatchJS(t *testing.T) {
	var got []string
	tokens("금강산의 높이는 1,638m? Hello-World 人権 éa x", func(s string) { got = append(got, s) })
	want := "금강 강산 산의 높이 이는 1 638m hello world 人権 éa"
	if strings.Join(got, " ") != want {
		t.Fatalf("tokens %q\nwant   %q", strings.Join(got, " "), want)
	}
}

// TestBrowser opens the export from file:// in chromium: without
// JavaScript, index → archive → article → image; with it, a Korean search.
func TestBrowser(t *testing.T) {
	dir, _ := exportTest(t)
	ctx := browser.New(t, 120*time.Second)
	home := "file://" + filepath.ToSlash(filepath.Join(dir, "index.html"))
	if err := chromedp.Do(ctx, browser.DisableScripts(), chromedp.Navigate(home),
		chromedp.Click(`a[href="ray/index.html"]`), chromedp.WaitVisible(`.letters`),
		chromedp.Click(`a[href="titles/r.html"]`), chromedp.WaitVisible(`ul`),
	); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`a[href="../A/Ray_Charles.html"]`), chromedp.WaitVisible(`body`)); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(`body`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Ray Charles Robinson") {
		t.Fatalf("article text not shown: %.200q", text)
	}
	// An article with pictures: the Wikibooks main page.
	wb := "file://" + filepath.ToSlash(filepath.Join(dir, "wikibooks", "Wikibooks.html"))
	if err := chromedp.Do(ctx, chromedp.Navigate(wb)); err != nil {
		t.Fatal(err)
	}
	imgs, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Array.prototype.filter.call(document.images, function(i){return i.complete && i.naturalWidth > 0}).length`))
	if err != nil {
		t.Fatal(err)
	}
	if imgs == 0 {
		t.Fatal("no image of the article loaded")
	}
	// Search with JavaScript, from a new tab of the same browser.
	sctx, cancel := chromedp.NewContext(ctx)
	defer cancel()
	search := "file://" + filepath.ToSlash(filepath.Join(dir, "udhr", "search.html"))
	// Korean text is typed by setting the field (key events cannot carry an IME's input).
	if err := chromedp.Do(sctx, chromedp.Navigate(search),
		chromedp.SetValue(`#q`, "인권"), chromedp.Click(`input[type=submit]`)); err != nil {
		t.Fatal(err)
	}
	wctx, wcancel := context.WithTimeout(sctx, 20*time.Second)
	defer wcancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(`#results li a`)); err != nil {
		status, _ := chromedp.Run(sctx, chromedp.Text(`#status`))
		t.Fatalf("no search results (status %q): %v", status, err)
	}
	href, err := chromedp.Run(sctx, chromedp.Evaluate[string](`document.querySelector('#results li a').getAttribute('href')`))
	if err != nil {
		t.Fatal(err)
	}
	if path.Base(href) != "kor.html" {
		t.Fatalf("first result %q, want kor.html", href)
	}
	// A word that is also a name on every JavaScript object finds nothing
	// and says so (it used to hang the search).
	if err := chromedp.Do(sctx, chromedp.SetValue(`#q`, "constructor"), chromedp.Click(`input[type=submit]`)); err != nil {
		t.Fatal(err)
	}
	cctx, ccancel := context.WithTimeout(sctx, 20*time.Second)
	defer ccancel()
	if err := chromedp.Do(cctx, chromedp.WaitVisible(`//*[@id="status"][contains(., "찾은 것이 없습니다")]`)); err != nil {
		status, _ := chromedp.Run(sctx, chromedp.Text(`#status`))
		t.Fatalf("search for constructor: status %q: %v", status, err)
	}
	t.Logf("without JS: index → titles → article with %d images; with JS: 인권 → %s", imgs, href)
}
