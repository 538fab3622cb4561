package static

import (
	"bytes"
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"ferry/internal/archive"
	"ferry/internal/delta"
	"ferry/internal/edition"
	"ferry/internal/glossary"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/packtest"
)

// marksPages are Korean pages with links the export rewrites.
var marksPages = fstest.MapFS{
	"ko.html": {Data: []byte(`<html><head><title>손전화</title></head><body><p>스마트폰으로 <a href="b.html">인터넷</a>에서 뉴스를 본다.</p>` +
		`<p title="컴퓨터"><img src="b.png" alt="서버"> 컴퓨터와 서버가 있다.</p></body></html>`)},
	"b.html":     {Data: []byte(`<html><head><title>둘</title></head><body><p>게임을 하려고 <a href="ko.html">스마트폰</a>을 샀다.</p></body></html>`)},
	"b.png":      {Data: []byte("\x89PNG\r\n\x1a\n")},
	"index.html": {Data: []byte(`<html><head><title>처음</title></head><body><p><a href="ko.html">글</a></p></body></html>`)},
}

// packKorean packs marksPages as Korean, with or without glossary marks.
func packKorean(t *testing.T, noMarks bool) *archive.Reader {
	t.Helper()
	var buf bytes.Buffer
	_, err := pack.Pack(context.Background(), &buf, pack.Options{
		Info:            archive.Info{Channel: "ko", Title: "조선", Languages: []string{"ko"}, MainPage: "index.html"},
		Signers:         []*key.Secret{packtest.Key(t)},
		Sources:         []pack.Source{{Source: folder.NewFS(marksPages)}},
		NoGlossaryMarks: noMarks,
	})
	if err != nil {
		t.Fatal(err)
	}
	return packtest.Open(t, buf.Bytes())
}

// TestExportWithStoredMarks: an archive's own marks give the same
// exported pages as finding the words at export time, and the table is
// not exported as a file.
func TestExportWithStoredMarks(t *testing.T) {
	with, without := packKorean(t, false), packKorean(t, true)
	if _, err := with.Lookup(glossary.MarksPath); err != nil {
		t.Fatalf("the Korean archive has no marks table: %v", err)
	}
	if _, err := without.Lookup(glossary.MarksPath); err == nil {
		t.Fatal("NoGlossaryMarks still stored marks")
	}
	tab, err := glossary.Default().ArchiveMarks(with)
	if err != nil || tab == nil {
		t.Fatalf("marks table: %v", err)
	}
	for _, f := range []string{"ko.html", "b.html"} {
		if m, ok, err := tab.Marks(f, marksPages[f].Data); !ok || err != nil || len(m.Words) == 0 {
			t.Fatalf("%s: stored marks %v %v %v", f, m, ok, err)
		}
	}
	dirs := map[bool]string{}
	for _, stored := range []bool{true, false} {
		a := without
		if stored {
			a = with
		}
		dirs[stored] = filepath.Join(t.TempDir(), "card")
		if _, err := Export(context.Background(), dirs[stored], []archive.Contents{a}, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"ko.html", "b.html"} {
		a := readFile(t, filepath.Join(dirs[true], "ko", f))
		b := readFile(t, filepath.Join(dirs[false], "ko", f))
		if a != b {
			t.Errorf("%s differs with stored marks:\n%s\nfound at export:\n%s", f, a, b)
		}
		if !strings.Contains(a, `<abbr class="fg"`) {
			t.Errorf("%s not glossed:\n%s", f, a)
		}
	}
	filepath.WalkDir(dirs[true], func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(p, "glossary-marks") {
			t.Errorf("the marks table was exported as %s", p)
		}
		return nil
	})
}

// TestExportHostileMarks: a table whose marks point into an attribute is
// refused for that page, which is then glossed as without a table.
func TestExportHostileMarks(t *testing.T) {
	g := glossary.Default()
	page := marksPages["ko.html"].Data
	// One mark: 컴퓨터 at its first place, inside the title attribute.
	e := -1
	for i := range g.Len() {
		if g.Entry(i).Headword == "컴퓨터" {
			e = i
		}
	}
	rec := binary.AppendUvarint([]byte{1, 0, 1}, uint64(e)<<1)
	tab := g.NewMarksTable()
	tab.Add("ko.html", rec)
	var buf bytes.Buffer
	w, err := archive.NewWriter(&buf, archive.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []archive.Input{
		{Path: "ko.html", MIME: "text/html", Data: page, Article: true},
		{Path: glossary.MarksPath, MIME: glossary.MarksMIME, Data: tab.Bytes()},
	} {
		if err := w.Add(in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(archive.Info{Channel: "h", Title: "h", Languages: []string{"ko"}}, nil, []*key.Secret{packtest.Key(t)}...); err != nil {
		t.Fatal(err)
	}
	a := packtest.Open(t, buf.Bytes())
	dir := filepath.Join(t.TempDir(), "card")
	if _, err := Export(context.Background(), dir, []archive.Contents{a}, Options{}); err != nil {
		t.Fatal(err)
	}
	out := readFile(t, filepath.Join(dir, "h", "ko.html"))
	if strings.Contains(out, `title="<abbr`) || !strings.Contains(out, `<p title="컴퓨터">`) {
		t.Errorf("hostile marks applied:\n%s", out)
	}
	if !strings.Contains(out, `<abbr class="fg"`) {
		t.Errorf("page not glossed without the refused marks:\n%s", out)
	}
}

// TestExportChainMarks: a chain of a Korean edition and a delta that
// changes one page (each archive keeping its own pages' marks) exports
// the same files as the full new edition.
func TestExportChainMarks(t *testing.T) {
	ctx := context.Background()
	k := packtest.Key(t)
	packed := func(fsys fstest.MapFS, ed uint64) *archive.Reader {
		var buf bytes.Buffer
		if _, err := pack.Pack(ctx, &buf, pack.Options{
			Info:    archive.Info{Channel: "ko", Edition: ed, Title: "조선", Languages: []string{"ko"}, MainPage: "index.html"},
			Signers: []*key.Secret{k},
			Sources: []pack.Source{{Source: folder.NewFS(fsys)}},
		}); err != nil {
			t.Fatal(err)
		}
		return packtest.Open(t, buf.Bytes())
	}
	next := fstest.MapFS{}
	for p, f := range marksPages {
		next[p] = f
	}
	next["b.html"] = &fstest.MapFile{Data: []byte(`<html><head><title>둘</title></head><body><p>게임을 하려고 <a href="ko.html">스마트폰</a>과 컴퓨터를 샀다.</p></body></html>`)}
	base, full := packed(marksPages, 1), packed(next, 2)
	var d bytes.Buffer
	sum, err := delta.Make(ctx, packtest.View(t, base), packtest.View(t, full), &d, delta.Options{Signers: []*key.Secret{k}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.MarksPages != 1 {
		t.Fatalf("the delta keeps marks of %d pages, want 1 (b.html)", sum.MarksPages)
	}
	chain, err := edition.Open(base, packtest.Open(t, d.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	em, err := glossary.Default().EditionMarks(chain)
	if err != nil || em == nil || em.Pages() != 4 { // 3 in the base, 1 in the delta
		t.Fatalf("the chain's marks: %v", err)
	}
	for _, f := range []string{"ko.html", "b.html"} {
		e, _ := chain.Lookup(f)
		if _, ok, err := em.Marks(e, next[f].Data); !ok || err != nil {
			t.Fatalf("%s: no stored marks through the chain: %v", f, err)
		}
	}
	dirs := []string{filepath.Join(t.TempDir(), "chain"), filepath.Join(t.TempDir(), "full")}
	for i, c := range []archive.Contents{chain, full} {
		if _, err := Export(ctx, dirs[i], []archive.Contents{c}, Options{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"ko.html", "b.html", "index.html"} {
		a, b := readFile(t, filepath.Join(dirs[0], "ko", f)), readFile(t, filepath.Join(dirs[1], "ko", f))
		if a != b {
			t.Errorf("%s: the chain exports\n%s\nthe full edition\n%s", f, a, b)
		}
		if f != "index.html" && !strings.Contains(a, `<abbr class="fg"`) {
			t.Errorf("%s: not glossed", f)
		}
	}
}
