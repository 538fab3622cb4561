package delta

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/key"
	"ferry/internal/testkit/packtest"
)

// TestViewMatchesFullEdition reads base + delta through edition.View entry
// by entry, index by index, against the full edition.
func TestViewMatchesFullEdition(t *testing.T) {
	base, next, _, k := ownArchives(t)
	// Every Korean page's title has 시험.
	viewMatches(t, base, next, k, "시험")
}

// viewMatches makes the delta from base to next and compares base + delta
// with next; query must have hits.
func viewMatches(t *testing.T, base, next *archive.Reader, k *key.Secret, query string) {
	t.Helper()
	var out bytes.Buffer
	if _, err := Make(context.Background(), view(t, base), view(t, next), &out, Options{Signers: []*key.Secret{k}}); err != nil {
		t.Fatal(err)
	}
	f := view(t, base, open(t, out.Bytes()))
	if f.NumEntries() != next.NumEntries() {
		t.Fatalf("%d entries, full edition %d", f.NumEntries(), next.NumEntries())
	}
	if m := f.Manifest(); m.Counts.Articles != next.Manifest().Counts.Articles || m.Edition != 2 {
		t.Fatalf("manifest counts %+v", m.Counts)
	}
	for i := 0; i < next.NumEntries(); i++ {
		g, err := f.EntryAt(i)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := next.EntryAt(i)
		if g.Path != w.Path || g.Title != w.Title || g.Index != i {
			t.Fatalf("entry %d: %q/%q, full %q/%q", i, g.Path, g.Title, w.Path, w.Title)
		}
		gb, err := f.ReadAll(g)
		if err != nil {
			t.Fatal(err)
		}
		wb, _ := next.ReadAll(w)
		if !bytes.Equal(gb, wb) {
			t.Fatalf("%s differs", g.Path)
		}
		l, err := f.Lookup(g.Path)
		if err != nil || l.Index != i {
			t.Fatalf("Lookup(%q) = %d, %v; want %d", g.Path, l.Index, err, i)
		}
	}
	hits, _, err := f.Search(query, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		if e, err := f.EntryAt(h.Index); err != nil || e.Path != h.Path {
			t.Fatalf("hit %q has index %d (%q)", h.Path, h.Index, e.Path)
		}
	}
	if len(hits) == 0 {
		t.Fatalf("no hits for %q", query)
	}
	if e, err := f.RandomArticle(); err != nil || !e.Article {
		t.Fatalf("RandomArticle: %+v %v", e, err)
	}
	// An entry of another archive is refused, not misread.
	other, _ := next.EntryAt(0)
	other.Index, other.Path = 1, "nope"
	if _, err := f.ReadAll(other); err == nil {
		t.Fatal("foreign entry accepted")
	}
}

// TestChainSearchHiddenTop: the delta changes the 30 best pages for a word
// so they no longer have it; the chain's first page of results still
// holds the 10 pages that do (reading past the hidden hits), like the
// full edition's, and title suggestions likewise skip replaced titles.
func TestChainSearchHiddenTop(t *testing.T) {
	pages := func(changed bool) fstest.MapFS {
		fsys := fstest.MapFS{}
		for i := range 40 {
			body := "apple " + strings.Repeat("apple fruit ", 20)
			title := fmt.Sprintf("Apple %02d", i)
			switch {
			case i >= 30:
				body = "apple " + strings.Repeat("other words here ", 20)
			case changed:
				body = strings.Repeat("banana fruit ", 20)
				title = fmt.Sprintf("Banana %02d", i)
			}
			fsys[fmt.Sprintf("p%02d.html", i)] = &fstest.MapFile{Data: []byte("<title>" + title + "</title><p>" + body)}
		}
		return fsys
	}
	b1 := packtest.FS(t, pages(false), archive.Info{Channel: "c", Edition: 1})
	b2 := packtest.FS(t, pages(true), archive.Info{Channel: "c", Edition: 2})
	r1, r2 := packtest.Open(t, b1), packtest.Open(t, b2)
	var d bytes.Buffer
	if _, err := Make(context.Background(), view(t, r1), view(t, r2), &d, Options{Signers: []*key.Secret{packtest.Key(t)}}); err != nil {
		t.Fatal(err)
	}
	chain := view(t, r1, packtest.Open(t, d.Bytes()))
	full := view(t, r2)
	paths := func(hits []edition.Hit) []string {
		var out []string
		for _, h := range hits {
			out = append(out, h.Path)
		}
		sort.Strings(out)
		return out
	}
	got, _, err := chain.Search("apple", 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := full.Search("apple", 0, 10)
	if g, w := paths(got), paths(want); len(w) != 10 || strings.Join(g, " ") != strings.Join(w, " ") {
		t.Fatalf("chain's first page %v, full edition's %v", g, w)
	}
	sugg, err := chain.SuggestTitles("apple", 5)
	if err != nil || len(sugg) != 5 || sugg[0].Title != "Apple 30" {
		t.Fatalf("suggestions %v %v, want Apple 30 to 34", sugg, err)
	}
}
