package glossary

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ferry/internal/testkit/cpuclock"
	"ferry/internal/testkit/korquad"
	"ferry/internal/testkit/shared"

	xhtml "golang.org/x/net/html"
)

// realPages returns the Korean test pages: every KorQuAD article as the
// Wikipedia-like page ferry serves, the Korean UDHR, and the Constitution
// and bills wrapped in a plain page.
func realPages(tb testing.TB) (names []string, pages [][]byte) {
	tb.Helper()
	set := korquad.Load(tb)
	for i, a := range set.Articles {
		names = append(names, "korquad/"+a.Title)
		pages = append(pages, set.HTML(i, 0))
	}
	udhr, err := os.ReadFile(shared.Path(tb, "udhr/kor.html"))
	if err != nil {
		tb.Fatal(err)
	}
	names, pages = append(names, "udhr/kor.html"), append(pages, udhr)
	law := []string{shared.Path(tb, "kolaw/constitution.txt")}
	bills, _ := filepath.Glob(filepath.Join(filepath.Dir(law[0]), "kobill", "*.txt"))
	for _, p := range append(law, bills...) {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		names = append(names, "kolaw/"+filepath.Base(p))
		pages = append(pages, textPage(filepath.Base(p), string(b)))
	}
	return names, pages
}

var blankLines = regexp.MustCompile(`(\r?\n){2,}`)

// textPage wraps plain text in a page, one paragraph per blank-line block.
func textPage(title, text string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"ko\"><head><meta charset=\"utf-8\"><title>%s</title></head><body>\n", template.HTMLEscapeString(title))
	for _, p := range blankLines.Split(text, -1) {
		if p = strings.TrimSpace(p); p != "" {
			fmt.Fprintf(&b, "<p>%s</p>\n", template.HTMLEscapeString(p))
		}
	}
	b.WriteString("</body></html>\n")
	return []byte(b.String())
}

// reportCPU adds cpu-ns/KiB (and cpu-ns/page when pages > 0) metrics.
func reportCPU(b *testing.B, start time.Duration, kib float64, pages int) {
	d := float64(cpuclock.Process()-start) / float64(b.N)
	b.ReportMetric(d/kib, "cpu-ns/KiB")
	if pages > 0 {
		b.ReportMetric(d/float64(pages), "cpu-ns/page")
	}
}

func totalKiB(pages [][]byte) float64 {
	n := 0
	for _, p := range pages {
		n += len(p)
	}
	return float64(n) / 1024
}

// BenchmarkAnnotate marks every real Korean page with the embedded
// glossary; ns/KiB is the figure to compare with serving.
func BenchmarkAnnotate(b *testing.B) {
	g := Default()
	_, pages := realPages(b)
	kib := totalKiB(pages)
	b.SetBytes(int64(kib * 1024))
	b.ReportAllocs()
	dst := make([]byte, 0, 1<<20)
	b.ResetTimer()
	c0 := cpuclock.Process()
	for range b.N {
		for _, p := range pages {
			dst, _ = g.AppendAnnotated(dst[:0], p, Options{})
		}
	}
	reportCPU(b, c0, kib, len(pages))
}

// BenchmarkFindMarks is the costly part of Annotate: tokenizing each page
// and finding its words (done once per page when marks are kept).
func BenchmarkFindMarks(b *testing.B) {
	g := Default()
	_, pages := realPages(b)
	kib := totalKiB(pages)
	b.SetBytes(int64(kib * 1024))
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cpuclock.Process()
	for range b.N {
		for _, p := range pages {
			g.FindMarks(p, Options{})
		}
	}
	reportCPU(b, c0, kib, len(pages))
}

// BenchmarkAppendMarked is what serving a page costs with its marks kept:
// writing the page with the marks and the list.
func BenchmarkAppendMarked(b *testing.B) {
	g := Default()
	_, pages := realPages(b)
	kib := totalKiB(pages)
	marks := make([]Marks, len(pages))
	for i, p := range pages {
		marks[i] = g.FindMarks(p, Options{})
	}
	b.SetBytes(int64(kib * 1024))
	b.ReportAllocs()
	dst := make([]byte, 0, 1<<20)
	b.ResetTimer()
	c0 := cpuclock.Process()
	for range b.N {
		for i, p := range pages {
			dst, _ = g.AppendMarked(dst[:0], p, marks[i], Options{})
		}
	}
	reportCPU(b, c0, kib, len(pages))
}

// BenchmarkFind runs the matcher alone over the pages' text.
func BenchmarkFind(b *testing.B) {
	g := Default()
	set := korquad.Load(b)
	var text []byte
	for _, a := range set.Articles {
		for _, p := range a.Paragraphs {
			text = append(text, p...)
			text = append(text, '\n')
		}
	}
	b.SetBytes(int64(len(text)))
	dst := make([]Match, 0, 1<<16)
	b.ResetTimer()
	c0 := cpuclock.Process()
	for range b.N {
		dst = g.Find(text, dst[:0])
	}
	reportCPU(b, c0, float64(len(text))/1024, 0)
}

// BenchmarkTokenize is the floor: the tokenizer pass alone, copying raw bytes.
func BenchmarkTokenize(b *testing.B) {
	_, pages := realPages(b)
	kib := totalKiB(pages)
	b.SetBytes(int64(kib * 1024))
	dst := make([]byte, 0, 1<<20)
	b.ResetTimer()
	c0 := cpuclock.Process()
	for range b.N {
		for _, p := range pages {
			dst = dst[:0]
			z := xhtml.NewTokenizer(bytes.NewReader(p))
			for z.Next() != xhtml.ErrorToken {
				dst = append(dst, z.Raw()...)
			}
		}
	}
	reportCPU(b, c0, kib, len(pages))
}

// BenchmarkServeBaseline is a lower bound of what serving an article costs
// without glossing: an HTTP handler that renders a template of the reader's
// kind around the page bytes and writes them through a ResponseWriter
// (no archive read, no decompression, no network: ferry's measured cost
// per article is higher, see docs/benchmarks.md).
func BenchmarkServeBaseline(b *testing.B) {
	_, pages := realPages(b)
	kib := totalKiB(pages)
	tpl := template.Must(template.New("bar").Parse(`<div id="ferry-bar"><a href="/">{{.Home}}</a> <form action="/search"><input name="q" value="{{.Q}}"><button>{{.Search}}</button></form> {{range .Links}}<a href="{{.}}">{{.}}</a> {{end}}</div>`))
	data := map[string]any{"Home": "처음", "Q": "", "Search": "검색", "Links": []string{"/catalog", "/about", "/help"}}
	var cur []byte
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		var bar bytes.Buffer
		tpl.Execute(&bar, data)
		w.Write(cur)
		w.Write(bar.Bytes())
	})
	req := httptest.NewRequest("GET", "/A/x", nil)
	b.SetBytes(int64(kib * 1024))
	b.ResetTimer()
	c0 := cpuclock.Process()
	for range b.N {
		for _, p := range pages {
			cur = p
			rec := discardWriter{h: http.Header{}}
			h.ServeHTTP(&rec, req)
		}
	}
	reportCPU(b, c0, kib, len(pages))
}

type discardWriter struct {
	h http.Header
	n int
}

func (d *discardWriter) Header() http.Header { return d.h }
func (d *discardWriter) WriteHeader(int)     {}
func (d *discardWriter) Write(p []byte) (int, error) {
	d.n += len(p)
	return io.Discard.Write(p)
}

// BenchmarkStoredMarks is what serving a page costs with the marks its
// archive keeps: finding its record in a table of all the pages, reading
// it against the page (ParsePageMarks, with its checks) and writing the
// page with the marks and the list.
func BenchmarkStoredMarks(b *testing.B) {
	g := Default()
	_, pages := realPages(b)
	kib := totalKiB(pages)
	tab := g.NewMarksTable()
	for i, p := range pages {
		rec, ok := g.AppendPageMarks(nil, p, g.FindMarks(p, Options{}))
		if !ok {
			b.Fatalf("page %d: marks not storable", i)
		}
		tab.Add(strconv.Itoa(i), rec)
	}
	t := tab.Bytes()
	s, err := g.OpenStoredMarks(bytes.NewReader(t), int64(len(t)))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(kib * 1024))
	b.ReportAllocs()
	dst := make([]byte, 0, 1<<20)
	b.ResetTimer()
	c0 := cpuclock.Process()
	for range b.N {
		for i, p := range pages {
			m, ok, err := s.Marks(strconv.Itoa(i), p)
			if !ok || err != nil {
				b.Fatal(ok, err)
			}
			dst, _ = g.AppendMarked(dst[:0], p, m, Options{})
		}
	}
	reportCPU(b, c0, kib, len(pages))
}
