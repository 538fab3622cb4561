// Package warc turns WARC web archives (ISO 28500, WARC/1.0 and 1.1, plain
// or gzip-compressed, record by record or whole-file) into ferry ingest
// entries, as specified in docs/source.md.
//
// Opening a WARC scans it once and keeps only an index of where each usable
// payload lies; entry content is decoded from the file on demand, so memory
// stays small however large the archive is. response (and resource) records
// with HTTP status 200 become entries keyed by URL as host/path; revisit
// records are resolved to the payload they point to; 3xx responses whose
// target was captured become redirects; when a URL was captured more than
// once the newest capture wins. HTML pages and style sheets have their links
// to captured URLs rewritten to relative links, so the site works offline.
//
// The record reader is written here rather than taken from gowarc: ferry
// needs the uncompressed offset of each payload and the gzip member map to
// reopen payloads later without rereading the file, it must never buffer a
// block to memory or temporary files (gowarc spools large blocks to disk),
// and every limit must be explicit for fuzzing.
package warc

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"ferry/internal/htmltext"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"compress/flate"
	"compress/gzip"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/transform"

	"ferry/internal/source"
)

// Errors returned for damaged input; they are wrapped with the offset and
// what was wrong.
var (
	ErrCorrupt   = errors.New("warc: corrupt WARC file")
	ErrTruncated = errors.New("warc: truncated WARC file (copy it again)")
	ErrEmpty     = errors.New("warc: no usable captures (no response records with status 200)")
	// ErrTooLarge means a payload decompresses to far more than it could
	// honestly hold (see maxRatio).
	ErrTooLarge = errors.New("warc: payload too large")
)

// maxRewrite is the largest HTML page or style sheet whose links are
// rewritten; bigger ones are passed through unchanged.
const maxRewrite = 32 << 20

// maxHTTPHeader caps the HTTP header block of one payload.
const maxHTTPHeader = 1 << 20

// Stats counts what the scan found.
type Stats struct {
	Records            int // all records
	Responses          int // response and resource records with an http(s) URL
	Revisits           int // revisit records
	RevisitsResolved   int // revisits whose original payload was found
	RevisitsUnresolved int // revisits pointing at a payload not in this file
	Skipped            int // captures not used: status not 200/3xx, bad HTTP header, unsupported encoding
	Entries            int // entries Walk yields (content and redirects)
	Redirects          int // of which redirects
}

// capture is one usable record, indexed during the scan.
type capture struct {
	uri      string
	path     string
	date     time.Time
	order    int
	status   int
	mime     string
	location string // resolved target path of a 3xx
	kind     string // "response", "resource", "revisit"
	digest   string
	refURI   string
	refDate  string

	// payload location in the uncompressed stream, and how to decode it
	off, length int64
	chunked     bool
	encoding    string // Content-Encoding: "", "gzip", "deflate"
	resolved    bool   // payload known (false for an unresolved revisit)

	recOff int64 // offset of its record
	broken bool  // its record's Content-Length was wrong
}

// Source is an opened WARC file. It implements source.Source and
// source.Describer. Close it when done.
type Source struct {
	r       io.ReaderAt
	size    int64
	closer  io.Closer
	members []member
	chosen  map[string]*capture // path → winning capture
	paths   []string            // sorted keys of chosen
	stats   Stats
	meta    source.Metadata
	mainURI string

	// last holds the page Walk just rendered (for its title and size), so
	// that the Open a packer usually calls next does not render it again.
	// One page at most: memory stays bounded.
	lastMu   sync.Mutex
	lastPath string
	lastOut  []byte

	warnings []string
}

// Warnings returns what the scan read past or left out, one sentence each,
// naming the record: bytes between records that are not a record (a
// Content-Length a byte short, as some crawlers wrote), and the capture
// whose record they followed. A packer shows them to the publisher.
func (s *Source) Warnings() []string { return s.warnings }

func (s *Source) warn(w string) {
	if len(s.warnings) < maxWarnings {
		s.warnings = append(s.warnings, w)
	}
}

var (
	_ source.Source    = (*Source)(nil)
	_ source.Describer = (*Source)(nil)
	_ source.Warner    = (*Source)(nil)
)

// Open opens and scans the WARC file at path.
func Open(path string) (*Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("warc: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("warc: %w", err)
	}
	s, err := New(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s.closer = f
	return s, nil
}

// New scans the WARC held by r (size bytes) and indexes its captures. r
// must stay readable while the Source is used.
func New(r io.ReaderAt, size int64) (*Source, error) {
	s := &Source{r: r, size: size}
	if err := s.scan(); err != nil {
		return nil, err
	}
	return s, nil
}

// Close closes the file opened by Open.
func (s *Source) Close() error {
	if s.closer != nil {
		return s.closer.Close()
	}
	return nil
}

// Stats returns what the scan found.
func (s *Source) Stats() Stats { return s.stats }

// Metadata returns the archive's description: the main page is the first
// HTML page captured with status 200 (the crawl's seed, as a rule).
func (s *Source) Metadata() source.Metadata { return s.meta }

func (s *Source) scan() error {
	rr, err := NewRecordReader(s.r, s.size)
	if err != nil {
		return err
	}
	var caps []*capture
	var last *capture                 // capture of the record just read
	byRef := map[string]*capture{}    // uri + " " + date → response
	byDigest := map[string]*capture{} // payload digest → response
	for order := 0; ; order++ {
		rec, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		s.stats.Records++
		if rec.After != nil && last != nil && last.recOff == rec.After.Offset {
			// Its block ended in the wrong place: its payload is suspect.
			last.broken = true
			s.warn(fmt.Sprintf("%s: its record's Content-Length is wrong; capture left out", last.uri))
		}
		last = nil
		kind := rec.Type()
		switch kind {
		case "warcinfo":
			s.readInfo(rec, rr.Block())
			continue
		case "response", "resource", "revisit":
		default:
			continue
		}
		uri := strings.Trim(strings.TrimSpace(rec.Header.Get("WARC-Target-URI")), "<>")
		u, err := url.Parse(uri)
		if err != nil {
			s.stats.Skipped++
			continue
		}
		p, ok := URLPath(u)
		if !ok {
			continue
		}
		c := &capture{uri: uri, path: p, order: order, kind: kind, recOff: rec.Offset,
			date:   parseDate(rec.Header.Get("WARC-Date")),
			digest: strings.TrimSpace(rec.Header.Get("WARC-Payload-Digest")),
		}
		if kind == "revisit" {
			s.stats.Revisits++
			c.refURI = strings.Trim(strings.TrimSpace(rec.Header.Get("WARC-Refers-To-Target-URI")), "<>")
			c.refDate = strings.TrimSpace(rec.Header.Get("WARC-Refers-To-Date"))
		} else {
			s.stats.Responses++
		}
		ct := strings.ToLower(rec.Header.Get("Content-Type"))
		if strings.HasPrefix(ct, "application/http") {
			if err := parseHTTP(c, rec, rr.Block(), u); err != nil {
				if kind != "revisit" {
					s.stats.Skipped++
					continue
				}
				c.status = 0 // a revisit may carry no HTTP header at all
			}
		} else if kind == "resource" {
			c.status, c.mime = 200, rec.Header.Get("Content-Type")
			c.off, c.length, c.resolved = rec.BlockOffset, rec.BlockLen, true
		} else if kind == "response" {
			s.stats.Skipped++ // a response must hold an HTTP message
			continue
		}
		if c.kind != "revisit" && c.resolved {
			byRef[refKey(c.uri, c.date)] = c
			if c.digest != "" {
				byDigest[c.digest] = c
			}
		}
		caps = append(caps, c)
		last = c
	}
	s.members = rr.members()
	s.warnings = append(rr.Warnings(), s.warnings...)
	caps = slices.DeleteFunc(caps, func(c *capture) bool { return c.broken })
	for k, c := range byRef {
		if c.broken {
			delete(byRef, k)
		}
	}
	for k, c := range byDigest {
		if c.broken {
			delete(byDigest, k)
		}
	}

	// Resolve revisits to their original payload.
	for _, c := range caps {
		if c.kind != "revisit" {
			continue
		}
		var orig *capture
		if d := parseDate(c.refDate); !d.IsZero() {
			orig = byRef[refKey(c.refURI, d)]
		}
		if orig == nil && c.digest != "" {
			orig = byDigest[c.digest]
		}
		if orig == nil {
			s.stats.RevisitsUnresolved++
			continue
		}
		s.stats.RevisitsResolved++
		c.off, c.length, c.chunked, c.encoding, c.resolved = orig.off, orig.length, orig.chunked, orig.encoding, true
		if c.status == 0 || c.status == http.StatusNotModified {
			c.status = orig.status
		}
		if c.mime == "" {
			c.mime = orig.mime
		}
		if c.status != orig.status {
			// The revisit says "same payload" about a different kind of
			// answer; only a 200 with a 200 payload is trusted.
			c.resolved = false
		}
	}

	// Pick the newest usable capture per path: content first, then
	// redirects whose target has content.
	content := map[string]bool{}
	for _, c := range caps {
		if c.resolved && c.status == http.StatusOK {
			content[c.path] = true
		}
	}
	better := func(a, b *capture) bool { // is a newer than b?
		if !a.date.Equal(b.date) {
			return a.date.After(b.date)
		}
		return a.order > b.order
	}
	s.chosen = map[string]*capture{}
	okContent := map[string]*capture{} // newest content capture per path
	for _, c := range caps {
		usable := false
		switch {
		case c.resolved && c.status == http.StatusOK:
			usable = true
			if o := okContent[c.path]; o == nil || better(c, o) {
				okContent[c.path] = c
			}
		case c.status >= 300 && c.status < 400 && c.location != "" && c.location != c.path && content[c.location]:
			usable = true
		}
		if !usable {
			if c.kind != "revisit" || c.resolved {
				s.stats.Skipped++
			}
			continue
		}
		if o := s.chosen[c.path]; o == nil || better(c, o) {
			s.chosen[c.path] = c
		}
	}
	// Break redirect cycles. Every path reached by following a redirect is
	// a valid redirect's target, so it has a 200 capture of its own: the
	// path where a cycle closes falls back to it.
	// Each path is walked once: a chain that reaches a path walked before
	// stops there (its end is known to be content), so a long chain of
	// redirects costs linear time, not quadratic.
	// Paths are taken in sorted order, so the path where a cycle is cut,
	// and so the archive, is the same on every run.
	done := map[string]bool{}
	for _, p := range slices.Sorted(maps.Keys(s.chosen)) {
		seen := map[string]bool{}
		for q := p; !done[q]; {
			c := s.chosen[q]
			if c == nil || c.status == http.StatusOK {
				break
			}
			if seen[q] {
				s.chosen[q] = okContent[q]
				break
			}
			seen[q] = true
			q = c.location
		}
		for q := range seen {
			done[q] = true
		}
	}
	for p, c := range s.chosen {
		if c == nil { // defensive: a cycle member without content
			delete(s.chosen, p)
			continue
		}
		s.paths = append(s.paths, p)
		if c.status != http.StatusOK {
			s.stats.Redirects++
		}
	}
	sort.Strings(s.paths)
	s.stats.Entries = len(s.paths)
	if len(s.paths) == 0 {
		return ErrEmpty
	}
	// Main page: the first HTML page captured with status 200.
	first := -1
	for _, c := range caps {
		if w := s.chosen[c.path]; w != nil && w.status == http.StatusOK && htmltext.IsHTML(w.mime) && (first < 0 || c.order < first) {
			first = c.order
			s.meta.MainPage = c.path
			s.mainURI = c.uri
		}
	}
	if s.meta.Title == "" {
		s.meta.Title = s.mainTitle()
	}
	return nil
}

// refKey identifies a capture by URL and instant, so that a
// WARC-Refers-To-Date matches whatever precision the WARC-Date was written in.
func refKey(uri string, d time.Time) string {
	return uri + " " + d.UTC().Format(time.RFC3339Nano)
}

// readInfo takes description, operator and date from a warcinfo record.
func (s *Source) readInfo(rec *Record, block io.Reader) {
	if s.meta.Date == "" {
		if d := parseDate(rec.Header.Get("WARC-Date")); !d.IsZero() {
			s.meta.Date = d.UTC().Format("2006-01-02")
		}
	}
	b, _ := io.ReadAll(io.LimitReader(block, 64<<10))
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.ToValidUTF8(strings.TrimSpace(v), "")
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "description":
			if s.meta.Description == "" {
				s.meta.Description = v
			}
		case "operator":
			if s.meta.Publisher == "" {
				s.meta.Publisher = v
			}
		case "ispartof":
			if s.meta.Title == "" {
				s.meta.Title = v
			}
		}
	}
}

// parseHTTP reads the HTTP response header at the start of a record's
// block and fills in status, MIME type, redirect target and where the
// payload lies.
func parseHTTP(c *capture, rec *Record, block io.Reader, base *url.URL) error {
	lim := rec.BlockLen
	if lim > maxHTTPHeader {
		lim = maxHTTPHeader
	}
	br := bufio.NewReaderSize(&io.LimitedReader{R: block, N: lim}, 16<<10)
	resp, hdrLen, err := readHTTPHeader(br)
	if err != nil {
		return fmt.Errorf("%w: HTTP header of record at offset %d: %v", ErrCorrupt, rec.Offset, err)
	}
	c.status = resp.StatusCode
	c.mime = resp.Header.Get("Content-Type")
	c.off = rec.BlockOffset + hdrLen
	c.length = rec.BlockLen - hdrLen
	c.resolved = c.kind != "revisit"
	for _, te := range strings.Split(resp.Header.Get("Transfer-Encoding"), ",") {
		if strings.EqualFold(strings.TrimSpace(te), "chunked") {
			// Many crawlers store the body already de-chunked but keep
			// the header; trust it only if a chunk-size line follows.
			head, _ := br.Peek(64)
			c.chunked = looksChunked(head)
		}
	}
	switch enc := strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip", "deflate":
		c.encoding = enc
	default:
		c.status = -1 // e.g. br: cannot be decoded here
	}
	if c.status >= 300 && c.status < 400 {
		if loc := strings.TrimSpace(resp.Header.Get("Location")); loc != "" {
			if lu, err := url.Parse(loc); err == nil {
				if p, ok := URLPath(base.ResolveReference(lu)); ok {
					c.location = p
				}
			}
		}
	}
	return nil
}

// httpHeader is a parsed HTTP response header.
type httpHeader struct {
	StatusCode int
	Header     http.Header
}

// readHTTPHeader parses an HTTP/1.x status line and header fields up to the
// blank line, leniently (crawlers store servers' headers as sent, broken
// Content-Length values and all), and returns the header's length in bytes.
func readHTTPHeader(br *bufio.Reader) (*httpHeader, int64, error) {
	var n int64
	readLine := func() (string, error) {
		var buf []byte
		for {
			frag, err := br.ReadSlice('\n')
			buf = append(buf, frag...)
			if len(buf) > maxLineLen {
				return "", errors.New("header line too long")
			}
			if err == bufio.ErrBufferFull {
				continue
			}
			n += int64(len(buf))
			if err == io.EOF && len(buf) > 0 {
				return string(bytes.TrimRight(buf, "\r\n")), nil
			}
			if err != nil {
				return "", err
			}
			return string(bytes.TrimRight(buf, "\r\n")), nil
		}
	}
	line, err := readLine()
	if err != nil {
		return nil, 0, fmt.Errorf("no status line: %v", err)
	}
	proto, rest, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(strings.TrimSpace(rest), " ")
	if !strings.HasPrefix(proto, "HTTP/") || len(code) != 3 {
		return nil, 0, fmt.Errorf("bad status line %q", clip(line))
	}
	status, err := strconv.Atoi(code)
	if err != nil || status < 100 {
		return nil, 0, fmt.Errorf("bad status code %q", code)
	}
	h := &httpHeader{StatusCode: status, Header: http.Header{}}
	var last string
	for lines := 0; ; lines++ {
		if lines > maxHeaderLines {
			return nil, 0, errors.New("too many header lines")
		}
		line, err := readLine()
		if err == io.EOF {
			break // header without body: the block ends here
		}
		if err != nil {
			return nil, 0, err
		}
		if line == "" {
			break
		}
		if (line[0] == ' ' || line[0] == '\t') && last != "" {
			v := h.Header[last]
			v[len(v)-1] += " " + strings.TrimSpace(line)
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue // tolerate junk lines, as browsers do
		}
		last = http.CanonicalHeaderKey(strings.TrimSpace(k))
		h.Header[last] = append(h.Header[last], strings.TrimSpace(v))
	}
	return h, n, nil
}

// looksChunked reports whether b starts with a chunk-size line: hex digits,
// optional extensions, CRLF.
func looksChunked(b []byte) bool {
	i := 0
	for i < len(b) && ishex(b[i]) {
		i++
	}
	if i == 0 || i > 16 {
		return false
	}
	end := bytes.Index(b[i:], []byte("\r\n"))
	if end < 0 {
		return false
	}
	ext := b[i : i+end]
	return len(ext) == 0 || ext[0] == ';' || ext[0] == ' ' || ext[0] == '\t'
}

func parseDate(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z", "20060102150405"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

func isCSS(mt string) bool {
	base, _, _ := mime.ParseMediaType(mt)
	return base == "text/css"
}

// openPayload returns the decoded payload (transfer and content encodings
// removed) of a capture.
func (s *Source) openPayload(c *capture) (io.ReadCloser, error) {
	rc, err := openRange(s.r, s.size, s.members, c.off, c.length)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.uri, err)
	}
	var r io.Reader = rc
	if c.chunked {
		r = httputil.NewChunkedReader(r)
	}
	var dec io.ReadCloser
	switch c.encoding {
	case "gzip", "x-gzip":
		z, err := gzip.NewReader(bufio.NewReader(r))
		if err != nil {
			rc.Close()
			return nil, fmt.Errorf("%w: %s: Content-Encoding gzip: %v", ErrCorrupt, c.uri, err)
		}
		dec = z
	case "deflate":
		dec = flate.NewReader(bufio.NewReader(r))
	}
	if dec != nil {
		limit := max(ratioFloor, maxRatio*c.length)
		r = &ratioCap{r: dec, left: limit, limit: limit, uri: c.uri, stored: c.length}
	}
	return struct {
		io.Reader
		io.Closer
	}{r, closers{dec, rc}}, nil
}

// A Content-Encoding payload may expand to at most maxRatio times its
// stored size (or ratioFloor, whichever is more), as the EPUB reader bounds
// zip members: web pages compress 3-10 times, and a 4 MB WARC of gzip
// bombs must not become a 4 GB archive.
const (
	maxRatio   = 100
	ratioFloor = 1 << 20
)

// ratioCap fails a decoded payload that grows past its limit.
type ratioCap struct {
	r           io.Reader
	left, limit int64
	stored      int64
	uri         string
}

func (rc *ratioCap) Read(p []byte) (int, error) {
	if rc.left <= 0 {
		// One byte more tells a payload of exactly the limit from a bigger one.
		var one [1]byte
		if n, _ := rc.r.Read(one[:]); n == 0 {
			return 0, io.EOF
		}
		return 0, fmt.Errorf("%w: %s: its compressed payload (%d bytes) expands past %d bytes; refusing a possible decompression bomb", ErrTooLarge, rc.uri, rc.stored, rc.limit)
	}
	if int64(len(p)) > rc.left {
		p = p[:rc.left]
	}
	n, err := rc.r.Read(p)
	rc.left -= int64(n)
	return n, err
}

type closers []io.Closer

func (cs closers) Close() error {
	var first error
	for _, c := range cs {
		if c == nil {
			continue
		}
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// readLimited reads at most max bytes of a payload; big reports that the
// payload was larger.
func (s *Source) readLimited(c *capture, max int64) (b []byte, big bool, err error) {
	rc, err := s.openPayload(c)
	if err != nil {
		return nil, false, err
	}
	defer rc.Close()
	b, err = io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", c.uri, err)
	}
	if int64(len(b)) > max {
		return nil, true, nil
	}
	return b, false, nil
}

// render produces an entry's final bytes: HTML converted to UTF-8 with its
// links rewritten, CSS with its links rewritten. ok is false for content
// passed through unchanged.
func (s *Source) render(c *capture, mt string) (out []byte, title string, ok bool, err error) {
	b, big, err := s.readLimited(c, maxRewrite)
	if err != nil || big {
		return nil, "", false, err
	}
	base, err := url.Parse(c.uri)
	if err != nil {
		return nil, "", false, nil
	}
	l := &linker{self: c.path, base: base, has: func(p string) bool { return s.chosen[p] != nil }}
	if isCSS(mt) {
		return rewriteCSS(b, l), "", true, nil
	}
	if enc, name, _ := charset.DetermineEncoding(b, mt); name != "utf-8" {
		if u, _, err := transform.Bytes(enc.NewDecoder(), b); err == nil {
			b = u
		}
	}
	b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	out, title = rewriteHTML(b, l)
	if !utf8.ValidString(title) {
		title = strings.ToValidUTF8(title, "")
	}
	return out, title, true, nil
}

// Walk yields every chosen capture in path order: content entries and
// redirects.
func (s *Source) Walk(ctx context.Context, fn func(source.Entry) error) error {
	for _, p := range s.paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		c := s.chosen[p]
		if c.status != http.StatusOK {
			if err := fn(source.Entry{Path: p, Redirect: c.location, Size: -1}); err != nil {
				return err
			}
			continue
		}
		e, err := s.entry(c)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (s *Source) entry(c *capture) (source.Entry, error) {
	mt := strings.TrimSpace(c.mime)
	if mt == "" {
		head, _, err := s.readLimited(c, 512)
		if err != nil {
			return source.Entry{}, err
		}
		if head == nil { // larger than 512 bytes: sniff the first 512
			rc, err := s.openPayload(c)
			if err != nil {
				return source.Entry{}, err
			}
			head, _ = io.ReadAll(io.LimitReader(rc, 512))
			rc.Close()
		}
		mt = http.DetectContentType(head)
	}
	if _, _, err := mime.ParseMediaType(mt); err != nil {
		mt = "application/octet-stream"
	}
	e := source.Entry{Path: c.path, MIME: mt, Size: -1}
	if htmltext.IsHTML(mt) || isCSS(mt) {
		out, title, ok, err := s.render(c, mt)
		if err != nil {
			return e, err
		}
		if ok {
			if htmltext.IsHTML(mt) {
				e.MIME = "text/html; charset=utf-8"
				e.Article = true
				e.Title = title
			}
			e.Size = int64(len(out))
			s.lastMu.Lock()
			s.lastPath, s.lastOut = c.path, out
			s.lastMu.Unlock()
			e.Open = func() (io.ReadCloser, error) {
				s.lastMu.Lock()
				if s.lastPath == c.path {
					out := s.lastOut
					s.lastPath, s.lastOut = "", nil
					s.lastMu.Unlock()
					return io.NopCloser(bytes.NewReader(out)), nil
				}
				s.lastMu.Unlock()
				out, _, _, err := s.render(c, mt)
				if err != nil {
					return nil, err
				}
				return io.NopCloser(bytes.NewReader(out)), nil
			}
			return e, nil
		}
		e.Article = htmltext.IsHTML(mt)
	}
	if !c.chunked && c.encoding == "" {
		e.Size = c.length
	}
	e.Open = func() (io.ReadCloser, error) { return s.openPayload(c) }
	return e, nil
}

// mainTitle is used by tests and callers wanting the main page's title.
func (s *Source) mainTitle() string {
	c := s.chosen[s.meta.MainPage]
	if c == nil {
		return ""
	}
	_, t, _, _ := s.render(c, c.mime)
	return t
}
