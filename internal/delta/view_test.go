package delta

import (
	"bytes"
	"context"
	"testing"

	"ferry/internal/archive"
	"ferry/internal/key"
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
