package reader

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// page is what every template gets.
type page struct {
	Lang, Other string
	Explicit    bool // the language came from ?lang= and is kept in links
	T           map[string]string
	Title       string
	Query       string        // search words, for the search box
	In          string        // library the search box is limited to
	Switch      string        // this URL with the other language
	Bar         template.HTML // the rendered bar (set by render)
	Data        any
}

func (h *Handler) newPage(r *http.Request, title string) *page {
	lang, explicit := pickLang(r)
	p := &page{Lang: lang, Other: other(lang), Explicit: explicit, T: messages[lang], Title: title}
	q := r.URL.Query()
	q.Set("lang", p.Other)
	// One leading slash only: "//host/x" would be a link off the device.
	p.Switch = "/" + strings.TrimLeft(r.URL.EscapedPath(), "/") + "?" + q.Encode()
	return p
}

// URL builds a link to path with query pairs, keeping ?lang= when chosen.
func (p *page) URL(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if p.Explicit {
		q.Set("lang", p.Lang)
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// LangNames names language codes in the page's language.
func (p *page) LangNames(codes []string) string {
	names := map[string]map[string]string{
		"ko": {"ko": "조선말", "en": "영어", "ja": "일본말", "zh": "중국말", "ru": "로씨야말", "ar": "아랍말"},
		"en": {"ko": "Korean", "en": "English", "ja": "Japanese", "zh": "Chinese", "ru": "Russian", "ar": "Arabic"},
	}[p.Lang]
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		base, _, _ := strings.Cut(c, "-")
		if n := names[strings.ToLower(base)]; n != "" {
			out = append(out, n)
		} else {
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return "—"
	}
	return strings.Join(out, ", ")
}

// F formats a message with arguments.
func (p *page) F(msg string, args ...any) string { return fmt.Sprintf(p.T[msg], args...) }

// Entry links to an entry of a library.
func (p *page) Entry(name, entryPath string) string {
	return p.URL(entryURL(name, entryPath))
}

func entryURL(name, entryPath string) string {
	segs := strings.Split(entryPath, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/a/" + url.PathEscape(name) + "/" + strings.Join(segs, "/")
}

var funcs = template.FuncMap{
	"size": humanSize,
	"date": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02")
	},
	"join": strings.Join,
	"add":  func(a, b int) int { return a + b },
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// barTmpl is well-formed XML too, so it can go into XHTML pages.
const barTmpl = `{{define "bar"}}<div id="ferry-bar" lang="{{.Lang}}">
<a class="fb-home" href="{{.URL "/"}}" title="{{.T.home}}">ferry</a>
<form class="fb-search" action="/search" method="get" role="search">
<input type="search" name="q" id="fb-q" value="{{.Query}}" placeholder="{{.T.searchHint}}" aria-label="{{.T.search}}" autocomplete="off" data-in="{{.In}}" data-lang="{{if .Explicit}}{{.Lang}}{{end}}" />
{{- if .In}}<input type="hidden" name="in" value="{{.In}}" />{{end}}
{{- if .Explicit}}<input type="hidden" name="lang" value="{{.Lang}}" />{{end}}
<button type="submit">{{.T.search}}</button>
<ul id="fb-suggest" class="fb-suggest" hidden="hidden" aria-label="{{.T.suggestLabel}}"></ul>
</form>
<span class="fb-links"><a href="{{.URL "/random" "in" .In}}">{{.T.random}}</a>
<a href="{{.Switch}}" lang="{{.Other}}" hreflang="{{.Other}}">{{if eq .Other "ko"}}조선말{{else}}English{{end}}</a></span>
<a id="ferry-hide" class="fb-hide" href="/hide" title="{{.T.hideTitle}}">{{.T.hide}}</a>
</div>{{end}}`

const layoutTmpl = `<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>{{.Title}}</title>
<link rel="stylesheet" href="/_/ui.css">
<script src="/_/ui.js" defer></script>
</head>
<body class="fp">
{{.Bar}}
<main class="fp-main">
{{template "body" .}}
</main>
</body>
</html>`

const homeTmpl = `{{define "body"}}
<h1>{{.T.libraries}}</h1>
<p class="fp-lead">{{.T.intro}}</p>
{{if not .Data}}<p class="fp-warn">{{.T.empty}}</p>{{end}}
{{range .Data}}<section class="fp-lib{{if .Err}} fp-broken{{end}}">
{{if .Err}}
<h2>{{.Name}}</h2>
<p class="fp-bad"><strong>{{$.T.broken}}</strong>: {{.Path}}</p>
<p class="fp-err">{{.Err}}</p>
<p>{{$.T.brokenHelp}}</p>
{{else}}
<h2><a href="{{$.URL (printf "/a/%s/" .Name)}}">{{.Title}}</a></h2>
{{if .Description}}<p>{{.Description}}</p>{{end}}
<dl class="fp-facts">
<div><dt>{{$.T.language}}</dt><dd>{{$.LangNames .Languages}}</dd></div>
<div><dt>{{$.T.edition}}</dt><dd>{{.Edition}}</dd></div>
<div><dt>{{$.T.date}}</dt><dd>{{date .Created}}</dd></div>
<div><dt>{{$.T.size}}</dt><dd>{{size .Size}}</dd></div>
<div><dt>{{$.T.articles}}</dt><dd>{{.Articles}}</dd></div>
</dl>
<p class="fp-key"><span>{{$.T.key}}:</span> {{range .Keys}}<code>{{.}}</code> {{else}}—{{end}}</p>
<p class="fp-trust {{.Trust}}">{{if eq .Trust "trusted"}}✔ {{$.T.trusted}}{{else if eq .Trust "sample"}}◆ {{$.T.samplePub}}{{else}}⚠ {{$.T.untrusted}}{{end}}</p>
<p class="fp-actions"><a class="fp-btn" href="{{$.URL (printf "/a/%s/" .Name)}}">{{$.T.open}}</a>
<a href="{{$.URL (printf "/list/%s" .Name)}}">{{$.T.entries}}</a>
<a href="{{$.URL "/random" "in" .Name}}">{{$.T.random}}</a></p>
<form class="fp-inline" action="/search" method="get"><input type="hidden" name="in" value="{{.Name}}">
{{- if $.Explicit}}<input type="hidden" name="lang" value="{{$.Lang}}">{{end}}
<input type="search" name="q" placeholder="{{$.T.searchIn}}" aria-label="{{$.T.searchIn}}" autocomplete="off"><button type="submit">{{$.T.search}}</button></form>
{{end}}
</section>{{end}}
{{end}}`

const errorTmpl = `{{define "body"}}
<h1>{{.Data.Title}}</h1>
{{if .Data.Help}}<p>{{.Data.Help}}</p>{{end}}
{{if .Data.Detail}}<p class="fp-err">{{.Data.Detail}}</p>{{end}}
<p><a class="fp-btn" href="{{.URL "/"}}">{{.T.backHome}}</a></p>
{{end}}`

const listTmpl = `{{define "body"}}
<h1>{{.Data.Title}}</h1>
<p><a href="{{.URL (printf "/a/%s/" .Data.Name)}}">{{.T.contents}}</a></p>
<ul class="fp-list">{{range .Data.Items}}<li><a href="{{$.Entry $.Data.Name .Path}}">{{if .Title}}{{.Title}}{{else}}{{.Path}}{{end}}</a></li>{{end}}</ul>
{{template "pager" .Data.Pager}}
{{end}}`

const pagerTmpl = `{{define "pager"}}{{if .}}{{if gt .Pages 1}}<nav class="fp-pager">
{{if .Prev}}<a rel="prev" href="{{.Prev}}">← {{.T.prev}}</a>{{end}}
<span>{{.Label}}</span>
{{if .Next}}<a rel="next" href="{{.Next}}">{{.T.next}} →</a>{{end}}
</nav>{{end}}{{end}}{{end}}`

const searchTmpl = `{{define "body"}}
<form class="fp-bigsearch" action="/search" method="get" role="search">
<input type="search" name="q" value="{{.Query}}" aria-label="{{.T.search}}" placeholder="{{.T.searchHint}}" autocomplete="off">
<select name="in" aria-label="{{.T.allLibs}}"><option value="">{{.T.allLibs}}</option>
{{range .Data.Libs}}<option value="{{.Name}}"{{if eq .Name $.In}} selected{{end}}>{{.Title}}</option>{{end}}</select>
{{- if .Explicit}}<input type="hidden" name="lang" value="{{.Lang}}">{{end}}
<button type="submit">{{.T.search}}</button>
</form>
{{if .Query}}
{{if .Data.Titles}}<h2 class="fp-sub">{{.T.titles}}</h2>
<ul class="fp-titles">{{range .Data.Titles}}<li><a href="{{.URL}}">{{.Title}}</a> <span class="fp-from">{{.LibTitle}}</span></li>{{end}}</ul>{{end}}
<h1 class="fp-count">{{.Data.Count}}</h1>
{{range .Data.Notes}}<p class="fp-warn">{{.}}</p>{{end}}
<ol class="fp-results" start="{{add .Data.Offset 1}}">
{{.Data.Results}}</ol>
{{template "pager" .Data.Pager}}
{{end}}
{{end}}`

var templates = map[string]*template.Template{}

func init() {
	base := template.Must(template.New("layout").Funcs(funcs).Parse(layoutTmpl))
	template.Must(base.Parse(pagerTmpl))
	for name, body := range map[string]string{"home": homeTmpl, "error": errorTmpl, "list": listTmpl, "search": searchTmpl} {
		templates[name] = template.Must(template.Must(base.Clone()).Parse(body))
	}
	barOnly = template.Must(template.New("bar").Funcs(funcs).Parse(barTmpl))
}

var barOnly *template.Template

// render writes a whole page; it renders into memory first so that a
// template error never leaves half a page.
func (h *Handler) render(w http.ResponseWriter, status int, name string, p *page) {
	p.Bar = template.HTML(h.barBody(p))
	var b bytes.Buffer
	if err := templates[name].Execute(&b, p); err != nil {
		http.Error(w, "ferry: internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

type errorData struct{ Title, Help, Detail string }

// errorPage shows a page in the reader's language; detail names the
// archive and the problem.
func (h *Handler) errorPage(w http.ResponseWriter, r *http.Request, status int, title, help, detail string) {
	p := h.newPage(r, "")
	p.Title = p.T[title]
	p.Data = errorData{Title: p.T[title], Help: p.T[help], Detail: detail}
	h.render(w, status, "error", p)
}

// pager describes the links to neighbouring result pages.
type pager struct {
	T          map[string]string
	Prev, Next string
	Label      string
	Pages      int
}

func newPager(p *page, cur, pages int, link func(n int) string) *pager {
	pg := &pager{T: p.T, Pages: pages, Label: p.F("page", cur, pages)}
	if cur > 1 {
		pg.Prev = link(cur - 1)
	}
	if cur < pages {
		pg.Next = link(cur + 1)
	}
	return pg
}
