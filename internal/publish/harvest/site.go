package harvest

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"net/url"
)

func (r *run) startSite(s *sourceRun) {
	r.claim(s.start.String())
	s.take(false, 0)
	r.queue(func() { r.pageTask(s, s.start, 0) })
	if s.Sitemap && s.Depth > 0 {
		r.queue(func() { r.sitemapTask(s) })
	}
}

// enqueuePage adds a page of a site if it is in scope and new.
func (r *run) enqueuePage(s *sourceRun, u *url.URL, depth int) {
	if u.Host != s.start.Host || u.Scheme != s.start.Scheme && !(s.start.Scheme == "http" && u.Scheme == "https") {
		return // other hosts are not crawled (and not reported: there are many)
	}
	if !s.pats.allows(u) {
		return
	}
	if !r.claim(u.String()) {
		return
	}
	if !s.take(false, 0) {
		r.skip(u.String(), s.URL, "page", fmt.Errorf("%w: the source's %d pages are taken", ErrLimit, s.MaxPages))
		return
	}
	r.queue(func() { r.pageTask(s, u, depth) })
}

func (r *run) pageTask(s *sourceRun, u *url.URL, depth int) {
	resp, err := r.fetch(r.ctx, fetchReq{
		url: u, what: "page", source: s.URL, site: s.start.Host,
		maxSize: r.o.MaxPageSize, robots: true, cond: true,
	})
	r.result(u.String(), s.URL, "page", resp, err)
	if err != nil {
		return
	}
	final := resp.url.String()
	if final != u.String() && !r.claim(final) {
		return // redirected to a page this run has
	}
	ctype := resp.entry.Type
	if !isHTML(ctype, resp.body) {
		r.addItem(&item{url: final, what: "file", ctype: ctype, cache: resp.entry.Cache, source: s.URL, changed: !resp.notModified})
		return
	}
	refs := extract(toUTF8(resp.body, ctype), resp.url)
	r.addItem(&item{url: final, what: "page", ctype: ctype, cache: resp.entry.Cache, title: refs.title, source: s.URL, changed: !resp.notModified})
	if depth < s.Depth {
		for _, l := range refs.links {
			r.enqueuePage(s, l, depth+1)
		}
	}
	if s.Resources {
		for _, res := range refs.resources {
			r.enqueueResource(s, res)
		}
	}
}

// enqueueResource adds an image or style sheet a page uses, from any host.
func (r *run) enqueueResource(s *sourceRun, u *url.URL) {
	if !r.claim(u.String()) {
		return
	}
	if !s.take(true, r.o.MaxResources) {
		r.skip(u.String(), s.URL, "resource", fmt.Errorf("%w: the source's %d resources are taken", ErrLimit, r.o.MaxResources))
		return
	}
	r.queue(func() { r.resourceTask(s, u) })
}

func (r *run) resourceTask(s *sourceRun, u *url.URL) {
	resp, err := r.fetch(r.ctx, fetchReq{url: u, what: "resource", source: s.URL, maxSize: r.o.MaxPageSize, robots: true, cond: true})
	r.result(u.String(), s.URL, "resource", resp, err)
	if err != nil {
		return
	}
	final := resp.url.String()
	if final != u.String() && !r.claim(final) {
		return
	}
	r.addItem(&item{url: final, what: "resource", ctype: resp.entry.Type, cache: resp.entry.Cache, source: s.URL, changed: !resp.notModified})
}

// sitemapTask reads the sitemaps robots.txt names, else /sitemap.xml, and
// one level of sitemap indexes, and queues their pages on the site.
func (r *run) sitemapTask(s *sourceRun) {
	rb, err := r.robotsFor(r.ctx, s.start, s.URL)
	if err != nil {
		return
	}
	var maps []*url.URL
	named := len(rb.sitemaps) > 0
	for _, m := range rb.sitemaps {
		if u, err := parseHTTPURL(m); err == nil && u.Host == s.start.Host {
			maps = append(maps, u)
		}
	}
	if !named {
		maps = append(maps, &url.URL{Scheme: s.start.Scheme, Host: s.start.Host, Path: "/sitemap.xml"})
	}
	for level := 0; level < 2 && len(maps) > 0; level++ {
		var next []*url.URL
		for _, m := range maps[:min(len(maps), 50)] {
			if !r.claim(m.String()) {
				continue
			}
			sm, err := r.sitemap(s, m)
			if err != nil {
				var se *statusError
				if !named && errors.As(err, &se) && se.code == 404 {
					r.skip(m.String(), s.URL, "sitemap", err) // the site has none: fine
				} else {
					r.fail(m.String(), s.URL, "sitemap", 0, 0, err)
				}
				continue
			}
			for _, loc := range sm.locs {
				u, err := parseHTTPURL(loc)
				if err != nil || u.Host != s.start.Host {
					continue
				}
				if sm.index {
					next = append(next, u)
				} else {
					r.enqueuePage(s, u, 1)
				}
			}
		}
		maps = next
	}
}

func (r *run) sitemap(s *sourceRun, u *url.URL) (*sitemap, error) {
	resp, err := r.fetch(r.ctx, fetchReq{url: u, what: "sitemap", source: s.URL, site: s.start.Host, maxSize: maxSitemapSize, robots: true, cond: true})
	if err != nil {
		return nil, err
	}
	body := resp.body
	if bytes.HasPrefix(body, []byte{0x1f, 0x8b}) {
		// sitemap.xml.gz: compressed content, not a Content-Encoding.
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		body, _, err = readLimited(zr, min(maxSitemapSize, r.o.MaxRatio*int64(len(resp.body))+64<<10))
		if err != nil {
			return nil, fmt.Errorf("decompressing: %w", err)
		}
	}
	sm, err := parseSitemap(body)
	if err != nil {
		return nil, err
	}
	r.result(u.String(), s.URL, "sitemap", resp, nil)
	return sm, nil
}
