package delta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/korquad"
	"ferry/internal/testkit/shared"
)

var created = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func packFS(tb testing.TB, fsys fs.FS, edition uint64, k *key.Secret) []byte {
	tb.Helper()
	var buf bytes.Buffer
	info := archive.Info{Channel: "wiki-ko", Edition: edition, Title: "test", Created: created}
	if _, err := pack.Pack(context.Background(), &buf, pack.Options{Info: info, Signers: []*key.Secret{k},
		Sources: []pack.Source{{Source: folder.NewFS(fsys)}}}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func open(tb testing.TB, b []byte) *archive.Reader {
	tb.Helper()
	r, err := archive.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func view(tb testing.TB, rs ...*archive.Reader) *edition.View {
	tb.Helper()
	v, err := edition.Open(rs...)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// editions builds a base and a next edition of the KorQuAD pages: every
// 20th article changed, three removed, three added. It returns both file
// systems and the paths of the changed and added pages.
func korquadEditions(tb testing.TB) (base, next fstest.MapFS, changed []string) {
	set := korquad.Load(tb)
	base, next = fstest.MapFS{}, fstest.MapFS{}
	for i, a := range set.Articles {
		p := korquad.Path(a.Title)
		base[p] = &fstest.MapFile{Data: set.HTML(i, 0)}
		switch {
		case i%20 == 7: // changed
			next[p] = &fstest.MapFile{Data: set.HTML(i, 3)}
			changed = append(changed, p)
		case i == 11 || i == 12 || i == 13: // removed
		default:
			next[p] = &fstest.MapFile{Data: set.HTML(i, 0)}
		}
	}
	for _, i := range []int{1, 2, 3} { // added
		p := korquad.Path(set.Articles[i].Title) + "_(new)"
		next[p] = &fstest.MapFile{Data: set.HTML(i, 5)}
		changed = append(changed, p)
	}
	return base, next, changed
}

// sameEdition checks that v presents exactly the entries of full,
// byte for byte.
func sameEdition(t *testing.T, v *edition.View, full *archive.Reader) {
	t.Helper()
	want := view(t, full)
	var got, exp []archive.Entry
	if err := v.Each(func(e archive.Entry) error { got = append(got, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := want.Each(func(e archive.Entry) error { exp = append(exp, e); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(exp) {
		t.Fatalf("view has %d entries, full edition %d", len(got), len(exp))
	}
	for i := range exp {
		g, e := got[i], exp[i]
		if g.Path != e.Path || g.Title != e.Title || g.MIME != e.MIME || g.Article != e.Article || g.Redirect != e.Redirect {
			t.Fatalf("entry %d: view %+v, full %+v", i, g, e)
		}
		gb, err := v.ReadAll(g)
		if err != nil {
			t.Fatal(err)
		}
		eb, err := want.ReadAll(e)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gb, eb) {
			t.Fatalf("%s: content differs (%d vs %d bytes)", e.Path, len(gb), len(eb))
		}
		l, err := v.Lookup(e.Path)
		if err != nil || l.Index != g.Index || layerOf(t, v, l) != layerOf(t, v, g) {
			t.Fatalf("Lookup(%q) = entry %d, %v; Each gave entry %d", e.Path, l.Index, err, g.Index)
		}
	}
}

// layerOf is the layer (0 = full edition) entry e of v comes from.
func layerOf(tb testing.TB, v *edition.View, e archive.Entry) int {
	tb.Helper()
	l, _, err := v.Layer(e)
	if err != nil {
		tb.Fatal(err)
	}
	return l
}

// editions are a base and a next edition packed once per test binary.
type editions struct {
	sync.Once
	base, next []byte
	changed    []string
	k          *key.Secret
}

func (e *editions) get(t *testing.T, baseFS, nextFS fstest.MapFS, changed []string) (base, next *archive.Reader, _ []string, k *key.Secret) {
	e.Do(func() {
		e.k, _ = key.Generate()
		e.base, e.next, e.changed = packFS(t, baseFS, 1, e.k), packFS(t, nextFS, 2, e.k), changed
	})
	if e.base == nil {
		t.Fatal("packing the editions failed in an earlier test")
	}
	return open(t, e.base), open(t, e.next), e.changed, e.k
}

var kq, own editions

// korquadArchives packs the two KorQuAD editions once per test binary.
func korquadArchives(t *testing.T) (base, next *archive.Reader, changed []string, k *key.Secret) {
	baseFS, nextFS, changed := korquadEditions(t)
	return kq.get(t, baseFS, nextFS, changed)
}

// ownOpts shape the made-up site of our own writing the delta tests use:
// 140 pages (the size of the KorQuAD set) with pictures.
var ownOpts = corpus.Options{Pages: 140, Seed: 11, Pictures: true}

// ownRemoved are the pages the next edition of the own site leaves out.
var ownRemoved = []int{11, 12, 13}

// ownArchives packs two editions of a made-up site once per test binary:
// every 20th page rewritten, three removed, three added (as
// korquadEditions does to the real pages).
func ownArchives(t *testing.T) (base, next *archive.Reader, changed []string, k *key.Secret) {
	baseFS, err := corpus.Site(ownOpts)
	if err != nil {
		t.Fatal(err)
	}
	nextFS, changed, err := corpus.Edit(baseFS, ownOpts, 20, ownRemoved, 3)
	if err != nil {
		t.Fatal(err)
	}
	return own.get(t, baseFS, nextFS, changed)
}

// TestDelta makes a delta between two editions of a site of our own
// writing and checks that base + delta is the next edition.
func TestDelta(t *testing.T) {
	base, next, changed, k := ownArchives(t)
	// Page 10 is rewritten (Edit rewrites i%20 == 10) and keeps its
	// keyword, which no other page holds.
	checkDelta(t, base, next, changed, k, corpus.PagePath(12), corpus.Keyword(10), corpus.PagePath(10))
}

// TestRealFiles runs the delta checks on other people's real pages (the
// shared test data): the KorQuAD Wikipedia articles and the Ray Charles
// Wikipedia folder with its images. TestDelta, TestDeltaChain and
// TestViewMatchesFullEdition run the same checks on our own pages.
func TestRealFiles(t *testing.T) {
	if st, err := os.Stat(shared.Root()); shared.Root() == "" || err != nil || !st.IsDir() {
		t.Skip("shared test data not found (../shared/testdata or FERRY_TESTDATA): deltas of real pages (KorQuAD, Ray Charles) were not checked; deltas of our own were")
	}
	t.Run("KorQuAD", func(t *testing.T) {
		base, next, changed, k := korquadArchives(t)
		set := korquad.Load(t)
		checkDelta(t, base, next, changed, k, korquad.Path(set.Articles[12].Title),
			strings.ReplaceAll(set.Articles[7].Title, "_", " "), korquad.Path(set.Articles[7].Title))
	})
	t.Run("ViewKorQuAD", func(t *testing.T) {
		base, next, _, k := korquadArchives(t)
		viewMatches(t, base, next, k, "대한민국")
	})
	t.Run("ChainRayCharles", func(t *testing.T) {
		deltaChain(t, readFolder(t, shared.Path(t, "html/enwiki_raycharles")))
	})
}

// checkDelta makes the delta from base to next and checks it: it holds
// the changed pages, base + delta is next, removed is gone, a search for
// query finds the changed page hit in the delta (never the replaced base
// version), compacting gives next, and the delta refuses another base.
func checkDelta(t *testing.T, base, next *archive.Reader, changed []string, k *key.Secret, removed, query, hit string) {
	t.Helper()
	var out bytes.Buffer
	sum, err := Make(context.Background(), view(t, base), view(t, next), &out, Options{Signers: []*key.Secret{k}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Changed+sum.Added != len(changed) || sum.Removed != 3 {
		t.Fatalf("summary %+v, want %d changed+added and 3 removed", sum, len(changed))
	}
	d := open(t, out.Bytes())
	if err := d.Verify(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	m := d.Manifest()
	if m.Base == nil || m.Base.ID != base.ID() || m.Base.Edition != 1 || m.Edition != 2 {
		t.Fatalf("delta base %+v edition %d", m.Base, m.Edition)
	}
	v := view(t, base, d)
	sameEdition(t, v, next)

	// Removed pages vanish; search finds changed pages in the delta and
	// never returns the replaced base version.
	if _, err := v.Lookup(removed); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("removed page still there: %v", err)
	}
	hits, _, err := v.Search(query, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, h := range hits {
		if h.Path == hit {
			if layerOf(t, v, h.Entry) != 1 {
				t.Fatalf("search returned the replaced base version of %s", h.Path)
			}
			found = true
		}
	}
	if !found {
		t.Fatalf("search for %q did not find the changed page; hits %v", query, hits)
	}

	// Compact gives the same edition as one full archive.
	var cb bytes.Buffer
	if _, err := Compact(context.Background(), v, &cb, Options{Signers: []*key.Secret{k}}); err != nil {
		t.Fatal(err)
	}
	c := open(t, cb.Bytes())
	if c.Manifest().Base != nil || c.Manifest().Edition != 2 {
		t.Fatalf("compacted manifest %+v", c.Manifest())
	}
	sameEdition(t, view(t, c), next)

	// The delta does not apply to another base.
	if _, err := edition.Open(next, d); !errors.Is(err, edition.ErrChain) {
		t.Fatalf("delta on the wrong base: %v", err)
	}
	if _, err := edition.Open(d); !errors.Is(err, edition.ErrChain) {
		t.Fatalf("delta without base: %v", err)
	}
}

// readFolder reads a folder into memory (Markdown notes left out).
func readFolder(t *testing.T, dir string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".md") {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		m[filepath.ToSlash(rel)] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestDeltaChain stacks two deltas on a site of our own with pictures: a
// changed picture, removed, added and returning pages.
func TestDeltaChain(t *testing.T) {
	site, err := corpus.Site(corpus.Options{Pages: 30, Seed: 12, Pictures: true})
	if err != nil {
		t.Fatal(err)
	}
	deltaChain(t, site)
}

// deltaChain makes editions 2 and 3 of the site ed1 (pages under A/ and
// pictures) and checks two deltas on top of each other: a changed
// picture, removed, added and returning pages.
func deltaChain(t *testing.T, ed1 fstest.MapFS) {
	var pages, imgs []string
	for p := range ed1 {
		if strings.HasPrefix(p, "A/") {
			pages = append(pages, p)
		} else if strings.HasSuffix(p, ".jpg") || strings.HasSuffix(p, ".png") {
			imgs = append(imgs, p)
		}
	}
	if len(pages) < 10 || len(imgs) < 2 {
		t.Fatalf("test data has %d pages and %d images", len(pages), len(imgs))
	}
	clone := func(m fstest.MapFS) fstest.MapFS {
		c := fstest.MapFS{}
		for k, v := range m {
			c[k] = v
		}
		return c
	}
	ed2 := clone(ed1)
	ed2[pages[0]] = &fstest.MapFile{Data: append(append([]byte{}, ed1[pages[0]].Data...), "<p>Edited in edition 2.</p>"...)}
	delete(ed2, pages[1])
	delete(ed2, imgs[0])
	ed2["A/New_page"] = &fstest.MapFile{Data: []byte("<html><head><title>New page</title></head><body><p>Brand new zebrafish.</p></body></html>")}
	ed3 := clone(ed2)
	ed3[pages[2]] = &fstest.MapFile{Data: []byte("<html><head><title>Rewritten</title></head><body><p>Rewritten.</p></body></html>")}
	ed3[pages[1]] = ed1[pages[1]] // comes back
	delete(ed3, "A/New_page")
	ed3[imgs[1]] = &fstest.MapFile{Data: append(append([]byte{}, ed1[imgs[1]].Data...), 0)}

	k, _ := key.Generate()
	r1, r2, r3 := open(t, packFS(t, ed1, 1, k)), open(t, packFS(t, ed2, 2, k)), open(t, packFS(t, ed3, 3, k))
	var d2b, d3b bytes.Buffer
	opts := Options{Signers: []*key.Secret{k}}
	if _, err := Make(context.Background(), view(t, r1), view(t, r2), &d2b, opts); err != nil {
		t.Fatal(err)
	}
	d2 := open(t, d2b.Bytes())
	sameEdition(t, view(t, r1, d2), r2)
	// The next delta is made against the chain and refers to d2 by id.
	if _, err := Make(context.Background(), view(t, r1, d2), view(t, r3), &d3b, opts); err != nil {
		t.Fatal(err)
	}
	d3 := open(t, d3b.Bytes())
	if d3.Manifest().Base.ID != d2.ID() {
		t.Fatalf("second delta based on %s, want %s", d3.Manifest().Base.ID, d2.ID())
	}
	v := view(t, r1, d2, d3)
	sameEdition(t, v, r3)
	if _, err := v.Lookup("A/New_page"); !errors.Is(err, archive.ErrNotFound) {
		t.Fatalf("page removed by the second delta: %v", err)
	}
	hits, _, err := v.Search("zebrafish", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 0 {
		t.Fatalf("search found a removed page: %v", hits)
	}
	if _, err := v.RandomArticle(); err != nil {
		t.Fatal(err)
	}
	if s, err := v.SuggestTitles("Rewr", 5); err != nil || len(s) != 1 || layerOf(t, v, s[0]) != 2 {
		t.Fatalf("SuggestTitles: %v %v", s, err)
	}
	// Files: PackAgainst writes the delta from sources directly.
	tmp := t.TempDir()
	name := filepath.Join(tmp, "ed3.ferry")
	sum, err := PackAgainst(context.Background(), view(t, r1, d2), name, pack.Options{
		Info:    archive.Info{Edition: 3, Created: created},
		Signers: []*key.Secret{k}, Sources: []pack.Source{{Source: folder.NewFS(ed3)}}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := archive.OpenFile(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sameEdition(t, view(t, r1, d2, f), r3)
	if left, _ := filepath.Glob(filepath.Join(tmp, ".*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v (summary %+v)", left, sum)
	}
}

// BenchmarkDeltaSize measures, on real pages with about 5% changed and
// three added and three removed, the delta's size against an archive of
// the changed and added entries alone (the goal: ratio ≤ 1.1).
func BenchmarkDeltaSize(b *testing.B) {
	b.Run("korquad-140", func(b *testing.B) {
		baseFS, nextFS, changed := korquadEditions(b)
		benchDelta(b, baseFS, nextFS, changed)
	})
	b.Run("korquad-560", func(b *testing.B) {
		set := korquad.Load(b)
		baseFS, nextFS := fstest.MapFS{}, fstest.MapFS{}
		var changed []string
		n := 0
		for c := 0; c < 4; c++ {
			for i, a := range set.Articles {
				p := fmt.Sprintf("A/%s_(%d)", a.Title, c)
				baseFS[p] = &fstest.MapFile{Data: set.HTML(i, c)}
				n++
				switch {
				case n%20 == 7:
					nextFS[p] = &fstest.MapFile{Data: set.HTML(i, c+10)}
					changed = append(changed, p)
				case n == 100 || n == 200 || n == 300:
				default:
					nextFS[p] = baseFS[p]
				}
			}
		}
		for i := 0; i < 3; i++ {
			p := fmt.Sprintf("A/new_%d", i)
			nextFS[p] = &fstest.MapFile{Data: set.HTML(i, 20)}
			changed = append(changed, p)
		}
		benchDelta(b, baseFS, nextFS, changed)
	})
	b.Run("raycharles", func(b *testing.B) {
		dir := shared.Path(b, "html/enwiki_raycharles")
		baseFS := fstest.MapFS{}
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !strings.HasSuffix(p, ".md") {
				data, _ := os.ReadFile(p)
				rel, _ := filepath.Rel(dir, p)
				baseFS[filepath.ToSlash(rel)] = &fstest.MapFile{Data: data}
			}
			return nil
		})
		nextFS := fstest.MapFS{}
		var changed []string
		n := 0
		for _, p := range sortedKeys(baseFS) {
			if strings.HasPrefix(p, "A/") {
				n++
			}
			switch {
			case strings.HasPrefix(p, "A/") && n%20 == 3:
				nextFS[p] = &fstest.MapFile{Data: bytes.Replace(baseFS[p].Data, []byte("</body>"), []byte("<p>Updated this week.</p></body>"), 1)}
				changed = append(changed, p)
			case strings.HasPrefix(p, "A/") && (n == 10 || n == 20):
			default:
				nextFS[p] = baseFS[p]
			}
		}
		for i := 0; i < 2; i++ {
			p := fmt.Sprintf("A/New_%d", i)
			nextFS[p] = &fstest.MapFile{Data: []byte(fmt.Sprintf("<html><head><title>New %d</title></head><body><p>A new page about Ray Charles, number %d.</p></body></html>", i, i))}
			changed = append(changed, p)
		}
		benchDelta(b, baseFS, nextFS, changed)
	})
}

func sortedKeys(m fstest.MapFS) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func benchDelta(b *testing.B, baseFS, nextFS fstest.MapFS, changed []string) {
	k, _ := key.Generate()
	base, next := open(b, packFS(b, baseFS, 1, k)), open(b, packFS(b, nextFS, 2, k))
	only := fstest.MapFS{}
	for _, p := range changed {
		only[p] = nextFS[p]
	}
	onlySize := len(packFS(b, only, 2, k))
	b.ResetTimer()
	var size int64
	for i := 0; i < b.N; i++ {
		var out bytes.Buffer
		sum, err := Make(context.Background(), view(b, base), view(b, next), &out, Options{Signers: []*key.Secret{k}})
		if err != nil {
			b.Fatal(err)
		}
		size = sum.ArchiveBytes
	}
	b.ReportMetric(float64(size), "delta-bytes")
	b.ReportMetric(float64(onlySize), "changed-only-bytes")
	b.ReportMetric(float64(size)/float64(onlySize), "ratio")
	b.ReportMetric(float64(next.Size()), "full-bytes")
	fmt.Fprintf(os.Stderr, "%s: entries %d, changed+added %d, removed %d, delta %d B, changed alone %d B, ratio %.3f, full edition %d B\n",
		b.Name(), next.NumEntries(), len(changed), removedCount(baseFS, nextFS), size, onlySize, float64(size)/float64(onlySize), next.Size())
}

func removedCount(base, next fstest.MapFS) int {
	n := 0
	for p := range base {
		if _, ok := next[p]; !ok {
			n++
		}
	}
	return n
}
