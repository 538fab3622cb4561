// Package mirror carries a publisher's store to readers and to other
// mirrors over HTTP, as specified in docs/publish.md ("Mirrors and get"):
//
//   - Handler serves a store (folder or S3) read-only: the OPDS catalogue,
//     the channel list, each channel's signed index, and the archives and
//     WARCs an index names, with byte ranges and ETags.
//   - Pull keeps a full copy of a store or mirror in a folder (which is a
//     folder store, so it can be served in turn): every object checked
//     against the signed index, resumable, the indexes written only after
//     the objects they name.
//   - Get is the reader's carrier: it fetches, for the channels the
//     library trusts, the smallest download that brings each to its newest
//     edition (the delta chain or a full edition), resumes after a cut, and
//     hands what arrived to the library's one door, library.AddTo (trust,
//     rollback rules, verified copy). What it learned is kept in the
//     library folder for the reader (ReadKnown).
//
// Get and Pull read from an Origin: a mirror's URL, or a store itself.
package mirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/proxy"

	"ferry/internal/store"
)

// Origin is where Get and Pull read objects: a store.Store, or a mirror
// over HTTP (NewHTTP). Keys are those of the store layout.
type Origin interface {
	// GetRange reads length bytes of key from off (length < 0: to the
	// end); Info.Size is the whole object's size, or -1 when a web server
	// sends a whole object without saying its length.
	GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, store.Info, error)
	String() string
}

var _ Origin = store.Store(nil)

// OpenOptions tune Open.
type OpenOptions struct {
	// Proxy for HTTP origins: "http://HOST:PORT", "https://…",
	// "socks5://HOST:PORT" or "socks5h://…".
	Proxy string
	// Store configures store locations (S3 endpoint and keys).
	Store store.Options
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
	// IdleTimeout ends a download during which nothing arrives for this
	// long (default 60 s).
	IdleTimeout time.Duration
}

// Open opens an origin: an http(s):// URL of a mirror, or a store location
// (a folder, s3://BUCKET/PREFIX).
func Open(ctx context.Context, location string, opts OpenOptions) (Origin, error) {
	if strings.HasPrefix(location, "http://") || strings.HasPrefix(location, "https://") {
		return NewHTTP(location, opts)
	}
	if opts.Proxy != "" {
		return nil, fmt.Errorf("--proxy applies to http:// and https:// mirrors, not to %s", location)
	}
	return store.Open(ctx, location, opts.Store)
}

// HTTP is a mirror served over HTTP (by Handler, or any web server that
// serves a folder store with byte ranges).
type HTTP struct {
	base   *url.URL
	client *http.Client
	idle   time.Duration
}

// NewHTTP returns the origin at base, an http(s) URL of the store's root.
func NewHTTP(base string, opts OpenOptions) (*HTTP, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("mirror %q: give an http:// or https:// URL of the mirror's root, without a user name or query", base)
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
	}
	rt := opts.Transport
	if rt == nil {
		t, err := transport(opts.Proxy)
		if err != nil {
			return nil, err
		}
		rt = t
	}
	idle := opts.IdleTimeout
	if idle <= 0 {
		idle = 60 * time.Second
	}
	return &HTTP{base: u, client: &http.Client{Transport: rt}, idle: idle}, nil
}

func transport(proxyURL string) (*http.Transport, error) {
	d := &net.Dialer{Timeout: 20 * time.Second, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   20 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		IdleConnTimeout:       30 * time.Second,
		MaxIdleConnsPerHost:   4,
		ForceAttemptHTTP2:     true,
		// Archives are compressed already; a byte range must mean bytes
		// of the object.
		DisableCompression: true,
	}
	if proxyURL == "" {
		return t, nil
	}
	u, err := url.Parse(proxyURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("proxy %q: write http://HOST:PORT or socks5://HOST:PORT", proxyURL)
	}
	switch u.Scheme {
	case "http", "https":
		t.Proxy = http.ProxyURL(u)
	case "socks5", "socks5h":
		pd, err := proxy.FromURL(u, d)
		if err != nil {
			return nil, fmt.Errorf("proxy %q: %w", proxyURL, err)
		}
		cd, ok := pd.(proxy.ContextDialer)
		if !ok {
			return nil, fmt.Errorf("proxy %q: dialer without context support", proxyURL)
		}
		t.DialContext = cd.DialContext
	default:
		return nil, fmt.Errorf("proxy %q: the scheme must be http, https or socks5", proxyURL)
	}
	return t, nil
}

// String is the mirror's URL.
func (h *HTTP) String() string { return h.base.String() }

// url is the URL of a key, each segment escaped.
func (h *HTTP) url(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return h.base.String() + strings.Join(segs, "/")
}

// GetRange implements Origin.
func (h *HTTP) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, store.Info, error) {
	if err := store.ValidKey(key); err != nil {
		return nil, store.Info{}, err
	}
	if off < 0 {
		return nil, store.Info{}, fmt.Errorf("negative offset %d", off)
	}
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.url(key), nil)
	if err != nil {
		cancel()
		return nil, store.Info{}, err
	}
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "ferry-get/1")
	switch {
	case length > 0:
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+length-1))
	case length == 0:
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off)) // size and ETag only
	case off > 0:
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", off))
	}
	resp, err := h.client.Do(req)
	if err != nil {
		cancel()
		return nil, store.Info{}, fmt.Errorf("%s: %w", h.url(key), err)
	}
	info := store.Info{Key: key, ETag: strings.TrimPrefix(strings.Trim(resp.Header.Get("ETag"), `"`), `W/"`)}
	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		info.ModTime = t
	}
	fail := func(err error) (io.ReadCloser, store.Info, error) {
		resp.Body.Close()
		cancel()
		return nil, store.Info{}, err
	}
	skip := int64(0)
	switch resp.StatusCode {
	case http.StatusOK:
		info.Size = resp.ContentLength
		skip = off // a server that ignores ranges: skip to off
	case http.StatusPartialContent:
		start, total, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != off {
			return fail(fmt.Errorf("%s: answered with range %q to a request from byte %d", h.url(key), resp.Header.Get("Content-Range"), off))
		}
		info.Size = total
	case http.StatusNotFound, http.StatusGone:
		return fail(fmt.Errorf("%s: %w", h.url(key), store.ErrNotFound))
	case http.StatusRequestedRangeNotSatisfiable:
		if _, total, ok := parseContentRange(resp.Header.Get("Content-Range")); ok && total == off {
			resp.Body.Close()
			cancel()
			return io.NopCloser(strings.NewReader("")), store.Info{Key: key, Size: total, ETag: info.ETag}, nil
		}
		return fail(fmt.Errorf("%s: %w", h.url(key), store.ErrRange))
	default:
		return fail(fmt.Errorf("%s: the mirror answered %s", h.url(key), resp.Status))
	}
	if info.Size < 0 && off > 0 {
		return fail(fmt.Errorf("%s: the mirror did not say how large it is", h.url(key)))
	}
	body := newIdleReader(resp.Body, h.idle, cancel)
	if skip > 0 {
		if _, err := io.CopyN(io.Discard, body, skip); err != nil {
			body.Close()
			return nil, store.Info{}, fmt.Errorf("%s: %w", h.url(key), err)
		}
	}
	if length == 0 {
		body.Close()
		return io.NopCloser(strings.NewReader("")), info, nil
	}
	var rc io.ReadCloser = body
	if length > 0 {
		rc = struct {
			io.Reader
			io.Closer
		}{io.LimitReader(body, length), body}
	}
	return rc, info, nil
}

// parseContentRange reads "bytes START-END/TOTAL" (or "bytes */TOTAL").
func parseContentRange(s string) (start, total int64, ok bool) {
	rest, found := strings.CutPrefix(s, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, false
	}
	total, err := strconv.ParseInt(tot, 10, 64)
	if err != nil || total < 0 {
		return 0, 0, false
	}
	if rng == "*" {
		return 0, total, true
	}
	a, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err = strconv.ParseInt(a, 10, 64)
	return start, total, err == nil && start >= 0
}

// idleReader ends a body during which nothing arrives for the idle time: a
// connection that stalls (a cut the network does not report) fails instead
// of hanging, and the bytes that came are kept for a resume.
type idleReader struct {
	r      io.ReadCloser
	idle   time.Duration
	timer  *time.Timer
	cancel context.CancelFunc
	mu     sync.Mutex
	fired  bool
}

// ErrStalled reports a download during which nothing arrived for too long.
var ErrStalled = errors.New("mirror: nothing arrived for too long (the connection stalled)")

func newIdleReader(r io.ReadCloser, idle time.Duration, cancel context.CancelFunc) *idleReader {
	ir := &idleReader{r: r, idle: idle, cancel: cancel}
	ir.timer = time.AfterFunc(idle, func() {
		ir.mu.Lock()
		ir.fired = true
		ir.mu.Unlock()
		cancel()
	})
	return ir
}

func (ir *idleReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	if n > 0 {
		ir.timer.Reset(ir.idle)
	}
	if err != nil && err != io.EOF {
		ir.mu.Lock()
		fired := ir.fired
		ir.mu.Unlock()
		if fired {
			err = fmt.Errorf("%w (%s)", ErrStalled, ir.idle)
		}
	}
	return n, err
}

func (ir *idleReader) Close() error {
	ir.timer.Stop()
	err := ir.r.Close()
	ir.cancel()
	return err
}

// readSmall reads a whole small object, refusing one over limit bytes.
func readSmall(ctx context.Context, o Origin, key string, limit int64) ([]byte, store.Info, error) {
	rc, info, err := o.GetRange(ctx, key, 0, -1)
	if err != nil {
		return nil, info, err
	}
	defer rc.Close()
	if info.Size > limit { // -1: not said; the limit below still holds
		return nil, info, fmt.Errorf("%s at %s is %d bytes, more than it may be (%d)", key, o, info.Size, limit)
	}
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, info, fmt.Errorf("reading %s from %s: %w", key, o, err)
	}
	if int64(len(b)) > limit {
		return nil, info, fmt.Errorf("%s at %s is more than %d bytes", key, o, limit)
	}
	return b, info, nil
}
