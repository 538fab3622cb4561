package web

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"ferry/archive"
	"ferry/search"
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
	Snippet                    []fragment
	score                      float64
	lib                        *lib
	entry                      archive.Entry
}

type titleView struct{ Title, URL, LibTitle string }

type searchData struct {
	Libs   []libInfo
	Count  string
	Notes  []string
	Hits   []hitView
	Titles []titleView
	Offset int
	Pager  *pager
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
		if l.Reader != nil {
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
		if l.Reader == nil {
			continue
		}
		hits, n, err := l.Reader.Search(q, 0, want)
		if err != nil {
			if !errors.Is(err, archive.ErrNoIndex) {
				d.Notes = append(d.Notes, l.Name+": "+err.Error())
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
	terms := queryTerms(q)
	for i := range all {
		hv := &all[i]
		if hv.Title == "" {
			hv.Title = hv.Path
		}
		if text, err := h.texts.get(hv.lib, hv.entry); err == nil {
			hv.Snippet = snippet(text, terms, snippetRunes)
		}
	}
	d.Hits = all
	if total == 0 {
		d.Count = p.F("noResults", q)
	} else {
		d.Count = p.F("resultsFor", total, q)
		if p.Lang == "ko" {
			d.Count = p.F("resultsFor", q, total)
		}
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

// titleMatches returns pages whose title starts with q, from all libs.
func (h *Handler) titleMatches(p *page, libs []*lib, q string, n int) []titleView {
	var out []titleView
	seen := map[string]bool{}
	for _, l := range libs {
		if l.Reader == nil || len(out) >= n {
			continue
		}
		es, err := l.Reader.SuggestTitles(q, n-len(out))
		if err != nil {
			continue
		}
		title := l.info().Title
		for _, e := range es {
			if e.Redirect {
				t, err := l.Reader.Resolve(e)
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

// fragment is a piece of a snippet; Match marks a query word.
type fragment struct {
	Text  string
	Match bool
}

// queryTerms returns the index terms of the query, as a set.
func queryTerms(q string) map[string]bool {
	set := map[string]bool{}
	for _, t := range search.Terms(q) {
		set[t] = true
	}
	return set
}

// snippet cuts about max runes of text around the first word that shares
// an index term with the query, and marks every such word. Words are
// matched through the same analyzer as the index, so "cards" marks "card"
// and "라지오" marks "라지오를".
func snippet(text string, terms map[string]bool, max int) []fragment {
	type word struct{ start, end int } // byte offsets
	var words []word
	inWord := false
	ws := 0
	for i, r := range text {
		isW := unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
		if isW && !inWord {
			ws, inWord = i, true
		} else if !isW && inWord {
			words = append(words, word{ws, i})
			inWord = false
		}
		if len(words) > 20000 {
			break
		}
	}
	if inWord {
		words = append(words, word{ws, len(text)})
	}
	seen := map[string]bool{}
	lead, filter := firstRunes(terms)
	match := func(w word) bool {
		s := text[w.start:w.end]
		if m, ok := seen[s]; ok {
			return m
		}
		if filter && !hasAny(s, lead) {
			seen[s] = false
			return false
		}
		m := false
		for _, t := range search.Terms(s) {
			if terms[t] {
				m = true
				break
			}
		}
		seen[s] = m
		return m
	}
	first := -1
	for k, w := range words {
		if match(w) {
			first = k
			break
		}
	}
	// Start a little before the first match, at a word boundary.
	start := 0
	if first > 0 {
		k := first
		for k > 0 && utf8.RuneCountInString(text[words[k-1].start:words[first].start]) < max/4 {
			k--
		}
		start = words[k].start
	}
	end := len(text)
	if n := 0; true {
		for i := range text[start:] {
			if n == max {
				end = start + i
				break
			}
			n++
		}
	}
	var out []fragment
	if start > 0 {
		out = append(out, fragment{Text: "… "})
	}
	pos := start
	for _, w := range words {
		if w.start < start || w.end > end {
			continue
		}
		if match(w) {
			if w.start > pos {
				out = append(out, fragment{Text: text[pos:w.start]})
			}
			out = append(out, fragment{Text: text[w.start:w.end], Match: true})
			pos = w.end
		}
	}
	if pos < end {
		out = append(out, fragment{Text: text[pos:end]})
	}
	if end < len(text) {
		out = append(out, fragment{Text: " …"})
	}
	return out
}

// bodyText collapses white space and drops what comes before the first
// occurrence of the title near the start (navigation, the heading), so a
// snippet shows the article's own words.
func bodyText(text, title string) string {
	text = strings.Join(strings.Fields(text), " ")
	if title != "" {
		if i := strings.Index(text, title); i >= 0 && i < 400 {
			text = strings.TrimSpace(text[i+len(title):])
		}
	}
	return text
}

// textCache keeps the visible text of recently shown search results, so
// that popular results do not have their HTML parsed again for every
// snippet. It holds at most textCacheBytes of text.
type textCache struct {
	mu    sync.Mutex
	m     map[textKey]string
	order []textKey
	bytes int
}

type textKey struct {
	lib   *lib
	index int
}

const (
	textCacheBytes = 8 << 20
	maxTextBytes   = 256 << 10 // text kept per entry; snippets come from the start
)

func (c *textCache) get(l *lib, e archive.Entry) (string, error) {
	k := textKey{l, e.Index}
	c.mu.Lock()
	t, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return t, nil
	}
	_, text, err := l.Reader.Text(e)
	if err != nil {
		return "", err
	}
	text = bodyText(text, e.Title)
	if len(text) > maxTextBytes {
		text = strings.ToValidUTF8(text[:maxTextBytes], "")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[textKey]string{}
	}
	if _, ok := c.m[k]; !ok {
		c.m[k] = text
		c.order = append(c.order, k)
		c.bytes += len(text)
		for c.bytes > textCacheBytes && len(c.order) > 1 {
			old := c.order[0]
			c.order = c.order[1:]
			c.bytes -= len(c.m[old])
			delete(c.m, old)
		}
	}
	return text, nil
}

// firstRunes returns the first rune of every term, for a cheap test that
// skips words which cannot produce any of them. The analyzer only folds
// case (and full-width forms) and trims endings, so a term's first rune is
// in its word when it is an ASCII letter or digit or a Hangul syllable; for
// any other first rune the filter is off (ok false).
func firstRunes(terms map[string]bool) (set map[rune]bool, ok bool) {
	set = map[rune]bool{}
	for t := range terms {
		r, _ := utf8.DecodeRuneInString(t)
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r >= 0xAC00 && r <= 0xD7A3) {
			return nil, false
		}
		set[r] = true
	}
	return set, len(set) > 0
}

// hasAny reports whether word holds one of the runes, after the
// analyzer's case and width folding.
func hasAny(word string, set map[rune]bool) bool {
	for _, r := range word {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0
		}
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		if set[r] {
			return true
		}
	}
	return false
}
