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
