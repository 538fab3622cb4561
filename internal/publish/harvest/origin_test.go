package harvest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/text/encoding/korean"
)

// origin is a local web server for the tests: made-up pages with ETags,
// hostile responses, redirects and a robots.txt, and counts of what was
// asked for.
type origin struct {
	*httptest.Server
	mu     sync.Mutex
	hits   map[string]int
	agents map[string]bool
	pages  map[string]string // path → HTML
	noETag bool
	flaky  int // 503s still to give on /flaky.html
	extra  http.Handler
}

func newOrigin(t *testing.T) *origin {
	o := &origin{hits: map[string]int{}, agents: map[string]bool{}, pages: map[string]string{}, flaky: 1}
	o.pages["/"] = `<!DOCTYPE html><html><head><title>Home  page</title><link rel="stylesheet" href="/style.css"></head><body>
<h1>Home</h1><img src="/img/logo.png" srcset="/img/logo-2x.png 2x">
<a href="/a.html">A</a> <a href="b/">B</a> <a href="/private/secret.html">secret</a> <a href="/private/ok.html">ok</a>
<a href="http://elsewhere.invalid/x">other site</a> <a href="mailto:x@example.org">mail</a> <a href="javascript:alert(1)">js</a>
<a href="/a.html#part">A again</a> <a href="/skip/me.html">excluded</a>
<a href="/slow.html">slow</a> <a href="/huge.html">huge</a> <a href="/bomb.html">bomb</a> <a href="/loop1">loop</a>
<a href="/to-ftp">ftp</a> <a href="/offsite">offsite</a> <a href="/err500.html">500</a> <a href="/flaky.html">flaky</a>
<a href="/euckr.html">korean</a> <a href="/latin1.html">latin1</a> <a href="/moved.html">moved</a> <a href="/missing.html">missing</a>
</body></html>`
	o.pages["/a.html"] = `<html><head><title>A</title></head><body><p>Page A.</p><a href="/a/deeper.html">deeper</a><img src="img/a.png"></body></html>`
	o.pages["/a/deeper.html"] = `<html><head><title>Deeper</title></head><body><a href="/a/deepest.html">deepest</a></body></html>`
	o.pages["/a/deepest.html"] = `<html><head><title>Deepest</title></head><body>too deep</body></html>`
	o.pages["/b/"] = `<html><head><title>B index</title><base href="/b/sub/"></head><body><a href="c.html">C</a></body></html>`
	o.pages["/b/sub/c.html"] = `<html><head><title>C</title></head><body><a href="../../a.html">back to A</a></body></html>`
	o.pages["/private/ok.html"] = `<html><head><title>OK</title></head><body>allowed by an Allow line</body></html>`
	o.pages["/private/secret.html"] = `<html><head><title>Secret</title></head><body>robots says no</body></html>`
	o.pages["/skip/me.html"] = `<html><head><title>Skip</title></head><body>excluded by a pattern</body></html>`
	o.pages["/flaky.html"] = `<html><head><title>Flaky</title></head><body>second try works</body></html>`
	o.pages["/target.html"] = `<html><head><title>Target</title></head><body>where /moved.html leads</body></html>`
	o.pages["/from-sitemap.html"] = `<html><head><title>Only in the sitemap</title></head><body>linked from nowhere</body></html>`
	o.Server = httptest.NewServer(o)
	t.Cleanup(o.Close)
	return o
}

func (o *origin) count(path string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits[path]
}

func etagOf(b []byte) string {
	h := sha256.Sum256(b)
	return `"` + hex.EncodeToString(h[:8]) + `"`
}

// serve answers with body, an ETag, and 304 for a matching If-None-Match.
func (o *origin) serve(w http.ResponseWriter, r *http.Request, ctype string, body []byte) {
	w.Header().Set("Content-Type", ctype)
	if !o.noETag {
		et := etagOf(body)
		w.Header().Set("ETag", et)
		if r.Header.Get("If-None-Match") == et {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.Write(body)
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.hits[r.URL.Path]++
	o.agents[r.UserAgent()] = true
	page, isPage := o.pages[r.URL.Path]
	flaky := r.URL.Path == "/flaky.html" && o.flaky > 0
	if flaky {
		o.flaky--
	}
	o.mu.Unlock()
	p := r.URL.Path
	switch {
	case flaky:
		w.Header().Set("Retry-After", "0")
		http.Error(w, "try again", http.StatusServiceUnavailable)
	case isPage:
		o.serve(w, r, "text/html; charset=utf-8", []byte(page))
	case p == "/robots.txt":
		o.serve(w, r, "text/plain", []byte("# test robots\nUser-agent: *\nDisallow: /\n\nUser-agent: Ferry/1\nDisallow: /private/\nAllow: /private/ok.html\n\nSitemap: "+o.URL+"/sitemap.xml\n"))
	case p == "/sitemap.xml":
		o.serve(w, r, "application/xml", []byte(`<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>`+o.URL+`/from-sitemap.html</loc></url><url><loc>http://elsewhere.invalid/x</loc></url></urlset>`))
	case p == "/style.css":
		o.serve(w, r, "text/css", []byte("body { color: #333 }"))
	case strings.HasPrefix(p, "/img/"):
		o.serve(w, r, "image/png", append([]byte("\x89PNG\r\n\x1a\n"), []byte(p)...))
	case p == "/slow.html":
		// An endless drip: a byte every 50 ms.
		w.Header().Set("Content-Type", "text/html")
		for i := 0; ; i++ {
			if _, err := w.Write([]byte("x")); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	case p == "/huge.html":
		w.Header().Set("Content-Type", "text/html")
		chunk := bytes.Repeat([]byte("<p>huge</p>"), 10000)
		for i := 0; i < 200; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	case p == "/bomb.html":
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb)
	case p == "/loop1":
		http.Redirect(w, r, "/loop2", http.StatusFound)
	case p == "/loop2":
		http.Redirect(w, r, "/loop1", http.StatusMovedPermanently)
	case p == "/to-ftp":
		http.Redirect(w, r, "ftp://example.org/file", http.StatusFound)
	case p == "/offsite":
		http.Redirect(w, r, "http://elsewhere.invalid/", http.StatusFound)
	case p == "/moved.html":
		http.Redirect(w, r, "/target.html", http.StatusMovedPermanently)
	case p == "/err500.html":
		http.Error(w, "broken", http.StatusInternalServerError)
	case p == "/euckr.html":
		// EUC-KR, and nothing says so.
		b, _ := korean.EUCKR.NewEncoder().Bytes([]byte("<html><head><title>한국어 쪽</title></head><body><p>모든 인간은 태어날 때부터 자유로우며 그 존엄과 권리에 있어 동등하다.</p></body></html>"))
		o.serve(w, r, "text/html", b)
	case p == "/latin1.html":
		o.serve(w, r, "text/html; charset=iso-8859-1", []byte("<html><head><title>Caf\xe9</title></head><body>na\xefve</body></html>"))
	case o.extra != nil:
		o.extra.ServeHTTP(w, r)
	default:
		http.NotFound(w, r)
	}
}

// bomb is 20 MB of zeros gzipped to about 20 KB.
var bomb = func() []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zero := make([]byte, 1<<20)
	for range 20 {
		zw.Write(zero)
	}
	zw.Close()
	return b.Bytes()
}()

func fmtHits(o *origin) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return fmt.Sprint(o.hits)
}
