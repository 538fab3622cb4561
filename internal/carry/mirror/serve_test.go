package mirror

import (
	"encoding/xml"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"
)

func get(t *testing.T, url string, hdr ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// kiwixEntry reads an entry the way Kiwix's catalogue clients do (libkiwix
// Book::updateFromOpds): children by local name, the last open-access
// acquisition link as the download.
type kiwixEntry struct {
	ID           string `xml:"id"`
	Title        string `xml:"title"`
	Summary      string `xml:"summary"`
	Language     string `xml:"http://www.w3.org/2005/Atom language"` // not dc:language
	Name         string `xml:"name"`
	ArticleCount int    `xml:"articleCount"`
	Updated      string `xml:"updated"`
	Links        []struct {
		Rel    string `xml:"rel,attr"`
		Href   string `xml:"href,attr"`
		Type   string `xml:"type,attr"`
		Length int64  `xml:"length,attr"`
	} `xml:"link"`
}

// TestServe checks what a mirror answers: the catalogue as OPDS that a feed
// parser and a Kiwix-style reader both read, with absolute links that lead
// to the archives; byte ranges and ETags; nothing an index does not name;
// nothing but GET and HEAD.
func TestServe(t *testing.T) {
	w := newWorld(t, 10)
	w.edit(t, 1)
	base := w.serve(t)

	resp := get(t, base+"/")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/atom+xml;profile=opds-catalog") {
		t.Fatalf("/: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	body := readAll(t, resp.Body)
	f, err := gofeed.NewParser().ParseString(body)
	if err != nil || len(f.Items) != 1 {
		t.Fatalf("the catalogue does not parse as a feed: %v", err)
	}
	var kf struct {
		Entries []kiwixEntry `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(body), &kf); err != nil || len(kf.Entries) != 1 {
		t.Fatalf("Kiwix-style read: %v", err)
	}
	e := kf.Entries[0]
	var acq string
	var length int64
	for _, l := range e.Links {
		if l.Rel == "http://opds-spec.org/acquisition/open-access" {
			acq, length = l.Href, l.Length
		}
	}
	full := w.ix.Edition(2).Full
	if !strings.HasPrefix(e.ID, "urn:uuid:") || e.Title != "소식" || e.Name != "news" || e.Language != "kor,eng" ||
		e.ArticleCount != w.ix.Edition(2).Articles || acq != base+"/"+full.Key || length != full.Size {
		t.Fatalf("entry as Kiwix reads it: %+v", e)
	}

	// The acquisition link, whole and in ranges.
	resp = get(t, acq)
	if resp.StatusCode != 200 || resp.ContentLength != full.Size || resp.Header.Get("ETag") != `"`+full.SHA256+`"` {
		t.Fatalf("%s: %s, %d bytes, ETag %s", acq, resp.Status, resp.ContentLength, resp.Header.Get("ETag"))
	}
	local, _ := os.ReadFile(filepath.Join(w.store, filepath.FromSlash(full.Key)))
	if readAll(t, resp.Body) != string(local) {
		t.Fatal("the archive served is not the one stored")
	}
	resp = get(t, acq, "Range", "bytes=0-7")
	if resp.StatusCode != 206 || readAll(t, resp.Body) != "FERRYAR1" {
		t.Fatalf("range: %s", resp.Status)
	}
	resp = get(t, acq, "Range", "bytes=-8")
	if resp.StatusCode != 206 || readAll(t, resp.Body) != "FERRYEND" {
		t.Fatalf("suffix range: %s", resp.Status)
	}
	resp = get(t, acq, "Range", "bytes=0-1,10-11")
	if resp.StatusCode != 206 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges") {
		t.Fatalf("two ranges: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	resp = get(t, acq, "If-None-Match", `"`+full.SHA256+`"`)
	if resp.StatusCode != 304 {
		t.Fatalf("If-None-Match: %s", resp.Status)
	}
	resp = get(t, acq, "Range", "bytes=99999999-")
	if resp.StatusCode != 416 {
		t.Fatalf("range past the end: %s", resp.Status)
	}

	// The index and the channel list, as stored.
	resp = get(t, base+"/news/index.json")
	stored, _ := os.ReadFile(filepath.Join(w.store, "news", "index.json"))
	if resp.StatusCode != 200 || readAll(t, resp.Body) != string(stored) {
		t.Fatalf("index: %s", resp.Status)
	}
	if resp := get(t, base+"/channels.json"); resp.StatusCode != 200 {
		t.Fatalf("channels.json: %s", resp.Status)
	}

	// Not named by an index: not served, even if in the store.
	os.WriteFile(filepath.Join(w.store, "news", "editions", "000009.ferry"), local, 0o644)
	for _, p := range []string{"/news/editions/000009.ferry", "/news/../channels.json", "/.ferry-store/tmp", "/nochannel/editions/000001.ferry", "/news/index.json/x"} {
		if resp := get(t, base+p); resp.StatusCode != 404 {
			t.Errorf("%s: %s, want 404", p, resp.Status)
		}
	}
	resp, err = http.Post(acq, "text/plain", strings.NewReader("x"))
	if err != nil || resp.StatusCode != 405 {
		t.Fatalf("POST: %v %v", err, resp.Status)
	}
	resp.Body.Close()
}
