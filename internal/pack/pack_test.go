package pack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
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

// TestRoundTrip packs a folder of our own on disk (pages in Korean and
// English, pictures, a Markdown page, a file in a subfolder) and reads
// every file back byte-identical to the source as scrubbing leaves it.
func TestRoundTrip(t *testing.T) {
	site, err := corpus.Site(corpus.Options{Pages: 24, Seed: 31, Pictures: true})
	if err != nil {
		t.Fatal(err)
	}
	site["notes/읽어 두기.md"] = &fstest.MapFile{Data: []byte("# 읽어 두기\n\n이 서고는 시험을 위해 만든 것입니다. *Made for tests.*\n")}
	site["notes/data.txt"] = &fstest.MapFile{Data: []byte("plain text, kept as it is\n")}
	dir := t.TempDir()
	if err := corpus.WriteDir(dir, site); err != nil {
		t.Fatal(err)
	}
	src, err := folder.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, k := packtest.Sources(t, archive.Info{Title: "own"}, pack.Source{Source: src})
	if n := roundTrip(t, b, k, dir); n != len(site) {
		t.Fatalf("%d files read back, the site has %d", n, len(site))
	}
}

// TestRealFiles runs the packing checks on other people's real content
// (the shared test data): the real folders round trip, the Ray Charles
// titles and search, and KorQuAD's size and search goals. TestRoundTrip,
// TestTitlesAndSearch and TestSearchEndToEnd check the same on our own.
func TestRealFiles(t *testing.T) {
	if st, err := os.Stat(shared.Root()); shared.Root() == "" || err != nil || !st.IsDir() {
		t.Skip("shared test data not found (../shared/testdata or FERRY_TESTDATA): real folders (Ray Charles, Wikibooks, UDHR, Korean law) and KorQuAD were not packed, so the size goal (≤ 0.42× on Korean Wikipedia-like HTML) and KorQuAD search rates were not measured; our own folders were packed")
	}
	for _, name := range []string{"html/enwiki_raycharles", "html/wikibooks_en", "udhr", "kolaw"} {
		t.Run("RoundTrip/"+name, func(t *testing.T) {
			b, k := packtest.Folder(t, name, archive.Info{Title: name})
			roundTrip(t, b, k, shared.Path(t, name))
		})
	}
	t.Run("RayCharlesTitlesAndSearch", rayCharlesTitlesAndSearch)
	t.Run("KoreanLawSearch", koreanLawSearch)
	t.Run("KorQuADSize", korquadSize)
	t.Run("KorQuADSearch", korquadSearch)
	t.Run("KorQuADText", korquadText)
}

// roundTrip checks the archive b packed from dir: signed by k, verified,
// and every file read back byte-identical to the source as scrubbing
// leaves it (default options scrub: a picture's EXIF goes, exactly as
// scrub.Scrub does on its own). It returns the number of files.
func roundTrip(t *testing.T, b []byte, k *key.Secret, dir string) int {
	t.Helper()
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
	t.Logf("%d entries, archive %d bytes, input %d bytes (%.3f×)", n, len(b), r.Manifest().Counts.InputBytes,
		float64(len(b))/float64(r.Manifest().Counts.InputBytes))
	return n
}

// TestTitlesAndSearch packs a made-up site and checks titles (from
// <title>, or the file name when a page has none), search and title
// suggestions, as rayCharlesTitlesAndSearch does on real pages.
func TestTitlesAndSearch(t *testing.T) {
	site, err := corpus.Site(corpus.Options{Pages: 40, Seed: 32})
	if err != nil {
		t.Fatal(err)
	}
	// No <title> and no heading: the folder packer falls back to the
	// file name, underscores as spaces.
	site["A/No_title_here"] = &fstest.MapFile{Data: []byte("<html><body><p>이 페지에는 제목이 없습니다. This page has no title.</p></body></html>")}
	r := packtest.Open(t, packtest.FS(t, site, archive.Info{}))
	for i := 0; i < 40; i++ {
		e, err := r.Lookup(corpus.PagePath(i))
		if err != nil {
			t.Fatal(err)
		}
		if !e.Article || e.Title != corpus.Title(i) {
			t.Errorf("%s: article=%v title %q, want %q", e.Path, e.Article, e.Title, corpus.Title(i))
		}
	}
	if e, err := r.Lookup("A/No_title_here"); err != nil || !e.Article || e.Title != "No title here" {
		t.Errorf("page without a title: %+v %v", e, err)
	}
	if e, err := r.Lookup("index.html"); err != nil || e.Title != "시험 서고 / Test library" {
		t.Errorf("index.html: %+v %v", e, err)
	}
	v := packtest.View(t, r)
	for _, i := range []int{7, 22} { // one English and one Korean page
		hits, total, err := v.Search(corpus.Keyword(i), 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		if total == 0 || hits[0].Path != corpus.PagePath(i) {
			t.Errorf("search %s: %d hits, first %+v", corpus.Keyword(i), total, hits)
		}
	}
	hits, _, err := v.Search("제목이 없습니다", 0, 3)
	if err != nil || len(hits) == 0 || hits[0].Path != "A/No_title_here" {
		t.Errorf("search for the untitled page's words: %+v %v", hits, err)
	}
	s, err := r.SuggestTitles("test article 3", 3)
	if err != nil || len(s) == 0 || s[0].Path != corpus.PagePath(3) {
		t.Fatalf("suggest: %+v %v", s, err)
	}
	for _, e := range s {
		if !strings.HasPrefix(e.Title, "Test article 3") {
			t.Errorf("suggest %q for test article 3", e.Title)
		}
	}
}

// TestPlainTextDocuments checks that a folder's .txt files are documents:
// articles titled by their first line with letters, and searchable; other
// plain text (an extension-less file) is stored but not an article.
func TestPlainTextDocuments(t *testing.T) {
	site := fstest.MapFS{
		"index.html":       {Data: []byte("<title>법령집</title><p>목록</p>")},
		"laws/const.txt":   {Data: []byte("\ufeff\r\n  \r\n====\r\n대한민국헌법\r\n\r\n제70조 대통령의 임기는 5년으로 하며, 중임할 수 없다.\r\n")},
		"laws/long.txt":    {Data: []byte(strings.Repeat("가", 130) + "\n본문 낱말 북두칠성")},
		"laws/bad.txt":     {Data: []byte("\xff\xfe 제목\xff 줄\nnothing")},
		"laws/LICENSE":     {Data: []byte("Public domain. 공유 저작물 무지개")},
		"laws/numbers.txt": {Data: []byte("1234\n")},
	}
	r := packtest.Open(t, packtest.FS(t, site, archive.Info{Languages: []string{"ko"}}))
	for _, c := range []struct {
		path, title string
		article     bool
	}{
		{"laws/const.txt", "대한민국헌법", true},
		{"laws/long.txt", strings.Repeat("가", 120) + "…", true},
		{"laws/bad.txt", "제목 줄", true},
		{"laws/numbers.txt", "numbers.txt", true},
		{"laws/LICENSE", "", false},
	} {
		e, err := r.Lookup(c.path)
		if err != nil {
			t.Fatal(err)
		}
		if e.Article != c.article || e.Title != c.title {
			t.Errorf("%s: article %v title %q, want %v %q", c.path, e.Article, e.Title, c.article, c.title)
		}
	}
	v := packtest.View(t, r)
	for q, want := range map[string]string{"대통령 임기": "laws/const.txt", "북두칠성": "laws/long.txt"} {
		hits, _, err := v.Search(q, 0, 3)
		if err != nil || len(hits) == 0 || hits[0].Path != want {
			t.Errorf("search %q: %+v %v, want %s first", q, hits, err, want)
		}
	}
	if hits, _, _ := v.Search("무지개", 0, 3); len(hits) != 0 {
		t.Errorf("an extension-less file was indexed: %+v", hits)
	}
}

// TestSearchEndToEnd packs the sample library's pages as a folder and asks
// the hand-written questions about them (HTML → text → index in the
// archive → query), as korquadSearch does with KorQuAD's questions.
func TestSearchEndToEnd(t *testing.T) {
	pages, err := corpus.SamplePages()
	if err != nil {
		t.Fatal(err)
	}
	site := fstest.MapFS{}
	for _, p := range pages {
		site[p.Path] = &fstest.MapFile{Data: p.HTML}
	}
	v := packtest.View(t, packtest.Open(t, packtest.FS(t, site, archive.Info{Languages: []string{"ko", "en"}})))
	var top1, top3 int
	qs := corpus.Questions()
	for _, q := range qs {
		hits, _, err := v.Search(q.Text, 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		for k, h := range hits {
			if h.Path == q.Path {
				if k == 0 {
					top1++
				}
				top3++
				break
			}
		}
	}
	n := float64(len(qs))
	t.Logf("sample pages end to end: %d questions, top-1 %.1f%%, top-3 %.1f%%", len(qs), 100*float64(top1)/n, 100*float64(top3)/n)
	// The search package's own measure on the same pages is top-1 0.895,
	// top-3 1.000: packing must not lose what the index finds.
	if float64(top1)/n < 0.85 || float64(top3)/n < 0.95 {
		t.Errorf("top-1 %.3f, top-3 %.3f below 0.85/0.95", float64(top1)/n, float64(top3)/n)
	}
}

// rayCharlesTitlesAndSearch checks the Ray Charles pages' titles against
// the folder's index.json, a search and a title suggestion.
// koreanLawSearch packs the Korean Constitution and bills, plain-text
// files, and finds articles of them by their words.
func koreanLawSearch(t *testing.T) {
	b, _ := packtest.Folder(t, "kolaw", archive.Info{Languages: []string{"ko"}})
	r, err := archive.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	e, err := r.Lookup("constitution.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !e.Article || e.Title != "대한민국헌법" {
		t.Errorf("constitution.txt: article %v, title %q", e.Article, e.Title)
	}
	v := packtest.View(t, r)
	for _, q := range []string{"대통령의 임기", "국회의원 불체포", "헌법재판소 재판관"} {
		hits, _, err := v.Search(q, 0, 3)
		if err != nil || len(hits) == 0 || hits[0].Path != "constitution.txt" {
			t.Errorf("search %q: %+v %v, want constitution.txt first", q, hits, err)
		}
	}
}

func rayCharlesTitlesAndSearch(t *testing.T) {
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
		t.Fatal("index.json has no articles list in the expected form")
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

// TestSourceWarningsAndTotal: what a source reports it changed (a file
// name that is not UTF-8, stored escaped) reaches Warn, and a folder's
// count gives progress its total.
func TestSourceWarningsAndTotal(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "index.html"), []byte("<title>x</title><p>한 쪽</p>"), 0o644)
	if err := os.WriteFile(filepath.Join(dir, "caf\xe9.html"), []byte("<p>b</p>"), 0o644); err != nil {
		t.Skip("this file system refuses names that are not UTF-8:", err)
	}
	src, err := folder.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	var warned []string
	var last pack.Progress
	_, err = pack.Pack(context.Background(), io.Discard, pack.Options{Info: archive.Info{Channel: "c"}, Signers: []*key.Secret{packtest.Key(t)},
		Sources: []pack.Source{{Source: src}}, Warn: func(s string) { warned = append(warned, s) },
		Progress: func(p pack.Progress) { last = p }})
	if err != nil {
		t.Fatal(err)
	}
	if len(warned) == 0 || !strings.Contains(strings.Join(warned, "\n"), "caf%E9.html") {
		t.Errorf("warnings %q", warned)
	}
	if last.Total != 2 || last.Entries != 2 {
		t.Errorf("progress %+v, want 2 of 2", last)
	}
}

// TestGiantPictureWarns: under ImagesShrink a picture whose header claims
// 10000×10000 pixels (too many to decode) is packed as it came, with a
// warning naming it; the rest of the edition is packed.
func TestGiantPictureWarns(t *testing.T) {
	var png bytes.Buffer
	png.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := []byte("IHDR\x00\x00\x27\x10\x00\x00\x27\x10\x08\x02\x00\x00\x00")
	png.Write([]byte{0, 0, 0, 13})
	png.Write(ihdr)
	crc := crc32.ChecksumIEEE(ihdr)
	png.Write([]byte{byte(crc >> 24), byte(crc >> 16), byte(crc >> 8), byte(crc)})
	png.WriteString("\x00\x00\x00\x00IEND\xaeB`\x82")
	site := fstest.MapFS{
		"index.html": {Data: []byte("<title>x</title><img src=pano.png>")},
		"pano.png":   {Data: png.Bytes()},
	}
	var warned []string
	var buf bytes.Buffer
	sum, err := pack.Pack(context.Background(), &buf, pack.Options{Info: archive.Info{Channel: "c"}, Signers: []*key.Secret{packtest.Key(t)},
		Sources: []pack.Source{{Source: folder.NewFS(site)}}, NoScrub: true,
		Images: pack.Images{Mode: pack.ImagesShrink}, Warn: func(s string) { warned = append(warned, s) }})
	if err != nil {
		t.Fatalf("one giant picture stopped the pack: %v", err)
	}
	got, err := packtest.Open(t, buf.Bytes()).Cat("pano.png")
	if err != nil || !bytes.Equal(got, png.Bytes()) || sum.Entries != 2 {
		t.Fatalf("pano.png %d bytes (%v), want %d; %d entries", len(got), err, png.Len(), sum.Entries)
	}
	if w := strings.Join(warned, "\n"); !strings.Contains(w, "pano.png: not shrunk") || !strings.Contains(w, "10000×10000") {
		t.Errorf("warnings %q", warned)
	}
}

// TestLargeEntriesDropped: the radio profile and --images drop leave out
// entries of the MIME types they drop even when the entries are too large
// for Transform (8 MiB and more are streamed): a radio edition never
// carries a big video or picture.
func TestLargeEntriesDropped(t *testing.T) {
	big := bytes.Repeat([]byte{0x5a, 0x13, 0x77, 0x01}, 9<<20/4)
	site := fstest.MapFS{
		"index.html": {Data: []byte("<title>목차</title><p>라디오로 보내는 글</p>")},
		"film.mp4":   {Data: big},
		"photo.jpg":  {Data: big},
		"long.txt":   {Data: bytes.Repeat([]byte("긴 글 "), 9<<20/10)},
	}
	for _, tc := range []struct {
		name string
		opts pack.Options
		gone []string
		kept []string
	}{
		{"radio", pack.Options{Profile: pack.ProfileRadio}, []string{"film.mp4", "photo.jpg"}, []string{"index.html", "long.txt"}},
		{"images-drop", pack.Options{Images: pack.Images{Mode: pack.ImagesDrop}}, []string{"photo.jpg"}, []string{"index.html", "film.mp4", "long.txt"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.Info = archive.Info{Channel: "c"}
			opts.Signers = []*key.Secret{packtest.Key(t)}
			opts.Sources = []pack.Source{{Source: folder.NewFS(site)}}
			opts.NoScrub = true
			var buf bytes.Buffer
			sum, err := pack.Pack(context.Background(), &buf, opts)
			if err != nil {
				t.Fatal(err)
			}
			r := packtest.Open(t, buf.Bytes())
			for _, p := range tc.gone {
				if _, err := r.Cat(p); err == nil {
					t.Errorf("%s (%d bytes, streamed) is in the archive", p, len(big))
				}
			}
			for _, p := range tc.kept {
				if _, err := r.Cat(p); err != nil {
					t.Errorf("%s: %v", p, err)
				}
			}
			if sum.Entries != len(tc.kept) || sum.Skipped != len(tc.gone) {
				t.Errorf("%d entries, %d skipped; want %d, %d", sum.Entries, sum.Skipped, len(tc.kept), len(tc.gone))
			}
		})
	}
}
