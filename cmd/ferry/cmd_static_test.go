package main

import (
	"bytes"
	"ferry/internal/carry/card"
	"ferry/internal/key"
	"ferry/internal/release"
	"ferry/internal/testkit/corpus"
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

// TestStaticWithPrograms: --with-programs copies a library's verified
// programs into the export with the Korean README, and the index page
// links to it; a changed program stops the copy.
func TestStaticWithPrograms(t *testing.T) {
	c := newCLI(t)
	src := c.site("src", corpus.Options{Pages: 3, Seed: 2})
	c.ok("keygen", "-o", "pub")
	c.ok("pack", "-k", "pub.key", "-o", "news.ferry", "--channel", "news", src)
	c.ok("trust", "add", "pub.pub", "--library", "lib")
	c.ok("import", "news.ferry", "--library", "lib")
	c.run(2, "", "static", "--with-programs", "-o", "none", "lib")
	// Programs as 'ferry import' keeps them: signed by the trusted key.
	k, err := key.LoadSecret("pub.key")
	if err != nil {
		t.Fatal(err)
	}
	progs := filepath.Join("lib", card.ProgramsDir)
	os.MkdirAll(progs, 0o755)
	var files []string
	for _, tg := range release.Targets[:2] {
		p := filepath.Join(progs, tg.FileName())
		os.WriteFile(p, []byte("program for "+tg.String()), 0o755)
		files = append(files, p)
	}
	if err := release.Sign(progs, files, nil, k); err != nil {
		t.Fatal(err)
	}
	out := c.ok("static", "--with-programs", "-o", "out", "--library", "lib")
	if !strings.Contains(out, "copied 2 programs") {
		t.Errorf("summary: %s", out)
	}
	index, _ := os.ReadFile(filepath.Join("out", "index.html"))
	readme, _ := os.ReadFile(filepath.Join("out", card.ProgramsDir, release.ReadmeFile))
	if !bytes.Contains(index, []byte(`href="programs/README.html"`)) || !bytes.Contains(readme, []byte(release.Targets[0].For)) {
		t.Errorf("index does not link the README, or the README does not name the devices:\n%s", index)
	}
	if b, err := os.ReadFile(filepath.Join("out", card.ProgramsDir, release.Targets[1].FileName())); err != nil || string(b) != "program for "+release.Targets[1].String() {
		t.Errorf("program not copied: %v %q", err, b)
	}
	os.WriteFile(files[1], []byte("trojan"), 0o755)
	c.run(1, "", "static", "--with-programs", "-o", "out2", "lib")
	if !strings.Contains(c.out, "does not match its checksum") {
		t.Errorf("a changed program was not refused: %s", c.out)
	}
}
