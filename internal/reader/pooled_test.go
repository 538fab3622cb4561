package reader

import (
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"ferry/internal/archive"
	"ferry/internal/testkit/packtest"
)

// TestPooledPages: pages of an archive that keeps marks are read into
// pooled buffers (readPooled); what is sent and kept never shares one.
// Marked pages, a Korean page without glossary words and a page without
// Hangul are served in turn, kept pages and not, and each answer is the
// same every time, the same as with notes off apart from the marks, and
// as from a copy of the archive that keeps no marks.
func TestPooledPages(t *testing.T) {
	fs := fstest.MapFS{
		"a.html":     {Data: []byte(storedPage)},
		"b.html":     {Data: []byte(`<html><head><title>b</title></head><body><p>` + strings.Repeat("서버와 컴퓨터로 스마트폰을 본다. ", 200) + `</p></body></html>`)},
		"plain.html": {Data: []byte(`<html><head><title>p</title></head><body><p>` + strings.Repeat("우리 말로 쓴 글이다. ", 300) + `</p></body></html>`)},
		"en.html":    {Data: []byte(`<html><head><title>e</title></head><body><p>` + strings.Repeat("plain English text ", 300) + `</p></body></html>`)},
	}
	info := archive.Info{Channel: "g", Title: "g", Languages: []string{"ko"}}
	h := New([]Library{openBytes(t, "g", packtest.FS(t, fs, info))}, Options{})
	if h.marksTable(h.libs[0]) == nil {
		t.Fatal("the archive keeps no marks: the pooled path is not taken")
	}
	nonce := regexp.MustCompile(`nonce="[^"]*"`)
	get := func(h *Handler, p string) string {
		w := do(h, "GET", p)
		if w.Code != 200 {
			t.Fatalf("%s: %d", p, w.Code)
		}
		return nonce.ReplaceAllString(w.Body.String(), "")
	}
	pages := []string{"a.html", "b.html", "plain.html", "en.html"}
	want := map[string]string{}
	for _, p := range pages {
		want[p] = get(h, "/ko/a/g/"+p)
	}
	if !strings.Contains(want["b.html"], `<abbr class="fg"`) || strings.Contains(want["plain.html"], `<abbr`) {
		t.Fatal("the test pages are not marked as expected")
	}
	for round := range 3 {
		for _, kept := range []bool{true, false} {
			h.pages.mu.Lock()
			h.pages.off = !kept
			h.pages.mu.Unlock()
			for _, p := range pages {
				if got := get(h, "/ko/a/g/"+p); got != want[p] {
					t.Fatalf("round %d, kept %v: %s changed:\n%.300s\nfirst:\n%.300s", round, kept, p, got, want[p])
				}
				get(h, "/ko-g0/a/g/"+p) // the same buffers, notes off
			}
		}
	}
	// The same pages from an archive without a marks table (found on
	// view, read with ReadAll) come out the same.
	bare := New([]Library{openBytes(t, "g", packtest.FS(t, fs, archive.Info{Channel: "g", Title: "g"}))}, Options{})
	if bare.marksTable(bare.libs[0]) != nil {
		t.Fatal("the archive without a language keeps marks")
	}
	for _, p := range pages {
		if got := get(bare, "/ko/a/g/"+p); got != want[p] {
			t.Errorf("%s: without a marks table\n%.300s\nwith:\n%.300s", p, got, want[p])
		}
	}
}
