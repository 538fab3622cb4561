package folder

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"ferry/internal/source/sourcetest"
)

// TestFolder walks a small site of our own: HTML and Markdown pages,
// resources, a hidden file; Markdown becomes HTML.
func TestFolder(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html":       {Data: []byte(`<html><head><title>Home</title></head><body><a href="docs/about.md#team">About</a> <a href="notes.markdown">Notes</a> <a href="missing.md">gone</a> <a href="http://far.example/x.md">far</a> <a title="a &amp; b" href="style.css">css</a></body></html>`)},
		"docs/about.md":    {Data: []byte("---\ntitle: 우리에 대하여\n---\n# About\n\nSee [home](../index.html) and [notes](../notes.markdown).\n")},
		"notes.markdown":   {Data: []byte("# Notes\n\n텃밭에 상추를 심었다.\n")},
		"style.css":        {Data: []byte("body{margin:0}")},
		"img/leaf.png":     {Data: []byte("\x89PNG\r\n\x1a\n")},
		".hidden/x.html":   {Data: []byte("<p>no</p>")},
		"docs/.draft.html": {Data: []byte("<p>no</p>")},
	}
	s := NewFS(fsys)
	w := sourcetest.Walk(t, s)
	want := []string{"index.html", "docs/about.html", "notes.html", "style.css", "img/leaf.png"}
	if len(w.Order) != len(want) {
		t.Errorf("entries %q, want %q", w.Order, want)
	}
	for _, p := range want {
		if _, ok := w.Entries[p]; !ok {
			t.Errorf("%s missing", p)
		}
	}
	if e := w.Entries["docs/about.html"]; e.Title != "우리에 대하여" || !e.Article {
		t.Errorf("about: %+v", e)
	}
	about := string(sourcetest.Read(t, w.Entries["docs/about.html"]))
	if !strings.Contains(about, `href="../notes.html"`) {
		t.Errorf("Markdown-to-Markdown link not rewritten:\n%s", about)
	}
	// Issue 13, item 3: links from HTML to Markdown pages follow them to
	// their .html; links to missing or remote .md files stay; every other
	// byte of the page is unchanged.
	idx := string(sourcetest.Read(t, w.Entries["index.html"]))
	wantIdx := `<html><head><title>Home</title></head><body><a href="docs/about.html#team">About</a> <a href="notes.html">Notes</a> <a href="missing.md">gone</a> <a href="http://far.example/x.md">far</a> <a title="a &amp; b" href="style.css">css</a></body></html>`
	if idx != wantIdx {
		t.Errorf("index.html:\n%s\nwant\n%s", idx, wantIdx)
	}
	if len(s.Warnings()) != 0 || len(s.Skipped()) != 0 {
		t.Errorf("warnings %q, skipped %q", s.Warnings(), s.Skipped())
	}
}

// TestNonUTF8Names (issue 14, item 8): a file whose name is not valid
// UTF-8 no longer aborts the whole pack: it is stored %XX-escaped, with a
// warning; when the escaped name is taken, it is left out with a warning.
func TestNonUTF8Names(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"caf\xe9.html":   "<title>Latin-1 name</title>",
		"ok.html":        "<title>ok</title>",
		"dup\xff.txt":    "bytes",
		"dup%FF.txt":     "the escaped name, taken",
		"sub\xfe/in.txt": "in a folder with a bad name",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Skipf("this file system refuses non-UTF-8 names: %v", err)
		}
	}
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	w := sourcetest.Walk(t, s)
	for _, p := range []string{"caf%E9.html", "ok.html", "dup%FF.txt", "sub%FE/in.txt"} {
		if _, ok := w.Entries[p]; !ok {
			t.Errorf("%s missing: %q", p, w.Order)
		}
	}
	if got := string(sourcetest.Read(t, w.Entries["dup%FF.txt"])); got != "the escaped name, taken" {
		t.Errorf("dup%%FF.txt holds %q", got)
	}
	if got := string(sourcetest.Read(t, w.Entries["sub%FE/in.txt"])); got != "in a folder with a bad name" {
		t.Errorf("sub%%FE/in.txt holds %q", got)
	}
	warn := strings.Join(s.Warnings(), "\n")
	for _, want := range []string{`"caf\xe9.html": the name is not valid UTF-8; stored as "caf%E9.html"`, `"dup\xff.txt": the name is not valid UTF-8 and its escaped form "dup%FF.txt" is taken; not packed`} {
		if !strings.Contains(warn, want) {
			t.Errorf("warnings\n%s\nlack %s", warn, want)
		}
	}
}
