package harvest

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestRobots(t *testing.T) {
	txt := `# comment
User-agent: *
Disallow: /

user-agent: FerryBot
user-agent: ferry/1.0 (+https://x)
Disallow: /private/
Allow: /private/ok
Disallow: /*.pdf$
Disallow: /search?
Disallow: /한국/
Allow: /tmp/$
Disallow: /tmp/
Crawl-delay: 2.5
Sitemap: https://example.org/sitemap.xml

User-agent: other
Disallow: /ferry-may/
User-agent: ferry
Disallow: /also/
`
	r := parseRobots([]byte(txt), "ferry")
	cases := map[string]bool{
		"/":                     true,
		"/index.html":           true,
		"/private/":             false,
		"/private/x.html":       false,
		"/private/ok":           true, // longer Allow wins
		"/private/ok.html":      true,
		"/doc.pdf":              false,
		"/doc.pdf?x=1":          true, // $ anchors at the end
		"/a/b/doc.pdf":          false,
		"/search?q=1":           false,
		"/search":               true,
		"/한국/뉴스":                false, // non-ASCII patterns match escaped paths
		"/%ED%95%9C%EA%B5%AD/x": false,
		"/tmp/":                 true, // Allow /tmp/$ is as long as Disallow /tmp/: allow wins
		"/tmp/x":                false,
		"/also/x":               false, // groups for one agent are merged
		"/ferry-may/":           true,
		"/robots.txt":           true,
	}
	for p, want := range cases {
		u, err := url.Parse("https://example.org" + p)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.allowed(u); got != want {
			t.Errorf("allowed(%s) = %v, want %v", p, got, want)
		}
	}
	if r.delay != 2500*time.Millisecond {
		t.Errorf("delay %v", r.delay)
	}
	if len(r.sitemaps) != 1 || r.sitemaps[0] != "https://example.org/sitemap.xml" {
		t.Errorf("sitemaps %q", r.sitemaps)
	}
	// Without a group for ferry, "*" applies.
	star := parseRobots([]byte("User-agent: *\nDisallow: /x\n\nUser-agent: googlebot\nDisallow: /\n"), "ferry")
	u1, _ := url.Parse("http://h/x/y")
	u2, _ := url.Parse("http://h/y")
	if star.allowed(u1) || !star.allowed(u2) {
		t.Error("* group not applied")
	}
	// Empty, garbage, rules before any user-agent: all allowed.
	for _, s := range []string{"", "garbage\n\x00\xff", "Disallow: /\n", "User-agent: ferry\nDisallow:\n"} {
		if !parseRobots([]byte(s), "ferry").allowed(u1) {
			t.Errorf("%q disallows", s)
		}
	}
	if disallowAll.allowed(u2) || !allowAll.allowed(u2) {
		t.Error("allowAll/disallowAll")
	}
}

func TestMatchRobotsNoBlowup(t *testing.T) {
	// Many stars against a long near-miss path: linear-ish, not exponential.
	pat := "/" + strings.Repeat("*a", 200) + "b$"
	path := "/" + strings.Repeat("a", 5000)
	if matchRobots(pat, path) {
		t.Error("matched")
	}
}

func FuzzRobots(f *testing.F) {
	f.Add([]byte("User-agent: *\nDisallow: /private/\nAllow: /private/ok\nCrawl-delay: 1\nSitemap: http://x/s.xml\n"), "/private/a")
	f.Add([]byte("user-agent: ferry\ndisallow: /*.pdf$\n"), "/a.pdf")
	f.Add([]byte("\xef\xbb\xbfUser-agent: *\r\nDisallow: /%7e\r\n"), "/~x")
	f.Fuzz(func(t *testing.T, b []byte, p string) {
		r := parseRobots(b, "ferry")
		u, err := url.Parse("http://h/" + strings.TrimPrefix(p, "/"))
		if err != nil {
			return
		}
		r.allowed(u)
		if r.delay < 0 {
			t.Errorf("negative delay %v", r.delay)
		}
	})
}

func TestSitemap(t *testing.T) {
	sm, err := parseSitemap([]byte(`<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
 <url><loc> https://example.org/a </loc><lastmod>2024-01-01</lastmod></url>
 <url><loc>https://example.org/b?x=1&amp;y=2</loc></url>
 <url><other><loc>https://example.org/not-a-url-loc</loc></other></url>
</urlset>`))
	if err != nil || sm.index || strings.Join(sm.locs, " ") != "https://example.org/a https://example.org/b?x=1&y=2" {
		t.Errorf("urlset: %+v, %v", sm, err)
	}
	sm, err = parseSitemap([]byte(`<sitemapindex><sitemap><loc>https://example.org/s1.xml</loc></sitemap></sitemapindex>`))
	if err != nil || !sm.index || len(sm.locs) != 1 {
		t.Errorf("index: %+v, %v", sm, err)
	}
	for _, bad := range []string{"", "<html><body>not a sitemap</body></html>", "garbage", strings.Repeat("<a>", 100) + "x"} {
		if _, err := parseSitemap([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	// Truncated: what came before the damage is kept.
	sm, err = parseSitemap([]byte(`<urlset><url><loc>https://example.org/a</loc></url><url><loc>https://exa`))
	if err != nil || len(sm.locs) != 1 {
		t.Errorf("truncated: %+v, %v", sm, err)
	}
}

func FuzzSitemap(f *testing.F) {
	f.Add([]byte(`<urlset><url><loc>https://example.org/a</loc></url></urlset>`))
	f.Add([]byte(`<sitemapindex><sitemap><loc>https://example.org/s.xml</loc></sitemap></sitemapindex>`))
	f.Add([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?><urlset><url><loc>x</loc></url>`))
	f.Fuzz(func(t *testing.T, b []byte) {
		sm, err := parseSitemap(b)
		if err == nil && len(sm.locs) > maxSitemapURLs {
			t.Errorf("%d URLs", len(sm.locs))
		}
	})
}

func TestGlob(t *testing.T) {
	cases := []struct {
		pat, path string
		want      bool
	}{
		{"/news/**", "/news/a/b.html", true},
		{"/news/**", "/news/", true},
		{"/news/**", "/newsletter", false},
		{"/news/*", "/news/a.html", true},
		{"/news/*", "/news/a/b.html", false},
		{"*.pdf", "/a/b/c.pdf", true},
		{"*.pdf", "/c.pdf", true},
		{"*.pdf", "/c.pdf.html", false},
		{"/a?c", "/abc", true},
		{"/a?c", "/a/c", false},
		{"/[ab]*", "/bx", true},
		{"/[!ab]*", "/bx", false},
		{"/뉴스/**", "/뉴스/오늘", true},
		{"/", "/", true},
		{"/", "/x", false},
		{"/a.b", "/aXb", false}, // '.' is literal
	}
	for _, c := range cases {
		g, err := compileGlob(c.pat)
		if err != nil {
			t.Fatalf("%q: %v", c.pat, err)
		}
		u := &url.URL{Path: c.path}
		if got := g.match(u); got != c.want {
			t.Errorf("%q on %q = %v", c.pat, c.path, got)
		}
	}
	for _, bad := range []string{"", "/a/[", "/[]"} {
		if _, err := compileGlob(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestFileFor(t *testing.T) {
	cases := []struct {
		url   string
		html  bool
		ctype string
		want  string
	}{
		{"http://example.org/", true, "", "example.org/index.html"},
		{"http://example.org", true, "", "example.org/index.html"},
		{"http://example.org:8080/a/b/", true, "", "example.org_8080/a/b/index.html"},
		{"http://example.org/A/Ray_Charles", true, "", "example.org/A/Ray_Charles.html"},
		{"http://example.org/a.htm", true, "", "example.org/a.htm"},
		{"http://example.org/a.php", true, "", "example.org/a.php.html"},
		{"http://example.org/img/x", false, "image/png", "example.org/img/x.png"},
		{"http://example.org/s.css", false, "text/css", "example.org/s.css"},
		{"http://example.org/a?b=1", true, "", "example.org/a_" + shortHash("b=1") + ".html"},
		{"http://example.org/what%3F%2A.html", true, "", "example.org/what%3F%2A.html"},
		{"http://example.org/../../etc/passwd", false, "", "example.org/etc/passwd"},
		{"http://example.org/%2e%2e/x", false, "", "example.org/x"},
		{"http://example.org/뉴스/오늘", true, "", "example.org/뉴스/오늘.html"},
		{"http://example.org/trailing.", false, "", "example.org/trailing._"},
	}
	for _, c := range cases {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := fileFor(u, c.html, c.ctype); got != c.want {
			t.Errorf("fileFor(%s) = %q, want %q", c.url, got, c.want)
		}
	}
	long := &url.URL{Scheme: "http", Host: "h", Path: "/" + strings.Repeat("가", 100) + ".html"}
	if f := fileFor(long, true, ""); len(f) > 140 || !strings.HasSuffix(f, ".html") {
		t.Errorf("long name: %q (%d bytes)", f, len(f))
	}
}

func TestRelPath(t *testing.T) {
	cases := [][3]string{
		{"h/index.html", "h/a.html", "a.html"},
		{"h/a/b.html", "h/c/d.png", "../c/d.png"},
		{"h/a/b.html", "h/a/c.html", "c.html"},
		{"h/index.html", "other/x.png", "../other/x.png"},
		{"h/index.html", "h/a b#.html", "a%20b%23.html"},
		{"h/index.html", "h/a:b.html", "./a:b.html"},
	}
	for _, c := range cases {
		if got := relPath(c[0], c[1]); got != c[2] {
			t.Errorf("relPath(%s, %s) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}

func TestDecode(t *testing.T) {
	if _, err := decode([]byte("abc"), "br", 100, 100); err == nil {
		t.Error("br accepted")
	}
	if _, err := decode(make([]byte, 200), "", 100, 100); err == nil {
		t.Error("over the limit accepted")
	}
	if _, err := decode([]byte("not gzip"), "gzip", 100, 100); err == nil {
		t.Error("broken gzip accepted")
	}
}
