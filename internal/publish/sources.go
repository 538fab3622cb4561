package publish

import (
	"context"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"strings"

	"ferry/internal/archive"
	"ferry/internal/pack"
	"ferry/internal/publish/config"
	"ferry/internal/publish/harvest"
	"ferry/internal/source"
)

// gather harvests the channel's web sources and opens every source for
// packing: the harvested pages at the archive's root, each downloaded file
// (a ZIM, WARC, EPUB…) and each local path under a prefix named after it.
func (p *run) gather() ([]pack.Source, func(), archive.Info, error) {
	ch := p.ch
	info := archive.Info{Channel: ch.Name, Title: ch.Title, Description: ch.Description,
		Languages: ch.Languages, Publisher: ch.Publisher, Created: p.opts.Now().UTC().Truncate(1e9)}
	var web []harvest.Source
	var local []config.Source
	for _, s := range ch.Sources {
		switch s.Kind {
		case config.KindFeed:
			web = append(web, harvest.Source{Kind: harvest.Feed, URL: s.Location, MaxPages: s.MaxPages,
				Include: s.Include, Exclude: s.Exclude, Articles: s.Articles, Resources: s.Resources})
		case config.KindSite:
			web = append(web, harvest.Source{Kind: harvest.Site, URL: s.Location, Depth: s.Depth, MaxPages: s.MaxPages,
				Include: s.Include, Exclude: s.Exclude, Sitemap: s.Sitemap, Resources: s.Resources})
		case config.KindURL:
			web = append(web, harvest.Source{Kind: harvest.File, URL: s.Location, MaxSize: s.MaxSize})
		case config.KindPath:
			local = append(local, s)
		}
	}
	var closers []io.Closer
	closeAll := func() {
		for _, c := range closers {
			c.Close()
		}
	}
	var srcs []pack.Source
	prefixes := map[string]bool{}
	prefix := func(name string) string {
		base := sanitize(stem(name))
		pfx := base
		for i := 2; prefixes[pfx]; i++ {
			pfx = fmt.Sprintf("%s-%d", base, i)
		}
		prefixes[pfx] = true
		return pfx
	}
	add := func(pfx string, s source.Source) {
		if c, ok := s.(io.Closer); ok {
			closers = append(closers, c)
		}
		srcs = append(srcs, pack.Source{Prefix: pfx, Source: s})
	}
	fail := func(err error) ([]pack.Source, func(), archive.Info, error) {
		closeAll()
		return nil, func() {}, info, err
	}

	if len(web) > 0 {
		out := filepath.Join(p.dir, "out")
		sum, err := p.harvest(web, out)
		if err != nil {
			return fail(err)
		}
		if err := checkSources(web, sum); err != nil {
			return fail(err)
		}
		downloads := map[string]bool{}
		pages := 0
		for _, pg := range sum.Pages {
			if pg.What == "download" {
				downloads[pg.File] = true
				s, err := pack.Open(p.ctx, filepath.Join(out, filepath.FromSlash(pg.File)))
				if err != nil {
					return fail(fmt.Errorf("%s (downloaded from %s): %w", pg.File, pg.URL, err))
				}
				pfx := ""
				if len(ch.Sources) > 1 {
					pfx = prefix(path.Base(pg.File))
				}
				add(pfx, s)
				continue
			}
			pages++
		}
		if pages > 0 {
			fs, err := pack.Open(p.ctx, out)
			if err != nil {
				return fail(err)
			}
			prefixes[""] = true
			add("", filtered{fs, func(p string) bool { return !downloads[p] }})
			info.MainPage = mainPage(web, sum)
		}
	}
	for _, s := range local {
		src, err := pack.Open(p.ctx, s.Location)
		if err != nil {
			return fail(fmt.Errorf("source %s: %w", s.Location, err))
		}
		if len(s.Include) > 0 || len(s.Exclude) > 0 {
			inc, exc := s.Include, s.Exclude
			src = filtered{src, func(p string) bool { return globsAllow(inc, exc, p) }}
		}
		pfx := ""
		if len(ch.Sources) > 1 {
			pfx = prefix(filepath.Base(s.Location))
		}
		add(pfx, src)
	}
	if len(srcs) == 0 {
		return fail(fmt.Errorf("%w: nothing to pack", ErrSourceEmpty))
	}
	return srcs, closeAll, info, nil
}

func (p *run) harvest(web []harvest.Source, out string) (*harvest.Summary, error) {
	h := p.cfg.Harvest
	o := harvest.Options{
		Out: out, StateDir: filepath.Join(p.dir, "harvest"),
		Contact: h.Contact, Proxy: h.Proxy, Delay: h.Delay, PerHost: h.PerHost, Concurrency: h.Concurrency,
		Timeout: h.Timeout, MaxPageSize: h.MaxPageSize, Retries: h.Retries, AllowPrivate: h.AllowPrivate,
		Progress: func(e harvest.Event) {
			// robots.txt and sitemaps count as done but not as queued.
			p.progress(Progress{Phase: "harvest", Label: e.URL, Done: int64(e.Done), Total: int64(max(e.Done, e.Queued))})
		},
	}
	// The config's zero means none; the harvester's zero means its default.
	if o.Delay == 0 {
		o.Delay = -1
	}
	if o.Retries == 0 {
		o.Retries = -1
	}
	if p.opts.Proxy != "" {
		o.Proxy = p.opts.Proxy
	}
	if p.opts.Harvest != nil {
		p.opts.Harvest(&o)
	}
	hv, err := harvest.New(o)
	if err != nil {
		return nil, err
	}
	sum, err := hv.Run(p.ctx, web)
	if sum != nil {
		p.res.Harvest = sum
	}
	if err != nil {
		return nil, fmt.Errorf("harvesting: %w", err)
	}
	return sum, nil
}

// checkSources refuses a harvest in which a source gave no page at all (its
// start page or feed failed): publishing it would remove all its pages from
// readers' libraries because of what is likely a passing outage.
func checkSources(web []harvest.Source, sum *harvest.Summary) error {
	got := map[string]int{}
	for _, pg := range sum.Pages {
		got[pg.Source]++
	}
	for i, s := range web {
		if got[s.URL] > 0 {
			continue
		}
		why := "no pages"
		for _, e := range sum.Errors {
			if e.Source == s.URL {
				why = e.Error()
				break
			}
		}
		return fmt.Errorf("%w: %s source %d (%s): %s; nothing was published, so that readers keep its pages: run again when it answers", ErrSourceEmpty, s.Kind, i+1, s.URL, why)
	}
	return nil
}

// mainPage is the first web source's start page or feed index.
func mainPage(web []harvest.Source, sum *harvest.Summary) string {
	for _, s := range web {
		if s.Kind == harvest.File {
			continue
		}
		for _, pg := range sum.Pages {
			if pg.Source == s.URL && (pg.URL == s.URL || pg.What == "feed") {
				return pg.File
			}
		}
		for _, pg := range sum.Pages {
			if pg.Source == s.URL && pg.What == "page" {
				return pg.File
			}
		}
	}
	return ""
}

// filtered is a source whose entries pass keep.
type filtered struct {
	source.Source
	keep func(path string) bool
}

func (f filtered) Walk(ctx context.Context, fn func(source.Entry) error) error {
	return f.Source.Walk(ctx, func(e source.Entry) error {
		if !f.keep(e.Path) {
			return nil
		}
		return fn(e)
	})
}

func (f filtered) Close() error {
	if c, ok := f.Source.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// globsAllow applies a path source's include and exclude globs to an entry
// path: '*', '?' and [...] within a segment, '**' across segments; a glob
// without '/' matches the base name.
func globsAllow(include, exclude []string, p string) bool {
	for _, g := range exclude {
		if globMatch(g, p) {
			return false
		}
	}
	if len(include) == 0 {
		return true
	}
	for _, g := range include {
		if globMatch(g, p) {
			return true
		}
	}
	return false
}

func globMatch(glob, p string) bool {
	glob = strings.TrimPrefix(glob, "/")
	if !strings.Contains(glob, "/") {
		return segMatch([]string{glob}, []string{path.Base(p)})
	}
	return segMatch(strings.Split(glob, "/"), strings.Split(p, "/"))
}

func segMatch(g, s []string) bool {
	for len(g) > 0 {
		if g[0] == "**" {
			for i := 0; i <= len(s); i++ {
				if segMatch(g[1:], s[i:]) {
					return true
				}
			}
			return false
		}
		if len(s) == 0 {
			return false
		}
		if ok, err := path.Match(g[0], s[0]); err != nil || !ok {
			return false
		}
		g, s = g[1:], s[1:]
	}
	return len(s) == 0
}

// stem drops the extensions of source files: "iana.warc.gz" → "iana".
func stem(name string) string {
	for _, ext := range []string{".gz", ".warc", ".zim", ".epub", ".atom", ".rss", ".xml", ".json", ".ferry"} {
		name = strings.TrimSuffix(name, ext)
	}
	return name
}

func sanitize(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '/' || r == '\\' || r < ' ' || r == 0x7f:
			b.WriteRune('_')
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 || s == "." || s == ".." {
		return "source"
	}
	return b.String()
}
