package reader

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
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
	for k, b := range h.pages.m {
		h.pages.m[k] = append(bytes.Clone(b[:len(b)-len("</html>\n")]), []byte("<!--kept--></html>\n")...)
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
		c.put(textKey{nil, i}, make([]byte, 300))
	}
	if c.bytes > 1000 || len(c.m) != 3 {
		t.Errorf("kept %d bytes in %d pages, budget 1000", c.bytes, len(c.m))
	}
	if _, ok := c.get(textKey{nil, 9}); !ok {
		t.Error("the newest page was not kept")
	}
	c.put(textKey{nil, 99}, make([]byte, 2000)) // larger than the budget: not kept
	if _, ok := c.get(textKey{nil, 99}); ok {
		t.Error("a page larger than the budget was kept")
	}
}
