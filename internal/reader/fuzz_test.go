package reader

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
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

// FuzzNeutralize feeds arbitrary pages to the refresh and hint
// neutraliser: it must keep the length, change only attribute-name
// letters, and leave nothing to do on a second pass.
func FuzzNeutralize(f *testing.F) {
	for _, s := range []string{
		`<meta http-equiv="refresh" content="0;url=http://h/x">`, `<meta data-a=">" http-equiv=refresh content="0; http://h">`,
		`<h:meta http-equiv="&#114;efresh" content="0;url=&#47;&#47;h">`, `<link rel=preconnect href=//h><iframe src=//h srcdoc=x>`,
		`<!DOCTYPE x [<!ENTITY e "y">]>`, `<meta`, `<meta http-equiv='refresh`,
	} {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, page []byte, xml bool) {
		b := bytes.Clone(page)
		neutralize(b, xml)
		if len(b) != len(page) {
			t.Fatal("length changed")
		}
		for i := range b {
			if b[i] != page[i] && !(b[i] >= 'a' && b[i] <= 'z' || b[i] == '-' || b[i] == 'Z') {
				t.Fatalf("byte %d changed to %q", i, b[i])
			}
		}
		c := bytes.Clone(b)
		neutralize(c, xml)
		if !bytes.Equal(b, c) {
			t.Fatalf("a second pass changed more:\n%q\n%q", b, c)
		}
	})
}
