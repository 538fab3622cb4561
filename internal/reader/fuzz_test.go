package reader

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzHandler sends arbitrary paths, queries and headers to the handler:
// whatever comes in, it must answer (never panic or hang) with the safety
// headers set, and never with a server error on the good sample archive.
func FuzzHandler(f *testing.F) {
	for _, s := range []string{
		"/", "/a/sample/ko/index.html", "/a/sample/", "/a/sample", "/a/sample/media/signal.wav",
		"/search?q=%EB%9D%BC%EC%A7%80%EC%98%A4&p=2&in=sample&lang=en", "/suggest?q=r", "/random?in=x",
		"/list/sample?p=99999999999999999999", "/a/sample/../../etc/passwd", "/a/%2e%2e/x", "/_/ui.css",
		"/search?q=" + strings.Repeat("%EB%9D%BC", 300), "/a/sample/ko/", "/hide?lang=ko",
	} {
		f.Add(s, "ko,en;q=0.5", "bytes=0-10")
	}
	f.Add("/a/sample/media/signal.wav", "en", "bytes=-1,5-2,99999999999-")
	h := New([]Library{Sample(), {Name: "broken", Path: "broken.ferry", Err: errTest}}, Options{})
	f.Fuzz(func(t *testing.T, target, accept, rng string) {
		if !strings.HasPrefix(target, "/") {
			target = "/" + target
		}
		req, err := http.NewRequest("GET", "http://127.0.0.1"+target, nil)
		if err != nil {
			return // not a URL a client could send
		}
		req.Host = "127.0.0.1"
		req.Header.Set("Accept-Language", accept)
		req.Header.Set("Range", rng)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Content-Security-Policy") == "" {
			t.Fatalf("%q: safety headers missing", target)
		}
		if w.Code >= 500 && w.Code != http.StatusServiceUnavailable {
			t.Fatalf("%q: status %d: %s", target, w.Code, w.Body.String())
		}
	})
}

// FuzzSnippet cuts snippets from arbitrary article text (text comes from
// archives, which may be hostile): no panic, marked words come from the
// text, and the snippet stays near its length limit.
func FuzzSnippet(f *testing.F) {
	f.Add("Two cards went by radio.", "card", 40)
	f.Add("라지오를 듣고 라지오로 보냅니다", "라지오", 10)
	f.Add("\xff\xfe broken \u0301 marks", "marks", 3)
	f.Fuzz(func(t *testing.T, text, query string, max int) {
		if max < 1 || max > 1000 || len(text) > 1<<16 {
			return
		}
		n := 0
		for _, fr := range snippet(text, queryTerms(query), max) {
			if fr.Match && (fr.Text == "" || !strings.Contains(text, fr.Text)) {
				t.Fatalf("marked %q is not in the text", fr.Text)
			}
			n += utf8.RuneCountInString(fr.Text)
		}
		if n > max+4 {
			t.Fatalf("snippet of %d runes for max %d", n, max)
		}
	})
}
