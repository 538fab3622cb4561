package pack_test

import (
	"bytes"
	"context"
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
// is at most 0.42× the input HTML for Korean Wikipedia-like pages.
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
	if ratio > 0.42 {
		t.Errorf("archive is %.3f× the input HTML, goal ≤ 0.42", ratio)
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
