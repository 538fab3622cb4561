// Package reader is ferry's reader: an http.Handler that serves a set of opened
// archives to a browser on the same device. It lists the libraries, serves
// their pages, pictures and media (with HTTP Range, so seeking works),
// searches them in Korean and English, suggests titles while typing, and
// offers a random page and a quick hide control.
//
// Safety is the default: every response forbids caching and referrers and
// carries a Content-Security-Policy that allows nothing from other origins,
// so archive content cannot phone home; requests are never logged and
// nothing is written to disk. Every page works without JavaScript; the one
// small script only adds title suggestions and the Esc-twice hide. The UI
// speaks standard Korean, 조선말 (North Korean words and spelling) and
// English, and marks South Korean loanwords with plain explanations
// (package glossary); both choices are kept in the URL only. See
// docs/reader.md.
package reader

import (
	"crypto/rand"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"ferry/internal/archive"
	"ferry/internal/glossary"
	"ferry/internal/key"
	"ferry/internal/sample"
)

//go:embed assets
var assets embed.FS

// barCSS is assets/bar.css, then the same rules inside @layer ferry-bar:
// browsers without cascade layers read the first copy, the others let
// the layer's important rules win over a page's layered ones (bar.go).
var barCSS = func() []byte {
	b, err := assets.ReadFile("assets/bar.css")
	if err != nil {
		panic("internal error: assets/bar.css missing: " + err.Error())
	}
	out := append([]byte{}, b...)
	out = append(out, "\n@layer ferry-bar {\n"...)
	out = append(out, b...)
	return append(out, "}\n"...)
}()

// Options tune the handler.
type Options struct {
	// Trusted lists the publisher keys the reader chose to trust; an archive
	// signed by one of them is shown as trusted.
	Trusted []key.Public
	// ArchiveScripts lets scripts stored in archives run. Pages then show
	// inside a sandboxed frame (see docs/reader.md): scripts cannot
	// navigate the tab, open windows or read other libraries. Off by
	// default.
	ArchiveScripts bool
	// AllowHosts lists extra Host header values accepted besides IP
	// literals and localhost (a guard against DNS rebinding).
	AllowHosts []string
	// NoGlossary turns word notes off for good (the reader cannot turn
	// them on).
	NoGlossary bool
	// MemoryLimit is the memory the whole process should stay within
	// (ferry serve --memory), 0 for none. The reader's own caches (page
	// texts for snippets, word-note marks, glossed pages) take at most
	// 1/64 of it each,
	// and never more than without a limit. The caller sets the runtime's
	// limit and the archive caches (archive.SetMemoryLimit).
	MemoryLimit int64
	// ShareLibrary is the library folder (made by 'ferry import') the
	// "share with a friend" page syncs with a friend's device, as 'ferry
	// sync --listen' does; "" leaves the page showing the command to run
	// instead. Nothing listens until the reader presses its button.
	ShareLibrary string
	// ShareHost is the host that page listens on: "" for loopback (this
	// device only). Set it only when the reader itself was told to listen
	// on a network address.
	ShareHost string
}

// Handler serves the libraries. It is safe for concurrent use.
type Handler struct {
	libs   []*lib
	byName map[string]*lib
	opts   Options
	mux    *http.ServeMux
	texts  heldTexts
	marks  markCache
	pages  glossedPages
	// frameKey is the secret path element of sandboxed frames
	// (ArchiveScripts): only pages the reader itself framed know it.
	frameKey string
	// share is the "share with a friend" page's listener; shareToken
	// the secret its forms carry.
	share      shareState
	shareToken string
}

type lib struct {
	Library
	trusted bool
	sample  bool // signed by the sample key
	// damaged is set once any read of the library failed its check (or
	// CheckAll found damage): the home page and every page's bar say so.
	damaged atomic.Bool
	// marksTable holds the glossary marks its archives keep (nil if none),
	// opened once on the first glossed page.
	marksOnce  sync.Once
	marksTable *glossary.EditionMarks
}

// New returns a handler serving libs, in the given order. Names are made
// URL-safe and unique.
func New(libs []Library, opts Options) *Handler {
	h := &Handler{byName: map[string]*lib{}, opts: opts, frameKey: newNonce(), shareToken: newNonce()}
	h.texts.max, h.marks.max = cacheSizes(opts.MemoryLimit)
	h.pages.max = h.texts.max
	samplePub := sample.PublicKey()
	for _, l := range libs {
		base := slug(l.Name)
		name := base
		for i := 2; h.byName[name] != nil || reservedName(name); i++ {
			name = base + "-" + strconv.Itoa(i)
		}
		l.Name = name
		if l.Err != nil {
			// A failed open may still carry a typed nil *archive.Reader.
			l.Edition = nil
		}
		x := &lib{Library: l}
		if l.Edition != nil {
			for _, k := range opts.Trusted {
				if l.Edition.SignedBy(k) {
					x.trusted = true
				}
			}
			x.sample = l.Edition.SignedBy(samplePub)
		}
		h.libs = append(h.libs, x)
		h.byName[name] = x
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", h.home)
	mux.HandleFunc("GET /a/{name}/{path...}", h.entry)
	mux.HandleFunc("GET /a/{name}", func(w http.ResponseWriter, r *http.Request) {
		h.redirect(w, r, "/a/"+url.PathEscape(r.PathValue("name"))+"/")
	})
	mux.HandleFunc("GET /f/{key}/{name}/{path...}", h.framed)
	mux.HandleFunc("GET /list/{name}", h.list)
	mux.HandleFunc("GET /search", h.search)
	mux.HandleFunc("GET /suggest", h.suggest)
	mux.HandleFunc("GET /random", h.random)
	mux.HandleFunc("GET /hide", h.hide)
	mux.HandleFunc("GET /share", h.sharePage)
	mux.HandleFunc("POST /share/start", h.shareStart)
	mux.HandleFunc("POST /share/stop", h.shareStop)
	mux.HandleFunc("GET /_/{file}", h.asset)
	// No icon: a tab with a recognisable icon gives the reader away.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			h.errorPage(w, r, http.StatusMethodNotAllowed, "badRequest", "", "")
			return
		}
		h.errorPage(w, r, http.StatusNotFound, "notFound", "notFoundHelp", "")
	})
	h.mux = mux
	return h
}

// cacheSizes are the bytes of held page texts and the marks of word notes
// the reader keeps under a memory limit: 1/64 of it each (a mark takes
// about 12 bytes and its share of a map entry, 24 in all), never more than
// the defaults, never less than a few pages' worth.
func cacheSizes(limit int64) (textBytes, markWords int) {
	if limit <= 0 {
		return heldTextBytes, markCacheWords
	}
	textBytes = int(min(heldTextBytes, max(256<<10, limit/64)))
	markWords = int(min(markCacheWords, max(10_000, limit/64/24)))
	return textBytes, markWords
}

// reservedName reports library names that would read as a settings
// prefix in a URL (/ko/, /en-g1/...).
func reservedName(n string) bool {
	_, ok := parseSegment(n)
	return ok
}

// ServeHTTP sets the safety headers and dispatches. A panic in a page is
// turned into an error page: one bad archive must not stop the reader.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	setSafety(hd)
	hd.Set("Content-Security-Policy", uiCSP)
	if crossSite(r) && !h.frameRequest(r) {
		// Another web site open in the browser must not load, time or
		// probe the library (nor put its pages in the history).
		http.Error(w, "ferry: requests from other sites are refused; open the reader's address yourself", http.StatusForbidden)
		return
	}
	if !h.hostAllowed(r.Host) {
		// A web page elsewhere could point a name it controls at
		// 127.0.0.1 (DNS rebinding) and read the library; refuse names.
		http.Error(w, "ferry: this address is not allowed; open http://127.0.0.1 instead", http.StatusMisdirectedRequest)
		return
	}
	r = withSettings(r)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.errorPage(w, r, http.StatusInternalServerError, "damaged", "damagedHelp", "")
		}
	}()
	h.mux.ServeHTTP(&safeWriter{ResponseWriter: w}, r)
}

// safeWriter puts the safety headers back if something removed them
// before the status line (http.ServeContent drops Cache-Control on its
// error replies, e.g. 416 for a bad Range).
type safeWriter struct {
	http.ResponseWriter
	wrote bool
}

func (s *safeWriter) WriteHeader(code int) {
	if !s.wrote {
		s.wrote = true
		hd := s.Header()
		hd.Set("Cache-Control", "no-store")
		if hd.Get("Content-Security-Policy") == "" {
			hd.Set("Content-Security-Policy", uiCSP)
		}
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *safeWriter) Write(b []byte) (int, error) {
	if !s.wrote {
		s.WriteHeader(http.StatusOK)
	}
	return s.ResponseWriter.Write(b)
}

// uiCSP is the policy of ferry's own pages: same origin only, no inline
// script or style, no frames, no plugins.
const uiCSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; " +
	"form-action 'self'; frame-ancestors 'none'; frame-src 'none'"

// contentCSP is the policy of archive content. Styles may be inline (most
// real pages have them; CSS can only load from this origin anyway);
// scripts run only if they carry this response's nonce (ferry's own bar
// script).
func (h *Handler) contentCSP(nonce string) string {
	return "default-src 'self'; script-src 'nonce-" + nonce + "'; style-src 'self' 'unsafe-inline'; " +
		"img-src 'self' data:; media-src 'self'; font-src 'self' data:; connect-src 'self'; " +
		"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; frame-src 'self'"
}

func newNonce() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func (h *Handler) hostAllowed(host string) bool {
	if host == "" {
		return true // HTTP/1.0 or a test request
	}
	hn := host
	if hp, _, err := net.SplitHostPort(host); err == nil {
		hn = hp
	}
	hn = strings.Trim(hn, "[]")
	if net.ParseIP(hn) != nil || hn == "localhost" || strings.HasSuffix(hn, ".localhost") {
		return true
	}
	for _, a := range h.opts.AllowHosts {
		if strings.EqualFold(a, hn) || strings.EqualFold(a, host) {
			return true
		}
	}
	return false
}

// redirect answers 302 to a path of the reader, keeping the settings.
func (h *Handler) redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, settingsOf(r).prefix()+to, http.StatusFound)
}

func (h *Handler) asset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	b, err := assets.ReadFile("assets/" + name)
	if err != nil || strings.Contains(name, "/") {
		h.errorPage(w, r, http.StatusNotFound, "notFound", "notFoundHelp", "")
		return
	}
	if name == "bar.css" {
		b = barCSS
	}
	switch {
	case strings.HasSuffix(name, ".css"):
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case strings.HasSuffix(name, ".js"):
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case strings.HasSuffix(name, ".svg"):
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	w.Write(b)
}

// hide serves the neutral blank page the hide control goes to.
func (h *Handler) hide(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, `<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">`+
		`<title>about:blank</title><link rel="stylesheet" href="/_/blank.css"></head><body></body></html>`)
}

// errKind maps a read error to the page to show.
func errKind(err error) (status int, title, help string) {
	switch {
	case errors.Is(err, archive.ErrNotFound):
		return http.StatusNotFound, "notFound", "notFoundHelp"
	default:
		return http.StatusInternalServerError, "damaged", "damagedHelp"
	}
}

// isDamage reports an error that means the library's bytes are not what
// the publisher signed.
func isDamage(err error) bool {
	return errors.Is(err, archive.ErrCorrupt) || errors.Is(err, archive.ErrTruncated) || errors.Is(err, archive.ErrSignature)
}
