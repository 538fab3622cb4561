package pack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/scrub"
	"ferry/internal/source"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/packtest"
	"ferry/internal/testkit/shared"
)

// TestRealFoldersRoundTrip packs each real test folder and reads every file
// back byte-identical to the source as scrubbing leaves it: default options
// scrub (a picture's EXIF goes), exactly as scrub.Scrub does on its own.
func TestRealFoldersRoundTrip(t *testing.T) {
	for _, name := range []string{"html/enwiki_raycharles", "html/wikibooks_en", "udhr", "kolaw"} {
		t.Run(name, func(t *testing.T) {
			b, k := packtest.Folder(t, name, archive.Info{Title: name})
			r, err := archive.Open(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if !r.SignedBy(k.Public()) {
				t.Fatal("not signed by the packing key")
			}
			if err := r.Verify(context.Background(), nil); err != nil {
				t.Fatal(err)
			}
			dir := shared.Path(t, name)
			n := 0
			err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
					return err
				}
				rel, _ := filepath.Rel(dir, p)
				rel = filepath.ToSlash(rel)
				want, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				if strings.HasSuffix(rel, ".md") {
					// Markdown becomes an HTML page holding its text.
					e, err := r.Lookup(strings.TrimSuffix(rel, ".md") + ".html")
					if err != nil || !e.Article {
						return fmt.Errorf("%s: markdown page missing: %v", rel, err)
					}
					n++
					return nil
				}
				got, err := r.Cat(rel)
				if err != nil {
					return fmt.Errorf("%s: %w", rel, err)
				}
				if clean, _, err := scrub.Scrub(rel, want); err == nil {
					want = clean
				}
				if !bytes.Equal(got, want) {
					return fmt.Errorf("%s: content differs from the scrubbed source", rel)
				}
				n++
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n != r.NumEntries() {
				t.Fatalf("%d files, %d entries", n, r.NumEntries())
			}
			t.Logf("%s: %d entries, archive %d bytes, input %d bytes (%.3f×)", name, n, len(b), r.Manifest().Counts.InputBytes,
				float64(len(b))/float64(r.Manifest().Counts.InputBytes))
		})
	}
}

func TestRayCharlesTitlesAndSearch(t *testing.T) {
	b, _ := packtest.Folder(t, "html/enwiki_raycharles", archive.Info{})
	r, err := archive.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	// Titles come from <title>; index.json lists them.
	var idx struct {
		Articles []struct{ Path, Title string } `json:"articles"`
	}
	raw, err := os.ReadFile(shared.Path(t, "html/enwiki_raycharles/index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &idx); err != nil {
		t.Fatal(err)
	}
	if len(idx.Articles) == 0 {
		t.Skip("index.json has no articles list in the expected form")
	}
	for _, a := range idx.Articles {
		e, err := r.Lookup(a.Path)
		if err != nil {
			t.Fatal(err)
		}
		if a.Path == "A/index" {
			// Its <title> is empty: "Main Page" came from ZIM metadata,
			// so the folder packer falls back to the file name.
			if e.Title != "index" {
				t.Errorf("A/index title %q", e.Title)
			}
			continue
		}
		if !e.Article || e.Title != a.Title {
			t.Errorf("%s: article=%v title %q, want %q", a.Path, e.Article, e.Title, a.Title)
		}
	}
	hits, total, err := packtest.View(t, r).Search("Georgia on My Mind", 0, 3)
	if err != nil {
		t.Fatal(err)
	}
	if total == 0 || hits[0].Path != "A/Georgia_on_My_Mind" {
		t.Fatalf("search: %d hits, first %+v", total, hits)
	}
	s, err := r.SuggestTitles("hit the", 3)
	if err != nil || len(s) == 0 || s[0].Path != "A/Hit_the_Road_Jack" {
		t.Fatalf("suggest: %+v %v", s, err)
	}
}

func TestMarkdownAndFilters(t *testing.T) {
	fsys := fstest.MapFS{
		"index.md":       {Data: []byte("---\ntitle: 첫 페이지\nlang: ko\n---\n# Hello\n\n[next](b.md#x) ![img](img/a.png)\n")},
		"b.md":           {Data: []byte("# Bee page\n\ntext")},
		"img/a.png":      {Data: []byte("\x89PNG\r\n\x1a\nfake")},
		"drafts/x.html":  {Data: []byte("<title>draft</title>")},
		".git/config":    {Data: []byte("secret")},
		"notes/skip.txt": {Data: []byte("x")},
	}
	k, _ := key.Generate()
	var buf bytes.Buffer
	sum, err := pack.Pack(context.Background(), &buf, pack.Options{
		Info: archive.Info{Channel: "md"}, Signers: []*key.Secret{k},
		Sources: []pack.Source{{Source: folder.NewFS(fsys)}}, Exclude: []string{"drafts/**", "*.txt"},
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := archive.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i := 0; i < r.NumEntries(); i++ {
		e, _ := r.EntryAt(i)
		paths = append(paths, e.Path)
	}
	if got := strings.Join(paths, " "); got != "b.html img/a.png index.html" {
		t.Fatalf("paths %q (summary %+v)", got, sum)
	}
	e, _ := r.Lookup("index.html")
	if e.Title != "첫 페이지" || !e.Article {
		t.Fatalf("index entry %+v", e)
	}
	page, _ := r.ReadAll(e)
	if !bytes.Contains(page, []byte(`href="b.html#x"`)) || !bytes.Contains(page, []byte(`lang="ko"`)) {
		t.Fatalf("markdown page: %s", page)
	}
	if r.Manifest().MainPage != "index.html" {
		t.Fatalf("main page %q", r.Manifest().MainPage)
	}
	hits, _, err := packtest.View(t, r).Search("bee", 0, 5)
	if err != nil || len(hits) != 1 || hits[0].Path != "b.html" {
		t.Fatalf("search: %+v %v", hits, err)
	}
}

func TestPackFileIsAtomic(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "a.ferry")
	if err := os.WriteFile(out, []byte("old archive"), 0o644); err != nil {
		t.Fatal(err)
	}
	k, _ := key.Generate()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := pack.PackFile(ctx, out, pack.Options{Signers: []*key.Secret{k},
		Sources: []pack.Source{{Source: folder.NewFS(fstest.MapFS{"a.html": {Data: []byte("x")}})}}})
	if err == nil {
		t.Fatal("canceled pack succeeded")
	}
	if b, _ := os.ReadFile(out); string(b) != "old archive" {
		t.Fatal("a failed pack changed the existing file")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

// TestLargeEntryNotTransformedIsReported: an entry too large for Transform
// (scrubbing, shrinking) is packed as it is, with a warning naming it, and
// entries left out by Exclude are counted.
func TestLargeEntryNotTransformedIsReported(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html":  {Data: []byte("<title>x</title>x")},
		"big.jpg":     {Data: bytes.Repeat([]byte{0xFF, 0xD8, 0xFF, 0xE0}, 3<<20)}, // 12 MiB
		"skip/a.html": {Data: []byte("x")},
	}
	k, _ := key.Generate()
	var warnings []string
	transformed := 0
	sum, err := pack.Pack(context.Background(), io.Discard, pack.Options{
		Info: archive.Info{Channel: "big"}, Signers: []*key.Secret{k},
		Sources: []pack.Source{{Source: folder.NewFS(fsys)}}, Exclude: []string{"skip/**"},
		Transform: func(e *source.Entry, data []byte) ([]byte, error) { transformed++; return data, nil },
		Warn:      func(m string) { warnings = append(warnings, m) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if all := strings.Join(warnings, "\n"); !strings.Contains(all, "big.jpg") || !strings.Contains(all, "too large to scrub") {
		t.Errorf("warnings: %q", warnings)
	}
	if transformed != 1 || sum.Skipped != 1 {
		t.Errorf("transformed %d, skipped %d", transformed, sum.Skipped)
	}
}

// TestOddPathEscaped: a name with a backslash (allowed in MediaWiki titles
// and Linux file names, not in archive paths) is stored escaped, with a
// warning, instead of failing the whole pack.
func TestOddPathEscaped(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html": {Data: []byte("<title>x</title>x")},
		`b\c.html`:   {Data: []byte("<title>bc</title>y")},
	}
	k, _ := key.Generate()
	var warnings []string
	var buf bytes.Buffer
	_, err := pack.Pack(context.Background(), &buf, pack.Options{
		Info: archive.Info{Channel: "odd"}, Signers: []*key.Secret{k},
		Sources: []pack.Source{{Source: folder.NewFS(fsys)}},
		Warn:    func(m string) { warnings = append(warnings, m) },
	})
	if err != nil {
		t.Fatal(err)
	}
	r, err := archive.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Lookup("b%5Cc.html"); err != nil {
		t.Errorf("escaped entry: %v", err)
	}
	if !strings.Contains(strings.Join(warnings, "\n"), `b%5Cc.html`) {
		t.Errorf("warnings %q", warnings)
	}
}

// TestLinksInFolderReported: a symbolic link in a packed folder is not
// followed and not packed, and a warning names it.
func TestLinksInFolderReported(t *testing.T) {
	fsys := fstest.MapFS{
		"index.html":  {Data: []byte("<title>x</title>x")},
		"secret.html": {Data: []byte("/home/user/secret.html"), Mode: fs.ModeSymlink},
	}
	k, _ := key.Generate()
	var warnings []string
	var buf bytes.Buffer
	sum, err := pack.Pack(context.Background(), &buf, pack.Options{
		Info: archive.Info{Channel: "links"}, Signers: []*key.Secret{k},
		Sources: []pack.Source{{Source: folder.NewFS(fsys)}},
		Warn:    func(m string) { warnings = append(warnings, m) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Entries != 1 || !strings.Contains(strings.Join(warnings, "\n"), "secret.html: a link") {
		t.Errorf("entries %d, warnings %q", sum.Entries, warnings)
	}
}

// TestDefaultOptionsScrub: pack.Pack with default options removes a Red
// Star OS watermark and EXIF, as 'ferry pack' does, and says so; NoScrub
// keeps the bytes.
func TestDefaultOptionsScrub(t *testing.T) {
	site, err := corpus.Site(corpus.Options{Pages: 1, Pictures: true})
	if err != nil {
		t.Fatal(err)
	}
	pic := site["img/card.png"].Data
	marked, err := scrub.AppendWatermark(bytes.Clone(pic), "RS-42")
	if err != nil {
		t.Fatal(err)
	}
	site["img/card.png"] = &fstest.MapFile{Data: marked}
	for _, noScrub := range []bool{false, true} {
		var warned []string
		var buf bytes.Buffer
		sum, err := pack.Pack(context.Background(), &buf, pack.Options{Info: archive.Info{Channel: "c"}, Signers: []*key.Secret{packtest.Key(t)},
			Sources: []pack.Source{{Source: folder.NewFS(site)}}, NoScrub: noScrub, Warn: func(s string) { warned = append(warned, s) }})
		if err != nil {
			t.Fatal(err)
		}
		got, err := packtest.Open(t, buf.Bytes()).Cat("img/card.png")
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case !noScrub && (!bytes.Equal(got, pic) || sum.Watermarks != 1 || len(warned) != 1 || !strings.Contains(warned[0], "img/card.png")):
			t.Errorf("default options: %d bytes (want %d), %d watermarks, warnings %q", len(got), len(pic), sum.Watermarks, warned)
		case noScrub && !bytes.Equal(got, marked):
			t.Error("NoScrub changed the picture")
		}
	}
}

// TestSeveralSourcesMetadata: with several sources the archive's metadata
// and main page come from the options and the first folder, not from a
// ZIM or book packed beside it (which used to supply its own).
func TestSeveralSourcesMetadata(t *testing.T) {
	site, _ := corpus.Site(corpus.Options{Pages: 2})
	described := describedSource{folder.NewFS(fstest.MapFS{"Main.html": {Data: []byte("<title>zim main</title><p>x</p>")}}),
		source.Metadata{Title: "The ZIM's title", Description: "the ZIM's", MainPage: "Main.html", Publisher: "Kiwix"}}
	var buf bytes.Buffer
	_, err := pack.Pack(context.Background(), &buf, pack.Options{Info: archive.Info{Channel: "c", Title: "Ours"}, Signers: []*key.Secret{packtest.Key(t)},
		Sources: []pack.Source{{Prefix: "site", Source: folder.NewFS(site)}, {Prefix: "wiki", Source: described}}})
	if err != nil {
		t.Fatal(err)
	}
	m := packtest.Open(t, buf.Bytes()).Manifest()
	if m.Title != "Ours" || m.Description != "" || m.Publisher != "" || m.MainPage != "site/index.html" {
		t.Errorf("manifest %q %q %q %q", m.Title, m.Description, m.Publisher, m.MainPage)
	}
	// Alone, the described source is the archive and its metadata is used.
	buf.Reset()
	if _, err := pack.Pack(context.Background(), &buf, pack.Options{Info: archive.Info{Channel: "c"}, Signers: []*key.Secret{packtest.Key(t)},
		Sources: []pack.Source{{Source: described}}}); err != nil {
		t.Fatal(err)
	}
	if m := packtest.Open(t, buf.Bytes()).Manifest(); m.Title != "The ZIM's title" || m.MainPage != "Main.html" {
		t.Errorf("lone source: %q %q", m.Title, m.MainPage)
	}
}

type describedSource struct {
	*folder.Source
	md source.Metadata
}

func (d describedSource) Metadata() source.Metadata { return d.md }

// TestEmptyPackRefused: an empty folder is an error, not an empty archive.
func TestEmptyPackRefused(t *testing.T) {
	_, err := pack.Pack(context.Background(), io.Discard, pack.Options{Info: archive.Info{Channel: "c"}, Signers: []*key.Secret{packtest.Key(t)},
		Sources: []pack.Source{{Source: folder.NewFS(fstest.MapFS{})}}})
	if !errors.Is(err, pack.ErrEmpty) {
		t.Fatalf("err %v", err)
	}
}
