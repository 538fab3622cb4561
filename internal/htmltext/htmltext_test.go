package htmltext

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry/internal/testkit/shared"
)

// samplePages lists the built-in sample library's pages (our own Korean
// and English writing, committed under internal/sample/content).
func samplePages(tb testing.TB) []string {
	tb.Helper()
	names, err := filepath.Glob(filepath.Join("..", "sample", "content", "*", "*.html"))
	if err != nil || len(names) < 20 {
		tb.Fatalf("sample pages: %d found (%v)", len(names), err)
	}
	return names
}

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

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

// TestExtractSample extracts a page of the sample library: its title,
// its headings, paragraphs and list items in order, one block a line.
func TestExtractSample(t *testing.T) {
	title, text := Extract(readFile(t, filepath.Join("..", "sample", "content", "ko", "rights.html")))
	if title != "정보를 찾고 받을 권리" {
		t.Errorf("title %q", title)
	}
	lines := strings.Split(text, "\n")
	want := []string{
		"정보를 찾고 받을 권리",
		"제19조",
		"선언의 제19조는 생각과 정보에 대한 것입니다. 우리 말로 풀면 이렇습니다.",
		"누구나 자기가 생각하는 것을 말할 수 있습니다.",
		"그리고 국경을 넘어서도 그렇습니다. 국경은 생각을 막을 리유가 되지 못합니다.",
		"당신에게 이것이 뜻하는 것",
	}
	at := 0
	for _, w := range want {
		i := at
		for i < len(lines) && lines[i] != w {
			i++
		}
		if i == len(lines) {
			t.Errorf("no line %q after line %d in %q", w, at, text)
			continue
		}
		at = i + 1
	}
	// Inline markup joins its words without a break: <em> inside a sentence.
	if !strings.Contains(text, "유엔의 나라들은 세계인권선언에 뜻을 모았습니다.") {
		t.Errorf("inline <em> split the sentence: %q", text)
	}
	if strings.Contains(text, "<") || strings.Contains(text, "style.css") {
		t.Errorf("markup left in text: %q", text)
	}
}

// TestRealFiles runs the extraction checks on other people's real pages
// (the shared test data): the Korean UDHR and the Ray Charles Wikipedia
// article. TestExtractSample and TestPieces do the same on our own pages.
func TestRealFiles(t *testing.T) {
	root := shared.Root()
	if st, err := os.Stat(root); root == "" || err != nil || !st.IsDir() {
		t.Skip("shared test data not found (../shared/testdata or FERRY_TESTDATA): real pages (UDHR, Ray Charles) were not extracted; the sample library's were")
	}
	t.Run("UDHR", func(t *testing.T) {
		title, text := Extract(readFile(t, shared.Path(t, "udhr/kor.html")))
		if title != "Korean" { // the file's own <title>
			t.Errorf("title %q", title)
		}
		for _, w := range []string{"모든 인간은", "제 1 조", "인권"} {
			if !strings.Contains(text, w) {
				t.Errorf("text lacks %q", w)
			}
		}
	})
	t.Run("Pieces", func(t *testing.T) {
		for _, n := range []string{"udhr/kor.html", "udhr/eng.html", "html/enwiki_raycharles/A/Ray_Charles"} {
			checkPieces(t, n, readFile(t, shared.Path(t, n)))
		}
	})
}

func FuzzExtract(f *testing.F) {
	f.Add([]byte(`<p>a<script>b</script><nav><nav>x</nav></nav>c</p>`))
	for _, n := range samplePages(f)[:4] {
		f.Add(readFile(f, n))
	}
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

// TestPieces checks that the pieces join to Extract's text on every page
// of the sample library and that a consumer can stop after the first piece.
func TestPieces(t *testing.T) {
	for _, n := range samplePages(t) {
		checkPieces(t, filepath.Base(filepath.Dir(n))+"/"+filepath.Base(n), readFile(t, n))
	}
}

func checkPieces(t *testing.T, n string, b []byte) {
	t.Helper()
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
