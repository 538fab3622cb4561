package reader

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"ferry/internal/sample"
	"ferry/internal/search"
)

func checkSafetyHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Cache-Control":          "no-store",
		"Referrer-Policy":        "no-referrer",
		"X-Content-Type-Options": "nosniff",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", what, k, got, v)
		}
	}
	csp := h.Get("Content-Security-Policy")
	for _, part := range []string{"default-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(csp, part) {
			t.Errorf("%s: CSP %q lacks %q", what, csp, part)
		}
	}
	// No directive may name another origin or a wildcard.
	if regexp.MustCompile(`https?:|\*|'unsafe-eval'`).MatchString(csp) {
		t.Errorf("%s: CSP allows other origins: %q", what, csp)
	}
}

func TestPagesAndHeaders(t *testing.T) {
	h := New(testLibs(t), Options{Trusted: []publicKey{publisherKey(t).Public()}})
	cases := []struct {
		target string
		status int
		ctype  string
		has    string
	}{
		{"/", 200, "text/html", "ferry 견본 서고"},
		{"/?lang=en", 200, "text/html", "Your libraries"},
		{"/a/sample/ko/radio.html", 200, "text/html", "라지오 신호 들어 보기"},
		{"/a/sample/img/path.png", 200, "image/png", "\x89PNG"},
		{"/a/sample/media/signal.wav", 200, "audio/", "RIFF"},
		{"/a/sample/style.css", 200, "text/css", "font-family"},
		{"/a/udhr/kor.html", 200, "text/html", "세계인권선언"},
		{"/a/sample/ko/nothing.html", 404, "text/html", "글을 찾지 못했습니다"},
		{"/kp/a/sample/ko/nothing.html", 404, "text/html", "페지를 찾지 못했습니다"},
		{"/a/sample/ko/nothing.html?lang=en", 404, "text/html", "Page not found"},
		{"/a/nolib/x.html", 404, "text/html", "그런 서고가 없습니다"},
		{"/search?q=%EB%9D%BC%EC%A7%80%EC%98%A4", 200, "text/html", "<mark>라지오</mark>"},
		{"/search?q=freedom&in=udhr&lang=en", 200, "text/html", "<mark>"},
		{"/search?q=", 200, "text/html", "<form"},
		{"/list/sample", 200, "text/html", "ko/safety.html"},
		{"/hide", 200, "text/html", "<body></body>"},
		{"/_/ui.js", 200, "text/javascript", "Escape"},
		{"/_/nope.js", 404, "text/html", ""},
		{"/nowhere", 404, "text/html", "글을 찾지 못했습니다"},
	}
	for _, c := range cases {
		if strings.Contains(c.target, "udhr") && !haveRealLibs() {
			continue // the real UDHR's text; testLibs has a stand-in
		}
		w := do(h, "GET", c.target)
		body := w.Body.String()
		if w.Code != c.status {
			t.Errorf("%s: status %d, want %d", c.target, w.Code, c.status)
		}
		if !strings.HasPrefix(w.Header().Get("Content-Type"), c.ctype) {
			t.Errorf("%s: Content-Type %q, want %s", c.target, w.Header().Get("Content-Type"), c.ctype)
		}
		if !strings.Contains(body, c.has) {
			t.Errorf("%s: body lacks %q", c.target, c.has)
		}
		checkSafetyHeaders(t, c.target, w.Header())
	}
}

func TestHomeShowsArchives(t *testing.T) {
	libs := testLibs(t)
	h := New(libs, Options{Trusted: []publicKey{publisherKey(t).Public()}})
	body := do(h, "GET", "/?lang=en").Body.String()
	fp := sample.PublicKey().Fingerprint()
	for _, want := range []string{fp, "Sample publisher", "Trusted: signed", "udhr", "enwiki", "Edition", ">3<", "2026-11-20"} {
		if !strings.Contains(body, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	// Without the publisher key, the same archives are not trusted.
	body = do(New(libs, Options{}), "GET", "/?lang=en").Body.String()
	if strings.Contains(body, "Trusted: signed") || !strings.Contains(body, "Not trusted") {
		t.Error("archives shown as trusted with no trusted keys")
	}
}

func TestLanguageChoice(t *testing.T) {
	h := New([]Library{Sample()}, Options{})
	for _, c := range []struct{ accept, target, want string }{
		{"en-US,en;q=0.9", "/", "Your libraries"},
		{"ko-KR,ko;q=0.9,en;q=0.5", "/", "가지고 있는 서고"},
		{"", "/", "가지고 있는 서고"},
		{"fr-FR", "/", "가지고 있는 서고"},
		{"en", "/?lang=ko", "가지고 있는 서고"},
	} {
		body := do(h, "GET", c.target, "Accept-Language", c.accept).Body.String()
		if !strings.Contains(body, c.want) {
			t.Errorf("Accept-Language %q %s: want %q", c.accept, c.target, c.want)
		}
	}
	// A chosen language is kept in links.
	body := do(h, "GET", "/?lang=en").Body.String()
	if !strings.Contains(body, `href="/en/a/sample/"`) || !strings.Contains(body, `href="/ko/"`) || !strings.Contains(body, `href="/kp/"`) {
		t.Error("links do not keep the chosen language or the switch is missing")
	}
}

func TestMainPageAndRedirects(t *testing.T) {
	h := New([]Library{Sample()}, Options{})
	w := do(h, "GET", "/a/sample/")
	if w.Code != http.StatusFound || w.Header().Get("Location") != "/a/sample/index.html" {
		t.Errorf("main page: %d %q", w.Code, w.Header().Get("Location"))
	}
	w = do(h, "GET", "/random?in=sample&lang=en")
	loc := w.Header().Get("Location")
	if w.Code != http.StatusFound || !strings.HasPrefix(loc, "/en/a/sample/en/") || !strings.HasSuffix(loc, ".html") {
		t.Errorf("random: %d %q", w.Code, loc)
	}
	if w := do(h, "GET", loc); w.Code != 200 {
		t.Errorf("random target %s: %d", loc, w.Code)
	}
}

func TestRangeAndHead(t *testing.T) {
	srv := newServer(t, []Library{Sample()}, Options{})
	want, _ := io.ReadAll(mustGet(t, srv.URL+"/a/sample/media/signal.wav").Body)
	if len(want) < 10000 {
		t.Fatalf("audio is %d bytes", len(want))
	}
	req, _ := http.NewRequest("GET", srv.URL+"/a/sample/media/signal.wav", nil)
	req.Header.Set("Range", "bytes=1000-1999")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, want[1000:2000]) {
		t.Errorf("range: status %d, %d bytes, equal %v", resp.StatusCode, len(got), bytes.Equal(got, want[1000:2000]))
	}
	if cr := resp.Header.Get("Content-Range"); cr != "bytes 1000-1999/"+itoa(len(want)) {
		t.Errorf("Content-Range %q", cr)
	}
	resp, err = http.Head(srv.URL + "/a/sample/ko/index.html")
	if err != nil || resp.StatusCode != 200 || resp.ContentLength <= 0 {
		t.Errorf("HEAD: %v %v", err, resp)
	}
}

func TestSuggest(t *testing.T) {
	h := New(testLibs(t), Options{})
	var got []struct{ Title, URL, From string }
	w := do(h, "GET", "/suggest?q=%EB%9D%BC%EC%A7%80")
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 || got[0].URL != "/a/sample/ko/radio.html" {
		t.Errorf("suggestions for 라지: %+v", got)
	}
	w = do(h, "GET", "/suggest?q=")
	if strings.TrimSpace(w.Body.String()) != "[]" {
		t.Errorf("empty query: %q", w.Body.String())
	}
}

func TestSearchPagination(t *testing.T) {
	h := New(testLibs(t), Options{})
	p1 := do(h, "GET", "/search?q=the&lang=en").Body.String()
	p2 := do(h, "GET", "/search?q=the&lang=en&p=2").Body.String()
	if !strings.Contains(p1, `rel="next"`) || !strings.Contains(p2, `rel="prev"`) {
		t.Fatal("no pager on a common word")
	}
	first := regexp.MustCompile(`class="fp-rt" href="([^"]+)"`)
	a, b := first.FindAllStringSubmatch(p1, -1), first.FindAllStringSubmatch(p2, -1)
	if len(a) != perPage || len(b) == 0 || a[0][1] == b[0][1] {
		t.Errorf("pages: %d and %d results", len(a), len(b))
	}
	// Results are scoped to one library with in=.
	body := do(h, "GET", "/search?q=the&in=enwiki").Body.String()
	if strings.Contains(body, "/a/sample/") || strings.Contains(body, "/a/udhr/") {
		t.Error("in=enwiki returned other libraries")
	}
}

func TestBrokenArchives(t *testing.T) {
	good := sample.Bytes()
	// A truncated copy cannot be opened at all.
	trunc := openBytes(t, "truncated", good[:len(good)/2])
	if trunc.Err == nil {
		t.Fatal("truncated archive opened")
	}
	// A copy with a flipped byte in its content opens, but the damaged
	// cluster is refused when read.
	bad := bytes.Clone(good)
	i := bytes.Index(bad, []byte("RIFF"))
	if i < 0 {
		t.Fatal("audio not stored raw in the sample")
	}
	bad[i+5000] ^= 0xff
	flipped := openBytes(t, "flipped", bad)
	if flipped.Err != nil {
		t.Fatalf("flipped archive: %v", flipped.Err)
	}
	h := New([]Library{trunc, flipped, Sample()}, Options{})
	home := do(h, "GET", "/?lang=en").Body.String()
	if !strings.Contains(home, "This library cannot be opened") || !strings.Contains(home, "<h2>truncated</h2>") {
		t.Error("home page does not name the broken archive")
	}
	w := do(h, "GET", "/a/truncated/index.html?lang=en")
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "truncated") {
		t.Errorf("broken library page: %d", w.Code)
	}
	w = do(h, "GET", "/a/flipped/media/signal.wav?lang=en")
	if w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "flipped") || !strings.Contains(w.Body.String(), "corrupt") {
		t.Errorf("damaged entry: %d %s", w.Code, w.Body.String())
	}
	if bytes.Contains(w.Body.Bytes(), []byte("RIFF")) {
		t.Error("damaged content was served")
	}
	// The others keep working.
	if w := do(h, "GET", "/a/sample/media/signal.wav"); w.Code != 200 {
		t.Errorf("good archive after a bad one: %d", w.Code)
	}
	if w := do(h, "GET", "/search?q=radio"); w.Code != 200 {
		t.Errorf("search with broken archives: %d", w.Code)
	}
}

func TestHostCheck(t *testing.T) {
	h := New([]Library{Sample()}, Options{AllowHosts: []string{"reader.example"}})
	for host, ok := range map[string]bool{
		"127.0.0.1:8080": true, "[::1]:8080": true, "localhost:8080": true, "192.168.1.5": true,
		"evil.example:8080": false, "reader.example": true,
	} {
		req, _ := http.NewRequest("GET", "/", nil)
		req.Host = host
		w := newRecorder()
		h.ServeHTTP(w, req)
		if (w.Code == 200) != ok {
			t.Errorf("Host %q: status %d", host, w.Code)
		}
	}
}

func TestInjectBar(t *testing.T) {
	head, bar := []byte("<H>"), []byte("<BAR>")
	for in, want := range map[string]string{
		"<html><body class=x><p>hi</p></body></html>":                "<html><H><body class=x><BAR><p>hi</p></body></html>",
		"<!DOCTYPE html><p>hi</p>":                                   "<!DOCTYPE html><H><BAR><p>hi</p>",
		"<head><title>t</title></head><p>x":                          "<head><title>t</title><H></head><BAR><p>x",
		"<head><meta charset=utf-8><style>a{}</style></head><body>x": "<head><meta charset=utf-8><H><style>a{}</style></head><body><BAR>x",
		"<bodyguard><BODY>x":                                         "<H><BAR><bodyguard><BODY>x",
		"plain":                                                      "<H><BAR>plain",
		"<html><head><title>한국</title></head><BODY\n>x":              "<html><head><title>한국</title><H></head><BODY\n><BAR>x",
		"<p>a <b>b</b> <Body>":                                       "<H><BAR><p>a <b>b</b> <Body>",
		"":                                                           "<H><BAR>",
		"<html><head><script>var s='<body>'</script></head><body>x":      "<html><head><H><script>var s='<body>'</script></head><body><BAR>x",
		"<?xml version=\"1.0\"?>\n<html><head><link rel=x></head><body>": "<?xml version=\"1.0\"?>\n<html><head><H><link rel=x></head><body><BAR>",
	} {
		if got := string(injectAt([]byte(in), head, bar)); got != want {
			t.Errorf("inject(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNoLinksOffDevice checks that no link ferry builds from the request
// can leave the device, whatever the path.
func TestNoLinksOffDevice(t *testing.T) {
	h := New([]Library{Sample()}, Options{})
	links := 0
	for _, target := range []string{"//evil.example/x", "/%2F%2Fevil.example", "/a/sample//evil.example/x", "/a/sample/ko/index.html?lang=%2F%2Fx"} {
		body := do(h, "GET", target).Body.String()
		for _, m := range regexp.MustCompile(`(?:href|src|action)="([^"]*)"`).FindAllStringSubmatch(body, -1) {
			links++
			if m[1] != "data:," && (strings.HasPrefix(m[1], "//") || strings.Contains(m[1], ":")) {
				t.Errorf("%s: link %q", target, m[1])
			}
		}
	}
	if links < 20 {
		t.Errorf("only %d links checked", links)
	}
}

// TestBarInOtherPages checks the bar survives pages in a legacy charset
// and XHTML: it is pure ASCII and well-formed XML.
func TestBarInOtherPages(t *testing.T) {
	h := New([]Library{Sample()}, Options{})
	p := h.newPage(withSettings(httptest.NewRequest("GET", "/ko/a/sample/ko/index.html", nil)), "")
	p.In = "sample"
	bar := h.barBody(p)
	if !bytes.Contains(bar, []byte("&#44048;&#52628;&#44592;")) { // 감추기
		t.Errorf("Korean label not written as references: %s", bar)
	}
	page := []byte(`<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head><body><p>x</p></body></html>`)
	parts := h.injectBar(page, p, "n0nce")
	d := xml.NewDecoder(bytes.NewReader(bytes.Join(parts, nil)))
	d.Entity = xml.HTMLEntity
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("XHTML page with the bar is not well-formed: %v", err)
		}
	}
}

func TestLibraryByID(t *testing.T) {
	lib := Sample()
	h := New([]Library{lib}, Options{})
	if w := do(h, "GET", "/a/"+lib.Edition.ID()+"/ko/index.html"); w.Code != 200 {
		t.Errorf("by ID: %d", w.Code)
	}
}

// TestResultsHTMLEscapes checks the hand-written result list escapes every
// value taken from an archive.
func TestResultsHTMLEscapes(t *testing.T) {
	evil := `<script>alert("x")</script>&'`
	out := string(resultsHTML([]hitView{{Title: evil, Path: evil, URL: `/a/x/"><script>`, LibTitle: evil,
		Snippet: snippetHTML([]search.Fragment{{Text: evil}, {Text: evil, Match: true}})}}))
	if strings.Contains(out, "<script") || strings.Contains(out, `">"`) {
		t.Fatalf("unescaped value in %s", out)
	}
	if n := strings.Count(out, "&lt;script&gt;"); n != 6 {
		t.Errorf("%d escaped copies, want 6: %s", n, out)
	}
	if !strings.Contains(out, "<mark>&lt;script&gt;") {
		t.Errorf("match not marked: %s", out)
	}
}

// TestDisarmRefresh: a meta refresh that would leave the reader is made
// inert in place; one to a path on the reader, a plain reload and other
// http-equiv tags are kept. The second half are the ten variants that got
// past the old byte scanner (issue 14, item 2).
func TestDisarmRefresh(t *testing.T) {
	for in, disarmed := range map[string]bool{
		`<meta http-equiv="refresh" content="0;url=http://evil.example/?read=x">`: true,
		`<META CONTENT="0; URL='//evil.example/'" HTTP-EQUIV=Refresh>`:            true,
		`<meta http-equiv='refresh' content='1;url=javascript:alert(1)'>`:         true,
		`<meta http-equiv="refresh" content="0; url=\\evil\x">`:                   true,
		`<meta http-equiv="refresh" content="0;url=other.html">`:                  false,
		`<meta http-equiv="refresh" content="0;url=/a/lib/page">`:                 false,
		`<meta http-equiv="refresh" content="30">`:                                false,
		`<meta http-equiv="Content-Type" content="text/html; charset=euc-kr">`:    false,
		`<meta http-equiv="refresh" content="0; url='../x/y.html#z'">`:            false,
		// The bypasses.
		`<meta http-equiv="refresh" content="0; http://evil.example/x">`:                     true,
		`<meta http-equiv="refresh" content="0;url=/&#9;/evil.example/x">`:                   true,
		`<meta http-equiv="refresh" content="0;url=/&#10;/evil.example/x">`:                  true,
		`<meta http-equiv="refresh" content="0;url=&#47;&#47;evil.example/x">`:               true,
		`<meta http-equiv="refresh" content="0;url=/&#92;evil.example/x">`:                   true,
		`<meta http-equiv="refresh" content="0;url=http&#58;//evil.example/x">`:              true,
		`<meta http-equiv="&#114;efresh" content="0;url=http://evil.example/x">`:             true,
		`<meta data-x="url=ok.html" http-equiv="refresh" content="0;http://evil.example/x">`: true,
		`<meta data-a=">" http-equiv="refresh" content="0;url=http://evil.example/x">`:       true,
		`<meta http-equiv="x" http-equiv="refresh" content="0;url=//evil.example/x">`:        true,
		`<h:meta http-equiv="refresh" content="0;url=//evil.example/x"/>`:                    true,
		`<meta http-equiv=refresh content=0;url=HTTP://evil.example/x>`:                      true,
		`<meta http-equiv="refresh" content="0;url=other.html" content="0;url=//evil.ex/">`:  true,
		`<meta http-equiv="refresh" content=" 5 ; URL = 'http://evil.example/' ">`:           true,
		`<meta http-equiv="refresh" content=".5,//evil.example/">`:                           true,
		`<meta http-equiv="refresh" content="0;url=/a/x&#0;/../..//evil.example">`:           false, // the path //evil.example on the reader
	} {
		b := []byte("<html><head>" + in + "</head><body>x</body></html>")
		neutralize(b, false)
		got := string(b)
		if len(got) != len(in)+len("<html><head></head><body>x</body></html>") {
			t.Fatalf("%s: length changed", in)
		}
		if d := strings.Contains(got, "x-no-equiv"); d != disarmed {
			t.Errorf("%s: disarmed %v, want %v", in, d, disarmed)
		}
	}
	// Hints that reach other hosts outside the policy lose their rel.
	b := []byte(`<link rel="dns-prefetch" href="//evil.example"><link REL=preconnect href="http://evil.example"><link rel=stylesheet href=s.css>`)
	neutralize(b, false)
	if got := string(b); strings.Count(got, "x-l=") != 2 || !strings.Contains(got, "rel=stylesheet") {
		t.Errorf("link hints: %s", got)
	}
	// An XML page cannot declare entities that would expand into markup.
	x := []byte(`<?xml version="1.0"?><!DOCTYPE html [<!ENTITY m "<meta http-equiv='refresh' content='0;url=//e'/>">]><html>&m;</html>`)
	neutralize(x, true)
	if strings.Contains(string(x), "<!ENTITY") {
		t.Errorf("entity kept: %s", x)
	}
}

// TestCrossSiteRefused: requests another site makes (the browser says so
// in Sec-Fetch-Site) get nothing from the library.
func TestCrossSiteRefused(t *testing.T) {
	h := New([]Library{Sample()}, Options{})
	for site, want := range map[string]int{"cross-site": 403, "same-site": 403, "same-origin": 200, "none": 200, "": 200} {
		req := httptest.NewRequest("GET", "/search?q=radio", nil)
		req.Host = "127.0.0.1"
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != want {
			t.Errorf("Sec-Fetch-Site %q: %d, want %d", site, w.Code, want)
		}
	}
}

// TestSearchFieldsNoHistory: every search field the reader writes asks the
// browser not to keep what was typed.
func TestSearchFieldsNoHistory(t *testing.T) {
	h := New([]Library{Sample()}, Options{})
	for _, u := range []string{"/", "/search?q=radio", "/search"} {
		body := do(h, "GET", u).Body.String()
		for _, in := range regexp.MustCompile(`<input[^>]*name="q"[^>]*>`).FindAllString(body, -1) {
			if !strings.Contains(in, `autocomplete="off"`) {
				t.Errorf("%s: %s", u, in)
			}
		}
	}
}
