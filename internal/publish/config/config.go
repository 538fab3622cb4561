// Package config reads a publisher's channel config, the TOML file that
// `ferry publish -c CONFIG` takes, as specified in docs/publish.md
// ("The channel config").
//
// Load checks everything it can without touching the network or the store:
// unknown keys (a typo must not silently drop a source), missing or
// conflicting values, malformed URLs, sizes and durations. Every error names
// the file, the line where it knows it, the channel and the source, and what
// to write instead. Relative paths are made absolute against the config
// file's folder, so the result does not depend on the working directory.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
)

// Config is a whole channel config file.
type Config struct {
	// Path is the absolute path of the file read.
	Path string
	// Harvest applies to every web source of every channel.
	Harvest Harvest
	// S3 configures every s3:// store; empty fields come from the AWS
	// environment variables.
	S3 S3
	// Channels in file order; names are unique.
	Channels []Channel
}

// Harvest is the [harvest] table: how politely to fetch from the web.
type Harvest struct {
	Contact     string        // URL or e-mail put in the User-Agent so site operators can reach the publisher
	Proxy       string        // "http://HOST:PORT", "https://…" or "socks5://HOST:PORT"; "" for none
	Delay       time.Duration // least time between two requests to one host (default 1s)
	PerHost     int           // requests at once to one host (default 2)
	Concurrency int           // requests at once in all (default 8)
	Timeout     time.Duration // for one whole response (default 30s)
	MaxPageSize int64         // largest response body kept, decompressed (default 10 MB)
	Retries     int           // further tries after a timeout or 5xx/429 (default 2)
	State       string        // absolute folder for conditional-GET state and WARCs (default: "harvest" beside the config)
	// AllowPrivate lets sources on loopback, private and link-local
	// addresses be fetched (an intranet site; tests). Off by default, so
	// that a page cannot make the publisher's server fetch from its own
	// network.
	AllowPrivate bool
}

// S3 is the [s3] table.
type S3 struct {
	Endpoint        string // e.g. "https://s3.example.org"
	Region          string
	AccessKeyID     string // better in AWS_ACCESS_KEY_ID than in a file
	SecretAccessKey string // better in AWS_SECRET_ACCESS_KEY than in a file
	PathStyle       bool
}

// Channel is one [[channel]].
type Channel struct {
	Name         string   // channel ID, e.g. "news-ko": lowercase letters, digits, '-', '_', '.'
	Title        string   // shown to readers
	Description  string   // optional
	Publisher    string   // optional
	Languages    []string // e.g. ["ko", "en"]
	Key          string   // absolute path of the secret signing key ('ferry keygen')
	Store        string   // absolute folder path, or "s3://BUCKET/PREFIX"
	Cadence      time.Duration
	Images       string // "keep", "shrink" or "drop" (as ferry pack --images)
	ImageMax     int    // with images = "shrink": largest width or height in pixels
	ImageQuality int    // with images = "shrink": JPEG quality 1–100
	Budget       int64  // largest edition in bytes; 0: no limit
	// ChainLimit and MaxChain say when the chain of deltas readers follow
	// starts again from a full edition: when its deltas together would
	// exceed ChainLimit times the full edition's size, or it would have
	// more than MaxChain deltas.
	ChainLimit float64
	MaxChain   int
	Sources    []Source
}

// Kind says what a Source is.
type Kind string

// The kinds of source.
const (
	KindFeed Kind = "feed" // an RSS, Atom or JSON feed; each item's article is fetched
	KindSite Kind = "site" // a site crawled from a start URL
	KindPath Kind = "path" // a local folder or file, as ferry pack takes
	KindURL  Kind = "url"  // one remote file (ZIM, WARC, EPUB…) downloaded whole
)

// Source is one [[channel.source]].
type Source struct {
	Kind Kind
	// Location is the feed, site or file URL, or the absolute path.
	Location  string
	Depth     int      // site: links followed from the start page (default 2)
	MaxPages  int      // site: pages at most (default 1000); feed: items at most (default 200)
	Include   []string // site and feed: URL path globs a page must match (any); path: file globs
	Exclude   []string // site and feed: URL path globs that rule a page out; path: file globs
	Sitemap   bool     // site: also start from /sitemap.xml (default true)
	Articles  bool     // feed: fetch each item's linked page and extract its main text (default true)
	Resources bool     // site and feed: fetch the images and styles pages use (default true)
	MaxSize   int64    // url: largest download in bytes (default 8 GB)
	Line      int      // line of the [[channel.source]] header in the file
}

// Defaults of optional values.
const (
	DefaultDelay        = time.Second
	DefaultPerHost      = 2
	DefaultConcurrency  = 8
	DefaultTimeout      = 30 * time.Second
	DefaultMaxPageSize  = 10_000_000
	DefaultRetries      = 2
	DefaultCadence      = 7 * 24 * time.Hour
	DefaultDepth        = 2
	DefaultMaxPages     = 1000
	DefaultMaxItems     = 200
	DefaultMaxSize      = 8_000_000_000
	DefaultImageMax     = 800
	DefaultImageQuality = 75
	DefaultChainLimit   = 0.5
	DefaultMaxChain     = 24
)

// ErrInvalid is wrapped by every error about the file's content (as opposed
// to not being able to read it).
var ErrInvalid = errors.New("invalid channel config")

// Load reads and checks the config file at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading channel config: %w", err)
	}
	return Parse(data, path)
}

// Parse checks a config's bytes; path is where they came from, for messages
// and for making relative paths absolute.
func Parse(data []byte, path string) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	p := &parser{path: abs, name: path, dir: filepath.Dir(abs), data: data}
	var raw rawConfig
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return nil, p.decodeErr(err)
	}
	return p.convert(&raw)
}

// The raw* types mirror the file; pointers tell "absent" from zero.
type rawConfig struct {
	Harvest *rawHarvest  `toml:"harvest"`
	S3      *rawS3       `toml:"s3"`
	Channel []rawChannel `toml:"channel"`
}

type rawHarvest struct {
	Contact      string    `toml:"contact"`
	Proxy        string    `toml:"proxy"`
	Delay        *duration `toml:"delay"`
	PerHost      *int      `toml:"per_host"`
	Concurrency  *int      `toml:"concurrency"`
	Timeout      *duration `toml:"timeout"`
	MaxPageSize  *size     `toml:"max_page_size"`
	Retries      *int      `toml:"retries"`
	State        string    `toml:"state"`
	AllowPrivate bool      `toml:"allow_private"`
}

type rawS3 struct {
	Endpoint        string `toml:"endpoint"`
	Region          string `toml:"region"`
	AccessKeyID     string `toml:"access_key_id"`
	SecretAccessKey string `toml:"secret_access_key"`
	PathStyle       bool   `toml:"path_style"`
}

type rawChannel struct {
	Name         string      `toml:"name"`
	Title        string      `toml:"title"`
	Description  string      `toml:"description"`
	Publisher    string      `toml:"publisher"`
	Languages    []string    `toml:"languages"`
	Key          string      `toml:"key"`
	Store        string      `toml:"store"`
	Cadence      string      `toml:"cadence"`
	Images       string      `toml:"images"`
	ImageMax     *int        `toml:"image_max"`
	ImageQuality *int        `toml:"image_quality"`
	Budget       *size       `toml:"budget"`
	ChainLimit   *float64    `toml:"chain_limit"`
	MaxChain     *int        `toml:"max_chain"`
	Source       []rawSource `toml:"source"`
}

type rawSource struct {
	Feed      string   `toml:"feed"`
	Site      string   `toml:"site"`
	Path      string   `toml:"path"`
	URL       string   `toml:"url"`
	Depth     *int     `toml:"depth"`
	MaxPages  *int     `toml:"max_pages"`
	Include   []string `toml:"include"`
	Exclude   []string `toml:"exclude"`
	Sitemap   *bool    `toml:"sitemap"`
	Articles  *bool    `toml:"articles"`
	Resources *bool    `toml:"resources"`
	MaxSize   *size    `toml:"max_size"`
}

type parser struct {
	path, name, dir string
	data            []byte
	errs            []error
}

// decodeErr turns the TOML decoder's errors into ours, with line numbers.
func (p *parser) decodeErr(err error) error {
	var sm *toml.StrictMissingError
	if errors.As(err, &sm) {
		var errs []error
		for i := range sm.Errors {
			e := &sm.Errors[i]
			line, _ := e.Position()
			errs = append(errs, fmt.Errorf("%s:%d: %w: unknown key %q%s", p.name, line, ErrInvalid, strings.Join(e.Key(), "."), hint(e.Key())))
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if k := de.Key(); len(k) > 0 {
			msg = fmt.Sprintf("%s: %s", strings.Join(k, "."), msg)
		}
		return fmt.Errorf("%s:%d: %w: %s", p.name, line, ErrInvalid, msg)
	}
	return fmt.Errorf("%s: %w: %v", p.name, ErrInvalid, err)
}

// hint suggests the right name for a few likely mistakes.
func hint(k []string) string {
	last := k[len(k)-1]
	known := map[string]string{
		"sources": "source", "channels": "channel", "language": "languages", "lang": "languages",
		"max-pages": "max_pages", "maxpages": "max_pages", "limit": "max_pages", "pages": "max_pages",
		"signing_key": "key", "keyfile": "key", "rss": "feed", "atom": "feed", "folder": "path",
		"file": "path", "per-host": "per_host", "user_agent": "contact", "useragent": "contact",
	}
	if s, ok := known[strings.ToLower(last)]; ok {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return " (see docs/publish.md for the keys a config may have)"
}

func (p *parser) errf(format string, a ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %w: %s", p.name, ErrInvalid, fmt.Sprintf(format, a...)))
}

func (p *parser) errLine(line int, format string, a ...any) {
	if line <= 0 {
		p.errf(format, a...)
		return
	}
	p.errs = append(p.errs, fmt.Errorf("%s:%d: %w: %s", p.name, line, ErrInvalid, fmt.Sprintf(format, a...)))
}

// rel makes a path in the file absolute against the file's folder.
func (p *parser) rel(s string) string {
	if s == "" || filepath.IsAbs(s) {
		return s
	}
	return filepath.Join(p.dir, filepath.FromSlash(s))
}

var (
	nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	langRE = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
)

func (p *parser) convert(raw *rawConfig) (*Config, error) {
	c := &Config{Path: p.path}
	c.Harvest = p.harvest(raw.Harvest)
	if raw.S3 != nil {
		c.S3 = S3(*raw.S3)
		if c.S3.Endpoint != "" {
			if u, err := url.Parse(c.S3.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				p.errf("[s3] endpoint %q: write http(s)://HOST[:PORT]", c.S3.Endpoint)
			}
		}
		if (c.S3.AccessKeyID == "") != (c.S3.SecretAccessKey == "") {
			p.errf("[s3]: give both access_key_id and secret_access_key, or neither (and set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
		}
	}
	if len(raw.Channel) == 0 {
		p.errf("no [[channel]]; a config needs at least one (see docs/publish.md)")
	}
	lines := p.headerLines("[[channel.source]]")
	chLines := p.headerLines("[[channel]]")
	seen := map[string]bool{}
	src := 0
	for i := range raw.Channel {
		line := 0
		if i < len(chLines) {
			line = chLines[i]
		}
		ch := p.channel(&raw.Channel[i], i, line)
		if ch.Name != "" {
			if seen[ch.Name] {
				p.errLine(line, "two channels are named %q; names must be unique", ch.Name)
			}
			seen[ch.Name] = true
		}
		for j := range raw.Channel[i].Source {
			sl := 0
			if src < len(lines) {
				sl = lines[src]
			}
			src++
			ch.Sources = append(ch.Sources, p.source(&raw.Channel[i].Source[j], ch.Name, j, sl))
		}
		if len(ch.Sources) == 0 {
			p.errLine(line, "channel %q has no [[channel.source]]", ch.Name)
		}
		c.Channels = append(c.Channels, ch)
	}
	if len(p.errs) > 0 {
		return nil, errors.Join(p.errs...)
	}
	return c, nil
}

// headerLines finds the lines of each array-of-tables header, in order, so
// that messages about a source can name its line. TOML has no other way to
// start these tables, and a header inside a multi-line string would be odd
// enough to ignore (only the line numbers would be off).
func (p *parser) headerLines(header string) []int {
	var lines []int
	for i, l := range bytes.Split(p.data, []byte("\n")) {
		t := bytes.TrimSpace(l)
		if bytes.HasPrefix(t, []byte("[[")) {
			name := string(bytes.TrimSpace(bytes.Trim(bytes.SplitN(t, []byte("#"), 2)[0], "[] \t")))
			if "[["+strings.ReplaceAll(name, " ", "")+"]]" == header {
				lines = append(lines, i+1)
			}
		}
	}
	return lines
}

func (p *parser) harvest(r *rawHarvest) Harvest {
	h := Harvest{
		Delay: DefaultDelay, PerHost: DefaultPerHost, Concurrency: DefaultConcurrency,
		Timeout: DefaultTimeout, MaxPageSize: DefaultMaxPageSize, Retries: DefaultRetries,
		State: p.rel("harvest"),
	}
	if r == nil {
		return h
	}
	h.Contact = r.Contact
	if strings.ContainsAny(h.Contact, "\r\n()") {
		p.errf("[harvest] contact %q: one URL or e-mail address, without line breaks or parentheses", h.Contact)
	}
	if r.Proxy != "" {
		u, err := url.Parse(r.Proxy)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "socks5" && u.Scheme != "socks5h") {
			p.errf("[harvest] proxy %q: write http://HOST:PORT or socks5://HOST:PORT", r.Proxy)
		}
		h.Proxy = r.Proxy
	}
	if r.Delay != nil {
		h.Delay = time.Duration(*r.Delay)
		if h.Delay < 0 || h.Delay > time.Hour {
			p.errf("[harvest] delay %s: between 0s and 1h", h.Delay)
		}
	}
	intIn := func(v *int, dst *int, name string, lo, hi int) {
		if v == nil {
			return
		}
		if *v < lo || *v > hi {
			p.errf("[harvest] %s = %d: must be %d to %d", name, *v, lo, hi)
		}
		*dst = *v
	}
	intIn(r.PerHost, &h.PerHost, "per_host", 1, 16)
	intIn(r.Concurrency, &h.Concurrency, "concurrency", 1, 256)
	intIn(r.Retries, &h.Retries, "retries", 0, 10)
	if r.Timeout != nil {
		h.Timeout = time.Duration(*r.Timeout)
		if h.Timeout < time.Second || h.Timeout > time.Hour {
			p.errf("[harvest] timeout %s: between 1s and 1h", h.Timeout)
		}
	}
	if r.MaxPageSize != nil {
		h.MaxPageSize = int64(*r.MaxPageSize)
		if h.MaxPageSize < 1024 {
			p.errf("[harvest] max_page_size %d bytes is too small; e.g. \"10MB\"", h.MaxPageSize)
		}
	}
	if r.State != "" {
		h.State = p.rel(r.State)
	}
	h.AllowPrivate = r.AllowPrivate
	return h
}

func (p *parser) channel(r *rawChannel, i, line int) Channel {
	ch := Channel{
		Name: r.Name, Title: r.Title, Description: r.Description, Publisher: r.Publisher,
		Languages: r.Languages, Key: p.rel(r.Key), Cadence: DefaultCadence,
		Images: "keep", ImageMax: DefaultImageMax, ImageQuality: DefaultImageQuality,
		ChainLimit: DefaultChainLimit, MaxChain: DefaultMaxChain,
	}
	what := fmt.Sprintf("channel %q", r.Name)
	if r.Name == "" {
		what = fmt.Sprintf("channel %d", i+1)
		p.errLine(line, "%s has no name; add e.g. name = \"news-ko\"", what)
	} else if !nameRE.MatchString(r.Name) {
		p.errLine(line, "%s: a name is 1–64 lowercase letters, digits, '.', '-' or '_', starting with a letter or digit", what)
	}
	if r.Title == "" {
		p.errLine(line, "%s has no title (shown to readers)", what)
	}
	if len(r.Languages) == 0 {
		p.errLine(line, "%s has no languages; add e.g. languages = [\"ko\"]", what)
	}
	for _, l := range r.Languages {
		if !langRE.MatchString(l) {
			p.errLine(line, "%s: language %q is not a language tag like \"ko\" or \"en-US\"", what, l)
		}
	}
	if r.Key == "" {
		p.errLine(line, "%s has no key; make one with 'ferry keygen' and add key = \"FILE\"", what)
	}
	switch {
	case r.Store == "":
		p.errLine(line, "%s has no store; add store = \"FOLDER\" or store = \"s3://BUCKET/PREFIX\"", what)
	case strings.HasPrefix(r.Store, "s3://"):
		u, err := url.Parse(r.Store)
		if err != nil || u.Host == "" || u.RawQuery != "" || u.User != nil {
			p.errLine(line, "%s: store %q: write s3://BUCKET/PREFIX (endpoint and keys go in [s3] or the AWS_* variables)", what, r.Store)
		}
		ch.Store = r.Store
	case strings.Contains(r.Store, "://"):
		p.errLine(line, "%s: store %q: a folder path or s3://BUCKET/PREFIX", what, r.Store)
	default:
		ch.Store = p.rel(r.Store)
	}
	switch c := strings.ToLower(r.Cadence); c {
	case "", "weekly":
	case "daily":
		ch.Cadence = 24 * time.Hour
	case "hourly":
		ch.Cadence = time.Hour
	default:
		d, err := time.ParseDuration(c)
		if err != nil || d < time.Hour {
			p.errLine(line, "%s: cadence %q: \"daily\", \"weekly\", \"hourly\" or a duration of at least 1h such as \"72h\"", what, r.Cadence)
		}
		ch.Cadence = d
	}
	switch r.Images {
	case "", "keep":
	case "shrink", "drop":
		ch.Images = r.Images
	default:
		p.errLine(line, "%s: images = %q: must be \"keep\", \"shrink\" or \"drop\"", what, r.Images)
	}
	if r.ImageMax != nil {
		ch.ImageMax = *r.ImageMax
		if ch.ImageMax < 16 || ch.ImageMax > 10000 {
			p.errLine(line, "%s: image_max = %d: 16 to 10000 pixels", what, ch.ImageMax)
		}
	}
	if r.ImageQuality != nil {
		ch.ImageQuality = *r.ImageQuality
		if ch.ImageQuality < 1 || ch.ImageQuality > 100 {
			p.errLine(line, "%s: image_quality = %d: 1 to 100", what, ch.ImageQuality)
		}
	}
	if (r.ImageMax != nil || r.ImageQuality != nil) && ch.Images != "shrink" {
		p.errLine(line, "%s: image_max and image_quality apply only with images = \"shrink\"", what)
	}
	if r.Budget != nil {
		ch.Budget = int64(*r.Budget)
		if ch.Budget < 1_000_000 {
			p.errLine(line, "%s: budget of %d bytes is too small; e.g. budget = \"32GB\"", what, ch.Budget)
		}
	}
	if r.ChainLimit != nil {
		ch.ChainLimit = *r.ChainLimit
		if !(ch.ChainLimit >= 0.05 && ch.ChainLimit <= 4) {
			p.errLine(line, "%s: chain_limit = %v: 0.05 to 4 (the deltas of a chain together, as a share of the full edition's size)", what, *r.ChainLimit)
		}
	}
	if r.MaxChain != nil {
		ch.MaxChain = *r.MaxChain
		if ch.MaxChain < 1 || ch.MaxChain > 256 {
			p.errLine(line, "%s: max_chain = %d: 1 to 256 deltas", what, ch.MaxChain)
		}
	}
	if strings.HasSuffix(r.Name, ".json") || strings.HasSuffix(r.Name, ".xml") {
		p.errLine(line, "%s: a name ending in .json or .xml would collide with the store's own files", what)
	}
	return ch
}

func (p *parser) source(r *rawSource, channel string, j, line int) Source {
	what := fmt.Sprintf("channel %q, source %d", channel, j+1)
	var s Source
	s.Line = line
	n := 0
	for _, k := range []struct {
		kind Kind
		v    string
	}{{KindFeed, r.Feed}, {KindSite, r.Site}, {KindPath, r.Path}, {KindURL, r.URL}} {
		if k.v != "" {
			n++
			s.Kind, s.Location = k.kind, k.v
		}
	}
	if n != 1 {
		p.errLine(line, "%s: give exactly one of feed, site, path or url (it has %d)", what, n)
		return s
	}
	what += fmt.Sprintf(" (%s %s)", s.Kind, s.Location)
	if s.Kind == KindPath {
		s.Location = p.rel(s.Location)
	} else {
		u, err := url.Parse(s.Location)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.errLine(line, "%s: not an http(s) URL", what)
		} else if u.User != nil {
			p.errLine(line, "%s: a URL with a user name or password; they would be sent to every page and stored in the WARC", what)
		}
	}
	only := func(set bool, key string, kinds ...Kind) {
		if !set {
			return
		}
		for _, k := range kinds {
			if s.Kind == k {
				return
			}
		}
		names := make([]string, len(kinds))
		for i, k := range kinds {
			names[i] = string(k)
		}
		p.errLine(line, "%s: %s applies only to %s sources", what, key, strings.Join(names, " and "))
	}
	only(r.Depth != nil, "depth", KindSite)
	only(r.MaxPages != nil, "max_pages", KindSite, KindFeed)
	only(r.Sitemap != nil, "sitemap", KindSite)
	only(r.Articles != nil, "articles", KindFeed)
	only(r.Resources != nil, "resources", KindSite, KindFeed)
	only(r.MaxSize != nil, "max_size", KindURL)
	only(r.Include != nil, "include", KindSite, KindFeed, KindPath)
	only(r.Exclude != nil, "exclude", KindSite, KindFeed, KindPath)

	s.Depth, s.Sitemap, s.Articles, s.Resources, s.MaxSize = DefaultDepth, true, true, true, DefaultMaxSize
	s.MaxPages = DefaultMaxPages
	if s.Kind == KindFeed {
		s.MaxPages = DefaultMaxItems
	}
	if r.Depth != nil {
		s.Depth = *r.Depth
		if s.Depth < 0 || s.Depth > 20 {
			p.errLine(line, "%s: depth = %d: 0 (the start page only) to 20", what, s.Depth)
		}
	}
	if r.MaxPages != nil {
		s.MaxPages = *r.MaxPages
		if s.MaxPages < 1 || s.MaxPages > 10_000_000 {
			p.errLine(line, "%s: max_pages = %d: 1 to 10000000", what, s.MaxPages)
		}
	}
	for _, b := range []struct {
		v   *bool
		dst *bool
	}{{r.Sitemap, &s.Sitemap}, {r.Articles, &s.Articles}, {r.Resources, &s.Resources}} {
		if b.v != nil {
			*b.dst = *b.v
		}
	}
	if r.MaxSize != nil {
		s.MaxSize = int64(*r.MaxSize)
	}
	for _, pats := range [][]string{r.Include, r.Exclude} {
		for _, pat := range pats {
			if err := checkGlob(pat); err != nil {
				p.errLine(line, "%s: pattern %q: %v", what, pat, err)
			}
		}
	}
	s.Include, s.Exclude = r.Include, r.Exclude
	return s
}

// checkGlob accepts the globs harvest and pack take: '*' within a path
// segment, '**' across segments, '?' one character, [...] a class.
func checkGlob(pat string) error {
	if pat == "" {
		return errors.New("empty")
	}
	if _, err := filepath.Match(strings.ReplaceAll(pat, "**", "*"), ""); err != nil {
		return fmt.Errorf("bad glob (%v)", err)
	}
	return nil
}

// duration is a TOML string like "1s" or "500ms".
type duration time.Duration

func (d *duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration like \"1s\", \"500ms\" or \"2m\"", b)
	}
	*d = duration(v)
	return nil
}

// size is a TOML string like "32GB", "500 MB", "1.5GiB" or "12345" (bytes).
// GB and MB are powers of ten, as card sizes are; GiB and MiB powers of two.
type size int64

func (s *size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*s = size(v)
	return nil
}

// ParseSize reads a size like "32GB", "500 MB", "1.5GiB" or "12345".
func ParseSize(str string) (int64, error) {
	t := strings.TrimSpace(str)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult := map[string]float64{
		"": 1, "B": 1, "KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
		"KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30, "TIB": 1 << 40,
	}[strings.ToUpper(unit)]
	f, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || f < 0 || f*mult > 1<<62 {
		return 0, fmt.Errorf("%q is not a size like \"32GB\", \"500MB\" or \"4GiB\"", str)
	}
	return int64(f * mult), nil
}
