package reader

import (
	"encoding/json"
	"errors"
	"html/template"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"ferry/internal/archive"
	"ferry/internal/search"
)

func randN(n int) int { return rand.IntN(n) }

const (
	perPage      = 10
	maxPage      = 50  // deeper pages cost more than they help
	maxQueryLen  = 256 // bytes of a query we look at
	snippetRunes = 220
)

type hitView struct {
	Title, Path, URL, LibTitle string
	Snippet                    template.HTML
	score                      float64
	lib                        *lib
	entry                      archive.Entry
}

type titleView struct{ Title, URL, LibTitle string }

type searchData struct {
	Libs    []libInfo
	Count   string
	Notes   []string
	Results template.HTML // the result list's items (resultsHTML)
	Titles  []titleView
	Offset  int
	Pager   *pager
}

// scope returns the libraries a request searches: ?in=NAME or all.
func (h *Handler) scope(r *http.Request) ([]*lib, string) {
	in := r.URL.Query().Get("in")
	if l := h.byName[in]; l != nil {
		return []*lib{l}, in
	}
	return h.libs, ""
}

func cleanQuery(q string) string {
	q = strings.ToValidUTF8(q, "")
	if len(q) > maxQueryLen {
		q = q[:maxQueryLen]
		for !utf8.ValidString(q) {
			q = q[:len(q)-1]
		}
	}
	return strings.TrimSpace(q)
}

func (h *Handler) search(w http.ResponseWriter, r *http.Request) {
	q := cleanQuery(r.URL.Query().Get("q"))
	libs, in := h.scope(r)
	p := h.newPage(r, q)
	p.Query, p.In = q, in
	d := searchData{}
	for _, l := range h.libs {
		if l.Edition != nil {
			d.Libs = append(d.Libs, l.info())
		}
	}
	// The words searched for stay out of the title, which browsers keep
	// in their history and show in the task bar.
	p.Title = p.T["search"]
	if q == "" {
		p.Data = d
		h.render(w, http.StatusOK, "search", p)
		return
	}
	cur := atoiRange(r.URL.Query().Get("p"), 1, maxPage)
	d.Offset = (cur - 1) * perPage
	want := d.Offset + perPage
	total := 0
	var all []hitView
	for _, l := range libs {
		if l.Edition == nil {
			continue
		}
		hits, n, err := l.Edition.Search(q, 0, want)
		if err != nil {
			if !errors.Is(err, archive.ErrNoIndex) {
				if isDamage(err) {
					l.damaged.Store(true)
				}
				d.Notes = append(d.Notes, l.Name+": "+hidePaths(err.Error(), l.Path))
			} else if len(libs) == 1 {
				d.Notes = append(d.Notes, p.T["noSearch"])
			}
			continue
		}
		total += n
		title := l.info().Title
		for _, hit := range hits {
			all = append(all, hitView{Title: hit.Title, Path: hit.Path, URL: p.Entry(l.Name, hit.Path),
				LibTitle: title, score: hit.Score, lib: l, entry: hit.Entry})
		}
	}
	// Scores of different archives are on the same scale (BM25 of each
	// index); ties keep library order.
	sort.SliceStable(all, func(i, j int) bool { return all[i].score > all[j].score })
	if d.Offset < len(all) {
		all = all[d.Offset:min(len(all), want)]
	} else {
		all = nil
	}
	m := search.NewMatcher(q)
	for i := range all {
		hv := &all[i]
		if hv.Title == "" {
			hv.Title = hv.Path
		}
		hv.Snippet = snippetHTML(h.texts.snippet(hv.lib, hv.entry, m, search.SnippetRunes))
	}
	d.Results = resultsHTML(all)
	if total == 0 {
		d.Count = p.F("noResults", q)
	} else {
		d.Count = p.F("resultsFor", total, q)
	}
	pages := min((total+perPage-1)/perPage, maxPage)
	d.Pager = newPager(p, cur, max(pages, 1), func(k int) string {
		return p.URL("/search", "q", q, "in", in, "p", strconv.Itoa(k))
	})
	if cur == 1 {
		d.Titles = h.titleMatches(p, libs, q, 5)
	}
	p.Data = d
	h.render(w, http.StatusOK, "search", p)
}

// resultsHTML writes the items of the result list. It is Go rather than
// template code because the template's per-value reflection and escaping
// were a fifth of a search's CPU time; every value is escaped as the
// template escapes it (URLs come from entryURL, already percent-encoded,
// and need only HTML escaping in an attribute; the snippet is HTML).
func resultsHTML(hits []hitView) template.HTML {
	var b strings.Builder
	esc := func(s string) { template.HTMLEscape(&b, []byte(s)) }
	for _, h := range hits {
		b.WriteString(`<li><a class="fp-rt" href="`)
		esc(h.URL)
		b.WriteString(`">`)
		esc(h.Title)
		b.WriteString("</a>\n<div class=\"fp-from\">")
		esc(h.LibTitle)
		b.WriteString(" · ")
		esc(h.Path)
		b.WriteString("</div>\n<p class=\"fp-snip\">")
		b.WriteString(string(h.Snippet))
		b.WriteString("</p></li>\n")
	}
	return template.HTML(b.String())
}

// titleMatches returns pages whose title starts with q, from all libs.
func (h *Handler) titleMatches(p *page, libs []*lib, q string, n int) []titleView {
	var out []titleView
	seen := map[string]bool{}
	for _, l := range libs {
		if l.Edition == nil || len(out) >= n {
			continue
		}
		es, err := l.Edition.SuggestTitles(q, n-len(out))
		if err != nil {
			continue
		}
		title := l.info().Title
		for _, e := range es {
			if e.Redirect {
				t, err := l.Edition.Resolve(e)
				if err != nil {
					continue
				}
				e.Path = t.Path
			}
			u := p.Entry(l.Name, e.Path)
			if seen[u] {
				continue
			}
			seen[u] = true
			out = append(out, titleView{Title: e.Title, URL: u, LibTitle: title})
		}
	}
	return out
}

// suggest answers the search box's title suggestions as JSON:
// [{"title":..., "url":...}, ...].
func (h *Handler) suggest(w http.ResponseWriter, r *http.Request) {
	q := cleanQuery(r.URL.Query().Get("q"))
	libs, _ := h.scope(r)
	p := h.newPage(r, "")
	type sug struct {
		Title string `json:"title"`
		URL   string `json:"url"`
		From  string `json:"from"`
	}
	out := []sug{}
	if q != "" {
		for _, t := range h.titleMatches(p, libs, q, 8) {
			out = append(out, sug{t.Title, t.URL, t.LibTitle})
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(out)
}
