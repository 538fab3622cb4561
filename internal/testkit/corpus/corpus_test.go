package corpus

import (
	"bytes"
	"strings"
	"testing"
)

func TestSiteDeterministic(t *testing.T) {
	a, err := Site(Options{Pages: 10, Seed: 3, Pictures: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Site(Options{Pages: 10, Seed: 3, Pictures: true})
	if len(a) != len(b) {
		t.Fatalf("%d files, then %d", len(a), len(b))
	}
	for k, v := range a {
		if !bytes.Equal(v.Data, b[k].Data) {
			t.Fatalf("%s differs between two runs", k)
		}
	}
	for i := 0; i < 10; i++ {
		page := string(a[PagePath(i)].Data)
		if !strings.Contains(page, Keyword(i)) || !strings.Contains(page, Title(i)) {
			t.Fatalf("page %d lacks its keyword or title", i)
		}
	}
	if a["img/card.png"] == nil {
		t.Fatal("no pictures")
	}
	next, changed, err := Edit(a, Options{Pages: 10, Seed: 3, Pictures: true}, 4, []int{1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := next[PagePath(1)]; ok || next[PagePath(11)] == nil || len(changed) != 2+2 {
		t.Fatalf("edit: changed %v", changed)
	}
	for _, p := range changed[:2] {
		if bytes.Equal(next[p].Data, a[p].Data) {
			t.Fatalf("%s listed as changed but is the same", p)
		}
	}
}

func TestSamplePagesAndQuestions(t *testing.T) {
	pages, err := SamplePages()
	if err != nil {
		t.Fatal(err)
	}
	at := map[string]Page{}
	for _, p := range pages {
		if p.Title == "" || len(p.Text) < 200 || !strings.HasPrefix(p.Path, p.Lang+"/") {
			t.Errorf("%s: title %q, %d bytes of text, language %q", p.Path, p.Title, len(p.Text), p.Lang)
		}
		at[p.Path] = p
	}
	if len(pages) != 30 {
		t.Errorf("%d sample pages, want 30", len(pages))
	}
	qs := Questions()
	if len(qs) < 30 {
		t.Fatalf("%d questions", len(qs))
	}
	for _, q := range qs {
		p, ok := at[q.Path]
		if !ok {
			t.Errorf("%q: no page %s", q.Text, q.Path)
		}
		korean := strings.ContainsFunc(q.Text, func(r rune) bool { return r >= '가' && r <= '힣' })
		if korean != (p.Lang == "ko") {
			t.Errorf("%q is answered by a page in %s", q.Text, p.Lang)
		}
	}
}
