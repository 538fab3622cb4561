// Package korquad loads the KorQuAD 1.0 dev set (real Korean Wikipedia
// paragraphs with questions) from the shared test data and renders its
// articles as Wikipedia-like HTML pages, for tests and benchmarks of
// packing, Korean search and serving. The data is read at run time and
// never copied into the repository.
package korquad

import (
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"ferry/internal/testkit/shared"
)

// Article is one Wikipedia article of the set.
type Article struct {
	Title      string // as in the data, with underscores (e.g. 김정남_(조선민주주의인민공화국))
	Paragraphs []string
}

// Question is a KorQuAD question and the article whose paragraph holds its answer.
type Question struct {
	Text    string
	Answer  string
	Article int // index into Set.Articles
}

// Set is the loaded data.
type Set struct {
	Articles  []Article
	Questions []Question
}

var (
	once sync.Once
	set  *Set
	err  error
)

// Load reads the set, skipping the test when the shared data is absent.
func Load(tb testing.TB) *Set {
	tb.Helper()
	p := shared.Path(tb, "korquad/KorQuAD_v1.0_dev.json")
	s, err := LoadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// LoadFile reads the set from path (once per process).
func LoadFile(path string) (*Set, error) {
	once.Do(func() {
		var raw []byte
		raw, err = os.ReadFile(path)
		if err != nil {
			return
		}
		var f struct {
			Data []struct {
				Title      string `json:"title"`
				Paragraphs []struct {
					Context string `json:"context"`
					QAs     []struct {
						Question string `json:"question"`
						Answers  []struct {
							Text string `json:"text"`
						} `json:"answers"`
					} `json:"qas"`
				} `json:"paragraphs"`
			} `json:"data"`
		}
		if err = json.Unmarshal(raw, &f); err != nil {
			return
		}
		s := &Set{}
		byTitle := map[string]int{}
		for _, a := range f.Data {
			i, ok := byTitle[a.Title]
			if !ok {
				i = len(s.Articles)
				byTitle[a.Title] = i
				s.Articles = append(s.Articles, Article{Title: a.Title})
			}
			for _, p := range a.Paragraphs {
				s.Articles[i].Paragraphs = append(s.Articles[i].Paragraphs, p.Context)
				for _, q := range p.QAs {
					ans := ""
					if len(q.Answers) > 0 {
						ans = q.Answers[0].Text
					}
					s.Questions = append(s.Questions, Question{Text: q.Question, Answer: ans, Article: i})
				}
			}
		}
		set = s
	})
	return set, err
}

// Path is the archive path of an article's page: "A/" + title.
func Path(title string) string { return "A/" + title }

var yearRe = regexp.MustCompile(`[0-9]{3,4}년`)

// HTML renders an article in the shape of an offline Wikipedia page (as
// mwoffliner writes them: a head with style sheets and scripts, a heading,
// one section per paragraph, links on names of other articles and on years,
// a licence footer). variant, when not 0, is appended to the title so that
// copies of an article differ.
func (s *Set) HTML(i int, variant int) []byte {
	a := s.Articles[i]
	title := strings.ReplaceAll(a.Title, "_", " ")
	if variant != 0 {
		title = fmt.Sprintf("%s (%d)", title, variant)
	}
	others := s.linkTargets()
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"ko\" dir=\"ltr\"><head>\n<meta charset=\"UTF-8\">\n")
	fmt.Fprintf(&b, "<title>%s</title>\n", html.EscapeString(title))
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\n")
	b.WriteString("<link href=\"../-/s/css_modules/style.css\" rel=\"stylesheet\" type=\"text/css\">\n")
	b.WriteString("<link href=\"../-/s/css_modules/content.parsoid.css\" rel=\"stylesheet\" type=\"text/css\">\n")
	b.WriteString("<script src=\"../-/j/js_modules/script.js\"></script>\n</head>\n")
	b.WriteString("<body class=\"mediawiki ltr sitedir-ltr mw-hide-empty-elt ns-0 ns-subject page-Main\">\n")
	b.WriteString("<div id=\"content\" class=\"mw-body\" role=\"main\"><a id=\"top\"></a>\n")
	fmt.Fprintf(&b, "<h1 id=\"titleHeading\" class=\"firstHeading\" style=\"background-color: white; margin: 0;\">%s</h1>\n", html.EscapeString(title))
	b.WriteString("<div id=\"mw-content-text\"><div class=\"mw-parser-output\">\n")
	for k, p := range a.Paragraphs {
		fmt.Fprintf(&b, "<details data-level=\"2\" open=\"\"><summary class=\"section-heading collapsible-heading\"><h2 id=\"section_%d\">%s %d</h2></summary>\n", k, html.EscapeString(title), k+1)
		fmt.Fprintf(&b, "<section data-mw-section-id=\"%d\"><p id=\"mwA%d\">", k+1, k)
		b.WriteString(linkify(p, a.Title, others))
		b.WriteString("</p></section></details>\n")
	}
	b.WriteString("</div></div></div>\n<script src=\"../-/j/js_modules/mediawiki.js\"></script>\n")
	b.WriteString("<footer><div class=\"mw-footer\">이 글은 위키백과의 글로, 크리에이티브 커먼즈 저작자표시-동일조건변경허락 라이선스로 이용할 수 있습니다.</div></footer>\n</body></html>\n")
	return []byte(b.String())
}

func (s *Set) linkTargets() []string {
	var t []string
	for _, a := range s.Articles {
		name := strings.ReplaceAll(a.Title, "_", " ")
		if i := strings.Index(name, " ("); i > 0 {
			name = name[:i]
		}
		if len([]rune(name)) >= 2 {
			t = append(t, name)
		}
	}
	sort.Slice(t, func(i, j int) bool { return len(t[i]) > len(t[j]) })
	return t
}

// linkify escapes text and links the first mention of other articles and
// every year, the way Wikipedia pages are dense with links.
func linkify(text, self string, others []string) string {
	esc := html.EscapeString(text)
	linked := map[string]bool{strings.ReplaceAll(self, "_", " "): true}
	for _, o := range others {
		if linked[o] {
			continue
		}
		if i := strings.Index(esc, o); i >= 0 && !strings.Contains(esc[max(0, i-60):i], "<a ") {
			linked[o] = true
			esc = esc[:i] + fmt.Sprintf(`<a href="./%s" title="%s" rel="mw:WikiLink">%s</a>`, strings.ReplaceAll(o, " ", "_"), o, o) + esc[i+len(o):]
		}
	}
	// Years: only outside tags already inserted.
	var out strings.Builder
	for len(esc) > 0 {
		i := strings.Index(esc, "<a ")
		seg := esc
		if i >= 0 {
			seg = esc[:i]
		}
		out.WriteString(yearRe.ReplaceAllStringFunc(seg, func(y string) string {
			return fmt.Sprintf(`<a href="./%s" title="%s" rel="mw:WikiLink">%s</a>`, y, y, y)
		}))
		if i < 0 {
			break
		}
		j := strings.Index(esc[i:], "</a>")
		if j < 0 {
			out.WriteString(esc[i:])
			break
		}
		out.WriteString(esc[i : i+j+4])
		esc = esc[i+j+4:]
	}
	return out.String()
}

// WriteFolder writes every article as A/<title> (copies times, variants
// 1..copies-1 under A/<title>_(n)), returning the HTML bytes written.
func (s *Set) WriteFolder(dir string, copies int) (int64, error) {
	if err := os.MkdirAll(filepath.Join(dir, "A"), 0o755); err != nil {
		return 0, err
	}
	var total int64
	for c := 0; c < max(copies, 1); c++ {
		for i, a := range s.Articles {
			name := a.Title
			if c > 0 {
				name = fmt.Sprintf("%s_(%d)", a.Title, c)
			}
			page := s.HTML(i, c)
			if err := os.WriteFile(filepath.Join(dir, "A", name), page, 0o644); err != nil {
				return total, err
			}
			total += int64(len(page))
		}
	}
	return total, nil
}
