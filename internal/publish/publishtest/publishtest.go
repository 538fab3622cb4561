// Package publishtest holds what the tests of the publisher's service share:
// a local origin web server on loopback that serves a site (pages of our
// own writing, or real pages from the shared test data) with ETags, a
// robots.txt and hostile answers, and helpers that write a signing key
// and a channel config. Tests only.
package publishtest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"ferry/internal/key"
)

// Origin is a web server on loopback serving a site from a file tree.
type Origin struct {
	*httptest.Server
	mu   sync.Mutex
	site fs.FS
	hits map[string]int
	// Robots is the robots.txt served (default: allow all but /private/).
	Robots string
}

// NewOrigin serves site until the test ends.
func NewOrigin(t testing.TB, site fs.FS) *Origin {
	o := &Origin{site: site, hits: map[string]int{},
		Robots: "User-agent: *\nDisallow: /private/\n"}
	bomb() // made now, not while a harvest's timeout runs
	o.Server = httptest.NewServer(o)
	t.Cleanup(o.Close)
	return o
}

// Set replaces the site (the next edition of it).
func (o *Origin) Set(site fs.FS) {
	o.mu.Lock()
	o.site = site
	o.mu.Unlock()
}

// Hits says how often path was asked for.
func (o *Origin) Hits(p string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.hits[p]
}

// bomb is 16 MB of zeros gzipped to about 16 KB, past any ratio a page
// has: one member of 1 MB repeated (a gzip stream may hold several), so it
// is made in milliseconds, and before the server answers anything.
var bomb = sync.OnceValue(func() []byte {
	var m bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&m, gzip.BestCompression)
	zw.Write(make([]byte, 1<<20))
	zw.Close()
	return bytes.Repeat(m.Bytes(), 16)
})

// ServeHTTP serves the site: a folder's index.html for a path ending in /,
// each file with an ETag (304 for a matching If-None-Match) and its type
// from the extension. Some paths are hostile whatever the site holds:
// /hostile/slow.html drips a byte every 50 ms for ever, /hostile/huge.html
// is 22 MB, /hostile/bomb.html a gzip bomb, /hostile/loop1 a redirect loop,
// /hostile/500.html an error, /hostile/euckr.html EUC-KR that does not say so.
func (o *Origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.hits[r.URL.Path]++
	site := o.site
	robots := o.Robots
	o.mu.Unlock()
	p := r.URL.Path
	switch p {
	case "/robots.txt":
		serve(w, r, "text/plain", []byte(robots))
		return
	case "/hostile/slow.html":
		w.Header().Set("Content-Type", "text/html")
		for {
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
	case "/hostile/huge.html":
		w.Header().Set("Content-Type", "text/html")
		chunk := bytes.Repeat([]byte("<p>huge</p>"), 10000)
		for range 200 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		return
	case "/hostile/bomb.html":
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb())
		return
	case "/hostile/loop1":
		http.Redirect(w, r, "/hostile/loop2", http.StatusFound)
		return
	case "/hostile/loop2":
		http.Redirect(w, r, "/hostile/loop1", http.StatusFound)
		return
	case "/hostile/500.html":
		http.Error(w, "broken", http.StatusInternalServerError)
		return
	case "/hostile/euckr.html":
		// "대한민국" in EUC-KR, undeclared.
		serve(w, r, "text/html", []byte("<html><head><title>\xb4\xeb\xc7\xd1\xb9\xce\xb1\xb9</title></head><body><p>\xb4\xeb\xc7\xd1\xb9\xce\xb1\xb9</p></body></html>"))
		return
	}
	name := strings.TrimPrefix(p, "/")
	if name == "" || strings.HasSuffix(name, "/") {
		name += "index.html"
	}
	b, err := fs.ReadFile(site, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = http.DetectContentType(b)
	}
	serve(w, r, ctype, b)
}

func serve(w http.ResponseWriter, r *http.Request, ctype string, body []byte) {
	h := sha256.Sum256(body)
	et := `"` + hex.EncodeToString(h[:8]) + `"`
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("ETag", et)
	if r.Header.Get("If-None-Match") == et {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write(body)
}

// DirFS reads a real folder into a map, so a test can serve (and edit) a
// copy of shared test data without writing it anywhere.
func DirFS(t testing.TB, dir string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		m[filepath.ToSlash(rel)] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Key writes NAME.key and NAME.pub into dir and returns the secret key and
// the two paths.
func Key(t testing.TB, dir, name string) (*key.Secret, string, string) {
	t.Helper()
	s, err := key.Generate()
	if err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, name)
	if err := key.WriteFiles(base, s, name); err != nil {
		t.Fatal(err)
	}
	return s, base + ".key", base + ".pub"
}

// Channel is one [[channel]] of a test config.
type Channel struct {
	Name, Title, Key, Store string
	// Extra is TOML added to the channel table (e.g. "budget = \"2MB\"").
	Extra string
	// Sources are [[channel.source]] bodies, e.g. `site = "http://…"`.
	Sources []string
}

// Config writes a channel config into dir/name with a [harvest] table fit
// for tests (loopback allowed, no delay, short timeouts, state in
// stateDir) and returns its path.
func Config(t testing.TB, dir, name, stateDir string, chans ...Channel) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "[harvest]\ncontact = \"https://ferry.invalid/test\"\ndelay = \"0s\"\ntimeout = \"5s\"\nretries = 0\nconcurrency = 4\nper_host = 4\nallow_private = true\nstate = %q\n\n", filepath.ToSlash(stateDir))
	for _, c := range chans {
		title := c.Title
		if title == "" {
			title = c.Name
		}
		fmt.Fprintf(&b, "[[channel]]\nname = %q\ntitle = %q\nlanguages = [\"ko\", \"en\"]\nkey = %q\nstore = %q\n%s\n", c.Name, title,
			filepath.ToSlash(c.Key), filepath.ToSlash(c.Store), c.Extra)
		for _, s := range c.Sources {
			fmt.Fprintf(&b, "[[channel.source]]\n%s\n\n", s)
		}
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
