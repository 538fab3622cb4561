package reader

import (
	"bytes"
	"errors"
	"ferry/internal/htmltext"
	"html/template"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"ferry/internal/archive"
)

// libInfo is one line of the home page.
type libInfo struct {
	Name, Path, Title, Description string
	Languages                      []string
	Edition                        uint64
	Created                        time.Time
	Size                           int64
	Articles                       int
	Keys                           []string
	Trust                          string // "trusted", "sample" or "untrusted"
	Err                            error
}

func (l *lib) info() libInfo {
	in := libInfo{Name: l.Name, Path: l.Path, Err: l.Err}
	if l.Edition == nil {
		if in.Err == nil {
			in.Err = errors.New("not opened")
		}
		return in
	}
	m := l.Edition.Manifest()
	in.Title, in.Description, in.Languages = m.Title, m.Description, m.Languages
	if in.Title == "" {
		in.Title = m.Channel
	}
	in.Edition, in.Created, in.Size, in.Articles = m.Edition, m.Created, l.Edition.Size(), m.Counts.Articles
	for _, k := range l.Edition.Signers() {
		in.Keys = append(in.Keys, k.Fingerprint())
	}
	switch {
	case l.trusted:
		in.Trust = "trusted"
	case l.sample:
		in.Trust = "sample"
	default:
		in.Trust = "untrusted"
	}
	return in
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "ferry")
	infos := make([]libInfo, 0, len(h.libs))
	for _, l := range h.libs {
		infos = append(infos, l.info())
	}
	p.Data = infos
	h.render(w, http.StatusOK, "home", p)
}

// libFor finds the library named in the URL, or writes an error page.
func (h *Handler) libFor(w http.ResponseWriter, r *http.Request, name string) *lib {
	l := h.byName[name]
	if l == nil && len(name) == 64 {
		// Links may also name an archive by its ID, which survives renaming.
		for _, x := range h.libs {
			if x.Edition != nil && x.Edition.ID() == name {
				l = x
			}
		}
	}
	if l == nil {
		h.errorPage(w, r, http.StatusNotFound, "noLib", "notFoundHelp", name)
		return nil
	}
	if l.Edition == nil {
		h.errorPage(w, r, http.StatusServiceUnavailable, "broken", "brokenHelp", l.Path+": "+errText(l.Err))
		return nil
	}
	return l
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// maxInject is the largest HTML page the bar is added to; bigger pages
// are served as they are.
const maxInject = 8 << 20

// maxWhole is the largest entry read whole (and verified) before serving.
const maxWhole = 4 << 20

// entry serves /a/{name}/{path...}.
func (h *Handler) entry(w http.ResponseWriter, r *http.Request) {
	l := h.libFor(w, r, r.PathValue("name"))
	if l == nil {
		return
	}
	p := r.PathValue("path")
	if p == "" || strings.HasSuffix(p, "/") {
		if p == "" && l.Edition.Manifest().MainPage != "" {
			http.Redirect(w, r, entryURL(l.Name, l.Edition.Manifest().MainPage)+keepQuery(r), http.StatusFound)
			return
		}
		if p == "" {
			http.Redirect(w, r, "/list/"+l.Name+keepQuery(r), http.StatusFound)
			return
		}
		p += "index.html"
	}
	e, err := l.Edition.Lookup(p)
	if err != nil {
		h.readError(w, r, l, p, err)
		return
	}
	if e.Redirect {
		t, err := l.Edition.Resolve(e)
		if err != nil {
			h.readError(w, r, l, p, err)
			return
		}
		http.Redirect(w, r, entryURL(l.Name, t.Path)+keepQuery(r), http.StatusFound)
		return
	}
	h.serveEntry(w, r, l, e)
}

func (h *Handler) readError(w http.ResponseWriter, r *http.Request, l *lib, p string, err error) {
	status, title, help := errKind(err)
	detail := l.Name + ": " + p
	if status != http.StatusNotFound {
		detail = l.Name + " (" + l.Path + "): " + err.Error()
	}
	h.errorPage(w, r, status, title, help, detail)
}

func (h *Handler) serveEntry(w http.ResponseWriter, r *http.Request, l *lib, e archive.Entry) {
	nonce := newNonce()
	w.Header().Set("Content-Security-Policy", h.contentCSP(nonce))
	ctype := e.MIME
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	if htmltext.IsHTML(ctype) && e.Size <= maxInject {
		b, err := l.Edition.ReadAll(e)
		if err != nil {
			h.readError(w, r, l, e.Path, err)
			return
		}
		page := h.newPage(r, "")
		page.In = ""
		bar := h.barHTML(page, nonce)
		disarmRefresh(b) // b is this request's own copy
		at := barOffset(b)
		w.Header().Set("Content-Length", strconv.Itoa(len(b)+len(bar)))
		if r.Method != http.MethodHead {
			// Three writes into the server's buffer rather than a third
			// copy of the page.
			w.Write(b[:at])
			w.Write(bar)
			w.Write(b[at:])
		}
		return
	}
	var content io.ReadSeeker
	if e.Size <= maxWhole {
		// Small entries are read (and so verified) whole before the
		// status line goes out, so damage gets a proper error page.
		b, err := l.Edition.ReadAll(e)
		if err != nil {
			h.readError(w, r, l, e.Path, err)
			return
		}
		content = bytes.NewReader(b)
	} else {
		// Big media stream chunk by chunk; damage in a chunk that is not
		// the first or last cuts the response short (nothing unverified
		// is ever sent).
		sec, err := l.Edition.Open(e)
		if err == nil {
			var one [1]byte
			if _, err = sec.ReadAt(one[:], 0); err == nil {
				_, err = sec.ReadAt(one[:], e.Size-1)
			}
		}
		if err != nil {
			h.readError(w, r, l, e.Path, err)
			return
		}
		content = sec
	}
	// The ETag lets a browser's Range requests (media seeking) check they
	// still read the same entry; nothing is cached (no-store).
	w.Header().Set("ETag", `"`+l.Edition.ID()[:16]+"-"+strconv.Itoa(e.Index)+`"`)
	http.ServeContent(w, r, path.Base(e.Path), time.Time{}, content)
}

// barHTML renders the ferry bar, its style and script for an archive page.
func (h *Handler) barHTML(p *page, nonce string) []byte {
	bar := h.barBody(p)
	if bar == nil {
		return nil
	}
	head := `<link rel="stylesheet" href="/_/bar.css" /><script src="/_/ui.js" defer="defer" nonce="` + nonce + `"></script>`
	return append([]byte(head), bar...)
}

// barBody renders the ferry bar (the "bar" template) for p.
func (h *Handler) barBody(p *page) []byte {
	// The bar differs between pages only in the language-switch link (and
	// the nonce): render it once per language, library and search words
	// with a placeholder, and splice the link in. The link is already a
	// normalised URL (escaped path and encoded query), so HTML-escaping it
	// gives what the template would write.
	key := barKey{p.Lang, p.Explicit, p.Query, p.In}
	tmpl, ok := h.bars.get(key)
	if !ok {
		q := *p
		q.Switch = switchPlaceholder
		var b bytes.Buffer
		if err := barOnly.ExecuteTemplate(&b, "bar", &q); err != nil {
			return nil
		}
		tmpl = asciiHTML(b.Bytes())
		h.bars.put(key, tmpl)
	}
	var link bytes.Buffer
	if err := hrefOnly.Execute(&link, p.Switch); err != nil {
		return nil
	}
	esc := bytes.TrimSuffix(bytes.TrimPrefix(link.Bytes(), []byte(`<a href="`)), []byte(`">`))
	return bytes.Replace(tmpl, []byte(switchPlaceholder), asciiHTML(esc), 1)
}

// switchPlaceholder stands for the switch link in cached bars; hrefOnly
// escapes the real link exactly as the bar template does in its href.
const switchPlaceholder = "/ferry-switch-link-placeholder"

var hrefOnly = template.Must(template.New("href").Parse(`<a href="{{.}}">`))

type barKey struct {
	lang     string
	explicit bool
	query    string
	in       string
}

// barCache keeps rendered bars; it is emptied when full (search words make
// keys unbounded).
type barCache struct {
	mu sync.Mutex
	m  map[barKey][]byte
}

func (c *barCache) get(k barKey) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.m[k]
	return b, ok
}

func (c *barCache) put(k barKey, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= 1024 {
		c.m = map[barKey][]byte{}
	}
	c.m[k] = b
}

// asciiHTML writes every non-ASCII character as a numeric character
// reference, so the bar reads right whatever charset the page declares
// (EUC-KR, windows-1252...) and stays valid in XHTML. The bar has no
// script or style content, where references would not be decoded.
func asciiHTML(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/2)
	for _, r := range string(b) {
		if r < 0x80 {
			out = append(out, byte(r))
		} else {
			out = append(out, "&#"...)
			out = strconv.AppendInt(out, int64(r), 10)
			out = append(out, ';')
		}
	}
	return out
}

// injectBar puts bar right after the <body> tag, or where a body would
// begin, leaving the page otherwise untouched.
func injectBar(page, bar []byte) []byte {
	at := barOffset(page)
	out := make([]byte, 0, len(page)+len(bar))
	out = append(out, page[:at]...)
	out = append(out, bar...)
	return append(out, page[at:]...)
}

// disarmRefresh turns every <meta http-equiv="refresh"> whose target is
// not a path on this reader into an inert attribute, in place (same
// length): content security policy does not cover navigation, so without
// this a page could send the tab, and what it was reading, to a server
// elsewhere even with its scripts off.
func disarmRefresh(page []byte) {
	// Only <meta> tags: look at each '<' (a fast byte scan), not at every
	// byte of the page.
	for from := 0; ; {
		i := bytes.IndexByte(page[from:], '<')
		if i < 0 {
			return
		}
		i += from
		from = i + 1
		if len(page)-i < 6 || !bytes.EqualFold(page[i+1:i+5], []byte("meta")) {
			continue
		}
		end := bytes.IndexByte(page[i:], '>')
		if end < 0 {
			return
		}
		tag := page[i : i+end]
		j := indexFoldAt(tag, "http-equiv", 0)
		if j < 0 {
			continue
		}
		v := bytes.TrimLeft(tag[j+len("http-equiv"):], " \t\r\n=\"'")
		if len(v) < 7 || !bytes.EqualFold(v[:7], []byte("refresh")) {
			continue
		}
		if u, ok := refreshURL(tag); !ok || localURL(u) {
			continue
		}
		copy(tag[j:], "x-no-equiv")
	}
}

// refreshURL finds the url= part of a refresh tag's content attribute.
func refreshURL(tag []byte) ([]byte, bool) {
	i := indexFoldAt(tag, "url", 0)
	if i < 0 {
		return nil, false // a plain reload of the same page
	}
	u := bytes.TrimLeft(tag[i+3:], " \t\r\n")
	if len(u) == 0 || u[0] != '=' {
		return nil, false
	}
	u = bytes.TrimLeft(u[1:], " \t\r\n'\"")
	if j := bytes.IndexAny(u, "'\" \t\r\n"); j >= 0 {
		u = u[:j]
	}
	return u, true
}

// localURL reports a URL that stays on this reader: a path without a
// scheme or host (not "//host", not "\\host", no ":" before the first "/").
func localURL(u []byte) bool {
	u = bytes.TrimSpace(u)
	if len(u) >= 2 && (u[0] == '/' || u[0] == '\\') && (u[1] == '/' || u[1] == '\\') {
		return false
	}
	if c := bytes.IndexByte(u, ':'); c >= 0 && (bytes.IndexByte(u, '/') < 0 || c < bytes.IndexByte(u, '/')) {
		return false
	}
	return true
}

// indexFoldAt finds s in b at or after from, ignoring ASCII case.
func indexFoldAt(b []byte, s string, from int) int {
	for i := from; i+len(s) <= len(b); i++ {
		c := b[i] | 0x20
		if c == s[0] && bytes.EqualFold(b[i:i+len(s)], []byte(s)) {
			return i
		}
	}
	return -1
}

// barOffset is where the bar goes in page: right after the <body> tag,
// else after </head>, else after a leading doctype, else at the start.
// Tags are matched without regard to ASCII case, in place.
func barOffset(page []byte) int {
	page = page[:min(len(page), 1<<20)] // the head of any real page is shorter
	if i := indexFold(page, "<body", true); i >= 0 {
		if j := bytes.IndexByte(page[i:], '>'); j >= 0 {
			return i + j + 1
		}
	}
	if i := indexFold(page, "</head>", false); i >= 0 {
		return i + len("</head>")
	}
	if t := bytes.TrimLeft(page, " \t\r\n\f"); len(t) >= 9 && bytes.EqualFold(t[:9], []byte("<!doctype")) {
		if j := bytes.IndexByte(page, '>'); j >= 0 {
			return j + 1
		}
	}
	return 0
}

// indexFold finds tag (which starts with '<') in page, ignoring ASCII
// case; with open, only where '>' or white space follows it (so "<body"
// does not match "<bodyx").
func indexFold(page []byte, tag string, open bool) int {
	for off := 0; ; {
		i := bytes.IndexByte(page[off:], '<')
		if i < 0 {
			return -1
		}
		i += off
		k := i + len(tag)
		if k <= len(page) && bytes.EqualFold(page[i:k], []byte(tag)) &&
			(!open || k < len(page) && (page[k] == '>' || page[k] == ' ' || page[k] == '\t' || page[k] == '\n' || page[k] == '\r')) {
			return i
		}
		off = i + 1
	}
}

type listData struct {
	Name, Title string
	Items       []archive.Entry
	Pager       *pager
}

const listPerPage = 100

// list shows a library's articles in path order, a page at a time.
func (h *Handler) list(w http.ResponseWriter, r *http.Request) {
	l := h.libFor(w, r, r.PathValue("name"))
	if l == nil {
		return
	}
	info := l.info()
	p := h.newPage(r, info.Title)
	p.In = l.Name
	cur := atoiRange(r.URL.Query().Get("p"), 1, 1<<20)
	n := l.Edition.NumEntries()
	d := listData{Name: l.Name, Title: info.Title}
	// Articles are a subset of entries; walk entries from the page's start.
	// Pages are counted in entries, which bounds the work per request.
	start := (cur - 1) * listPerPage * 4
	i := start
	for ; i < n && len(d.Items) < listPerPage && i < start+listPerPage*4; i++ {
		e, err := l.Edition.EntryAt(i)
		if err != nil {
			h.readError(w, r, l, "#"+strconv.Itoa(i), err)
			return
		}
		if e.Article && !e.Redirect {
			d.Items = append(d.Items, e)
		}
	}
	pages := (n + listPerPage*4 - 1) / (listPerPage * 4)
	d.Pager = newPager(p, cur, max(pages, 1), func(k int) string { return p.URL("/list/"+l.Name, "p", strconv.Itoa(k)) })
	p.Data = d
	h.render(w, http.StatusOK, "list", p)
}

func atoiRange(s string, lo, hi int) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < lo {
		return lo
	}
	return min(n, hi)
}

// random redirects to a random article of one library, or of any.
func (h *Handler) random(w http.ResponseWriter, r *http.Request) {
	var cands []*lib
	if in := r.URL.Query().Get("in"); in != "" {
		if l := h.libFor(w, r, in); l != nil {
			cands = []*lib{l}
		} else {
			return
		}
	} else {
		for _, l := range h.libs {
			if l.Edition != nil && l.Edition.Manifest().Counts.Articles > 0 {
				cands = append(cands, l)
			}
		}
	}
	if len(cands) == 0 {
		h.errorPage(w, r, http.StatusNotFound, "notFound", "empty", "")
		return
	}
	l := cands[randN(len(cands))]
	e, err := l.Edition.RandomArticle()
	if err != nil {
		h.readError(w, r, l, "", err)
		return
	}
	http.Redirect(w, r, entryURL(l.Name, e.Path)+keepQuery(r), http.StatusFound)
}
