package reader

import (
	"os"
	"path/filepath"
	"testing"

	"ferry/internal/glossary"
	"ferry/internal/testkit/korquad"
)

// TestMarkedLayout: where markedLayout gives a marked page's layout
// without scanning it, that layout is exactly what scanHead finds in the
// marked page (so the bar goes where it always went), on the KorQuAD
// articles, the sample's Korean pages and pages made to sit at the edges
// (marks before the body, no head, no body tag, a style's place at the
// head's start); where it cannot, it says so. Most real pages take the
// quick way.
func TestMarkedLayout(t *testing.T) {
	g := glossary.Default()
	var pages [][]byte
	if set := korquad.Load(t); set != nil {
		for i := range set.Articles {
			pages = append(pages, set.HTML(i, 0))
		}
	}
	real := len(pages)
	files, _ := filepath.Glob("../sample/content/ko/*.html")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, b)
	}
	for _, s := range []string{
		"<p>스마트폰으로 인터넷에서</p>",
		"스마트폰으로 인터넷에서",
		"<html><head><title>x</title></head>스마트폰 <b>인터넷</b>",
		"<html><head><title>x</title></head><body>스마트폰 인터넷</body></html>",
		"<!doctype html><html><head><meta charset=utf-8></head><body>\n스마트폰</body></html>",
		"<head><meta name=viewport content=x></head><body></head>스마트폰</body>",
		"<head><title>스마트폰</title></head>인터넷 <meta name=viewport content=x> 스마트폰",
		"<head></head>스마트폰<body>인터넷</body>",
		"<html><head><link rel=stylesheet href=a.css></head><body><p>스마트폰</p></body></html>",
		"<html><head><template>스마트폰</template></head><body>인터넷</body></html>",
		"<head></head><p>인터넷",
		"인터넷 </head><body>스마트폰",
	} {
		pages = append(pages, []byte(s))
	}
	quick := 0
	for i, p := range pages {
		m := g.FindMarks(p, glossOpts)
		if len(m.Words) == 0 {
			continue
		}
		out, err := g.AppendMarked(nil, p, m, glossOpts)
		if err != nil {
			t.Fatal(err)
		}
		lay, ok := markedLayout(g, m, scanHead(p), len(out))
		if !ok {
			continue
		}
		if i < real {
			quick++
		}
		if want := scanHead(out); lay != want {
			t.Errorf("page %d (%.80q): layout %+v, scanning the marked page gives %+v", i, p, lay, want)
		}
	}
	if real > 0 && quick < real*9/10 {
		t.Errorf("only %d of %d KorQuAD pages laid out without a second scan", quick, real)
	}
}

// FuzzMarkedLayout: on any page, where markedLayout gives the marked
// page's layout without scanning it, scanning gives the same.
func FuzzMarkedLayout(f *testing.F) {
	for _, s := range []string{
		"<html><head><title>x</title></head><body>스마트폰 인터넷</body></html>",
		"<head></head>스마트폰<body>인터넷</body>",
		"<head><meta name=viewport content=x></head><body></head>스마트폰</body>",
		"<!doctype html><meta charset=utf-8><p>컴퓨터로 인터넷",
		storedPage,
	} {
		f.Add([]byte(s))
	}
	g := glossary.Default()
	f.Fuzz(func(t *testing.T, p []byte) {
		m := g.FindMarks(p, glossOpts)
		if len(m.Words) == 0 {
			return
		}
		out, err := g.AppendMarked(nil, p, m, glossOpts)
		if err != nil {
			t.Fatal(err)
		}
		if lay, ok := markedLayout(g, m, scanHead(p), len(out)); ok {
			if want := scanHead(out); lay != want {
				t.Fatalf("layout %+v, scanning the marked page gives %+v", lay, want)
			}
		}
	})
}
