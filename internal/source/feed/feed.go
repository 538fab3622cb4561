// Package feed turns an RSS (0.9x, 1.0, 2.0), Atom or JSON Feed (1.0, 1.1)
// feed, in UTF-8, UTF-16, UTF-32 or an encoding its XML declaration
// names, into ferry ingest
// entries, as specified in docs/source.md: one self-contained, sanitized
// article page per item under "items/", an index page "index.html" listing
// the items newest first, and the item enclosures that exist as local files
// beside the feed under "media/".
//
// Feed content is foreign HTML shown to readers who must not be exposed:
// it is reduced to an allowlist of elements and attributes, scripts, styles,
// frames and event handlers are dropped, and nothing in a page loads or
// links to the network (the original link is shown as plain text).
package feed

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"

	"ferry/internal/source"
)

// ErrInvalid is returned for input that is not a readable feed.
var ErrInvalid = errors.New("feed: not a readable RSS, Atom or JSON feed")

// maxFeedBytes caps the feed document; real feeds are far smaller.
const maxFeedBytes = 64 << 20

// maxContent caps one item's content; longer content is cut there. The
// HTML parser does superlinear work on some hostile markup (2 MiB of
// "<p><b>" take seconds), so its input is bounded per item and in total
// (sanitizeBudget); past the budget, items are reduced to their text with
// the linear tokenizer.
// Markup with more than maxUnclosed elements left open (what makes the
// parser slow) is also reduced to text.
const (
	maxContent     = 1 << 20
	sanitizeBudget = 16 << 20
	maxUnclosed    = 2000
)

// maxItems caps how many items are imported.
const maxItems = 100000

// Paths of the generated pages.
const (
	IndexPage = "index.html"
	ItemDir   = "items/"
	MediaDir  = "media/"
)

// Feed is a parsed feed. It implements source.Source and source.Describer.
type Feed struct {
	meta     source.Metadata
	pages    []page
	media    []mediaFile
	warnings []string
}

var (
	_ source.Source    = (*Feed)(nil)
	_ source.Describer = (*Feed)(nil)
	_ source.Warner    = (*Feed)(nil)
)

type page struct {
	path, title string
	body        []byte
}

type mediaFile struct {
	path, file, mime string
	size             int64
}

type article struct {
	path, title, author, link, content string
	date                               time.Time
	order                              int
	media                              []mediaFile
}

// Open parses the feed file at path; enclosures are looked up in its folder.
func Open(path string) (*Feed, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("feed: %w", err)
	}
	defer f.Close()
	fd, err := New(f, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return fd, nil
}

// New parses a feed from r. Enclosures are included when they exist as
// files in dir (no lookups when dir is "").
func New(r io.Reader, dir string) (*Feed, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFeedBytes+1))
	if err != nil {
		return nil, fmt.Errorf("feed: reading: %w", err)
	}
	if len(data) > maxFeedBytes {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrInvalid, maxFeedBytes)
	}
	parsed, err := parse(toUTF8(data))
	if err != nil {
		return nil, err
	}
	f := build(parsed, dir)
	if len(parsed.Items) == 0 {
		f.warnings = append(f.warnings, "the feed has no items: only its index page is packed")
	}
	return f, nil
}

// Warnings says what is odd about the feed that a publisher should know:
// today, that it has no items (so the archive would hold only the index
// page ferry writes). A packer shows them.
func (f *Feed) Warnings() []string { return f.warnings }

// parse runs gofeed, turning its panics (none known, but the input is
// hostile) into errors.
func parse(data []byte) (f *gofeed.Feed, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("%w: parser failure: %v", ErrInvalid, r)
		}
	}()
	p := gofeed.NewParser()
	// gofeed would otherwise parse every item's HTML with x/net/html to
	// find a thumbnail (unused here): superlinear on hostile markup and
	// outside the caps below.
	p.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	f, err = p.Parse(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if len(f.Items) > maxItems {
		return nil, fmt.Errorf("%w: %d items, more than %d", ErrInvalid, len(f.Items), maxItems)
	}
	return f, nil
}

// Metadata returns the feed's title, description, language and author;
// MainPage is the index page.
func (f *Feed) Metadata() source.Metadata { return f.meta }

// Walk yields the index page, the article pages and the local enclosures.
func (f *Feed) Walk(ctx context.Context, fn func(source.Entry) error) error {
	for _, p := range f.pages {
		if err := ctx.Err(); err != nil {
			return err
		}
		body := p.body
		if err := fn(source.Entry{Path: p.path, MIME: "text/html; charset=utf-8", Title: p.title, Article: true,
			Size: int64(len(body)), Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }}); err != nil {
			return err
		}
	}
	for _, m := range f.media {
		if err := ctx.Err(); err != nil {
			return err
		}
		file := m.file
		if err := fn(source.Entry{Path: m.path, MIME: m.mime, Size: m.size,
			Open: func() (io.ReadCloser, error) { return os.Open(file) }}); err != nil {
			return err
		}
	}
	return nil
}

// firstWords returns s cut at a word boundary to at most n runes, with an
// ellipsis when cut.
func firstWords(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return cut + "…"
}

func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Join(strings.Fields(s), " ")
}

func build(pf *gofeed.Feed, dir string) *Feed {
	f := &Feed{}
	f.meta = source.Metadata{
		Title:       titleText(pf.Title),
		Description: clean(plainText(pf.Description)),
		Language:    clean(pf.Language),
		Creator:     personNames(pf.Authors),
		MainPage:    IndexPage,
	}
	if f.meta.Title == "" {
		f.meta.Title = "Feed"
	}
	if pf.UpdatedParsed != nil {
		f.meta.Date = pf.UpdatedParsed.UTC().Format("2006-01-02")
	} else if pf.PublishedParsed != nil {
		f.meta.Date = pf.PublishedParsed.UTC().Format("2006-01-02")
	}
	base, _ := url.Parse(strings.TrimSpace(pf.Link))
	if base == nil || base.Scheme == "" {
		base, _ = url.Parse(strings.TrimSpace(pf.FeedLink))
	}
	used := map[string]bool{IndexPage: true}
	mediaSeen := map[string]bool{}
	var arts []*article
	budget := sanitizeBudget
	for i, it := range pf.Items {
		if it == nil {
			continue
		}
		a := &article{order: i, title: titleText(it.Title), author: personNames(it.Authors)}
		if it.PublishedParsed != nil {
			a.date = *it.PublishedParsed
		} else if it.UpdatedParsed != nil {
			a.date = *it.UpdatedParsed
		}
		if a.title == "" {
			// Untitled items (optional in RSS and JSON Feed): their first
			// words, as readers of feeds show them.
			text := it.Content
			if strings.TrimSpace(text) == "" {
				text = it.Description
			}
			a.title = firstWords(clean(tokenText(text[:min(len(text), 4096)])), 80)
		}
		if a.title == "" {
			a.title = fmt.Sprintf("#%d", i+1)
		}
		if l := strings.TrimSpace(it.Link); l != "" {
			if u, err := url.Parse(l); err == nil && base != nil {
				l = base.ResolveReference(u).String()
			}
			a.link = clean(l)
		}
		content := it.Content
		if strings.TrimSpace(content) == "" {
			content = it.Description
		}
		a.path = uniquePath(used, ItemDir+slug(a.date, a.title))
		for _, enc := range it.Enclosures {
			if enc == nil {
				continue
			}
			if m, ok := localMedia(dir, enc.URL, enc.Type); ok {
				a.media = append(a.media, m)
				if !mediaSeen[m.path] {
					mediaSeen[m.path] = true
					f.media = append(f.media, m)
				}
			}
		}
		if len(content) > maxContent {
			// Bounds the HTML parser's work on hostile input.
			content = strings.ToValidUTF8(content[:maxContent], "")
		}
		switch {
		case strings.Contains(content, "<") && budget >= len(content) && source.Unclosed([]byte(content)) <= maxUnclosed:
			budget -= len(content)
			a.content = Sanitize(content, func(ref string) string { return localRef(a, ref) })
		case strings.Contains(content, "<"):
			a.content = textToHTML(tokenText(content))
		default:
			a.content = textToHTML(html.UnescapeString(content))
		}
		arts = append(arts, a)
	}
	sort.SliceStable(arts, func(i, j int) bool {
		di, dj := arts[i].date, arts[j].date
		if di.IsZero() != dj.IsZero() {
			return !di.IsZero() // dated items first
		}
		return di.After(dj)
	})
	f.pages = append(f.pages, page{path: IndexPage, title: f.meta.Title, body: indexPage(f.meta, arts)})
	for i, a := range arts {
		var prev, next *article
		if i > 0 {
			prev = arts[i-1]
		}
		if i+1 < len(arts) {
			next = arts[i+1]
		}
		f.pages = append(f.pages, page{path: a.path, title: a.title, body: articlePage(f.meta, a, prev, next)})
	}
	sort.Slice(f.media, func(i, j int) bool { return f.media[i].path < f.media[j].path })
	return f
}

// localRef maps a link inside item content to a local enclosure, if it
// names one; everything else is dropped ("").
func localRef(a *article, ref string) string {
	u, err := url.Parse(strings.TrimSpace(ref))
	if err != nil {
		return ""
	}
	name := path.Base(u.Path)
	for _, m := range a.media {
		if path.Base(m.path) == name {
			return "../" + escapePath(m.path)
		}
	}
	return ""
}

func personNames(ps []*gofeed.Person) string {
	var names []string
	for _, p := range ps {
		if p == nil {
			continue
		}
		if n := clean(p.Name); n != "" {
			names = append(names, n)
		} else if e := clean(p.Email); e != "" {
			names = append(names, e)
		}
	}
	return strings.Join(names, ", ")
}

// slug makes "YYYY-MM-DD-title.html" from an item's date and title,
// keeping letters (any script) and digits, at most 60 runes.
func slug(d time.Time, title string) string {
	var b strings.Builder
	if !d.IsZero() {
		b.WriteString(d.UTC().Format("2006-01-02"))
		b.WriteByte('-')
	}
	n, dash := 0, false
	for _, r := range title {
		if n >= 60 {
			break
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if dash && n > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(unicode.ToLower(r))
			n++
			dash = false
		} else {
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		s = "item"
	}
	return s + ".html"
}

func uniquePath(used map[string]bool, p string) string {
	if !used[p] {
		used[p] = true
		return p
	}
	stem := strings.TrimSuffix(p, ".html")
	for i := 2; ; i++ {
		q := fmt.Sprintf("%s-%d.html", stem, i)
		if !used[q] {
			used[q] = true
			return q
		}
	}
}

// localMedia finds an enclosure as a regular file inside dir: first at the
// URL's relative path (when relative and not escaping dir), then by its
// base name.
func localMedia(dir, ref, typ string) (mediaFile, bool) {
	if dir == "" {
		return mediaFile{}, false
	}
	u, err := url.Parse(strings.TrimSpace(ref))
	if err != nil || u.Path == "" {
		return mediaFile{}, false
	}
	var cands []string
	if u.Scheme == "" && u.Host == "" && !strings.HasPrefix(u.Path, "/") {
		if c := path.Clean(u.Path); c != ".." && !strings.HasPrefix(c, "../") {
			cands = append(cands, c)
		}
	}
	cands = append(cands, path.Base(u.Path))
	for _, c := range cands {
		if c == "." || c == "/" || c == ".." || !utf8.ValidString(c) || strings.ContainsAny(c, "\\") || strings.IndexFunc(c, unicode.IsControl) >= 0 {
			continue
		}
		file := filepath.Join(dir, filepath.FromSlash(c))
		st, err := os.Lstat(file)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		mt := strings.TrimSpace(typ)
		if _, _, err := mime.ParseMediaType(mt); err != nil || mt == "" {
			mt = mime.TypeByExtension(path.Ext(c))
		}
		if mt == "" {
			mt = "application/octet-stream"
		}
		return mediaFile{path: MediaDir + c, file: file, mime: mt, size: st.Size()}, true
	}
	return mediaFile{}, false
}

func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

const pageStyle = `<style>body{max-width:42em;margin:1em auto;padding:0 1em;font-family:sans-serif;line-height:1.6}` +
	`.meta,.src{color:#555;font-size:.9em}.src span{word-break:break-all}img{max-width:100%}li{margin:.3em 0}</style>`

func head(b *strings.Builder, lang, title string) {
	if lang == "" {
		lang = "und"
	}
	fmt.Fprintf(b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n%s\n</head>\n<body>\n",
		html.EscapeString(lang), html.EscapeString(title), pageStyle)
}

func dateText(d time.Time) string {
	if d.IsZero() {
		return ""
	}
	return d.Format("2006-01-02 15:04")
}

func indexPage(md source.Metadata, arts []*article) []byte {
	var b strings.Builder
	head(&b, md.Language, md.Title)
	fmt.Fprintf(&b, "<h1>%s</h1>\n", html.EscapeString(md.Title))
	if md.Description != "" {
		fmt.Fprintf(&b, "<p>%s</p>\n", html.EscapeString(md.Description))
	}
	b.WriteString("<ul>\n")
	for _, a := range arts {
		fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a>", html.EscapeString(escapePath(a.path)), html.EscapeString(a.title))
		if d := dateText(a.date); d != "" {
			fmt.Fprintf(&b, " <span class=\"meta\">%s</span>", d)
		}
		b.WriteString("</li>\n")
	}
	b.WriteString("</ul>\n</body>\n</html>\n")
	return []byte(b.String())
}

func articlePage(md source.Metadata, a, prev, next *article) []byte {
	var b strings.Builder
	head(&b, md.Language, a.title)
	fmt.Fprintf(&b, "<p class=\"meta\"><a href=\"../%s\">%s</a></p>\n<article>\n<h1>%s</h1>\n", IndexPage, html.EscapeString(md.Title), html.EscapeString(a.title))
	var meta []string
	if d := dateText(a.date); d != "" {
		meta = append(meta, d)
	}
	if a.author != "" {
		meta = append(meta, html.EscapeString(a.author))
	}
	if len(meta) > 0 {
		fmt.Fprintf(&b, "<p class=\"meta\">%s</p>\n", strings.Join(meta, " · "))
	}
	b.WriteString("<div class=\"content\">\n")
	b.WriteString(a.content)
	b.WriteString("\n</div>\n")
	w := source.WordsFor(md.Language)
	if len(a.media) > 0 {
		fmt.Fprintf(&b, "<h2>%s</h2>\n<ul>\n", w.Attachments)
		for _, m := range a.media {
			fmt.Fprintf(&b, "<li><a href=\"../%s\">%s</a> (%s)</li>\n", html.EscapeString(escapePath(m.path)), html.EscapeString(path.Base(m.path)), html.EscapeString(m.mime))
		}
		b.WriteString("</ul>\n")
	}
	if a.link != "" {
		// Shown as text only: a live link would leave the device.
		fmt.Fprintf(&b, "<p class=\"src\">%s: <span>%s</span></p>\n", w.Original, html.EscapeString(a.link))
	}
	b.WriteString("</article>\n<p class=\"meta\">")
	if prev != nil {
		fmt.Fprintf(&b, "<a rel=\"prev\" href=\"%s\">← %s</a> · ", html.EscapeString(url.PathEscape(path.Base(prev.path))), html.EscapeString(prev.title))
	}
	fmt.Fprintf(&b, "<a href=\"../%s\">%s</a>", IndexPage, w.List)
	if next != nil {
		fmt.Fprintf(&b, " · <a rel=\"next\" href=\"%s\">%s →</a>", html.EscapeString(url.PathEscape(path.Base(next.path))), html.EscapeString(next.title))
	}
	b.WriteString("</p>\n</body>\n</html>\n")
	return []byte(b.String())
}
