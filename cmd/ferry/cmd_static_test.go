package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStaticWarnsAndNoGlossary: what the export leaves out is named in a
// warning and counted in the summary; word notes mark a Korean page by
// default and not with --no-glossary.
func TestStaticWarnsAndNoGlossary(t *testing.T) {
	c := newCLI(t)
	os.MkdirAll("src", 0o755)
	os.WriteFile(filepath.Join("src", "index.html"), []byte(`<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>손전화</title>`+
		`<link rel="stylesheet" href="big.css"></head><body><p>스마트폰으로 사진을 찍었다.</p></body></html>`), 0o644)
	// A style sheet larger than the export reads whole to make safe.
	os.WriteFile(filepath.Join("src", "big.css"), bytes.Repeat([]byte("p{color:#123456}\n"), 17<<20/17+1), 0o644)
	c.ok("keygen", "-o", "pub")
	c.ok("pack", "-k", "pub.key", "-o", "news.ferry", "--channel", "news", "src")
	c.multi = true
	out := c.ok("static", "-o", "out", "news.ferry")
	if !strings.Contains(out, "warning: news/big.css: left out") || !strings.Contains(out, "left out 1 (named above)") {
		t.Errorf("left-out style sheet not reported:\n%s", out)
	}
	// The archive's index.html is written as index~2.html: the export's
	// own index page of the channel is index.html.
	page, err := os.ReadFile(filepath.Join("out", "news", "index~2.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte(`<abbr class="fg"`)) {
		t.Errorf("word notes missing in the export:\n%s", page)
	}
	if out := c.ok("static", "--no-glossary", "-o", "plain", "news.ferry"); !strings.Contains(out, "left out 1") {
		t.Errorf("summary: %s", out)
	}
	if page, _ = os.ReadFile(filepath.Join("plain", "news", "index~2.html")); len(page) == 0 || bytes.Contains(page, []byte(`class="fg`)) {
		t.Errorf("--no-glossary export still marks words (or has no page):\n%s", page)
	}
}
