package harvest

import (
	"bytes"
	"fmt"
	"html"
	"net/url"
	"strings"
	"sync"
	"time"

	readability "codeberg.org/readeck/go-readability/v2"
	"github.com/mmcdole/gofeed"
)

// feedRun collects a feed's items for its index page.
type feedRun struct {
	mu      sync.Mutex
	title   string
	items   []feedEntry
	pending int // article tasks still running, +1 while items are queued
}

// doneOne counts down pending; the last one writes the feed's index page
// (on a worker, so the pool cannot finish before it).
func (fr *feedRun) doneOne(r *run, s *sourceRun, resp *response) {
	fr.mu.Lock()
	fr.pending--
	last := fr.pending == 0
	fr.mu.Unlock()
	if last {
		r.feedIndex(s, resp, fr)
	}
}

type feedEntry struct {
	title, url string
	date       time.Time
}

func (r *run) feedTask(s *sourceRun) {
	u := s.start
	r.claim(u.String())
	resp, err := r.fetch(r.ctx, fetchReq{url: u, what: "feed", source: s.URL, maxSize: r.o.MaxPageSize, robots: true, cond: true})
	if err == nil {
		var f *gofeed.Feed
		f, err = parseFeed(resp.body)
		if err == nil {
			r.result(u.String(), s.URL, "feed", resp, nil)
			r.feedItems(s, resp, f)
			return
		}
	}
	r.result(u.String(), s.URL, "feed", resp, err)
}

// parseFeed parses RSS, Atom or JSON Feed, turning a parser panic on a
// hostile feed into an error.
func parseFeed(b []byte) (f *gofeed.Feed, err error) {
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("feed parser failed: %v", p)
		}
	}()
	f, err = gofeed.NewParser().Parse(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("not a feed: %w", err)
	}
	return f, nil
}

func (r *run) feedItems(s *sourceRun, resp *response, f *gofeed.Feed) {
	fr := &feedRun{title: strings.TrimSpace(f.Title), pending: 1}
	base := resp.url
	if f.FeedLink != "" {
		if u := resolve(base, f.FeedLink); u != nil && u.Host == base.Host {
			base = u
		}
	}
	n := 0
	for i, it := range f.Items {
		if it == nil {
			continue
		}
		if n >= s.MaxPages {
			r.skip(fmt.Sprintf("%s#item-%d", s.URL, i+1), s.URL, "article", fmt.Errorf("%w: the feed's %d items are taken", ErrLimit, s.MaxPages))
			continue
		}
		link := resolve(base, it.Link)
		if link == nil && len(it.Links) > 0 {
			link = resolve(base, it.Links[0])
		}
		if link != nil && !s.pats.allows(link) {
			r.skip(link.String(), s.URL, "article", ErrExcluded)
			continue
		}
		n++
		page := link
		if page == nil {
			// No link: the item's own content makes a page of its own.
			id := it.GUID
			if id == "" {
				id = it.Title + it.Published + it.Content
			}
			page = &url.URL{Scheme: resp.url.Scheme, Host: resp.url.Host, Path: strings.TrimSuffix(resp.url.Path, "/") + "-items/" + shortHash(id)}
		}
		e := feedEntry{title: strings.TrimSpace(it.Title), url: page.String()}
		if it.PublishedParsed != nil {
			e.date = *it.PublishedParsed
		} else if it.UpdatedParsed != nil {
			e.date = *it.UpdatedParsed
		}
		fr.items = append(fr.items, e)
		if !r.claim(page.String()) {
			continue
		}
		item := it
		if link != nil && s.Articles {
			fr.mu.Lock()
			fr.pending++
			fr.mu.Unlock()
			r.queue(func() { defer fr.doneOne(r, s, resp); r.articleTask(s, link, item) })
		} else {
			r.articleFromFeed(s, page, item, nil)
		}
	}
	fr.doneOne(r, s, resp)
}

// feedIndex stores the page listing a feed's items.
func (r *run) feedIndex(s *sourceRun, resp *response, fr *feedRun) {
	var b strings.Builder
	title := fr.title
	if title == "" {
		title = resp.url.Host
	}
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head><body>\n<h1>%s</h1>\n<ul>\n", html.EscapeString(title), html.EscapeString(title))
	for _, e := range fr.items {
		t := e.title
		if t == "" {
			t = e.url
		}
		fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a>", html.EscapeString(e.url), html.EscapeString(t))
		if !e.date.IsZero() {
			fmt.Fprintf(&b, " <time datetime=\"%s\">%s</time>", e.date.UTC().Format(time.RFC3339), e.date.UTC().Format("2006-01-02"))
		}
		b.WriteString("</li>\n")
	}
	b.WriteString("</ul>\n</body></html>\n")
	name := cacheName("feed-index:" + resp.url.String())
	if err := r.writeCache(name, []byte(b.String())); err != nil {
		r.fail(resp.url.String(), s.URL, "feed", 0, 0, err)
		return
	}
	r.addItem(&item{url: resp.url.String(), what: "feed", ctype: "text/html; charset=utf-8", cache: name, title: title, source: s.URL, changed: !resp.notModified})
}

// articleTask fetches an item's page and keeps its main text.
func (r *run) articleTask(s *sourceRun, link *url.URL, it *gofeed.Item) {
	resp, err := r.fetch(r.ctx, fetchReq{url: link, what: "article", source: s.URL, maxSize: r.o.MaxPageSize, robots: true, cond: true})
	r.result(link.String(), s.URL, "article", resp, err)
	if err != nil {
		// The feed's own text is better than nothing.
		r.articleFromFeed(s, link, it, nil)
		return
	}
	final := resp.url
	if final.String() != link.String() {
		r.claim(final.String())
	}
	name := cacheName("article:" + final.String())
	if resp.notModified && r.cacheExists(name) {
		r.articleDone(s, final, it, name, false)
		return
	}
	if !isHTML(resp.entry.Type, resp.body) {
		r.articleFromFeed(s, final, it, nil)
		return
	}
	art, err := readable(toUTF8(resp.body, resp.entry.Type), final)
	if err != nil {
		r.articleFromFeed(s, final, it, nil)
		return
	}
	r.articleFromFeed(s, final, it, &art)
}

// readable runs readability, turning a panic on a hostile page into an error.
func readable(b []byte, u *url.URL) (a readability.Article, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("readability failed: %v", p)
		}
	}()
	a, err = readability.FromReader(bytes.NewReader(b), u)
	if err == nil && a.Node == nil {
		err = fmt.Errorf("no main text found")
	}
	return a, err
}

// articleFromFeed writes the page ferry makes for an item: its title, date,
// author and either the extracted article or the feed's own content.
func (r *run) articleFromFeed(s *sourceRun, page *url.URL, it *gofeed.Item, art *readability.Article) {
	title := strings.TrimSpace(it.Title)
	var body bytes.Buffer
	lang := ""
	if art != nil {
		if title == "" {
			title = art.Title()
		}
		lang = art.Language()
		if err := art.RenderHTML(&body); err != nil {
			art = nil
		}
	}
	if art == nil {
		body.Reset()
		c := it.Content
		if c == "" {
			c = it.Description
		}
		// Feed content is HTML; pass it through the tokenizer so a broken
		// fragment cannot swallow the rest of the page.
		body.Write(rewrite([]byte(c), page, func(*url.URL) (string, bool) { return "", false }))
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html")
	if lang != "" && len(lang) < 20 {
		fmt.Fprintf(&b, " lang=\"%s\"", html.EscapeString(lang))
	}
	fmt.Fprintf(&b, "><head><meta charset=\"utf-8\"><title>%s</title></head><body>\n<article>\n<h1>%s</h1>\n", html.EscapeString(title), html.EscapeString(title))
	var meta []string
	if it.PublishedParsed != nil {
		meta = append(meta, fmt.Sprintf("<time datetime=\"%s\">%s</time>", it.PublishedParsed.UTC().Format(time.RFC3339), it.PublishedParsed.UTC().Format("2006-01-02")))
	}
	authors := it.Authors
	if len(authors) == 0 && it.Author != nil { //nolint:staticcheck // RSS <author> lands only here
		authors = append(authors, it.Author) //nolint:staticcheck
	}
	for _, a := range authors {
		if a != nil && a.Name != "" {
			meta = append(meta, html.EscapeString(a.Name))
		}
	}
	if len(meta) > 0 {
		fmt.Fprintf(&b, "<p class=\"meta\">%s</p>\n", strings.Join(meta, " · "))
	}
	b.Write(body.Bytes())
	fmt.Fprintf(&b, "\n<p class=\"source\">%s</p>\n</article>\n</body></html>\n", html.EscapeString(page.String()))
	name := cacheName("article:" + page.String())
	if err := r.writeCache(name, []byte(b.String())); err != nil {
		r.fail(page.String(), s.URL, "article", 0, 0, err)
		return
	}
	r.articleDone(s, page, it, name, true)
}

func (r *run) articleDone(s *sourceRun, page *url.URL, it *gofeed.Item, name string, changed bool) {
	title := strings.TrimSpace(it.Title)
	r.addItem(&item{url: page.String(), what: "article", ctype: "text/html; charset=utf-8", cache: name, title: title, source: s.URL, changed: changed})
	if !s.Resources {
		return
	}
	body, err := r.readCache(name)
	if err != nil {
		return
	}
	for _, res := range extract(body, page).resources {
		r.enqueueResource(s, res)
	}
}
