package reader

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/sample"
	"ferry/internal/testkit/browser"
)

// TestServerErrorRepliesCarryHeaders: the replies Go's server writes by
// itself (a malformed Host, headers too large, an unknown HTTP version)
// carry the safety headers when the reader is served on Listener; they
// had none (issue 14, item 8).
func TestServerErrorRepliesCarryHeaders(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: New([]Library{Sample()}, Options{}), ReadHeaderTimeout: 5 * time.Second, MaxHeaderBytes: 4096}
	go srv.Serve(Listener(ln))
	t.Cleanup(func() { srv.Close() })
	for _, c := range []struct{ req, status string }{
		{"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "400"},
		{"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + strings.Repeat("x", 9000) + "\r\n\r\n", "431"},
		{"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: 127.0.0.2\r\n\r\n", "400"},
		{"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "200"},
		{"GET / HTTP/1.1\r\nHost: evil.example\r\n\r\n", "421"},
	} {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		fmt.Fprint(conn, c.req)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("%.40q: %v", c.req, err)
		}
		resp.Body.Close()
		conn.Close()
		if !strings.HasPrefix(resp.Status, c.status) {
			t.Errorf("%.40q: status %s, want %s", c.req, resp.Status, c.status)
		}
		checkSafetyHeaders(t, resp.Status, resp.Header)
		if resp.Header.Get("X-DNS-Prefetch-Control") != "off" {
			t.Errorf("%s: no X-DNS-Prefetch-Control", resp.Status)
		}
	}
}

// TestOldBrowserCrossSiteRefused: a browser too old for Sec-Fetch-Site
// still names the page that asked in Origin or Referer; another site's
// request is refused like a cross-site one (issue 14, item 8).
func TestOldBrowserCrossSiteRefused(t *testing.T) {
	h := New([]Library{Sample()}, Options{})
	for _, c := range []struct {
		hdr  []string
		want int
	}{
		{[]string{"Origin", "http://evil.example"}, 403},
		{[]string{"Origin", "null"}, 403},
		{[]string{"Origin", "http://127.0.0.1:8080"}, 200},
		{[]string{"Referer", "http://evil.example/page"}, 403},
		{[]string{"Referer", "http://127.0.0.1:8080/a/sample/ko/index.html"}, 200},
		{[]string{"Origin", "http://evil.example", "Sec-Fetch-Site", "same-origin"}, 200}, // a current browser's word counts
		{nil, 200},
	} {
		if w := do(h, "GET", "/search?q=radio", c.hdr...); w.Code != c.want {
			t.Errorf("%v: %d, want %d", c.hdr, w.Code, c.want)
		}
	}
}

// TestLanguageKept: the UI language is a choice in the URL (a path
// prefix), carried by every link the reader makes, and relative links of
// archive pages keep it by themselves; the switch goes to the other
// language's page when the library has one (ko/ and en/ in the sample);
// random pages prefer the chosen language (issue 13, item 11).
func TestLanguageKept(t *testing.T) {
	h := New([]Library{Sample()}, Options{})
	body := do(h, "GET", "/kp/").Body.String()
	if !strings.Contains(body, `lang="ko-KP"`) || !strings.Contains(body, messages["kp"]["libraries"]) {
		t.Fatalf("/kp/ is not the 조선말 UI")
	}
	links := regexp.MustCompile(`(?:href|action)="(/[^"]*)"`).FindAllStringSubmatch(body, -1)
	kept := 0
	for _, m := range links {
		switch {
		case strings.HasPrefix(m[1], "/kp/"), strings.HasPrefix(m[1], "/_/"), m[1] == "/hide":
			kept++
		case strings.HasPrefix(m[1], "/ko/"), strings.HasPrefix(m[1], "/en/"), strings.HasPrefix(m[1], "/kp-g0/"):
			// the switches
		default:
			t.Errorf("link %q loses the language", m[1])
		}
	}
	if kept < 6 {
		t.Errorf("only %d links kept the language", kept)
	}
	// The switch on a Korean page goes to the English page, and back.
	page := do(h, "GET", "/kp/a/sample/ko/radio.html").Body.String()
	for _, want := range []string{`href="/en/a/sample/en/radio.html"`, `href="/ko/a/sample/ko/radio.html"`, `href="/kp-g0/a/sample/ko/radio.html"`} {
		if !strings.Contains(page, want) {
			t.Errorf("Korean page lacks switch %s", want)
		}
	}
	page = do(h, "GET", "/en/a/sample/en/radio.html").Body.String()
	for _, want := range []string{`href="/kp/a/sample/ko/radio.html"`, `href="/ko/a/sample/ko/radio.html"`} {
		if !strings.Contains(page, want) {
			t.Errorf("English page lacks switch %s", want)
		}
	}
	// A page with no counterpart keeps its path.
	if page := do(h, "GET", "/kp/a/sample/index.html").Body.String(); !strings.Contains(page, `href="/en/a/sample/index.html"`) {
		t.Error("switch on the bilingual start page does not stay on it")
	}
	// Accept-Language picks the UI when the URL does not; ko-KP is 조선말.
	for accept, want := range map[string]string{"ko-KP,ko;q=0.9": "kp", "ko-KR": "ko", "en-GB,ko;q=0.5": "en", "fr": "ko"} {
		if b := do(h, "GET", "/", "Accept-Language", accept).Body.String(); !strings.Contains(b, messages[want]["libraries"]) {
			t.Errorf("Accept-Language %s: not the %s UI", accept, want)
		}
	}
	// Random pages in the chosen language (the bilingual start page is
	// <html lang="ko">).
	for prefix, folder := range map[string]string{"/kp": "/kp/a/sample/ko/", "/ko": "/ko/a/sample/ko/", "/en": "/en/a/sample/en/"} {
		for i := 0; i < 20; i++ {
			loc := do(h, "GET", prefix+"/random").Header().Get("Location")
			if !strings.HasPrefix(loc, folder) && !strings.HasSuffix(loc, "/a/sample/index.html") || prefix == "/en" && !strings.HasPrefix(loc, folder) {
				t.Fatalf("%s/random went to %s", prefix, loc)
			}
		}
	}
	// Search results, lists and redirects carry the prefix too.
	if b := do(h, "GET", "/en/search?q=radio").Body.String(); !strings.Contains(b, `href="/en/a/sample/en/radio.html"`) {
		t.Error("search results lose the language")
	}
	if loc := do(h, "GET", "/en/a/sample/").Header().Get("Location"); loc != "/en/a/sample/index.html" {
		t.Errorf("main page redirect %q", loc)
	}
	// A prefix that is not a setting is an ordinary (missing) path, and a
	// library may not take a setting's name.
	if w := do(h, "GET", "/xx/a/sample/index.html"); w.Code != 404 {
		t.Errorf("/xx/: %d", w.Code)
	}
	if h2 := New([]Library{{Name: "en", Edition: Sample().Edition}}, Options{}); h2.libs[0].Name == "en" {
		t.Error("a library named en")
	}
}

// TestUntrustedIsNotDamaged: an archive signed by a key the reader does
// not trust is a different case from a damaged one, said in the reader's
// language, with what they can do in the browser (compare the
// fingerprint) instead of a command line; no page shows a file path
// (issue 13, item 12).
func TestUntrustedIsNotDamaged(t *testing.T) {
	k, err := key.Generate()
	if err != nil {
		t.Fatal(err)
	}
	dir := "/home/reader/secret-stash/ferry-library"
	stranger := Library{Name: "news-ko", Path: dir + "/news-ko", Untrusted: true, Signers: []key.Public{k.Public()},
		Err: errors.New("not shown: signed by a key this library does not trust; to trust its publisher run: ferry trust add " + dir + " KEY")}
	broken := Library{Name: "broken", Path: dir + "/broken.ferry",
		Err: fmt.Errorf("open %s/broken.ferry: %w: manifest", dir, archive.ErrTruncated)}
	h := New([]Library{stranger, broken, Sample()}, Options{})
	for _, lang := range []string{"ko", "kp", "en"} {
		home := do(h, "GET", "/"+lang+"/").Body.String()
		for _, want := range []string{messages[lang]["notTrusted"], messages[lang]["notTrustedHelp"], k.Public().Fingerprint(), messages[lang]["broken"]} {
			if !strings.Contains(home, templateEscape(want)) {
				t.Errorf("%s home page lacks %q", lang, want)
			}
		}
		for _, bad := range []string{"ferry trust", "secret-stash", "/home/"} {
			if strings.Contains(home, bad) {
				t.Errorf("%s home page shows %q", lang, bad)
			}
		}
		// The stranger is not called damaged.
		sec := home[strings.Index(home, "<h2>news-ko</h2>"):]
		sec = sec[:strings.Index(sec, "</section>")]
		if strings.Contains(sec, templateEscape(messages[lang]["brokenHelp"])) {
			t.Errorf("%s: untrusted library shown as damaged", lang)
		}
		w := do(h, "GET", "/"+lang+"/a/news-ko/index.html")
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), templateEscape(messages[lang]["notTrusted"])) {
			t.Errorf("%s: untrusted library page: %d", lang, w.Code)
		}
		w = do(h, "GET", "/"+lang+"/a/broken/index.html")
		if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "secret-stash") || !strings.Contains(w.Body.String(), "broken.ferry") {
			t.Errorf("%s: broken library page: %d %s", lang, w.Code, w.Body.String())
		}
	}
}

// templateEscape escapes s as html/template writes text.
func templateEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString("&#34;")
		case '\'':
			b.WriteString("&#39;")
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// TestDamageShown: a library whose picture fails its check is no longer
// listed as normal, its pages say so, and the picture is replaced by one
// that says so instead of failing silently; CheckAll finds the damage
// before anything is opened (issue 13, item 12).
func TestDamageShown(t *testing.T) {
	bad := bytes.Clone(sample.Bytes())
	i := bytes.Index(bad, []byte("\x89PNG\r\n"))
	if i < 0 {
		t.Fatal("no picture stored raw in the sample")
	}
	bad[i+200] ^= 0xff
	flipped := openBytes(t, "flipped", bad)
	if flipped.Err != nil {
		t.Fatal(flipped.Err)
	}
	h := New([]Library{flipped}, Options{})
	home := do(h, "GET", "/en/").Body.String()
	if strings.Contains(home, messages["en"]["damagedShort"]) {
		t.Fatal("damage shown before any was found")
	}
	// Find which picture is damaged.
	var damaged string
	for k := 0; k < flipped.Edition.NumEntries(); k++ {
		e, _ := flipped.Edition.EntryAt(k)
		if strings.HasPrefix(e.MIME, "image/") {
			if _, err := flipped.Edition.ReadAll(e); err != nil {
				damaged = e.Path
			}
		}
	}
	if damaged == "" {
		t.Fatal("no damaged picture")
	}
	w := do(h, "GET", "/en/a/flipped/"+damaged)
	if w.Code != 500 || w.Header().Get("Content-Type") != "image/svg+xml" || !strings.Contains(w.Body.String(), messages["en"]["damaged"]) {
		t.Fatalf("damaged picture: %d %s %.200s", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
	checkSafetyHeaders(t, "damaged picture", w.Header())
	if home := do(h, "GET", "/en/").Body.String(); !strings.Contains(home, messages["en"]["damagedShort"]) {
		t.Error("home page lists a damaged library as normal")
	}
	if page := do(h, "GET", "/en/a/flipped/en/index.html").Body.String(); !strings.Contains(page, `class="fb-warn"`) {
		t.Error("a page of the damaged library does not say so")
	}
	h2 := New([]Library{openBytes(t, "flipped", bad), Sample()}, Options{})
	if n := h2.CheckAll(context.Background()); n != 1 {
		t.Errorf("CheckAll found %d damaged libraries, want 1", n)
	}
	if home := do(h2, "GET", "/en/").Body.String(); strings.Count(home, messages["en"]["damagedShort"]) != 1 {
		t.Error("CheckAll's finding not on the home page")
	}
}

// TestMessagesComplete: every UI message exists in all three languages,
// and neither Korean UI uses the South Korean loanwords a North Korean
// reader does not know; the 조선말 UI uses the northern words.
func TestMessagesComplete(t *testing.T) {
	for _, lang := range uiLangs {
		for k := range messages["en"] {
			if messages[lang][k] == "" {
				t.Errorf("%s lacks %q", lang, k)
			}
		}
		for k := range messages[lang] {
			if _, ok := messages["en"][k]; !ok {
				t.Errorf("%s has %q, which English lacks", lang, k)
			}
		}
	}
	loanwords := []string{"페이지", "링크", "버튼", "서치", "메뉴", "폴더", "파일", "브라우저", "서버", "클릭", "스마트폰", "컴퓨터", "핸드폰", "휴대폰", "리스트", "키워드", "업데이트"}
	for _, lang := range []string{"ko", "kp"} {
		for k, v := range messages[lang] {
			for _, w := range loanwords {
				if strings.Contains(v, w) {
					t.Errorf("%s %s uses %s: %q", lang, k, w, v)
				}
			}
		}
	}
	all := ""
	for _, v := range messages["kp"] {
		all += v
	}
	for _, w := range []string{"콤퓨터", "손전화기", "봉사기", "차림표", "페지", "련결", "수표", "되였"} {
		if !strings.Contains(all, w) {
			t.Errorf("the 조선말 UI never says %s", w)
		}
	}
}

// TestUIScriptES5: the reader's one script parses as ECMAScript 5, so old
// browsers run it (it adds only suggestions and Esc-twice; all works
// without it).
func TestUIScriptES5(t *testing.T) {
	b, err := assets.ReadFile("assets/ui.js")
	if err != nil {
		t.Fatal(err)
	}
	browser.CheckES5(t, "ui.js", b)
}
