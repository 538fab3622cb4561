package reader

import (
	"bytes"
	"context"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"ferry/internal/archive"
	"ferry/internal/carry/mirror"
	"ferry/internal/edition"
	"ferry/internal/htmltext"
)

// libInfo is one line of the home page.
type libInfo struct {
	Name, Title, Description string
	Languages                []string
	Edition                  uint64
	Created                  time.Time
	Size                     int64
	Articles                 int
	Keys                     []string
	Trust                    string // "trusted", "sample" or "untrusted"
	Untrusted                bool   // not shown: signed by keys the reader does not trust
	Damaged                  bool   // damage found while reading
	Err                      string // why it could not be opened, without file paths
	Newer                    string // "edition N exists (...)" from the last ferry get, in the UI's language
}

func (l *lib) info() libInfo {
	in := libInfo{Name: l.Name, Untrusted: l.Untrusted && l.Edition == nil, Damaged: l.damaged.Load()}
	if l.Edition == nil {
		for _, k := range l.Signers {
			in.Keys = append(in.Keys, k.Fingerprint())
		}
		in.Err = l.errText()
		if in.Err == "" {
			in.Err = "not opened"
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

// errText is the library's error as a reader may see it: the folder the
// archive is in, and its full path, are taken out (a screen must not
// reveal where on the device the library is kept).
func (l *lib) errText() string {
	if l.Err == nil {
		return ""
	}
	return hidePaths(l.Err.Error(), l.Path)
}

// hidePaths removes p's folder from text, leaving file names.
func hidePaths(text, p string) string {
	if p == "" || !filepath.IsAbs(p) && !strings.ContainsAny(p, `/\`) {
		return text
	}
	for d := filepath.Dir(p); d != "." && d != string(filepath.Separator) && d != ""; d = filepath.Dir(d) {
		text = strings.ReplaceAll(text, d+string(filepath.Separator), "")
		text = strings.ReplaceAll(text, d, "…")
		if filepath.Dir(d) == d {
			break
		}
	}
	return text
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request) {
	p := h.newPage(r, "ferry")
	infos := make([]libInfo, 0, len(h.libs))
	known := map[string]*mirror.Known{} // read once per page and library folder
	for _, l := range h.libs {
		in := l.info()
		if l.Edition != nil && l.LibraryDir != "" {
			k, ok := known[l.LibraryDir]
			if !ok {
				k, _ = mirror.ReadKnown(l.LibraryDir) // a damaged file: nothing to show
				known[l.LibraryDir] = k
			}
			if k != nil {
				in.Newer = newerText(p, k, l.Edition.Manifest())
			}
		}
		infos = append(infos, in)
	}
	p.Data = infos
	h.render(w, http.StatusOK, "home", p)
}

// newerText says that the last 'ferry get' saw a newer edition of m's
// channel than the one shown, when it did: its number, when that get
// checked, and what it would fetch ("" otherwise).
func newerText(p *page, k *mirror.Known, m *archive.Manifest) string {
	c, ok := k.Newer(m.Channel, m.Edition)
	if !ok {
		return ""
	}
	checked := "—"
	if !c.Checked.IsZero() {
		checked = c.Checked.UTC().Format("2006-01-02")
	}
	n := c.UpdateBytes
	if n <= 0 {
		n = c.FullBytes
	}
	if n <= 0 {
		return p.F("newerNoSize", c.Latest, checked)
	}
	return p.F("newer", c.Latest, checked, humanSize(n))
}

// libFor finds the library named in the URL, or writes an error page.
func (h *Handler) libFor(w http.ResponseWriter, r *http.Request, name string) *lib {
	l := h.lookupLib(name)
	if l == nil {
		h.errorPage(w, r, http.StatusNotFound, "noLib", "notFoundHelp", name)
		return nil
	}
	if l.Edition == nil {
		if l.Untrusted {
			h.errorPage(w, r, http.StatusForbidden, "notTrusted", "notTrustedHelp", "")
			return nil
		}
		h.errorPage(w, r, http.StatusServiceUnavailable, "broken", "brokenHelp", l.Name+": "+l.errText())
		return nil
	}
	return l
}

// lookupLib finds a library by its name or its archive ID.
func (h *Handler) lookupLib(name string) *lib {
	l := h.byName[name]
	if l == nil && len(name) == 64 {
		// Links may also name an archive by its ID, which survives renaming.
		for _, x := range h.libs {
			if x.Edition != nil && x.Edition.ID() == name {
				l = x
			}
		}
	}
	return l
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
			h.redirect(w, r, entryURL(l.Name, l.Edition.Manifest().MainPage))
			return
		}
		if p == "" {
			h.redirect(w, r, "/list/"+l.Name)
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
		h.redirect(w, r, entryURL(l.Name, t.Path))
		return
	}
	if h.opts.ArchiveScripts && htmltext.IsHTML(e.MIME) {
		h.frame(w, r, l, e)
		return
	}
	h.serveEntry(w, r, l, e, false)
}

func (h *Handler) readError(w http.ResponseWriter, r *http.Request, l *lib, p string, err error) {
	status, title, help := errKind(err)
	detail := l.Name + ": " + p
	if status != http.StatusNotFound {
		detail = l.Name + ": " + hidePaths(err.Error(), l.Path)
	}
	if isDamage(err) {
		l.damaged.Store(true)
	}
	h.errorPage(w, r, status, title, help, detail)
}

// markupType tells how a browser reads an entry's type: as a page that
// gets the bar (HTML, XHTML), as XML (XHTML, SVG and other XML, which can
// navigate and define entities), or neither.
func markupType(ctype string) (isHTML, isXML bool) {
	m := strings.ToLower(ctype)
	if i := strings.IndexByte(m, ';'); i >= 0 {
		m = m[:i]
	}
	m = strings.TrimSpace(m)
	return htmltext.IsHTML(m), strings.HasSuffix(m, "/xml") || strings.HasSuffix(m, "+xml")
}

// serveEntry serves one entry; framed is a page inside the sandboxed
// frame of ArchiveScripts (no bar: the frame's parent shows it).
func (h *Handler) serveEntry(w http.ResponseWriter, r *http.Request, l *lib, e archive.Entry, framed bool) {
	nonce := newNonce()
	if framed {
		w.Header().Set("Content-Security-Policy", framedCSP)
		// The frame's origin is opaque: its own pictures and styles come
		// back as cross-origin requests.
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
	} else {
		w.Header().Set("Content-Security-Policy", h.contentCSP(nonce))
	}
	ctype := e.MIME
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	isHTML, isXML := markupType(ctype)
	if isHTML || isXML {
		if e.Size > maxInject {
			// Too big to read whole and make safe: shown as text, which
			// cannot navigate or load anything.
			ctype = "text/plain; charset=utf-8"
		} else {
			glossed := settingsOf(r).gloss && !h.opts.NoGlossary && isHTML
			k := textKey{l, e.Index}
			b, kept := []byte(nil), false
			var lay layout // b's layout, when laid
			laid := false
			if glossed {
				// A page glossed before is kept as it was sent, read-only
				// (verified when it was read), with its layout.
				b, lay, kept = h.pages.get(k)
				laid = kept
			}
			if !kept {
				// A page of an archive that keeps its marks is read into
				// a pooled buffer: glossing writes the page that is sent
				// (and kept) into a new one anyway, so a first view
				// allocates no more than without notes.
				var err error
				scratch := glossed && h.marksTable(l) != nil
				if scratch {
					b, err = readPooled(l.Edition, e)
				} else {
					b, err = l.Edition.ReadAll(e)
				}
				if err != nil {
					h.readError(w, r, l, e.Path, err)
					return
				}
				// b is this request's own copy. neutralize changes
				// attribute names in place, never text or lengths, so
				// the page's marks (found on the archive's bytes) still
				// fit it, and glossing adds only markup of its own.
				neutralize(b, isXML)
				read := b
				if glossed && hasHangul(b) {
					// Laid out before the marks go in, which need not be
					// read again (markedLayout).
					b, lay = h.gloss(l, e, b, scanHead(b))
					laid = true
				}
				if scratch {
					if len(b) == 0 || &b[0] == &read[0] {
						b = bytes.Clone(b) // not marked: out of the pool
					}
					putPooled(read)
				}
				if laid {
					h.pages.put(k, b, lay)
				}
			}
			w.Header().Set("Content-Type", ctype)
			var parts [][]byte
			if isHTML && !framed {
				page := h.newPage(r, "")
				page.In = ""
				if l.damaged.Load() {
					page.Warn = page.T["damagedParts"]
				}
				if !laid {
					lay = scanHead(b)
				}
				parts = h.injectBarAt(b, lay, page, nonce)
			} else {
				parts = [][]byte{b}
			}
			n := 0
			for _, p := range parts {
				n += len(p)
			}
			w.Header().Set("Content-Length", strconv.Itoa(n))
			if r.Method != http.MethodHead {
				writeParts(w, parts)
			}
			return
		}
	}
	w.Header().Set("Content-Type", ctype)
	var content io.ReadSeeker
	if e.Size <= maxWhole {
		// Small entries are read (and so verified) whole before the
		// status line goes out, so damage gets a proper error page.
		b, err := l.Edition.ReadAll(e)
		if err != nil {
			if isDamage(err) && strings.HasPrefix(ctype, "image/") {
				h.damagedPicture(w, r, l)
				return
			}
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
			if isDamage(err) && strings.HasPrefix(ctype, "image/") {
				h.damagedPicture(w, r, l)
				return
			}
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

// damagedPicture answers a picture that failed its check with a picture
// that says so, in the reader's language, where the picture would have
// been (a broken-image icon says nothing); the library is marked damaged.
func (h *Handler) damagedPicture(w http.ResponseWriter, r *http.Request, l *lib) {
	l.damaged.Store(true)
	p := h.newPage(r, "")
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Content-Security-Policy", uiCSP)
	w.WriteHeader(http.StatusInternalServerError)
	var b strings.Builder
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" width="240" height="90" viewBox="0 0 240 90">` +
		`<rect x="1" y="1" width="238" height="88" fill="#fdf1ef" stroke="#c0392b" stroke-width="2" stroke-dasharray="6 4"/>` +
		`<path d="M14 16 L38 40 M38 16 L14 40" stroke="#c0392b" stroke-width="4"/>` +
		`<text x="50" y="34" font-family="sans-serif" font-size="15" fill="#a12b1f">`)
	template.HTMLEscape(&b, []byte(p.T["damaged"]))
	b.WriteString(`</text><text x="14" y="66" font-family="sans-serif" font-size="12" fill="#5b1a12">`)
	template.HTMLEscape(&b, []byte(p.T["damagedShort"]))
	b.WriteString(`</text></svg>`)
	if r.Method != http.MethodHead {
		io.WriteString(w, b.String())
	}
}

// writeParts writes a page given in parts: all but the last (the head,
// the bar: a few kilobytes) gathered into one pooled buffer, then the
// last (the body) as it is. Written one by one, the small parts fill the
// server's buffers unevenly, and a page went out in three or four write
// calls where two do (a call costs more than copying the small parts).
func writeParts(w io.Writer, parts [][]byte) {
	if len(parts) < 2 {
		for _, p := range parts {
			w.Write(p)
		}
		return
	}
	bp, _ := headBufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	head := (*bp)[:0]
	for _, p := range parts[:len(parts)-1] {
		head = append(head, p...)
	}
	w.Write(head)
	w.Write(parts[len(parts)-1])
	if cap(head) <= 64<<10 {
		*bp = head
		headBufs.Put(bp)
	}
}

// headBufs pools writeParts's buffers.
var headBufs sync.Pool

// hasHangul reports whether b holds a Hangul syllable (U+AC00–U+D7A3,
// whose UTF-8 starts with 0xEA–0xED).
func hasHangul(b []byte) bool {
	for i := 0; i+2 < len(b); i++ {
		if c := b[i]; c >= 0xEA && c <= 0xED {
			r, _ := utf8.DecodeRune(b[i:])
			if r >= 0xAC00 && r <= 0xD7A3 {
				return true
			}
		}
	}
	return false
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

// random redirects to a random article of one library, or of any,
// preferring pages in the language the reader reads (a library's
// languages from its manifest; a page's from a language folder such as
// ko/ or en/, or its <html lang>).
func (h *Handler) random(w http.ResponseWriter, r *http.Request) {
	want := contentLang(settingsOf(r).lang)
	var cands []*lib
	if in := r.URL.Query().Get("in"); in != "" {
		if l := h.libFor(w, r, in); l != nil {
			cands = []*lib{l}
		} else {
			return
		}
	} else {
		var speaks []*lib
		for _, l := range h.libs {
			if l.Edition != nil && l.Edition.Manifest().Counts.Articles > 0 {
				cands = append(cands, l)
				for _, lang := range l.Edition.Manifest().Languages {
					if baseLang(lang) == want {
						speaks = append(speaks, l)
						break
					}
				}
			}
		}
		if len(speaks) > 0 {
			cands = speaks
		}
	}
	if len(cands) == 0 {
		h.errorPage(w, r, http.StatusNotFound, "notFound", "empty", "")
		return
	}
	l := cands[randN(len(cands))]
	var first archive.Entry
	// A few draws: enough to find a page of the language in a library of
	// several, bounded for one that holds none.
	for try := 0; try < 12; try++ {
		e, err := l.Edition.RandomArticle()
		if err != nil {
			h.readError(w, r, l, "", err)
			return
		}
		if try == 0 {
			first = e
		}
		if pageLang(l, e) == want {
			first = e
			break
		}
	}
	h.redirect(w, r, entryURL(l.Name, first.Path))
}

// pageLang is the language of a page: its first folder when that is a
// language code (ko/..., en/...), else its <html lang>, else the
// library's only language; "" when unknown.
func pageLang(l *lib, e archive.Entry) string {
	if seg, _, ok := strings.Cut(e.Path, "/"); ok {
		if b := baseLang(seg); knownLang(b) && len(seg) <= 3 {
			return b
		}
	}
	if sec, err := l.Edition.Open(e); err == nil {
		var head [4096]byte
		n, _ := sec.ReadAt(head[:], 0)
		if lang := htmlLangAttr(head[:n]); lang != "" {
			return baseLang(lang)
		}
	}
	if langs := l.Edition.Manifest().Languages; len(langs) == 1 {
		return baseLang(langs[0])
	}
	return ""
}

// knownLang reports a language the reader can name.
func knownLang(b string) bool { _, ok := langNames["en"][b]; return ok }

// counterpart is path (an escaped reader path) as the page of the
// library in language to, for a library that holds pages in language
// folders (ko/x.html and en/x.html); path itself when the page is in no
// such folder or the library has no page there.
func (h *Handler) counterpart(path, to string) string {
	if h == nil {
		return path
	}
	rest, ok := strings.CutPrefix(path, "/a/")
	if !ok {
		return path
	}
	name, entryPath, ok := strings.Cut(rest, "/")
	if !ok {
		return path
	}
	seg, tail, ok := strings.Cut(entryPath, "/")
	if !ok || len(seg) > 3 || !knownLang(baseLang(seg)) || baseLang(seg) == to {
		return path
	}
	l := h.lookupLib(name)
	if l == nil || l.Edition == nil {
		return path
	}
	codes := map[string]string{"ko": "kor", "en": "eng"}
	other := to
	if len(seg) == 3 {
		other = codes[to]
	}
	t, err := url.PathUnescape(tail)
	if err != nil || other == "" {
		return path
	}
	target := other + "/" + t
	if t == "" {
		target = other + "/index.html"
	}
	if _, err := l.Edition.Lookup(target); err != nil {
		return path
	}
	return "/a/" + name + "/" + other + "/" + tail
}

// CheckAll reads and verifies every archive of every library, marking the
// ones with damage so the home page and their pages say so even before a
// damaged part is opened. It reads every byte once, so run it in the
// background (go h.CheckAll(ctx)); it stops when ctx is done. It returns
// the number of libraries found damaged.
func (h *Handler) CheckAll(ctx context.Context) int {
	n := 0
	for _, l := range h.libs {
		if l.Edition == nil {
			continue
		}
		layered, ok := l.Edition.(interface{ Layers() []*archive.Reader })
		if !ok {
			continue
		}
		for _, r := range layered.Layers() {
			err := edition.Verify(ctx, r, nil)
			if ctx.Err() != nil {
				return n
			}
			if err != nil {
				l.damaged.Store(true)
				n++
				break
			}
		}
	}
	return n
}
