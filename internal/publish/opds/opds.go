// Package opds writes the OPDS 1.2 acquisition feed of a publisher's store
// (catalog.opds.xml, docs/publish.md "OPDS catalogue"): one Atom entry per
// channel, for its newest edition, with an acquisition link to the full
// edition, a link to its delta and one to the signed channel index.
//
// Besides OPDS 1.2 itself the entries carry the elements Kiwix's catalogue
// clients read from an entry (name, language as ISO 639-3, articleCount,
// mediaCount, dc:issued, publisher), so those clients list ferry channels
// too. The feed is discovery only: nothing in it is trusted; archives are
// checked against their signatures when they arrive.
package opds

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/language"

	"ferry/internal/publish/index"
)

// ArchiveType is the media type of a ferry archive in the feed.
const ArchiveType = "application/x-ferry-archive"

// Title is the title of a store's catalogue.
const Title = "ferry channels"

// FeedType is the media type of the feed itself.
const FeedType = "application/atom+xml;profile=opds-catalog;kind=acquisition"

// Relations used in the feed.
const (
	relAcquisition = "http://opds-spec.org/acquisition/open-access"
	relDelta       = "http://opds-spec.org/acquisition"
)

type feed struct {
	XMLName      xml.Name `xml:"feed"`
	NS           string   `xml:"xmlns,attr"`
	DC           string   `xml:"xmlns:dc,attr"`
	OPDS         string   `xml:"xmlns:opds,attr"`
	ID           string   `xml:"id"`
	Title        string   `xml:"title"`
	Updated      string   `xml:"updated"`
	Author       *person  `xml:"author,omitempty"`
	Links        []link   `xml:"link"`
	TotalResults int      `xml:"totalResults"`
	StartIndex   int      `xml:"startIndex"`
	ItemsPerPage int      `xml:"itemsPerPage"`
	Entries      []entry  `xml:"entry"`
}

// category is an Atom category: the term attribute Atom requires, and the
// same word as text, which is where Kiwix's catalogues put it.
type category struct {
	Term string `xml:"term,attr"`
	Text string `xml:",chardata"`
}

type person struct {
	Name string `xml:"name"`
}

type link struct {
	Rel    string `xml:"rel,attr"`
	Href   string `xml:"href,attr"`
	Type   string `xml:"type,attr"`
	Length int64  `xml:"length,attr,omitempty"`
	Title  string `xml:"title,attr,omitempty"`
}

type entry struct {
	ID           string   `xml:"id"`
	Title        string   `xml:"title"`
	Updated      string   `xml:"updated"`
	Summary      string   `xml:"summary,omitempty"`
	Language     string   `xml:"language,omitempty"`
	DCLanguage   string   `xml:"dc:language,omitempty"`
	Name         string   `xml:"name"`
	Category     category `xml:"category"`
	Tags         string   `xml:"tags"`
	ArticleCount int      `xml:"articleCount"`
	MediaCount   int      `xml:"mediaCount"`
	Issued       string   `xml:"dc:issued"`
	Author       *person  `xml:"author,omitempty"`
	Publisher    *person  `xml:"publisher,omitempty"`
	Links        []link   `xml:"link"`
}

// Feed writes the acquisition feed of a store's channel list. Links are
// base + key: base "" gives links relative to the store's root (for the
// catalogue kept in the store, read from wherever the store is served),
// base "https://mirror.example/" absolute ones (Kiwix's clients do not
// resolve relative links). title names the catalogue.
func Feed(base, title string, channels []index.Channel, updated time.Time) []byte {
	f := feed{
		NS: "http://www.w3.org/2005/Atom", DC: "http://purl.org/dc/terms/", OPDS: "http://opds-spec.org/2010/catalog",
		ID:      "urn:uuid:" + uuidOf("ferry catalogue "+base+title),
		Title:   title,
		Updated: updated.UTC().Format(time.RFC3339),
		Author:  &person{Name: "ferry"},
		Links: []link{
			{Rel: "self", Href: base + index.CatalogKey, Type: FeedType},
			{Rel: "start", Href: base + index.CatalogKey, Type: FeedType},
		},
	}
	for _, c := range channels {
		en := entry{
			// Like a Kiwix book id, it names this edition's file.
			ID:           "urn:uuid:" + uuidOf(c.Full.SHA256),
			Title:        c.Title,
			Updated:      c.Created.UTC().Format(time.RFC3339),
			Summary:      c.Description,
			Language:     iso3(c.Languages),
			DCLanguage:   strings.Join(c.Languages, ","),
			Name:         c.Name,
			Category:     category{Term: "ferry", Text: "ferry"},
			Tags:         fmt.Sprintf("ferry;_edition:%d", c.Latest),
			ArticleCount: c.Articles,
			MediaCount:   max(0, c.Entries-c.Articles),
			Issued:       c.Created.UTC().Format(time.RFC3339),
		}
		if c.Publisher != "" {
			en.Author = &person{Name: c.Publisher}
			en.Publisher = &person{Name: c.Publisher}
		}
		en.Links = append(en.Links, link{Rel: "alternate", Href: base + index.IndexKey(c.Name), Type: "application/json", Title: "signed channel index"})
		if d := c.Delta; d != nil {
			en.Links = append(en.Links, link{Rel: relDelta, Href: base + d.Key, Type: ArchiveType, Length: d.Size,
				Title: fmt.Sprintf("delta from edition %d", c.DeltaBase)})
		}
		// Last: Kiwix's clients keep the last open-access link of an entry.
		en.Links = append(en.Links, link{Rel: relAcquisition, Href: base + c.Full.Key, Type: ArchiveType, Length: c.Full.Size,
			Title: fmt.Sprintf("edition %d", c.Latest)})
		f.Entries = append(f.Entries, en)
	}
	f.TotalResults, f.ItemsPerPage = len(f.Entries), len(f.Entries)
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", " ")
	if err := enc.Encode(f); err != nil {
		// Only strings and numbers of our own go in; escaping cannot fail.
		panic("opds: internal error: " + err.Error())
	}
	b.WriteByte('\n')
	return b.Bytes()
}

// iso3 turns BCP 47 tags into the comma-separated ISO 639-3 codes Kiwix uses.
func iso3(tags []string) string {
	var out []string
	for _, t := range tags {
		b, err := language.ParseBase(strings.SplitN(t, "-", 2)[0])
		if err != nil {
			continue
		}
		out = append(out, b.ISO3())
	}
	return strings.Join(out, ",")
}

// uuidOf makes a name-based UUID (version 8 layout, from SHA-256) for s.
func uuidOf(s string) string {
	h := sha256.Sum256([]byte(s))
	h[6] = h[6]&0x0f | 0x80
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}
