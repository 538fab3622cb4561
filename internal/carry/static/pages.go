package static

import (
	"bytes"
	"fmt"
	"html"
	"strings"
	"unicode"

	"ferry/internal/archive"
)

// doctype is HTML 4.01: what Internet Explorer 8 renders in standards mode.
const doctype = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"

// css is CSS 2.1 only, system fonts, readable on a small screen.
const css = `body { font-family: "Malgun Gothic", "Gulim", "Dotum", "Noto Sans CJK KR", sans-serif; margin: 0.5em 1em; line-height: 1.5; color: #111; background: #fff; max-width: 46em; }
h1 { font-size: 1.5em; margin: 0.4em 0; }
h2 { font-size: 1.15em; margin: 1em 0 0.3em 0; }
a { color: #0645ad; }
ul { padding-left: 1.2em; }
li { margin: 0.2em 0; }
.letters a { display: inline-block; min-width: 2em; padding: 0.2em; margin: 0.1em; border: 1px solid #ccc; text-align: center; text-decoration: none; }
.note { color: #555; font-size: 0.9em; }
#results li { margin-bottom: 0.6em; }
`

func head(title, cssHref string) string {
	return doctype + "<html><head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\n" +
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" +
		"<title>" + html.EscapeString(title) + "</title>\n<link rel=\"stylesheet\" type=\"text/css\" href=\"" + cssHref + "\">\n</head>\n<body>\n"
}

func topIndex(items []indexItem) []byte {
	var b bytes.Buffer
	b.WriteString(head("ferry — 서고 / Library", "ferry.css"))
	b.WriteString("<h1>서고 / Library</h1>\n<ul>\n")
	for _, it := range items {
		fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a> <span class=\"note\">(%s, 판 / edition %d, 글 / articles %d)</span></li>\n",
			html.EscapeString(it.href), html.EscapeString(orDefault(it.title, it.href)), html.EscapeString(it.lang), it.edition, it.articles)
	}
	b.WriteString("</ul>\n<p class=\"note\">ferry 정적 판본: 설치할 것 없이 어느 열람기에서나 열립니다. / A ferry static copy: opens in any browser, nothing to install.</p>\n</body></html>\n")
	return b.Bytes()
}

func archiveIndex(m *archive.Manifest, mainFile string, pages []titlePage, search bool) []byte {
	var b bytes.Buffer
	b.WriteString(head(orDefault(m.Title, m.Channel), "../ferry.css"))
	fmt.Fprintf(&b, "<p><a href=\"../index.html\">&larr; 서고 / Library</a></p>\n<h1>%s</h1>\n", html.EscapeString(orDefault(m.Title, m.Channel)))
	if m.Description != "" {
		fmt.Fprintf(&b, "<p>%s</p>\n", html.EscapeString(m.Description))
	}
	if mainFile != "" {
		fmt.Fprintf(&b, "<p><a href=\"%s\"><b>첫 페이지 / Main page</b></a></p>\n", html.EscapeString(relURL("index.html", mainFile)))
	}
	if search {
		b.WriteString("<p><a href=\"search.html\">검색 / Search</a></p>\n")
	}
	b.WriteString("<h2>제목 차례 / Titles</h2>\n")
	b.WriteString(letterBar(pages, "titles/"))
	b.WriteString("</body></html>\n")
	return b.Bytes()
}

func letterBar(pages []titlePage, prefix string) string {
	var b strings.Builder
	b.WriteString("<p class=\"letters\">")
	for _, p := range pages {
		if p.part > 1 {
			continue
		}
		fmt.Fprintf(&b, "<a href=\"%s%s\">%s</a> ", prefix, p.file, html.EscapeString(p.label))
	}
	b.WriteString("</p>\n")
	return b.String()
}

// sortKey orders titles: lower case, underscores as spaces.
func sortKey(t string) string {
	return strings.ToLower(strings.ReplaceAll(t, "_", " "))
}

var choseong = []string{"ㄱ", "ㄱ", "ㄴ", "ㄷ", "ㄷ", "ㄹ", "ㅁ", "ㅂ", "ㅂ", "ㅅ", "ㅅ", "ㅇ", "ㅈ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ"}
var hangulGroups = []string{"ㄱ", "ㄴ", "ㄷ", "ㄹ", "ㅁ", "ㅂ", "ㅅ", "ㅇ", "ㅈ", "ㅊ", "ㅋ", "ㅌ", "ㅍ", "ㅎ"}

// group returns the title index group of a title: its file stem and label.
func group(title string) (file, label string) {
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z':
			return string(r), strings.ToUpper(string(r))
		case r >= '0' && r <= '9':
			return "0-9", "0-9"
		case r >= 0xAC00 && r <= 0xD7A3:
			c := choseong[(r-0xAC00)/588]
			for i, g := range hangulGroups {
				if g == c {
					return fmt.Sprintf("k%02d", i+1), g
				}
			}
		case unicode.IsLetter(r):
			return "other", "기타 / other"
		}
	}
	return "other", "기타 / other"
}

type titlePage struct {
	file, label string
	part        int
	docs        []doc
}

const perPage = 400

// titlePages splits sorted documents into group pages of at most perPage.
func titlePages(docs []doc) []titlePage {
	byGroup := map[string][]doc{}
	labels := map[string]string{}
	var order []string
	for _, d := range docs {
		f, l := group(d.title)
		if _, ok := byGroup[f]; !ok {
			order = append(order, f)
		}
		byGroup[f] = append(byGroup[f], d)
		labels[f] = l
	}
	// Latin letters, digits, Hangul groups, other.
	rank := func(f string) string {
		switch {
		case f == "0-9":
			return "1"
		case len(f) == 1:
			return "0" + f
		case strings.HasPrefix(f, "k"):
			return "2" + f
		}
		return "3"
	}
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && rank(order[j]) < rank(order[j-1]); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	var pages []titlePage
	for _, f := range order {
		ds := byGroup[f]
		for part := 1; len(ds) > 0; part++ {
			k := min(perPage, len(ds))
			name := f + ".html"
			if part > 1 {
				name = fmt.Sprintf("%s-%d.html", f, part)
			}
			pages = append(pages, titlePage{file: name, label: labels[f], part: part, docs: ds[:k]})
			ds = ds[k:]
		}
	}
	return pages
}

func (p titlePage) render(archiveTitle string, all []titlePage) []byte {
	var b bytes.Buffer
	b.WriteString(head(p.label+" — "+archiveTitle, "../../ferry.css"))
	fmt.Fprintf(&b, "<p><a href=\"../index.html\">&larr; %s</a></p>\n", html.EscapeString(archiveTitle))
	b.WriteString(letterBar(all, ""))
	label := p.label
	if p.part > 1 {
		label = fmt.Sprintf("%s (%d)", label, p.part)
	}
	fmt.Fprintf(&b, "<h1>%s</h1>\n<ul>\n", html.EscapeString(label))
	for _, d := range p.docs {
		fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a></li>\n", html.EscapeString(relURL("titles/"+p.file, d.file)), html.EscapeString(d.title))
	}
	b.WriteString("</ul>\n")
	var next string
	for i, q := range all {
		if q.file == p.file && i+1 < len(all) && all[i+1].label == p.label {
			next = all[i+1].file
		}
	}
	if next != "" {
		fmt.Fprintf(&b, "<p><a href=\"%s\">다음 / next &rarr;</a></p>\n", next)
	}
	b.WriteString("</body></html>\n")
	return b.Bytes()
}
