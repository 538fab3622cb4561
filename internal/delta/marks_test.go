package delta

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"testing"
	"testing/fstest"

	"ferry/internal/archive"
	"ferry/internal/glossary"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/shared"
)

// packKorean packs fsys as edition ed of a channel declared Korean, so
// that the archive keeps its pages' glossary marks.
func packKorean(tb testing.TB, fsys fs.FS, ed uint64, k *key.Secret) []byte {
	tb.Helper()
	var buf bytes.Buffer
	info := archive.Info{Channel: "wiki-ko", Edition: ed, Title: "test", Created: created, Languages: []string{"ko"}}
	if _, err := pack.Pack(context.Background(), &buf, pack.Options{Info: info, Signers: []*key.Secret{k},
		Sources: []pack.Source{{Source: folder.NewFS(fsys)}}}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// marksOf is the marks table entry of r, failing when it has none.
func marksOf(tb testing.TB, c archive.Contents) []byte {
	tb.Helper()
	e, err := c.Lookup(glossary.MarksPath)
	if err != nil {
		tb.Fatalf("no marks table: %v", err)
	}
	b, err := c.ReadAll(e)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestDeltaMarks: editions 41 and 42 of a Korean channel (KorQuAD pages
// when the shared test data is there, else a site of our own writing).
// The delta's marks table holds only the changed and added pages'
// records, so its cost is proportional to them; base + delta gives every
// page the marks of the full edition 42; compacting gives edition 42's
// table byte for byte (and every other entry).
func TestDeltaMarks(t *testing.T) {
	t.Run("own", func(t *testing.T) {
		baseFS, err := corpus.Site(ownOpts)
		if err != nil {
			t.Fatal(err)
		}
		nextFS, _, err := corpus.Edit(baseFS, ownOpts, 20, ownRemoved, 3)
		if err != nil {
			t.Fatal(err)
		}
		checkDeltaMarks(t, baseFS, nextFS)
	})
	t.Run("KorQuAD", func(t *testing.T) {
		if st, err := os.Stat(shared.Root()); shared.Root() == "" || err != nil || !st.IsDir() {
			t.Skip("shared test data not found (../shared/testdata or FERRY_TESTDATA): the marks of a delta of real Korean pages were not checked")
		}
		baseFS, nextFS, _ := korquadEditions(t)
		checkDeltaMarks(t, baseFS, nextFS)
	})
}

func checkDeltaMarks(t *testing.T, baseFS, nextFS fstest.MapFS) {
	ctx := context.Background()
	k, _ := key.Generate()
	base, next := open(t, packKorean(t, baseFS, 41, k)), open(t, packKorean(t, nextFS, 42, k))
	g := glossary.Default()
	fullTable, err := g.ArchiveMarks(next)
	if err != nil || fullTable == nil {
		t.Fatalf("edition 42 keeps no marks: %v", err)
	}
	fullBytes := len(marksOf(t, next))

	var with, without bytes.Buffer
	sum, err := Make(ctx, view(t, base), view(t, next), &with, Options{Signers: []*key.Secret{k}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Make(ctx, view(t, base), view(t, next), &without, Options{Signers: []*key.Secret{k}, NoGlossaryMarks: true}); err != nil {
		t.Fatal(err)
	}
	d := open(t, with.Bytes())
	// The delta's table: exactly the records of the pages it holds, copied.
	want := g.NewMarksTable()
	pages := 0
	for i := 0; i < d.NumEntries(); i++ {
		e, _ := d.EntryAt(i)
		if e.Path == glossary.MarksPath || e.Redirect {
			continue
		}
		pages++
		b, err := d.ReadAll(e)
		if err != nil {
			t.Fatal(err)
		}
		if rec, ok := g.PageRecord(b); ok {
			want.Add(e.Path, rec)
		}
	}
	if pages == 0 || pages >= next.NumEntries()/4 {
		t.Fatalf("the delta holds %d pages of %d", pages, next.NumEntries())
	}
	got := marksOf(t, d)
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("the delta's marks table (%d bytes, %d pages) is not the table of its %d pages (%d bytes)", len(got), sum.MarksPages, want.Len(), len(want.Bytes()))
	}
	if sum.MarksFound != 0 || sum.MarksPages != want.Len() || sum.MarksBytes != len(got) {
		t.Errorf("summary: %d pages, %d bytes, %d found again; want %d pages, %d bytes, 0 found", sum.MarksPages, sum.MarksBytes, sum.MarksFound, want.Len(), len(got))
	}
	// Proportional: the delta's table costs about its share of pages of
	// the full one (plus a header and directory record).
	share := float64(want.Len()) / float64(fullTable.Pages())
	if limit := share*float64(fullBytes)*2 + 64; float64(len(got)) > limit {
		t.Errorf("the delta's marks are %d bytes for %d of %d pages; the full table is %d bytes", len(got), want.Len(), fullTable.Pages(), fullBytes)
	}
	t.Logf("delta %d bytes with marks, %d without (marks %d bytes for %d pages; edition 42's table %d bytes for %d pages)",
		with.Len(), without.Len(), len(got), want.Len(), fullBytes, fullTable.Pages())

	// Base + delta: every entry but the table as in edition 42, and every
	// page's marks found, from the right archive, equal to edition 42's.
	chain := view(t, base, d)
	cm, err := g.EditionMarks(chain)
	if err != nil || cm == nil {
		t.Fatalf("the chain's marks: %v", err)
	}
	checked := 0
	for i := 0; i < next.NumEntries(); i++ {
		w, _ := next.EntryAt(i)
		ce, err := chain.Lookup(w.Path)
		if err != nil {
			t.Fatalf("%s: %v", w.Path, err)
		}
		if w.Path == glossary.MarksPath || w.Redirect {
			continue
		}
		cb, err := chain.ReadAll(ce)
		if err != nil {
			t.Fatal(err)
		}
		wb, _ := next.ReadAll(w)
		if !bytes.Equal(cb, wb) {
			t.Fatalf("%s differs", w.Path)
		}
		wm, wok, werr := fullTable.Marks(w.Path, wb)
		gm, gok, gerr := cm.Marks(ce, cb)
		if wok != gok || (werr == nil) != (gerr == nil) {
			t.Fatalf("%s: marks kept %v (%v) through the chain, %v (%v) in edition 42", w.Path, gok, gerr, wok, werr)
		}
		if !sameMarks(wm, gm) {
			t.Fatalf("%s: other marks through the chain", w.Path)
		}
		if gok {
			checked++
		}
	}
	if checked < fullTable.Pages()-1 {
		t.Errorf("%d pages had stored marks through the chain, edition 42 keeps %d", checked, fullTable.Pages())
	}
	// Without marks, the delta leaves the base's table in the view.
	if _, err := view(t, base, open(t, without.Bytes())).Lookup(glossary.MarksPath); err != nil {
		t.Errorf("a delta without marks hides the base's table: %v", err)
	}

	// Compact: edition 42 again, its marks table included.
	var out bytes.Buffer
	csum, err := Compact(ctx, chain, &out, Options{Signers: []*key.Secret{k}})
	if err != nil {
		t.Fatal(err)
	}
	c := open(t, out.Bytes())
	if !bytes.Equal(marksOf(t, c), marksOf(t, next)) {
		t.Fatalf("the compacted table (%d bytes) is not edition 42's (%d)", len(marksOf(t, c)), fullBytes)
	}
	if csum.MarksFound != 0 {
		t.Errorf("compacting found %d pages' marks again; all were in the chain", csum.MarksFound)
	}
	sameEdition(t, view(t, c), next)

	// A next edition packed without marks: the delta removes the table.
	var bare bytes.Buffer
	info := archive.Info{Channel: "wiki-ko", Edition: 42, Title: "test", Created: created, Languages: []string{"ko"}}
	if _, err := pack.Pack(ctx, &bare, pack.Options{Info: info, Signers: []*key.Secret{k}, NoGlossaryMarks: true,
		Sources: []pack.Source{{Source: folder.NewFS(nextFS)}}}); err != nil {
		t.Fatal(err)
	}
	var rm bytes.Buffer
	if _, err := Make(ctx, view(t, base), view(t, open(t, bare.Bytes())), &rm, Options{Signers: []*key.Secret{k}}); err != nil {
		t.Fatal(err)
	}
	if _, err := view(t, base, open(t, rm.Bytes())).Lookup(glossary.MarksPath); err == nil {
		t.Error("a delta to an edition without marks keeps the base's table")
	}
}

// TestCompactMarksFound: a chain whose base keeps no marks (packed before
// they existed) and whose delta keeps some: compacting finds the missing
// pages' marks, giving the table a fresh pack writes.
func TestCompactMarksFound(t *testing.T) {
	ctx := context.Background()
	baseFS, err := corpus.Site(ownOpts)
	if err != nil {
		t.Fatal(err)
	}
	nextFS, _, err := corpus.Edit(baseFS, ownOpts, 20, ownRemoved, 3)
	if err != nil {
		t.Fatal(err)
	}
	k, _ := key.Generate()
	base := open(t, packFS(t, baseFS, 41, k)) // not declared Korean: no marks
	next := open(t, packKorean(t, nextFS, 42, k))
	var d bytes.Buffer
	if _, err := Make(ctx, view(t, base), view(t, next), &d, Options{Signers: []*key.Secret{k}}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sum, err := Compact(ctx, view(t, base, open(t, d.Bytes())), &out, Options{Signers: []*key.Secret{k}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.MarksFound == 0 {
		t.Error("no page's marks were found again")
	}
	if got, want := marksOf(t, open(t, out.Bytes())), marksOf(t, next); !bytes.Equal(got, want) {
		t.Fatalf("compacted table %d bytes, fresh pack %d", len(got), len(want))
	}
}

func sameMarks(a, b glossary.Marks) bool {
	if a.HeadAt != b.HeadAt || a.ListAt != b.ListAt || len(a.Words) != len(b.Words) {
		return false
	}
	for i := range a.Words {
		if a.Words[i] != b.Words[i] {
			return false
		}
	}
	return true
}
