package harvest

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/proxy"
)

// parseHTTPURL accepts absolute http(s) URLs without user info.
func parseHTTPURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("URL %q: %w", s, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("URL %q: only absolute http and https URLs can be harvested", s)
	}
	if u.User != nil {
		return nil, fmt.Errorf("URL %q: user names and passwords in URLs are not sent", s)
	}
	u.Fragment, u.RawFragment = "", ""
	return u, nil
}

// newTransport builds the HTTP transport: no automatic decompression (the
// harvester decompresses with limits itself), an optional proxy, and the
// private-address guard.
func newTransport(o *Options) (*http.Transport, error) {
	plain := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	guarded := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !o.AllowPrivate {
		guarded.Control = guardAddress
	}
	t := &http.Transport{
		DialContext:           guarded.DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: o.Timeout,
		MaxConnsPerHost:       o.PerHost,
		MaxIdleConnsPerHost:   o.PerHost,
		IdleConnTimeout:       30 * time.Second,
		ForceAttemptHTTP2:     true,
		DisableCompression:    true,
	}
	if o.Proxy == "" {
		return t, nil
	}
	u, err := url.Parse(o.Proxy)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("harvest: proxy %q: write http://HOST:PORT or socks5://HOST:PORT", o.Proxy)
	}
	// Every connection goes to the proxy, which the publisher chose: it is
	// not subject to the private-address guard (a local Tor is 127.0.0.1).
	switch u.Scheme {
	case "http", "https":
		t.Proxy = http.ProxyURL(u)
		t.DialContext = plain.DialContext
	case "socks5", "socks5h":
		d, err := proxy.FromURL(u, plain)
		if err != nil {
			return nil, fmt.Errorf("harvest: proxy %q: %w", o.Proxy, err)
		}
		cd, ok := d.(proxy.ContextDialer)
		if !ok {
			return nil, fmt.Errorf("harvest: proxy %q: dialer without context support", o.Proxy)
		}
		t.DialContext = cd.DialContext
	default:
		return nil, fmt.Errorf("harvest: proxy %q: scheme must be http, https or socks5", o.Proxy)
	}
	return t, nil
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// guardAddress refuses connections to addresses a public web page has no
// business making the publisher's server fetch from. It runs on the resolved
// address, so DNS tricks cannot get around it.
func guardAddress(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: %s", ErrPrivate, address)
	}
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() || cgnat.Contains(ip) {
		return fmt.Errorf("%w: %s (set AllowPrivate to harvest an intranet source)", ErrPrivate, ip)
	}
	return nil
}

// gate spaces and bounds the requests to one host.
type gate struct {
	sem   chan struct{}
	mu    sync.Mutex
	next  time.Time
	delay time.Duration
}

func (g *gate) acquire(ctx context.Context) error {
	select {
	case g.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	g.mu.Lock()
	now := time.Now()
	wait := g.next.Sub(now)
	g.next = now.Add(max(wait, 0) + g.delay)
	g.mu.Unlock()
	if wait > 0 {
		if err := sleep(ctx, wait); err != nil {
			<-g.sem
			return err
		}
	}
	return nil
}

func (g *gate) release() { <-g.sem }

func (g *gate) setDelay(d time.Duration) {
	g.mu.Lock()
	g.delay = d
	g.mu.Unlock()
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// hostKey names a host with its scheme and port: robots.txt and rate limits
// are per origin.
func hostKey(u *url.URL) string { return u.Scheme + "://" + u.Host }

func (r *run) gate(u *url.URL) *gate {
	r.hostMu.Lock()
	defer r.hostMu.Unlock()
	k := hostKey(u)
	g := r.gates[k]
	if g == nil {
		g = &gate{sem: make(chan struct{}, r.o.PerHost), delay: r.o.Delay}
		r.gates[k] = g
	}
	return g
}

// fetchReq says what to fetch and under which rules.
type fetchReq struct {
	url     *url.URL
	what    string // page, article, feed, resource, robots, sitemap
	source  string
	site    string // if set, redirects must stay on this host
	maxSize int64
	robots  bool // check robots.txt (all but robots.txt itself)
	cond    bool // send conditional headers when a cached copy exists
}

// response is a fetched body, or a 304 for the cached one.
type response struct {
	url         *url.URL // after redirects
	status      int
	header      http.Header
	body        []byte // decompressed; for a 304 the cached body
	raw         int64  // bytes received over all requests for it
	notModified bool
	entry       *entry // state after the fetch
}

func (r *run) fetch(ctx context.Context, fr fetchReq) (*response, error) {
	u := fr.url
	seen := map[string]bool{}
	var raw int64
	for hop := 0; ; hop++ {
		if fr.robots {
			rb, err := r.robotsFor(ctx, u, fr.source)
			if err != nil {
				return nil, err
			}
			if !rb.allowed(u) {
				return nil, ErrRobots
			}
		}
		seen[u.String()] = true
		resp, err := r.attempts(ctx, u, fr)
		if resp != nil {
			raw += resp.raw
		}
		if err != nil {
			return resp, err
		}
		resp.raw = raw
		switch resp.status {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		default:
			return resp, nil
		}
		loc := resp.header.Get("Location")
		if loc == "" {
			return resp, fmt.Errorf("%w %d without a Location", ErrStatus, resp.status)
		}
		next, err := u.Parse(loc)
		if err != nil {
			return resp, fmt.Errorf("%w: Location %q: %v", ErrRedirectUnsafe, loc, err)
		}
		next.Fragment, next.RawFragment = "", ""
		switch {
		case next.Scheme != "http" && next.Scheme != "https":
			return resp, fmt.Errorf("%w: to a %s: URL", ErrRedirectUnsafe, next.Scheme)
		case u.Scheme == "https" && next.Scheme == "http":
			return resp, fmt.Errorf("%w: from https to plain http (%s)", ErrRedirectUnsafe, next)
		case next.User != nil:
			return resp, fmt.Errorf("%w: to a URL with a user name", ErrRedirectUnsafe)
		case fr.site != "" && next.Host != fr.site:
			return resp, fmt.Errorf("%w: redirect to %s", ErrOffSite, next.Host)
		case seen[next.String()]:
			return resp, fmt.Errorf("%w: back to %s", ErrRedirectLoop, next)
		case hop >= r.o.MaxRedirects:
			return resp, fmt.Errorf("%w (more than %d)", ErrRedirectLimit, r.o.MaxRedirects)
		}
		r.alias(u.String(), next.String())
		u = next
	}
}

// attempts makes one request, again after retryable failures.
func (r *run) attempts(ctx context.Context, u *url.URL, fr fetchReq) (*response, error) {
	g := r.gate(u)
	var raw int64
	for try := 0; ; try++ {
		var err error
		if err = g.acquire(ctx); err != nil {
			return nil, err
		}
		var resp *response
		var retryAfter time.Duration
		if fr.what == "download" {
			resp, retryAfter, err = r.downloadOnce(ctx, u, fr)
		} else {
			resp, retryAfter, err = r.once(ctx, u, fr)
		}
		g.release()
		if resp != nil {
			raw += resp.raw
			resp.raw = raw
		}
		if err == nil || try >= r.o.Retries || !retryable(err) || ctx.Err() != nil {
			return resp, err
		}
		wait := r.o.RetryBase << try
		wait = time.Duration(float64(wait) * (0.8 + 0.4*rand.Float64()))
		wait = max(wait, retryAfter)
		if wait > r.o.MaxRetryWait {
			if retryAfter > r.o.MaxRetryWait {
				return resp, fmt.Errorf("%w (the server asks to wait %s)", err, retryAfter)
			}
			wait = r.o.MaxRetryWait
		}
		if err := sleep(ctx, wait); err != nil {
			return resp, err
		}
	}
}

// statusError is an HTTP error status; 408, 429 and 5xx are retried.
type statusError struct{ code int }

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %d %s", ErrStatus, e.code, http.StatusText(e.code))
}
func (e *statusError) Unwrap() error { return ErrStatus }

func retryable(err error) bool {
	var se *statusError
	if errors.As(err, &se) {
		return se.code == 408 || se.code == 429 || se.code >= 500
	}
	if errors.Is(err, ErrPrivate) || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrBomb) ||
		errors.Is(err, ErrEncoding) || errors.Is(err, context.Canceled) {
		return false
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return dns.IsTimeout || dns.IsTemporary
	}
	var ne net.Error
	return errors.Is(err, ErrTimeout) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// once makes one HTTP request, reads the body within the limits and records
// both in the WARC. The Retry-After it returns is 0 unless the server sent one.
func (r *run) once(ctx context.Context, u *url.URL, fr fetchReq) (*response, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("User-Agent", r.h.ua)
	req.Header.Set("Accept", acceptFor(fr.what))
	req.Header.Set("Accept-Encoding", "gzip")
	var prev *entry
	if fr.cond {
		if e := r.state.get(u.String()); e != nil && e.Cache != "" && r.cacheExists(e.Cache) {
			prev = e
			if e.ETag != "" {
				req.Header.Set("If-None-Match", e.ETag)
			}
			if e.LastModified != "" {
				req.Header.Set("If-Modified-Since", e.LastModified)
			}
		}
	}
	r.countRequest()
	started := time.Now()
	resp, err := r.h.client.Do(req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return nil, 0, fmt.Errorf("%w (%s, no answer)", ErrTimeout, r.o.Timeout)
		}
		return nil, 0, err
	}
	defer resp.Body.Close()
	limit := fr.maxSize
	rawBody, truncated, readErr := readLimited(resp.Body, limit+64<<10)
	if readErr != nil && ctx.Err() == context.DeadlineExceeded {
		readErr = fmt.Errorf("%w (%s; %d bytes had come)", ErrTimeout, r.o.Timeout, len(rawBody))
		truncated = "time"
	} else if readErr != nil {
		truncated = "disconnect"
	}
	out := &response{url: u, status: resp.StatusCode, header: resp.Header, raw: int64(len(rawBody))}
	r.addBytes(int64(len(rawBody)))
	r.warc.exchange(req, resp, rawBody, truncated, started, prev)
	if readErr != nil {
		return out, 0, readErr
	}
	if truncated != "" {
		return out, 0, fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, limit)
	}
	switch {
	case resp.StatusCode == http.StatusNotModified && prev != nil:
		body, err := r.readCache(prev.Cache)
		if err != nil {
			// The cache is gone after all: fetch it whole next time.
			r.state.drop(u.String())
			return out, 0, fmt.Errorf("cached copy for a 304: %w", err)
		}
		out.body, out.notModified, out.entry = body, true, prev
		r.state.seen(u.String())
		return out, 0, nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return out, 0, nil // redirects are the caller's
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		return out, retryAfter(resp.Header), &statusError{resp.StatusCode}
	}
	body, err := decode(rawBody, resp.Header.Get("Content-Encoding"), limit, r.o.MaxRatio)
	if err != nil {
		return out, 0, err
	}
	out.body = body
	out.entry = r.store(u.String(), resp, body)
	return out, 0, nil
}

func acceptFor(what string) string {
	switch what {
	case "feed":
		return "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, */*;q=0.5"
	case "robots":
		return "text/plain, */*;q=0.5"
	case "sitemap":
		return "application/xml, text/xml, */*;q=0.5"
	case "resource":
		return "image/*, text/css, */*;q=0.5"
	}
	return "text/html, application/xhtml+xml, */*;q=0.5"
}

// readLimited reads at most limit bytes; truncated is "length" if there was
// more.
func readLimited(r io.Reader, limit int64) ([]byte, string, error) {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return buf.Bytes(), "", err
	}
	if n > limit {
		return buf.Bytes()[:limit], "length", nil
	}
	return buf.Bytes(), "", nil
}

func retryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(min(s, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// decode undoes a Content-Encoding, stopping at limit bytes and at maxRatio
// times the compressed size (plus 64 KiB slack for small bodies).
func decode(raw []byte, encoding string, limit, maxRatio int64) ([]byte, error) {
	var zr io.Reader
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "identity":
		if int64(len(raw)) > limit {
			return nil, fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, limit)
		}
		return raw, nil
	case "gzip", "x-gzip":
		g, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("gzip body: %w", err)
		}
		zr = g
	case "deflate":
		// Meant to be zlib; some servers send raw deflate.
		if z, err := zlib.NewReader(bytes.NewReader(raw)); err == nil {
			zr = z
		} else {
			zr = flate.NewReader(bytes.NewReader(raw))
		}
	default:
		return nil, fmt.Errorf("%w %q", ErrEncoding, encoding)
	}
	ratioCap := maxRatio*int64(len(raw)) + 64<<10
	capN := min(limit, ratioCap)
	out, _, err := readLimited(zr, capN)
	if err != nil {
		return nil, fmt.Errorf("decompressing: %w", err)
	}
	if int64(len(out)) >= capN {
		// readLimited cut it: was it the size or the ratio?
		if capN == ratioCap && ratioCap < limit {
			return nil, fmt.Errorf("%w (%d bytes grew past %d)", ErrBomb, len(raw), ratioCap)
		}
		return nil, fmt.Errorf("%w (more than %d bytes after decompression)", ErrTooLarge, limit)
	}
	return out, nil
}

// robotsFor returns the robots.txt policy for u's host, fetching it once per
// run. A 4xx means no rules; a 5xx or a network failure means "disallow
// all" for this run (RFC 9309 §2.3.1.4), reported as a failed "robots" URL.
func (r *run) robotsFor(ctx context.Context, u *url.URL, source string) (*robots, error) {
	k := hostKey(u)
	r.hostMu.Lock()
	e := r.robots[k]
	if e == nil {
		e = &robotsEntry{ready: make(chan struct{})}
		r.robots[k] = e
		r.hostMu.Unlock()
		e.r = r.loadRobots(ctx, u, source)
		close(e.ready)
	} else {
		r.hostMu.Unlock()
	}
	select {
	case <-e.ready:
		return e.r, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type robotsEntry struct {
	ready chan struct{}
	r     *robots
}

func (r *run) loadRobots(ctx context.Context, u *url.URL, source string) *robots {
	ru := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/robots.txt"}
	resp, err := r.fetch(ctx, fetchReq{url: ru, what: "robots", source: source, maxSize: maxRobotsSize})
	var status int
	var n int64
	if resp != nil {
		status, n = resp.status, resp.raw
	}
	var rb *robots
	var se *statusError
	switch {
	case err == nil && status >= 200 && status < 300:
		rb = parseRobots(resp.body, "ferry")
		r.event(Event{URL: ru.String(), Source: source, What: "robots", Result: Fetched, Status: status, Bytes: n})
	case errors.As(err, &se) && se.code >= 400 && se.code < 500 && se.code != 429:
		rb = allowAll
		r.event(Event{URL: ru.String(), Source: source, What: "robots", Result: Fetched, Status: status, Bytes: n})
	case err == nil:
		rb = allowAll // e.g. redirected too often: treated as unavailable (4xx)
	default:
		rb = disallowAll
		r.fail(ru.String(), source, "robots", status, n, fmt.Errorf("robots.txt unavailable, so nothing is fetched from %s this run: %w", u.Host, err))
	}
	if rb.delay > 0 {
		r.gate(u).setDelay(max(r.o.Delay, min(rb.delay, 60*time.Second)))
	}
	return rb
}
