package opds

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"ferry/internal/publish/index"
)

// TestFeed: titles with markup and control characters stay text, links are
// base + key, languages become ISO 639-3, and the feed parses as Atom.
func TestFeed(t *testing.T) {
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	full := index.Object{Key: index.EditionKey("news", 3), Size: 1234, SHA256: strings.Repeat("a", 64)}
	delta := index.Object{Key: index.DeltaKey("news", 3, 2), Size: 99, SHA256: strings.Repeat("b", 64)}
	chs := []index.Channel{
		{Name: "news", Title: `<script>alert("x")</script> & 소식` + "\x01", Description: "매주", Publisher: "NGO",
			Languages: []string{"ko", "en-US"}, Latest: 3, Sequence: 5, Created: now, Entries: 10, Articles: 7, Full: full, Delta: &delta, DeltaBase: 2},
		{Name: "empty", Title: "no delta", Latest: 1, Sequence: 1, Created: now, Full: index.Object{Key: index.EditionKey("empty", 1), Size: 1, SHA256: strings.Repeat("c", 64)}},
	}
	b := Feed("https://m.example/", Title, chs, now)
	var f struct {
		Entries []struct {
			Title    string `xml:"title"`
			Language string `xml:"http://www.w3.org/2005/Atom language"`
			Links    []struct {
				Rel  string `xml:"rel,attr"`
				Href string `xml:"href,attr"`
			} `xml:"link"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal(b, &f); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b)
	}
	e := f.Entries[0]
	if !strings.HasPrefix(e.Title, `<script>alert("x")</script> & 소식`) || e.Language != "kor,eng" {
		t.Errorf("entry: %+v", e)
	}
	last := e.Links[len(e.Links)-1]
	if last.Rel != relAcquisition || last.Href != "https://m.example/news/editions/000003.ferry" || len(e.Links) != 3 {
		t.Errorf("links: %+v", e.Links)
	}
	if len(f.Entries[1].Links) != 2 {
		t.Errorf("a channel without a delta has %d links", len(f.Entries[1].Links))
	}
	if _, err := gofeed.NewParser().ParseString(string(b)); err != nil {
		t.Errorf("gofeed: %v", err)
	}
	if strings.Contains(string(b), "\x01") {
		t.Error("a control character went into the XML")
	}
}
