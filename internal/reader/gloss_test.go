package reader

import (
	"bytes"
	"encoding/binary"
	"errors"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"ferry/internal/archive"
	"ferry/internal/glossary"
	"ferry/internal/testkit/packtest"
)

// TestGlossedPageKept: a glossed page seen again is served from the kept
// copy, byte for byte what the first view sent (but the per-response
// nonce); the same page without notes is never the kept copy; the kept
// copies stay within their budget.
func TestGlossedPageKept(t *testing.T) {
	h := New([]Library{Sample()}, Options{})
	const page = "/ko/a/sample/ko/safety.html"
	nonce := regexp.MustCompile(`nonce="[^"]*"`)
	first := nonce.ReplaceAllString(do(h, "GET", page).Body.String(), "")
	if !strings.Contains(first, `<abbr class="fg"`) {
		t.Fatal("the sample's safety page has no glossed word")
	}
	if h.pages.bytes == 0 || len(h.pages.m) != 1 {
		t.Fatalf("glossed page not kept: %d bytes, %d pages", h.pages.bytes, len(h.pages.m))
	}
	for k, p := range h.pages.m {
		b := p.b
		h.pages.m[k] = glossedPage{append(bytes.Clone(b[:len(b)-len("</html>\n")]), []byte("<!--kept--></html>\n")...), p.lay}
	}
	again := do(h, "GET", page).Body.String()
	if !strings.Contains(again, "<!--kept-->") {
		t.Fatal("the second view was not served from the kept page")
	}
	if plain := do(h, "GET", "/ko-g0/a/sample/ko/safety.html").Body.String(); strings.Contains(plain, "<!--kept-->") || strings.Contains(plain, `<abbr class="fg"`) {
		t.Error("a page without notes came from the glossed copy")
	}

	var c glossedPages
	c.max = 1000
	for i := 0; i < 10; i++ {
		c.put(textKey{nil, i}, make([]byte, 300), layout{})
	}
	if c.bytes > 1000 || len(c.m) != 3 {
		t.Errorf("kept %d bytes in %d pages, budget 1000", c.bytes, len(c.m))
	}
	if _, _, ok := c.get(textKey{nil, 9}); !ok {
		t.Error("the newest page was not kept")
	}
	c.put(textKey{nil, 99}, make([]byte, 2000), layout{}) // larger than the budget: not kept
	if _, _, ok := c.get(textKey{nil, 99}); ok {
		t.Error("a page larger than the budget was kept")
	}
}

// storedPage is a Korean page for the stored-marks tests.
const storedPage = `<html><head><title>손전화</title></head><body><p title="컴퓨터">스마트폰으로 <a href="b.html">인터넷</a>에서 뉴스를 본다. 컴퓨터와 서버가 있다.</p></body></html>`

// TestStoredMarksServed: a page of an archive packed as Korean is marked
// with the marks the archive keeps, exactly as when the words are found
// on the first view; a table whose marks point into an attribute is not
// applied, and the page is marked as without it.
func TestStoredMarksServed(t *testing.T) {
	b := packtest.FS(t, fstest.MapFS{"ko.html": {Data: []byte(storedPage)}}, archive.Info{Channel: "g", Title: "g", Languages: []string{"ko"}})
	h := New([]Library{openBytes(t, "g", b)}, Options{})
	nonce := regexp.MustCompile(`nonce="[^"]*"`)
	get := func(noStored bool) string {
		forgetNotes(h, noStored)
		return nonce.ReplaceAllString(do(h, "GET", "/ko/a/g/ko.html").Body.String(), "")
	}
	stored, found := get(false), get(true)
	if stored != found {
		t.Errorf("stored marks give another page:\n%s\nfound on view:\n%s", stored, found)
	}
	if !strings.Contains(stored, `<abbr class="fg"`) {
		t.Errorf("not glossed:\n%s", stored)
	}
	l := h.libs[0]
	if l.marksTable == nil || l.marksTable.Pages() != 1 {
		t.Fatalf("the archive's marks table was not opened")
	}
	if _, ok, err := l.marksTable.Marks(archive.Entry{Path: "ko.html"}, []byte(storedPage)); !ok || err != nil {
		t.Fatalf("no stored marks for the page: %v", err)
	}

	// A hostile table: 컴퓨터 marked inside the title attribute, in a
	// table of each version (the byte offset of version 2, the first
	// occurrence of version 1).
	g := glossary.Default()
	e := -1
	for i := range g.Len() {
		if g.Entry(i).Headword == "컴퓨터" {
			e = i
		}
	}
	at := strings.Index(storedPage, "컴퓨터")
	for _, version := range []int{2, 1} {
		tab := g.NewMarksTable()
		rec := binary.AppendUvarint(binary.AppendUvarint([]byte{1, 0, 1}, uint64(e)), uint64(at))
		if version == 1 {
			rec = binary.AppendUvarint([]byte{1, 0, 1}, uint64(e)<<1)
		}
		tab.Add("ko.html", rec)
		tb := tab.Bytes()
		if version == 1 {
			copy(tb, "fgt1")
		}
		var buf bytes.Buffer
		w, err := archive.NewWriter(&buf, archive.WriterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range []archive.Input{
			{Path: "ko.html", MIME: "text/html", Data: []byte(storedPage), Article: true},
			{Path: glossary.MarksPath, MIME: glossary.MarksMIME, Data: tb},
		} {
			if err := w.Add(in); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Finish(archive.Info{Channel: "g", Title: "g", Languages: []string{"ko"}}, nil, packtest.Key(t)); err != nil {
			t.Fatal(err)
		}
		h = New([]Library{openBytes(t, "g", buf.Bytes())}, Options{})
		if _, ok, err := h.marksTable(h.libs[0]).Marks(archive.Entry{Path: "ko.html"}, []byte(storedPage)); ok || !errors.Is(err, glossary.ErrMarks) {
			t.Errorf("v%d: the hostile record was not refused: %v %v", version, ok, err)
		}
		if got := get(false); got != found {
			t.Errorf("v%d: hostile marks changed the page:\n%s\nwant:\n%s", version, got, found)
		}
	}
}

// TestStoredMarksV1Served: the built-in sample was packed before the
// marks' byte offsets (its table is of version 1): its pages are still
// marked with the marks it keeps, exactly as when the words are found.
func TestStoredMarksV1Served(t *testing.T) {
	h := New([]Library{Sample()}, Options{})
	nonce := regexp.MustCompile(`nonce="[^"]*"`)
	get := func(page string, noStored bool) string {
		forgetNotes(h, noStored)
		return nonce.ReplaceAllString(do(h, "GET", page).Body.String(), "")
	}
	l := h.libs[0]
	te, err := l.Edition.Lookup(glossary.MarksPath)
	if err != nil {
		t.Fatal(err)
	}
	if tb, err := l.Edition.ReadAll(te); err != nil || !bytes.HasPrefix(tb, []byte("fgt1")) {
		t.Skipf("the sample's marks table is no longer of version 1 (%v): version 1 is left to internal/glossary's tests", err)
	}
	for _, p := range []string{"ko/safety.html", "ko/glossary.html"} {
		e, err := l.Edition.Lookup(p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := l.Edition.ReadAll(e)
		if err != nil {
			t.Fatal(err)
		}
		neutralize(b, false)
		h.marks.noStored = false // as the last get left it
		if h.marksTable(l) == nil {
			t.Fatal("the sample's marks table is not used")
		}
		if m, ok, err := h.marksTable(l).Marks(e, b); !ok || err != nil || len(m.Words) == 0 {
			t.Fatalf("%s: no stored marks: %v %v", p, ok, err)
		}
		if stored, found := get("/ko/a/sample/"+p, false), get("/ko/a/sample/"+p, true); stored != found {
			t.Errorf("%s: stored marks give another page:\n%s\nfound on view:\n%s", p, stored, found)
		}
	}
}

// forgetNotes empties h's caches of marks and glossed pages and turns
// them off, so the next request marks its page anew: from the archive's
// stored marks, or with noStored by finding the words.
func forgetNotes(h *Handler, noStored bool) {
	h.marks.mu.Lock()
	h.marks.off, h.marks.m, h.marks.order, h.marks.words, h.marks.noStored = true, nil, nil, 0, noStored
	h.marks.mu.Unlock()
	h.pages.mu.Lock()
	h.pages.off, h.pages.m, h.pages.order, h.pages.bytes = true, nil, nil, 0
	h.pages.mu.Unlock()
}
