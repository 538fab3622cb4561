package reader

import (
	"bytes"
	"net/http/httptest"
	"testing"
)

// TestBarCacheMatchesTemplate checks that the cached bar with the switch
// link spliced in is byte for byte what the template renders directly.
func TestBarCacheMatchesTemplate(t *testing.T) {
	h := New(nil, Options{})
	for _, target := range []string{
		"/a/sample/ko/index.html",
		"/a/ray/A/What'd_I_Say",
		"/a/ray/A/Genius_&_Friends?lang=en",
		"/a/x/%ED%95%9C%EA%B8%80/%EB%AC%B8%EC%84%9C.html",
		"/search?q=%EA%B8%88%EA%B0%95%EC%82%B0%EC%9D%98+%EB%86%92%EC%9D%B4&in=sample",
		"/a/x/a%20b%22c%3Cd%3E.html",
	} {
		for _, lang := range []string{"ko", "en"} {
			r := httptest.NewRequest("GET", target, nil)
			r.Header.Set("Accept-Language", lang)
			p := h.newPage(r, "t")
			p.In = "sample"
			p.Query = r.URL.Query().Get("q")
			var b bytes.Buffer
			if err := barOnly.ExecuteTemplate(&b, "bar", p); err != nil {
				t.Fatal(err)
			}
			want := append([]byte(`<link rel="stylesheet" href="/_/bar.css" /><script src="/_/ui.js" defer="defer" nonce="n"></script>`), asciiHTML(b.Bytes())...)
			for i := 0; i < 2; i++ { // second time from the cache
				if got := h.barHTML(p, "n"); !bytes.Equal(got, want) {
					t.Fatalf("%s (%s): cached bar differs\n got %s\nwant %s", target, lang, got, want)
				}
			}
		}
	}
}
