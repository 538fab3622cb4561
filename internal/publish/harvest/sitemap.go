package harvest

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Sitemap limits from sitemaps.org: 50,000 URLs and 50 MB (uncompressed)
// per file. An index may point to more sitemaps; harvest follows one level.
const (
	maxSitemapURLs = 50000
	maxSitemapSize = 50 << 20
)

// sitemap is a parsed sitemap.xml: either page URLs (a urlset) or the URLs
// of further sitemaps (a sitemapindex).
type sitemap struct {
	index bool
	locs  []string
}

var errNotSitemap = errors.New("not a sitemap (no <urlset> or <sitemapindex>)")

// parseSitemap reads a sitemap, already decompressed. It streams tokens, so a
// hostile file costs memory in proportion to the URLs kept, never to its
// nesting or size.
func parseSitemap(b []byte) (*sitemap, error) {
	if len(b) > maxSitemapSize {
		return nil, fmt.Errorf("sitemap of %d bytes is over the %d MB limit", len(b), maxSitemapSize>>20)
	}
	d := xml.NewDecoder(bytes.NewReader(b))
	d.Strict = false
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		// Sitemaps must be UTF-8; read others byte for byte rather than fail.
		return r, nil
	}
	var sm *sitemap
	depth := 0
	inLoc := false
	var loc strings.Builder
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			if sm != nil && len(sm.locs) > 0 {
				return sm, nil // keep what came before the damage
			}
			return nil, fmt.Errorf("sitemap: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth > 64 {
				return nil, errors.New("sitemap: nested too deeply")
			}
			switch {
			case depth == 1 && t.Name.Local == "urlset":
				sm = &sitemap{}
			case depth == 1 && t.Name.Local == "sitemapindex":
				sm = &sitemap{index: true}
			case depth == 1:
				return nil, errNotSitemap
			case depth == 3 && t.Name.Local == "loc":
				inLoc = true
				loc.Reset()
			}
		case xml.EndElement:
			if depth == 3 && inLoc {
				inLoc = false
				if s := strings.TrimSpace(loc.String()); s != "" && len(sm.locs) < maxSitemapURLs {
					sm.locs = append(sm.locs, s)
				}
			}
			depth--
		case xml.CharData:
			if inLoc && loc.Len() < 4096 {
				loc.Write(t)
			}
		}
	}
	if sm == nil {
		return nil, errNotSitemap
	}
	return sm, nil
}
