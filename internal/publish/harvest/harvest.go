// Package harvest fetches a publisher's web sources — sites and RSS/Atom/JSON
// feeds — into a folder of pages for packing, politely and safely, as
// specified in docs/publish.md ("Harvesting").
//
// Politeness: robots.txt is honoured (RFC 9309, product token "ferry"), with
// a per-host delay and concurrency limit, an honest User-Agent, conditional
// GET (ETag, Last-Modified) so unchanged pages cost a 304, and retries with
// backoff on 429 and 5xx (honouring Retry-After).
//
// Safety: every response has a time limit for the whole body (a slow drip
// ends), a size limit after decompression and a compression-ratio limit (a
// gzip bomb ends), redirects are followed by hand (at most MaxRedirects, no
// loops, http and https only, never https to http, same host for site pages),
// text is converted to UTF-8, and by default nothing is fetched from
// loopback, private or link-local addresses. A failing URL is an error in
// the Summary; the harvest goes on.
//
// Audit: every request and response goes into one WARC file per run
// (github.com/nlnwa/gowarc), 304s as revisit records, so an edition can be
// rebuilt and checked offline.
//
// The library never prints; Options.Progress receives events.
package harvest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Version goes into the User-Agent.
const Version = "1"

// Kind is what a Source is.
type Kind string

// The kinds of source.
const (
	Feed Kind = "feed" // an RSS, Atom or JSON feed; items' articles are fetched
	Site Kind = "site" // a site crawled from a start page
	File Kind = "url"  // one file (a ZIM, WARC, EPUB…) downloaded whole
)

// Source is one thing to harvest.
type Source struct {
	Kind Kind
	URL  string
	// Site: how many links away from the start page to go (0: the start
	// page only). Sitemap URLs count as one link away.
	Depth int
	// Site: pages at most; feed: items at most. 0: 1000 pages / 200 items.
	MaxPages int
	// Globs over the URL path ('*' within a segment, '**' across, '?', [..]).
	// A page must match one Include (if any) and no Exclude. A site's start
	// page is always fetched. For feeds they filter the articles' URLs.
	Include, Exclude []string
	Sitemap          bool  // site: also take pages from the sitemaps robots.txt names, else /sitemap.xml
	Articles         bool  // feed: fetch each item's page and extract its main text (else the feed's own content)
	Resources        bool  // fetch the images and style sheets pages use
	MaxSize          int64 // url (File): largest download (default 8 GB); MaxPageSize does not apply
}

// Options configure a Harvester. Zero values take the defaults given.
type Options struct {
	// Out is the folder the pages are written to, one folder per host.
	// It is emptied at the start of each run (it must be empty, missing,
	// or a folder a previous run wrote).
	Out string
	// StateDir keeps what makes the next run cheap and auditable:
	// state.json (ETags, dates), cache/ (the bodies conditional GET
	// relies on) and warc/ (one WARC file per run). Required.
	StateDir string

	Contact      string        // URL or e-mail for site operators, put in the User-Agent
	UserAgent    string        // replaces the whole User-Agent (default "ferry/1 (+CONTACT)")
	Proxy        string        // "http://HOST:PORT", "https://…", "socks5://HOST:PORT"
	Delay        time.Duration // least time between requests to one host (default 1s; robots.txt Crawl-delay up to 60s wins if longer)
	PerHost      int           // requests at once to one host (default 2)
	Concurrency  int           // requests at once in all (default 8)
	Timeout      time.Duration // for one response, headers and whole body (default 30s)
	MaxPageSize  int64         // largest body after decompression (default 10 MB)
	MaxRatio     int64         // largest decompressed/compressed ratio (default 100)
	Retries      int           // further tries after a timeout, 408, 429, 5xx (default 2; -1 for none)
	RetryBase    time.Duration // first backoff, doubled each try (default 1s)
	MaxRetryWait time.Duration // longest backoff or Retry-After waited (default 60s)
	MaxRedirects int           // default 5
	MaxResources int           // resources per source at most (default 5000)

	// AllowPrivate lets the harvester connect to loopback, private and
	// link-local addresses (tests; an intranet source). With a proxy the
	// proxy resolves names, so this check applies to the proxy only.
	AllowPrivate bool

	// Progress, if set, receives an event after each URL; calls are
	// serialized, never concurrent.
	Progress func(Event)

	// Transport replaces the HTTP transport (then Proxy and AllowPrivate are
	// up to it).
	Transport http.RoundTripper
}

// Event reports one finished URL.
type Event struct {
	URL    string
	Source string // the Source's URL
	What   string // "page", "article", "feed", "resource", "download", "robots", "sitemap"
	Result Result
	Status int   // HTTP status, 0 if none
	Bytes  int64 // bytes received for it
	Err    error // with Result == Failed or Skipped
	// Done and Queued count URLs of this run so far.
	Done, Queued int
}

// Result is what became of a URL.
type Result string

// The results.
const (
	Fetched   Result = "fetched"   // 2xx, new or changed content
	Unchanged Result = "unchanged" // 304, the cached copy was used
	Failed    Result = "failed"    // an error; see Err
	Skipped   Result = "skipped"   // not fetched: robots.txt, a pattern, a limit, off-site
)

// Summary is the outcome of a run.
type Summary struct {
	Fetched, Unchanged, Failed, Skipped int
	Requests                            int   // HTTP requests made, with robots.txt, redirects and retries
	Bytes                               int64 // bytes received (as sent, before decompression)
	Duration                            time.Duration
	WARC                                string // the run's WARC file
	Pages                               []Page // what was written to Out, sorted by File
	Errors                              []*URLError
}

// Page is one file written to Out.
type Page struct {
	URL     string // where it came from (after redirects)
	File    string // slash-separated path under Out
	Title   string // for HTML pages and articles
	Type    string // media type, e.g. "text/html"
	What    string // "page", "article", "feed" (a feed's index page), "resource"
	Source  string
	Changed bool // fetched this run (false: unchanged since the last run)
}

// URLError is a failure to harvest one URL.
type URLError struct {
	URL    string
	Source string
	Err    error
}

func (e *URLError) Error() string { return e.URL + ": " + e.Err.Error() }
func (e *URLError) Unwrap() error { return e.Err }

// Errors a URLError may wrap, checked with errors.Is.
var (
	ErrRobots         = errors.New("harvest: robots.txt disallows it")
	ErrTooLarge       = errors.New("harvest: response larger than the size limit")
	ErrBomb           = errors.New("harvest: compressed response expands beyond the ratio limit (a compression bomb?)")
	ErrTimeout        = errors.New("harvest: response not complete within the time limit")
	ErrRedirectLoop   = errors.New("harvest: redirect loop")
	ErrRedirectLimit  = errors.New("harvest: too many redirects")
	ErrRedirectUnsafe = errors.New("harvest: unsafe redirect")
	ErrOffSite        = errors.New("harvest: outside the site")
	ErrStatus         = errors.New("harvest: HTTP error status")
	ErrPrivate        = errors.New("harvest: address is loopback, private or link-local")
	ErrEncoding       = errors.New("harvest: unsupported Content-Encoding")
	ErrLimit          = errors.New("harvest: over the page or resource limit")
	ErrExcluded       = errors.New("harvest: excluded by a pattern")
)

// Harvester runs harvests with one set of options; one Run at a time.
type Harvester struct {
	opts   Options
	client *http.Client
	ua     string
	mu     sync.Mutex // serializes Run
}

// New checks opts and prepares a Harvester.
func New(opts Options) (*Harvester, error) {
	if opts.Out == "" || opts.StateDir == "" {
		return nil, errors.New("harvest: Options.Out and Options.StateDir are required")
	}
	o := &opts
	setDefault(&o.Delay, time.Second)
	setDefault(&o.PerHost, 2)
	setDefault(&o.Concurrency, 8)
	setDefault(&o.Timeout, 30*time.Second)
	setDefault(&o.MaxPageSize, 10_000_000)
	setDefault(&o.MaxRatio, 100)
	setDefault(&o.RetryBase, time.Second)
	setDefault(&o.MaxRetryWait, 60*time.Second)
	setDefault(&o.MaxRedirects, 5)
	setDefault(&o.MaxResources, 5000)
	switch {
	case o.Retries == 0:
		o.Retries = 2
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.Delay < 0 {
		o.Delay = 0
	}
	if o.PerHost < 1 || o.Concurrency < 1 || o.MaxPageSize < 1 {
		return nil, errors.New("harvest: PerHost, Concurrency and MaxPageSize must be at least 1")
	}
	h := &Harvester{opts: *o}
	h.ua = o.UserAgent
	if h.ua == "" {
		h.ua = "ferry/" + Version + " (offline reading for people without internet; +https://ferry.invalid/harvest"
		if o.Contact != "" {
			h.ua = "ferry/" + Version + " (offline reading for people without internet; +" + o.Contact
		}
		h.ua += ")"
	}
	rt := o.Transport
	if rt == nil {
		t, err := newTransport(o)
		if err != nil {
			return nil, err
		}
		rt = t
	}
	h.client = &http.Client{
		Transport: rt,
		// Redirects are followed by hand, one checked request at a time.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return h, nil
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// UserAgent is the User-Agent header the harvester sends.
func (h *Harvester) UserAgent() string { return h.ua }

// Run harvests sources into Out. It returns an error only when it cannot
// work at all (Out or StateDir unusable, the context cancelled); failing URLs
// are in Summary.Errors. The state and WARC are kept even after an error.
func (h *Harvester) Run(ctx context.Context, sources []Source) (*Summary, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, s := range sources {
		if s.Kind != Feed && s.Kind != Site && s.Kind != File {
			return nil, fmt.Errorf("harvest: source %d (%s): kind %q is not feed, site or url", i+1, s.URL, s.Kind)
		}
		if _, err := parseHTTPURL(s.URL); err != nil {
			return nil, fmt.Errorf("harvest: source %d: %w", i+1, err)
		}
		for _, p := range append(append([]string{}, s.Include...), s.Exclude...) {
			if _, err := compileGlob(p); err != nil {
				return nil, fmt.Errorf("harvest: source %d (%s): pattern %q: %w", i+1, s.URL, p, err)
			}
		}
	}
	for _, d := range []string{h.opts.StateDir, filepath.Join(h.opts.StateDir, "cache"), filepath.Join(h.opts.StateDir, "warc")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("harvest: state folder: %w", err)
		}
	}
	if err := prepareOut(h.opts.Out); err != nil {
		return nil, err
	}
	r, err := newRun(h, ctx)
	if err != nil {
		return nil, err
	}
	return r.run(sources)
}
