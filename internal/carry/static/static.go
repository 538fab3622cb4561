// Package static writes an archive as a folder of plain files that open in
// any browser from file:// with nothing installed — on a FAT32 card, in an
// old browser (HTML 4 and CSS 2, no JavaScript needed to read and move
// around; the optional search is ES5), on a "notel" player that plays the
// MP4 files as they are. It works in bounded memory whatever the
// archive's size: entries are written one at a time, and the search index
// and the title lists are sorted from temporary files. docs/static.md
// describes the layout, the safety rules and the search.
package static

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"ferry/internal/archive"
	"ferry/internal/glossary"
	"ferry/internal/htmltext"
)

// Options tune Export.
type Options struct {
	// NoSearch leaves out the JavaScript search and its index.
	NoSearch bool
	// NoGlossary leaves Korean pages unmarked (package glossary marks
	// South Korean loanwords with plain explanations by default).
	NoGlossary bool
	// Progress receives entries written and the total.
	Progress func(done, total int64)
	// Warn receives what was left out and why (an entry too large for
	// FAT32, a page too large to make safe).
	Warn func(msg string)
	// Programs, if set, is the export-relative link of a page about ferry's
	// programs for other devices (programs/README.html, package release),
	// which the index page then names. The caller puts the page there.
	Programs string
	// TempDir holds the temporary files of the search index and title
	// lists (about 1.5 KiB per article) while they are sorted; by default
	// a folder inside the output folder, removed at the end.
	TempDir string
}

// Summary reports what Export wrote.
type Summary struct {
	Files   int
	Bytes   int64
	Skipped int // entries left out (each was passed to Options.Warn)
}

// ErrExists reports an output folder that is not empty.
var ErrExists = errors.New("static: output folder is not empty")

// maxFileSize is the largest file FAT32 holds (4 GiB − 1); larger entries
// are left out with a warning. A variable so tests can make it small.
var maxFileSize int64 = 1<<32 - 1

// maxRewrite is the largest page or style sheet read whole to be made
// safe; larger ones are left out (they cannot be shown without it).
const maxRewrite = 16 << 20

type exporter struct {
	ctx  context.Context
	dir  string
	tmp  string
	opts Options
	sum  Summary
	dirs map[string]bool // folders made
}

// Export writes archives into dir, which must be empty or absent: an
// index page, and for each archive a folder with every entry as a file,
// its title index pages and (unless NoSearch) its search.
func Export(ctx context.Context, dir string, archives []archive.Contents, opts Options) (sum *Summary, err error) {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("%w: %s (choose a new folder)", ErrExists, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	defer func() {
		// An interrupted export leaves nothing: the folder was new or empty.
		if err != nil && ctx.Err() != nil {
			os.RemoveAll(dir)
		}
	}()
	tmpIn := opts.TempDir
	if tmpIn == "" {
		tmpIn = dir
	}
	tmp, err := os.MkdirTemp(tmpIn, ".ferry-tmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	x := &exporter{ctx: ctx, dir: dir, tmp: tmp, opts: opts, dirs: map[string]bool{}}
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
	if err := x.write("index.html", topIndex(items, opts.Programs)); err != nil {
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

func (x *exporter) mkdir(rel string) error {
	d := path.Dir(rel)
	if d == "." || x.dirs[d] {
		return nil
	}
	if err := os.MkdirAll(filepath.Join(x.dir, filepath.FromSlash(d)), 0o755); err != nil {
		return err
	}
	x.dirs[d] = true
	return nil
}

func (x *exporter) write(rel string, b []byte) error {
	if err := x.mkdir(rel); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(x.dir, filepath.FromSlash(rel)), b, 0o644); err != nil {
		return err
	}
	x.sum.Files++
	x.sum.Bytes += int64(len(b))
	return nil
}

// copy writes an entry's content as it is, streamed.
func (x *exporter) copy(rel string, r io.Reader) error {
	if err := x.mkdir(rel); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(x.dir, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	x.sum.Files++
	x.sum.Bytes += n
	return nil
}

func (x *exporter) warn(format string, args ...any) {
	x.sum.Skipped++
	if x.opts.Warn != nil {
		x.opts.Warn(fmt.Sprintf(format, args...))
	}
}

type indexItem struct {
	title, langs, lang, href string
	edition                  uint64
	articles                 int
}

// nameTable holds the file name of every entry in one byte slice.
type nameTable struct {
	buf  []byte
	ends []uint64
}

func (t *nameTable) add(s string) {
	t.buf = append(t.buf, s...)
	t.ends = append(t.ends, uint64(len(t.buf)))
}

func (t *nameTable) get(i int) string {
	start := uint64(0)
	if i > 0 {
		start = t.ends[i-1]
	}
	return string(t.buf[start:t.ends[i]])
}

func (x *exporter) exportArchive(a archive.Contents, slug string, done *int64, total int64) (indexItem, error) {
	m := a.Manifest()
	lang := archiveLang(m)
	n := a.NumEntries()
	files := &nameTable{ends: make([]uint64, 0, n)}
	nm := newNamer("index.html", "titles", "search", "search.html")
	// Pass 1: name every entry.
	for i := 0; i < n; i++ {
		if err := x.ctx.Err(); err != nil {
			return indexItem{}, err
		}
		e, err := a.EntryAt(i)
		if err != nil {
			return indexItem{}, err
		}
		if e.Redirect {
			files.add(nm.name(e.Path, "text/html"))
		} else {
			files.add(nm.name(e.Path, e.MIME))
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
		return files.get(e.Index), true
	}
	var idx *indexWriter
	if !x.opts.NoSearch {
		var err error
		if idx, err = newIndexWriter(x, slug, lang, max(m.Counts.Articles, 1)); err != nil {
			return indexItem{}, err
		}
		defer idx.close()
	}
	titles, err := newTitleSpill(x.tmp, lang)
	if err != nil {
		return indexItem{}, err
	}
	defer titles.close()
	seen := map[uint64]struct{}{} // articles by title and text: the same page under two paths is listed once
	var g *glossary.Glossary
	var stored *glossary.EditionMarks // the archive's own marks, if any
	if !x.opts.NoGlossary {
		g = glossary.Default()
		// A table of another glossary, or a damaged one, is not used:
		// pages are then marked as without it. In a chain of a full
		// edition and deltas, each archive keeps its own pages' marks.
		stored, _ = g.EditionMarks(a)
	}
	articles := 0
	// addArticle lists a page or text document once, in the titles and the
	// search index.
	addArticle := func(title, text, entryPath, file string) error {
		if title == "" {
			title = entryPath
		}
		h := fnv64(title + "\x00" + text)
		if _, dup := seen[h]; dup {
			return nil
		}
		seen[h] = struct{}{}
		articles++
		if idx != nil {
			idx.add(title, text, relURL("search.html", file))
		}
		return titles.add(title, file)
	}
	// Pass 2: write files, rewriting links in HTML and CSS.
	for i := 0; i < n; i++ {
		if err := x.ctx.Err(); err != nil {
			return indexItem{}, err
		}
		e, err := a.EntryAt(i)
		if err != nil {
			return indexItem{}, err
		}
		file := files.get(i)
		rel := slug + "/" + file
		*done++
		if x.opts.Progress != nil {
			x.opts.Progress(*done, total)
		}
		if e.Path == glossary.MarksPath {
			continue // the archive's glossary marks: used below, not a file
		}
		if e.Redirect {
			t, ok := resolve(i)
			if !ok {
				continue
			}
			if err := x.write(rel, redirectPage(relURL(file, t), e.Title)); err != nil {
				return indexItem{}, err
			}
			continue
		}
		if e.Size > maxFileSize {
			x.warn("%s/%s: left out: %d bytes is more than a FAT32 card holds in one file", m.Channel, e.Path, e.Size)
			continue
		}
		link := func(u string) (string, bool) {
			return mapLink(file, e.Path, u, byPath, resolve)
		}
		bm := baseMIME(e.MIME)
		isPage := bm == "text/html" || bm == "application/xhtml+xml"
		if bm == "text/plain" && e.Article && e.Size <= maxRewrite {
			// A plain-text document: copied as it is, and findable.
			b, err := a.ReadAll(e)
			if err != nil {
				return indexItem{}, err
			}
			if err := addArticle(e.Title, string(b), e.Path, file); err != nil {
				return indexItem{}, err
			}
			if err := x.write(rel, b); err != nil {
				return indexItem{}, err
			}
			continue
		}
		if !isPage && bm != "text/css" && bm != "image/svg+xml" {
			sec, err := a.Open(e)
			if err != nil {
				return indexItem{}, err
			}
			if err := x.copy(rel, sec); err != nil {
				return indexItem{}, err
			}
			continue
		}
		if e.Size > maxRewrite {
			x.warn("%s/%s: left out: a page or style sheet of %d bytes is too large to make safe", m.Channel, e.Path, e.Size)
			continue
		}
		b, err := a.ReadAll(e)
		if err != nil {
			return indexItem{}, err
		}
		switch {
		case isPage:
			if e.Article {
				title, text := htmltext.Extract(b)
				if e.Title != "" {
					title = e.Title
				}
				if err := addArticle(title, text, e.Path, file); err != nil {
					return indexItem{}, err
				}
			}
			// With marks kept in the archive, the page is marked as it
			// is stored, before its links are rewritten (the marks are
			// for those bytes; rewriting keeps the marks' markup);
			// otherwise after, finding the words.
			glossed := false
			if g != nil && stored != nil && hasHangul(b) {
				if m, ok, err := stored.Marks(e, b); ok && err == nil {
					if out, err := g.AppendMarked(make([]byte, 0, g.MarkedSize(b, m, glossary.Options{})), b, m, glossary.Options{}); err == nil {
						b, glossed = out, true
					}
				}
			}
			b = rewriteHTML(b, link)
			if g != nil && !glossed && hasHangul(b) {
				b, _ = g.Annotate(b, glossary.Options{})
			}
			toSearch := ""
			if idx != nil {
				toSearch = relURL(file, "search.html")
			}
			b = articleNav(b, relURL(file, "index.html"), toSearch, lang)
		case bm == "text/css":
			b = rewriteCSS(b, link)
		default:
			b = sanitizeSVG(b, link)
		}
		if err := x.write(rel, b); err != nil {
			return indexItem{}, err
		}
	}
	it := indexItem{title: m.Title, langs: strings.Join(m.Languages, ", "), lang: lang, href: escapeElement(slug) + "/index.html",
		edition: m.Edition, articles: articles}
	mainFile := ""
	if m.MainPage != "" {
		if i, ok := byPath(m.MainPage); ok {
			mainFile, _ = resolve(i)
		}
	}
	pages, err := titles.write(x, slug, m.Title)
	if err != nil {
		return indexItem{}, err
	}
	hasSearch := idx != nil && idx.docs > 0
	if idx != nil {
		if err := idx.finish(); err != nil {
			return indexItem{}, err
		}
		if hasSearch {
			if err := x.write(slug+"/search.html", searchPage(lang)); err != nil {
				return indexItem{}, err
			}
		}
	}
	if err := x.write(slug+"/index.html", archiveIndex(m, lang, mainFile, pages, hasSearch)); err != nil {
		return indexItem{}, err
	}
	return it, nil
}

// hasHangul reports whether b holds a Hangul syllable.
func hasHangul(b []byte) bool {
	for i := 0; i+2 < len(b); i++ {
		// U+AC00–U+D7A3 in UTF-8 start with 0xEA–0xED.
		if c := b[i]; c >= 0xEA && c <= 0xED {
			r := rune(c&0x0F)<<12 | rune(b[i+1]&0x3F)<<6 | rune(b[i+2]&0x3F)
			if r >= 0xAC00 && r <= 0xD7A3 {
				return true
			}
		}
	}
	return false
}

// titleSpill collects an archive's titles by title-index group in
// temporary files, so the index pages are sorted one group at a time.
type titleSpill struct {
	dir    string
	lang   string
	files  map[string]*os.File
	w      map[string]*bufio.Writer
	count  map[string]int
	labels map[string]string
}

func newTitleSpill(tmp, lang string) (*titleSpill, error) {
	d, err := os.MkdirTemp(tmp, "titles-")
	if err != nil {
		return nil, err
	}
	return &titleSpill{dir: d, lang: lang, files: map[string]*os.File{}, w: map[string]*bufio.Writer{}, count: map[string]int{}, labels: map[string]string{}}, nil
}

func (s *titleSpill) close() {
	for _, f := range s.files {
		f.Close()
	}
	os.RemoveAll(s.dir)
}

func (s *titleSpill) add(title, file string) error {
	g, label := group(title, s.lang)
	w := s.w[g]
	if w == nil {
		f, err := os.Create(filepath.Join(s.dir, g))
		if err != nil {
			return err
		}
		s.files[g] = f
		w = bufio.NewWriterSize(f, 16<<10)
		s.w[g] = w
		s.labels[g] = label
	}
	s.count[g]++
	var rec []byte
	for _, f := range []string{title, file} {
		rec = binary.AppendUvarint(rec, uint64(len(f)))
		rec = append(rec, f...)
	}
	_, err := w.Write(rec)
	return err
}

// write writes the title index pages, a group at a time, and returns
// them (without their titles) for the archive's index.
func (s *titleSpill) write(x *exporter, slug, archiveTitle string) ([]titlePage, error) {
	groups := make([]string, 0, len(s.count))
	for g := range s.count {
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool { return groupRank(groups[i]) < groupRank(groups[j]) })
	var pages []titlePage
	for _, g := range groups {
		for part, left := 1, s.count[g]; left > 0; part++ {
			name := g + ".html"
			if part > 1 {
				name = fmt.Sprintf("%s-%d.html", g, part)
			}
			pages = append(pages, titlePage{file: name, label: s.labels[g], part: part})
			left -= perPage
		}
	}
	at := 0
	for _, g := range groups {
		if err := s.w[g].Flush(); err != nil {
			return nil, err
		}
		f := s.files[g]
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, err
		}
		r := bufio.NewReader(f)
		docs := make([]doc, 0, s.count[g])
		for {
			var fields [2]string
			var err error
			for k := range fields {
				var n uint64
				if n, err = binary.ReadUvarint(r); err != nil {
					break
				}
				b := make([]byte, n)
				if _, err = io.ReadFull(r, b); err != nil {
					break
				}
				fields[k] = string(b)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			docs = append(docs, doc{fields[0], fields[1]})
		}
		sort.SliceStable(docs, func(i, j int) bool { return sortKey(docs[i].title) < sortKey(docs[j].title) })
		for len(docs) > 0 {
			k := min(perPage, len(docs))
			p := pages[at]
			p.docs = docs[:k]
			if err := x.write(slug+"/titles/"+p.file, p.render(archiveTitle, s.lang, pages)); err != nil {
				return nil, err
			}
			docs = docs[k:]
			at++
		}
		f.Close()
		os.Remove(f.Name())
		delete(s.files, g)
	}
	return pages, nil
}

// mapLink rewrites one link of the entry at from (archive path entryPath)
// to the file it points at; false leaves the link as it is.
func mapLink(fromFile, entryPath, u string, byPath func(string) (int, bool), resolve func(int) (string, bool)) (string, bool) {
	u = strings.TrimSpace(u)
	if u == "" || strings.HasPrefix(u, "#") || outside(u) || scriptURL(u) || strings.HasPrefix(strings.ToLower(u), "data:") {
		return "", false
	}
	frag := ""
	if i := strings.IndexByte(u, '#'); i >= 0 {
		u, frag = u[:i], u[i:]
	}
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	if u == "" || strings.ContainsAny(u, `\`) {
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
