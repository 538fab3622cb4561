// Package static writes an archive as a folder of plain files that open in
// any browser from file:// with nothing installed — on a FAT32 card, in an
// old browser (HTML 4 and CSS 2, no JavaScript needed to read and move
// around), on a "notel" player that plays the MP4 files as they are.
// docs/static.md describes the layout and the optional search.
package static

import (
	"bytes"
	"errors"
	"fmt"
	"html"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"ferry/internal/archive"
	"ferry/internal/htmltext"
)

// Options tune Export.
type Options struct {
	// NoSearch leaves out the JavaScript search and its index.
	NoSearch bool
	// Progress receives entries written and the total.
	Progress func(done, total int64)
}

// Summary reports what Export wrote.
type Summary struct {
	Files int
	Bytes int64
}

// ErrExists reports an output folder that is not empty.
var ErrExists = errors.New("static: output folder is not empty")

type exporter struct {
	dir  string
	opts Options
	sum  Summary
}

// Export writes archives into dir, which must be empty or absent: an
// index page, and for each archive a folder with every entry as a file,
// its title index pages and (unless NoSearch) its search.
func Export(dir string, archives []archive.Contents, opts Options) (*Summary, error) {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("%w: %s (choose a new folder)", ErrExists, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	x := &exporter{dir: dir, opts: opts}
	top := newNamer("index.html", "ferry.css")
	var items []indexItem
	var total, done int64
	for _, a := range archives {
		total += int64(a.NumEntries())
	}
	for _, a := range archives {
		m := a.Manifest()
		slug := top.name(safeSlug(m.Channel), "")
		it, err := x.exportArchive(a, slug, &done, total)
		if err != nil {
			return nil, fmt.Errorf("exporting %s: %w", m.Channel, err)
		}
		items = append(items, it)
	}
	if err := x.write("ferry.css", []byte(css)); err != nil {
		return nil, err
	}
	if err := x.write("index.html", topIndex(items)); err != nil {
		return nil, err
	}
	return &x.sum, nil
}

func safeSlug(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == '.' {
			return '_'
		}
		return r
	}, s)
	if s == "" {
		return "archive"
	}
	return s
}

func (x *exporter) write(rel string, b []byte) error {
	p := filepath.Join(x.dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return err
	}
	x.sum.Files++
	x.sum.Bytes += int64(len(b))
	return nil
}

type indexItem struct {
	title, lang, href string
	edition           uint64
	articles          int
}

type doc struct {
	title, file string
}

func (x *exporter) exportArchive(a archive.Contents, slug string, done *int64, total int64) (indexItem, error) {
	m := a.Manifest()
	n := a.NumEntries()
	files := make([]string, n)
	nm := newNamer("index.html", "titles", "search", "search.html")
	// Pass 1: name every content entry.
	for i := 0; i < n; i++ {
		e, err := a.EntryAt(i)
		if err != nil {
			return indexItem{}, err
		}
		if e.Redirect {
			files[i] = nm.name(e.Path, "text/html")
		} else {
			files[i] = nm.name(e.Path, e.MIME)
		}
	}
	byPath := func(p string) (int, bool) {
		i := sort.Search(n, func(i int) bool {
			e, err := a.EntryAt(i)
			return err != nil || e.Path >= p
		})
		if i < n {
			if e, err := a.EntryAt(i); err == nil && e.Path == p {
				return i, true
			}
		}
		return 0, false
	}
	// resolve maps an entry index to the file of its final target.
	resolve := func(i int) (string, bool) {
		e, err := a.EntryAt(i)
		for k := 0; err == nil && e.Redirect && k < 16; k++ {
			e, err = a.Target(e)
		}
		if err != nil || e.Redirect {
			return "", false
		}
		return files[e.Index], true
	}
	var docs []doc
	var index searchIndex
	// Pass 2: write files, rewriting links in HTML and CSS.
	for i := 0; i < n; i++ {
		e, err := a.EntryAt(i)
		if err != nil {
			return indexItem{}, err
		}
		rel := slug + "/" + files[i]
		*done++
		if x.opts.Progress != nil {
			x.opts.Progress(*done, total)
		}
		if e.Redirect {
			t, ok := resolve(i)
			if !ok {
				continue
			}
			if err := x.write(rel, redirectPage(relURL(files[i], t), e.Title)); err != nil {
				return indexItem{}, err
			}
			continue
		}
		b, err := a.ReadAll(e)
		if err != nil {
			return indexItem{}, err
		}
		link := func(u string) (string, bool) {
			return mapLink(files[i], e.Path, u, byPath, resolve)
		}
		switch bm := baseMIME(e.MIME); {
		case bm == "text/html" || bm == "application/xhtml+xml":
			if e.Article {
				title, text := htmltext.Extract(b)
				if e.Title != "" {
					title = e.Title
				}
				if title == "" {
					title = e.Path
				}
				if !x.opts.NoSearch {
					index.add(len(docs), title, text)
				}
				docs = append(docs, doc{title, files[i]})
			}
			b = rewriteHTML(b, link)
		case bm == "text/css":
			b = rewriteCSS(b, link)
		}
		if err := x.write(rel, b); err != nil {
			return indexItem{}, err
		}
	}
	it := indexItem{title: m.Title, lang: strings.Join(m.Languages, ", "), href: escapeElement(slug) + "/index.html",
		edition: m.Edition, articles: len(docs)}
	mainFile := ""
	if m.MainPage != "" {
		if i, ok := byPath(m.MainPage); ok {
			mainFile, _ = resolve(i)
		}
	}
	byTitle := append([]doc{}, docs...)
	sort.SliceStable(byTitle, func(i, j int) bool { return sortKey(byTitle[i].title) < sortKey(byTitle[j].title) })
	pages := titlePages(byTitle)
	for _, p := range pages {
		if err := x.write(slug+"/titles/"+p.file, p.render(m.Title, pages)); err != nil {
			return indexItem{}, err
		}
	}
	hasSearch := !x.opts.NoSearch && len(docs) > 0
	if hasSearch {
		if err := index.write(x, slug, docs); err != nil {
			return indexItem{}, err
		}
	}
	if err := x.write(slug+"/index.html", archiveIndex(m, mainFile, pages, hasSearch)); err != nil {
		return indexItem{}, err
	}
	return it, nil
}

// mapLink rewrites one link of the entry at from (archive path entryPath)
// to the file it points at; false leaves the link as it is.
func mapLink(fromFile, entryPath, u string, byPath func(string) (int, bool), resolve func(int) (string, bool)) (string, bool) {
	u = strings.TrimSpace(u)
	if u == "" || strings.HasPrefix(u, "#") || strings.Contains(u, "://") || strings.HasPrefix(u, "//") ||
		strings.HasPrefix(u, "data:") || strings.HasPrefix(u, "mailto:") || strings.HasPrefix(u, "javascript:") {
		return "", false
	}
	frag := ""
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u, frag = u[:i], u[i:]
	}
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	if u == "" {
		return "", false
	}
	p := unescape(u)
	if strings.HasPrefix(p, "/") {
		p = strings.TrimPrefix(path.Clean(p), "/")
	} else {
		p = path.Join(path.Dir(entryPath), p)
	}
	if strings.HasPrefix(p, "../") || p == ".." || p == "." {
		return "", false
	}
	i, ok := byPath(p)
	if !ok {
		return "", false
	}
	t, ok := resolve(i)
	if !ok {
		return "", false
	}
	return relURL(fromFile, t) + frag, true
}

func unescape(s string) string {
	var b []byte
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

func redirectPage(target, title string) []byte {
	var b bytes.Buffer
	b.WriteString(doctype)
	fmt.Fprintf(&b, "<html><head>\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\n<meta http-equiv=\"refresh\" content=\"0; url=%s\">\n<title>%s</title></head>\n", html.EscapeString(target), html.EscapeString(title))
	fmt.Fprintf(&b, "<body><p><a href=\"%s\">%s</a></p></body></html>\n", html.EscapeString(target), html.EscapeString(orDefault(title, target)))
	return b.Bytes()
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
