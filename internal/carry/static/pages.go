package static

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"unicode"

	xhtml "golang.org/x/net/html"

	"ferry/internal/archive"
)

// doctype is HTML 4.01: what Internet Explorer 8 renders in standards mode.
const doctype = "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\" \"http://www.w3.org/TR/html4/strict.dtd\">\n"

// css is CSS 2.1 only (no flexbox, no variables, no calc), system fonts,
// readable on a small screen and in Internet Explorer 8.
const css = `body { font-family: "Malgun Gothic", "Gulim", "Dotum", "Noto Sans CJK KR", sans-serif; margin: 0.5em 1em; line-height: 1.5; color: #111; background: #fff; max-width: 46em; }
h1 { font-size: 1.5em; margin: 0.4em 0; }
h2 { font-size: 1.15em; margin: 1em 0 0.3em 0; }
a { color: #0645ad; }
ul { padding-left: 1.2em; }
li { margin: 0.2em 0; }
.letters a { display: inline-block; min-width: 2em; padding: 0.2em; margin: 0.1em; border: 1px solid #ccc; text-align: center; text-decoration: none; }
.note { color: #555; font-size: 0.9em; }
#results li { margin-bottom: 0.8em; }
#results .snip { margin: 0.2em 0 0 0; color: #333; font-size: 0.95em; }
mark { background: #ffe08a; color: #111; }
`

// words are the texts ferry writes into an archive's pages, in the
// archive's language: Korean in words a North Korean reader reads
// naturally (페지, 련결 are not needed: 첫 페지, 차례, 검색), English
// otherwise.
var words = map[string]map[string]string{
	"ko": {
		"library": "서고", "contents": "차례", "back": "차례로", "main": "첫 페지", "search": "검색", "titles": "제목 차례",
		"next": "다음", "other": "기타", "edition": "판", "articles": "글", "searching": "찾는 중…",
		"nothing": "찾은 것이 없습니다", "found": "%d개를 찾았습니다",
		"needScript": "검색은 JavaScript가 켜진 열람기에서만 됩니다. 제목 차례에서 찾으십시오.",
		"copy":       "ferry 정적 판본: 아무것도 설치하지 않고 어느 열람기에서나 열립니다.",
		"programs":   "다른 기계에서 쓰는 ferry 프로그람 (어느 파일을 돌리는가)",
		"empty":      "이 판본에는 서고가 없습니다.",
	},
	"en": {
		"library": "Library", "contents": "Contents", "back": "Contents", "main": "Main page", "search": "Search", "titles": "Titles",
		"next": "next", "other": "other", "edition": "edition", "articles": "articles", "searching": "Searching…",
		"nothing": "Nothing found", "found": "%d found",
		"needScript": "Search needs JavaScript; use the title index instead.",
		"copy":       "A ferry static copy: opens in any browser, nothing to install.",
		"programs":   "ferry for other devices (which file to run)",
		"empty":      "This copy holds no library.",
	},
}

// archiveLang is the language ferry writes an archive's pages in: Korean
// for a Korean archive (its first language), else English.
func archiveLang(m *archive.Manifest) string {
	if len(m.Languages) > 0 && strings.HasPrefix(strings.ToLower(m.Languages[0]), "ko") {
		return "ko"
	}
	return "en"
}

func head(title, cssHref, lang string) string {
	return doctype + "<html lang=\"" + lang + "\"><head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\n" +
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" +
		"<title>" + html.EscapeString(title) + "</title>\n<link rel=\"stylesheet\" type=\"text/css\" href=\"" + cssHref + "\">\n</head>\n<body>\n"
}

func topIndex(items []indexItem, programs string) []byte {
	var b bytes.Buffer
	b.WriteString(head("ferry — 서고 / Library", "ferry.css", "ko"))
	b.WriteString("<h1>서고 / Library</h1>\n")
	if len(items) == 0 {
		b.WriteString("<p>" + words["ko"]["empty"] + " / " + words["en"]["empty"] + "</p>\n")
	}
	b.WriteString("<ul>\n")
	for _, it := range items {
		w := words[it.lang]
		fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a> <span class=\"note\">(%s, %s %d, %s %d)</span></li>\n",
			html.EscapeString(it.href), html.EscapeString(orDefault(it.title, it.href)), html.EscapeString(it.langs),
			w["edition"], it.edition, w["articles"], it.articles)
	}
	b.WriteString("</ul>\n")
	if programs != "" {
		fmt.Fprintf(&b, "<p><a href=\"%s\">%s / %s</a></p>\n", html.EscapeString(programs), words["ko"]["programs"], words["en"]["programs"])
	}
	b.WriteString("<p class=\"note\">" + words["ko"]["copy"] + " / " + words["en"]["copy"] + "</p>\n</body></html>\n")
	return b.Bytes()
}

func archiveIndex(m *archive.Manifest, lang, mainFile string, pages []titlePage, search bool) []byte {
	w := words[lang]
	var b bytes.Buffer
	b.WriteString(head(orDefault(m.Title, m.Channel), "../ferry.css", lang))
	fmt.Fprintf(&b, "<p><a href=\"../index.html\">&larr; %s</a></p>\n<h1>%s</h1>\n", w["library"], html.EscapeString(orDefault(m.Title, m.Channel)))
	if m.Description != "" {
		fmt.Fprintf(&b, "<p>%s</p>\n", html.EscapeString(m.Description))
	}
	if mainFile != "" {
		fmt.Fprintf(&b, "<p><a href=\"%s\"><b>%s</b></a></p>\n", html.EscapeString(relURL("index.html", mainFile)), w["main"])
	}
	if search {
		fmt.Fprintf(&b, "<form action=\"search.html\" method=\"get\"><p><input type=\"text\" name=\"q\" size=\"24\"> <input type=\"submit\" value=\"%s\"></p></form>\n", w["search"])
	}
	fmt.Fprintf(&b, "<h2>%s</h2>\n", w["titles"])
	b.WriteString(letterBar(pages, "titles/"))
	b.WriteString("</body></html>\n")
	return b.Bytes()
}

func searchPage(lang string) []byte {
	w := words[lang]
	var b bytes.Buffer
	b.WriteString(head(w["search"], "../ferry.css", lang))
	fmt.Fprintf(&b, "<p><a href=\"index.html\">&larr; %s</a></p>\n<h1>%s</h1>\n", w["contents"], w["search"])
	fmt.Fprintf(&b, "<form id=\"f\" action=\"search.html\" method=\"get\" onsubmit=\"return ferrySearch.run();\"><p><input type=\"text\" id=\"q\" name=\"q\" size=\"24\" autocomplete=\"off\"> <input type=\"submit\" value=\"%s\"></p></form>\n", w["search"])
	fmt.Fprintf(&b, "<noscript><p class=\"note\">%s <a href=\"index.html\">%s</a></p></noscript>\n", w["needScript"], w["titles"])
	b.WriteString("<p id=\"status\" class=\"note\"></p>\n<ol id=\"results\"></ol>\n")
	b.WriteString("<script type=\"text/javascript\" src=\"search/search.js\"></script>\n<script type=\"text/javascript\">ferrySearch.start();</script>\n</body></html>\n")
	return b.Bytes()
}

// searchWords is the script line with the search page's texts.
func searchWords(lang string) string {
	w := words[lang]
	b, _ := json.Marshal(map[string]string{"searching": w["searching"], "nothing": w["nothing"], "found": w["found"]})
	return "var ferrySearchWords = " + string(jsSafe(b)) + ";\n"
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
func group(title, lang string) (file, label string) {
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
			return "other", words[lang]["other"]
		}
	}
	return "other", words[lang]["other"]
}

// groupRank orders groups: Latin letters, digits, Hangul, other.
func groupRank(f string) string {
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

type titlePage struct {
	file, label string
	part        int
	docs        []doc
}

type doc struct {
	title, file string
}

// perPage is the most titles on one title index page.
const perPage = 400

func (p titlePage) render(archiveTitle, lang string, all []titlePage) []byte {
	w := words[lang]
	var b bytes.Buffer
	b.WriteString(head(p.label+" — "+archiveTitle, "../../ferry.css", lang))
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
		fmt.Fprintf(&b, "<p><a href=\"%s\">%s &rarr;</a></p>\n", next, w["next"])
	}
	b.WriteString("</body></html>\n")
	return b.Bytes()
}

// pageLayout finds where ferry's navigation goes in an article page (right
// after <body>, or where the body begins) and whether it has a viewport.
func pageLayout(page []byte) (bodyAt int, viewport bool, headEnd int) {
	z := xhtml.NewTokenizer(bytes.NewReader(page[:min(len(page), 1<<20)]))
	off, headEnd, bodyAt := 0, -1, -1
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		raw := z.Raw()
		start, end := off, off+len(raw)
		off = end
		if tt == xhtml.EndTagToken {
			if n, _ := z.TagName(); string(n) == "head" {
				headEnd = start
				bodyAt = end
			}
			continue
		}
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			continue
		}
		n, hasAttr := z.TagName()
		switch string(n) {
		case "body":
			if headEnd < 0 {
				headEnd = start
			}
			return end, viewport, headEnd
		case "meta":
			for hasAttr {
				k, v, more := z.TagAttr()
				if string(k) == "name" && strings.EqualFold(string(v), "viewport") {
					viewport = true
				}
				hasAttr = more
			}
		case "html", "head", "title", "link", "style", "script", "base", "noscript", "template":
		default:
			if bodyAt < 0 {
				bodyAt = start
			}
			if headEnd < 0 {
				headEnd = start
			}
			return bodyAt, viewport, headEnd
		}
	}
	if bodyAt < 0 {
		bodyAt = 0
	}
	if headEnd < 0 {
		headEnd = 0
	}
	return bodyAt, viewport, headEnd
}

// articleNav returns page with a line of links back to the archive's
// contents (and its search) after <body>, and a viewport when it had
// none, so it reads on a phone. The line is plain HTML with inline style,
// in the archive's language.
func articleNav(page []byte, toIndex, toSearch, lang string) []byte {
	w := words[lang]
	bodyAt, viewport, headEnd := pageLayout(page)
	nav := `<div id="ferry-nav" style="font:14px sans-serif;margin:0 0 6px 0;padding:4px 8px;background:#eef2f7;border-bottom:1px solid #ccd">` +
		`<a href="` + html.EscapeString(toIndex) + `" style="color:#0645ad">&larr; ` + w["back"] + `</a>`
	if toSearch != "" {
		nav += ` &middot; <a href="` + html.EscapeString(toSearch) + `" style="color:#0645ad">` + w["search"] + `</a>`
	}
	nav += "</div>\n"
	var out bytes.Buffer
	out.Grow(len(page) + len(nav) + 128)
	if !viewport && headEnd <= bodyAt {
		out.Write(page[:headEnd])
		out.WriteString(`<meta name="viewport" content="width=device-width, initial-scale=1"><style type="text/css">img{max-width:100%;height:auto}</style>`)
		out.Write(page[headEnd:bodyAt])
	} else {
		out.Write(page[:bodyAt])
	}
	out.WriteString(nav)
	out.Write(page[bodyAt:])
	return out.Bytes()
}

func redirectPage(target, title string) []byte {
	var b bytes.Buffer
	b.WriteString(doctype)
	fmt.Fprintf(&b, "<html><head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\n<meta http-equiv=\"refresh\" content=\"0; url=%s\">\n<title>%s</title></head>\n", html.EscapeString(target), html.EscapeString(title))
	fmt.Fprintf(&b, "<body><p><a href=\"%s\">%s</a></p></body></html>\n", html.EscapeString(target), html.EscapeString(orDefault(title, target)))
	return b.Bytes()
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
