package pack_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry/internal/archive"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/korquad"
	"ferry/internal/testkit/packtest"
)

// packKorQuAD packs the KorQuAD articles rendered as Wikipedia-like HTML.
func packKorQuAD(t testing.TB) (*korquad.Set, *archive.Reader, int64, int) {
	set := korquad.Load(t)
	dir := t.TempDir()
	in, err := set.WriteFolder(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	src, err := folder.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := packtest.Sources(t, archive.Info{Title: "KorQuAD", Languages: []string{"ko"}}, pack.Source{Source: src})
	r, err := archive.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return set, r, in, len(b)
}

// korquadSize checks the size goal: the whole archive, index included,
// is at most 0.40× the input HTML for Korean Wikipedia-like pages (0.42
// before issue 15; measured 0.377).
func korquadSize(t *testing.T) {
	set, r, in, size := packKorQuAD(t)
	var text int
	for _, a := range set.Articles {
		for _, p := range a.Paragraphs {
			text += len(p)
		}
	}
	idx := r.Manifest().Sections["search"].Length
	ratio := float64(size) / float64(in)
	t.Logf("KorQuAD as HTML: %d articles, HTML %d bytes (text %.0f%% of it), archive %d bytes = %.3f× HTML (index %d bytes = %.3f× HTML)",
		len(set.Articles), in, 100*float64(text)/float64(in), size, ratio, idx, float64(idx)/float64(in))
	if ratio > 0.40 {
		t.Errorf("archive is %.3f× the input HTML, goal ≤ 0.40", ratio)
	}
	if err := r.Verify(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

// korquadSearch measures Korean search end to end (HTML → text →
// index in the archive → query): each question is a query, the expected
// hit is the article whose paragraph holds the answer.
func korquadSearch(t *testing.T) {
	set, r, _, _ := packKorQuAD(t)
	v := packtest.View(t, r)
	var top1, top3 int
	for _, q := range set.Questions {
		hits, _, err := v.Search(q.Text, 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		want := korquad.Path(set.Articles[q.Article].Title)
		for k, h := range hits {
			if h.Path == want {
				if k == 0 {
					top1++
				}
				top3++
				break
			}
		}
	}
	n := float64(len(set.Questions))
	t.Logf("KorQuAD end-to-end: %d questions, top-1 %.1f%%, top-3 %.1f%%", len(set.Questions), 100*float64(top1)/n, 100*float64(top3)/n)
	if float64(top3)/n < 0.90 {
		t.Errorf("top-3 hit rate %.3f below the 0.90 goal", float64(top3)/n)
	}
	for _, q := range []struct{ query, want string }{{"금강산의 높이", "A/금강산"}} {
		hits, _, err := v.Search(q.query, 0, 1)
		if err != nil || len(hits) == 0 || hits[0].Path != q.want {
			t.Errorf("%q: %+v %v, want %s first", q.query, hits, err, q.want)
		}
	}
}

// korquadText packs the KorQuAD articles as bare pages (a title, a heading
// and one <p> per paragraph: about 97% of the HTML is visible text, the
// hardest case for the size goal) and reports the archive, its data and
// its index against the HTML, and the top-1/top-3 hit rates of all the
// questions. The goal of issue 15 is 0.40× (not met: docs/benchmarks.md
// says where the bytes go); the test guards what was reached: the whole
// archive (0.482× before issue 15's work on the index and the data) and
// the index (0.137× with index version 2, 0.128× with version 3).
func korquadText(t *testing.T) {
	set := korquad.Load(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "A"), 0o755); err != nil {
		t.Fatal(err)
	}
	var in int64
	for _, a := range set.Articles {
		title := html.EscapeString(strings.ReplaceAll(a.Title, "_", " "))
		var b strings.Builder
		fmt.Fprintf(&b, "<!DOCTYPE html><html lang=\"ko\"><head><meta charset=\"utf-8\"><title>%s</title></head><body><h1>%s</h1>\n", title, title)
		for _, p := range a.Paragraphs {
			fmt.Fprintf(&b, "<p>%s</p>\n", html.EscapeString(p))
		}
		b.WriteString("</body></html>\n")
		if err := os.WriteFile(filepath.Join(dir, "A", a.Title), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		in += int64(b.Len())
	}
	src, err := folder.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := packtest.Sources(t, archive.Info{Title: "KorQuAD text", Languages: []string{"ko"}}, pack.Source{Source: src})
	r, err := archive.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	m := r.Manifest()
	idx := m.Sections["search"].Length
	ratio := float64(len(b)) / float64(in)
	t.Logf("KorQuAD as bare <p> pages: HTML %d bytes, archive %d = %.3f× (data %.3f×, index %.3f×, the rest %d bytes)",
		in, len(b), ratio, float64(m.Data.Length)/float64(in), float64(idx)/float64(in), int64(len(b))-m.Data.Length-idx)
	v := packtest.View(t, r)
	var top1, top3 int
	for _, q := range set.Questions {
		hits, _, err := v.Search(q.Text, 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		for k, h := range hits {
			if h.Path == korquad.Path(set.Articles[q.Article].Title) {
				if k == 0 {
					top1++
				}
				top3++
				break
			}
		}
	}
	n := float64(len(set.Questions))
	t.Logf("KorQuAD bare pages: %d questions, top-1 %.1f%%, top-3 %.1f%%", len(set.Questions), 100*float64(top1)/n, 100*float64(top3)/n)
	if ratio > 0.49 {
		t.Errorf("archive is %.3f× the HTML of bare Korean pages; measured 0.482 before issue 15 (goal 0.40)", ratio)
	}
	if ir := float64(idx) / float64(in); ir > 0.13 {
		t.Errorf("index is %.3f× the HTML of bare Korean pages; measured 0.128 (version 3)", ir)
	}
	if float64(top3)/n < 0.98 {
		t.Errorf("top-3 hit rate %.3f below 0.98", float64(top3)/n)
	}
}
