package main

import (
	"encoding/json"
	"html"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"ferry/internal/reader"
	"ferry/internal/testkit/corpus"
)

// TestSameSnippetEverywhere: 'ferry search' and the web reader show the
// same snippet for the same hit (one snippet engine), also when the
// reader answers the query a second time from what it holds.
func TestSameSnippetEverywhere(t *testing.T) {
	c := newCLI(t)
	src := c.site("site", corpus.Options{Pages: 30, Seed: 5})
	c.ok("keygen", "-o", "pub")
	c.ok("pack", "-k", "pub.key", "-o", "site.ferry", "--channel", "site", src)
	var quiet strings.Builder
	term := &terminal{out: &safeWriter{w: &quiet}, err: &safeWriter{w: &quiet}, in: strings.NewReader("")}
	libs, _, closeAll, err := readerLibraries(term, []string{"site.ferry"}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	h := reader.New(libs, reader.Options{NoGlossary: true})
	snip := regexp.MustCompile(`(?s)<p class="fp-snip">(.*?)</p>`)
	for _, q := range []string{corpus.Keyword(3), corpus.Keyword(4), "라지오", "the radio"} {
		var hits []struct{ Path, Snippet string }
		if err := json.Unmarshal([]byte(c.ok("search", "--json", "--limit", "10", "site.ferry", q)), &hits); err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 {
			t.Fatalf("no hits for %q", q)
		}
		for round := 0; round < 2; round++ {
			w := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/search?lang=en&q="+url.QueryEscape(q), nil)
			req.Host = "127.0.0.1:8080"
			h.ServeHTTP(w, req)
			got := snip.FindAllStringSubmatch(w.Body.String(), -1)
			if len(got) < len(hits) {
				t.Fatalf("%q: the reader shows %d results, the command line %d", q, len(got), len(hits))
			}
			for i, hit := range hits {
				cli := strings.NewReplacer("[", "", "]", "").Replace(hit.Snippet)
				if cli == "" || !strings.Contains(hit.Snippet, "[") {
					t.Fatalf("%q hit %d: no marked snippet on the command line: %q", q, i, hit.Snippet)
				}
				web := html.UnescapeString(strings.NewReplacer("<mark>", "", "</mark>", "").Replace(got[i][1]))
				if strings.Join(strings.Fields(web), " ") != cli {
					t.Errorf("%q hit %d (%s), round %d:\n command line %q\n reader       %q", q, i, hit.Path, round, cli, web)
				}
			}
		}
	}
}
