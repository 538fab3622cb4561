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
	Lang     string // UI language: "ko", "kp" or "en"
	HTMLLang string // its BCP 47 tag
	set      settings
	T        map[string]string
	Title    string
	Query    string        // search words, for the search box
	In       string        // library the search box is limited to
	Bar      template.HTML // the rendered bar (set by render)
	Warn     string        // a warning the bar shows (a damaged library)
	Wide     bool          // the page is a frame around an archive page
	Refresh  int           // seconds after which the page reloads itself (0: never)
	Data     any
	req      *http.Request
	h        *Handler
}

func (h *Handler) newPage(r *http.Request, title string) *page {
	s := settingsOf(r)
	return &page{Lang: s.lang, HTMLLang: htmlLang(s.lang), set: s, T: messages[s.lang], Title: title, req: r, h: h}
}

// URL builds a link to a path of the reader with query pairs, keeping
// the reader's settings.
func (p *page) URL(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	path = p.set.prefix() + path
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}

// switchLink is one link of the bar that changes a setting.
type switchLink struct{ Label, URL, Lang string }

// Switches are the links to this page in the other UI languages: the same
// page, or for a library that holds the page in several languages (ko/...
// and en/...), the page in the language chosen.
func (p *page) Switches() []switchLink {
	var out []switchLink
	path, q := p.here()
	for _, l := range uiLangs {
		if l == p.Lang {
			continue
		}
		t := settings{lang: l, gloss: defaultGloss(l), explicit: true}
		if p.set.explicit && p.set.gloss != defaultGloss(p.Lang) {
			t.gloss = p.set.gloss // word notes chosen by hand stay as chosen
		}
		target := p.h.counterpart(path, contentLang(l))
		out = append(out, switchLink{Label: messages[l]["langName"], URL: t.prefix() + target + q, Lang: htmlLang(l)})
	}
	return out
}

// GlossSwitch turns word notes off or on for this page; nil when the
// reader runs without them.
func (p *page) GlossSwitch() *switchLink {
	if p.h == nil || p.h.opts.NoGlossary {
		return nil
	}
	t := p.set
	t.explicit, t.gloss = true, !p.set.gloss
	label := "glossOn"
	if p.set.gloss {
		label = "glossOff"
	}
	path, q := p.here()
	return &switchLink{Label: p.T[label], URL: t.prefix() + path + q, Lang: p.HTMLLang}
}

// here is the request's path (one leading slash only: "//host/x" would be
// a link off the device) and query without lang.
func (p *page) here() (string, string) {
	if p.req == nil {
		return "/", ""
	}
	return "/" + strings.TrimLeft(p.req.URL.EscapedPath(), "/"), queryWithout(p.req)
}

// LangNames names language codes in the page's language.
func (p *page) LangNames(codes []string) string {
	names := langNames[p.Lang]
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		if n := names[baseLang(c)]; n != "" {
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

const layoutTmpl = `<!DOCTYPE html>
<html lang="{{.HTMLLang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
{{if .Refresh}}<meta http-equiv="refresh" content="{{.Refresh}}">
{{end}}<title>{{.Title}}</title>
<link rel="stylesheet" href="/_/ui.css">
<script src="/_/ui.js" defer></script>
</head>
<body class="fp">
{{.Bar}}
<main class="fp-main{{if .Wide}} fp-wide{{end}}">
{{template "body" .}}
</main>
</body>
</html>`

const homeTmpl = `{{define "body"}}
<h1>{{.T.libraries}}</h1>
<p class="fp-lead">{{.T.intro}}</p>
{{if not .Data}}<p class="fp-warn">{{.T.empty}}</p>{{end}}
{{range .Data}}{{if .Untrusted}}<section class="fp-lib fp-stranger">
<h2>{{.Name}}</h2>
<p class="fp-bad"><strong>{{$.T.notTrusted}}</strong></p>
<p>{{$.T.notTrustedHelp}}</p>
<p class="fp-key"><span>{{$.T.key}}:</span> {{range .Keys}}<code>{{.}}</code> {{else}}—{{end}}</p>
</section>
{{else if .Err}}<section class="fp-lib fp-broken">
<h2>{{.Name}}</h2>
<p class="fp-bad"><strong>{{$.T.broken}}</strong></p>
<p>{{$.T.brokenHelp}}</p>
<p class="fp-err">{{.Err}}</p>
</section>
{{else}}<section class="fp-lib{{if .Damaged}} fp-broken{{end}}">
<h2><a href="{{$.URL (printf "/a/%s/" .Name)}}">{{.Title}}</a></h2>
{{if .Damaged}}<p class="fp-bad"><strong>{{$.T.damagedShort}}</strong>: {{$.T.damagedParts}}</p>{{end}}
{{if .Description}}<p>{{.Description}}</p>{{end}}
<dl class="fp-facts">
<div><dt>{{$.T.language}}</dt><dd>{{$.LangNames .Languages}}</dd></div>
<div><dt>{{$.T.edition}}</dt><dd>{{.Edition}}</dd></div>
<div><dt>{{$.T.date}}</dt><dd>{{date .Created}}</dd></div>
<div><dt>{{$.T.size}}</dt><dd>{{size .Size}}</dd></div>
<div><dt>{{$.T.articles}}</dt><dd>{{.Articles}}</dd></div>
</dl>
{{if .Newer}}<p class="fp-newer">{{.Newer}}</p>{{end}}
<p class="fp-key"><span>{{$.T.key}}:</span> {{range .Keys}}<code>{{.}}</code> {{else}}—{{end}}</p>
<p class="fp-trust {{.Trust}}">{{if eq .Trust "trusted"}}✔ {{$.T.trusted}}{{else if eq .Trust "sample"}}◆ {{$.T.samplePub}}{{else}}⚠ {{$.T.untrusted}}{{end}}</p>
<p class="fp-actions"><a class="fp-btn" href="{{$.URL (printf "/a/%s/" .Name)}}">{{$.T.open}}</a>
<a href="{{$.URL (printf "/list/%s" .Name)}}">{{$.T.entries}}</a>
<a href="{{$.URL "/random" "in" .Name}}">{{$.T.random}}</a></p>
<form class="fp-inline" action="{{$.URL "/search"}}" method="get"><input type="hidden" name="in" value="{{.Name}}">
<input type="search" name="q" placeholder="{{$.T.searchIn}}" aria-label="{{$.T.searchIn}}" autocomplete="off"><button type="submit">{{$.T.search}}</button></form>
</section>
{{end}}{{end}}
<p class="fp-more"><a href="{{.URL "/share"}}">{{.T.shareTitle}}</a></p>
{{end}}`

const frameTmpl = `{{define "body"}}<iframe class="fp-frame" src="{{.Data}}" sandbox="allow-scripts allow-forms" title="{{.Title}}"></iframe>{{end}}`

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
<form class="fp-bigsearch" action="{{.URL "/search"}}" method="get" role="search">
<input type="search" name="q" value="{{.Query}}" aria-label="{{.T.search}}" placeholder="{{.T.searchHint}}" autocomplete="off">
<select name="in" aria-label="{{.T.allLibs}}"><option value="">{{.T.allLibs}}</option>
{{range .Data.Libs}}<option value="{{.Name}}"{{if eq .Name $.In}} selected{{end}}>{{.Title}}</option>{{end}}</select>
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
	for name, body := range map[string]string{"home": homeTmpl, "error": errorTmpl, "list": listTmpl, "search": searchTmpl, "frame": frameTmpl, "share": shareTmpl} {
		templates[name] = template.Must(template.Must(base.Clone()).Parse(body))
	}
}

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
