package zim

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"ferry/internal/htmltext"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"

	"golang.org/x/text/language"

	"ferry/internal/source"
)

// Source presents an Archive as an source.Source and source.Describer.
//
// Paths keep the ZIM URLs so the HTML inside keeps working: in old-layout
// files the namespace stays as the first path element ("A/Ray_Charles",
// "I/m/photo.jpg", "-/s/style.css"), because their pages link to
// "../I/m/photo.jpg"; in new-layout files only C/ entries are content and
// their path is the URL without "C/" ("Ray_Charles", "s/style.css"),
// because their pages link relative to C/. M/ metadata, X/ search indexes
// and W/ well-known entries never appear in the entry stream; metadata is
// available through Metadata. See docs/zim.md.
type Source struct {
	a     *Archive
	meta  source.Metadata
	front []uint64 // bitset of front-article indexes, nil when the file has no v1 listing
	// warnings of the last Walk (see Warnings)
	warnings []string
}

var (
	_ source.Source    = (*Source)(nil)
	_ source.Describer = (*Source)(nil)
	_ source.Counter   = (*Source)(nil)
	_ source.Warner    = (*Source)(nil)
)

// Count is the number of entries in the ZIM's header: an upper bound of
// what Walk yields (metadata and index entries are not packed), read
// without walking.
func (s *Source) Count(context.Context) (int, error) { return int(s.a.EntryCount()), nil }

// NewSource reads the archive's metadata, main page and front-article
// listing and returns a Source over it.
func NewSource(a *Archive) (*Source, error) {
	s := &Source{a: a}
	if a.hdr.NewNamespaces() {
		list, err := a.FrontArticles()
		switch {
		case err == nil:
			s.front = make([]uint64, (uint64(a.hdr.EntryCount)+63)/64)
			for _, i := range list {
				s.front[i/64] |= 1 << (i % 64)
			}
		case !errors.Is(err, ErrNotFound):
			return nil, err
		}
	}
	if err := s.readMetadata(); err != nil {
		return nil, err
	}
	return s, nil
}

// Archive returns the archive the source reads.
func (s *Source) Archive() *Archive { return s.a }

// Metadata returns the archive's title, language (as BCP 47: "eng" becomes
// "en"), description, creator, publisher, date, illustration and main page
// path.
func (s *Source) Metadata() source.Metadata { return s.meta }

func (s *Source) readMetadata() error {
	text := func(name string) (string, error) {
		b, err := s.a.Metadata(name)
		if errors.Is(err, ErrNotFound) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("metadata %s: %w", name, err)
		}
		return strings.TrimSpace(strings.ToValidUTF8(string(b), "\uFFFD")), nil
	}
	m := &s.meta
	for _, f := range []struct {
		name string
		dst  *string
	}{
		{"Title", &m.Title}, {"Description", &m.Description}, {"Language", &m.Language},
		{"Creator", &m.Creator}, {"Publisher", &m.Publisher}, {"Date", &m.Date},
	} {
		v, err := text(f.name)
		if err != nil {
			return err
		}
		*f.dst = v
	}
	m.Language = bcp47(m.Language)
	img, err := s.a.Metadata("Illustration_48x48@1")
	if errors.Is(err, ErrNotFound) {
		// Old files carry their icon as -/favicon instead.
		img, err = s.oldFavicon()
	}
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("metadata illustration: %w", err)
	}
	if bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")) {
		m.Illustration = img
	}
	main, err := s.a.MainPage()
	switch {
	case err == nil:
		if p, ok := s.PathOf(main); ok && fs.ValidPath(p) {
			m.MainPage = p
		}
	case !errors.Is(err, ErrNotFound):
		return err
	}
	return nil
}

// bcp47 turns a ZIM Language value (ISO 639-3 codes, comma-separated when
// several: "eng", "bel", "kor,eng") into the BCP 47 tag of the first one
// ("en", "be", "ko"), which source.Metadata asks for. Unknown codes are
// kept as they are.
func bcp47(v string) string {
	first, _, _ := strings.Cut(v, ",")
	first = strings.TrimSpace(first)
	tag, err := language.Parse(first)
	if err != nil {
		return v
	}
	return tag.String()
}

func (s *Source) oldFavicon() ([]byte, error) {
	if s.a.hdr.NewNamespaces() {
		return nil, ErrNotFound
	}
	e, err := s.a.Lookup('-', "favicon")
	if err != nil {
		return nil, err
	}
	return s.a.ReadAll(e)
}

// PathOf returns the ingest path of e and whether e belongs in the entry
// stream (content namespaces only).
func (s *Source) PathOf(e *Entry) (string, bool) {
	if s.a.hdr.NewNamespaces() {
		if e.Namespace != 'C' {
			return "", false
		}
		return e.URL, true
	}
	switch e.Namespace {
	case 'M', 'X', 'W':
		return "", false
	}
	return e.Path(), true
}

// isArticle decides whether a content entry is an article: old layout, an
// HTML entry in A/; new layout, an HTML entry listed as a front article in
// X/listing/titleOrdered/v1, or any HTML entry when that listing is absent.
func (s *Source) isArticle(e *Entry, mime string) bool {
	if !htmltext.IsHTML(mime) {
		return false
	}
	if !s.a.hdr.NewNamespaces() {
		return e.Namespace == 'A'
	}
	if s.front == nil {
		return true
	}
	return s.front[e.Index/64]&(1<<(e.Index%64)) != 0
}

// walkBatch is how many path pointers Walk reads at a time.
const walkBatch = 4096

// maxWarnings caps the warnings one Walk keeps; the last one says how many
// more there were.
const maxWarnings = 1000

// Warnings returns what the last Walk left out or changed, one sentence
// per entry, naming it: entries whose path cannot be an archive path
// (zimit writes "C/example.com/" for a site root: stored as
// "example.com/index.html"), redirect loops and redirects to entries
// outside the stream. A packer shows them to the publisher.
func (s *Source) Warnings() []string { return s.warnings }

func (s *Source) warn(format string, args ...any) {
	switch n := len(s.warnings); {
	case n < maxWarnings:
		s.warnings = append(s.warnings, fmt.Sprintf(format, args...))
	case n == maxWarnings:
		s.warnings = append(s.warnings, "further warnings not shown")
	}
}

// streamPath returns the path e has in the entry stream. ok is false for
// entries outside the stream (M/, X/, W/, obsolete kinds) and for those
// whose URL cannot be a clean archive path (warned about once, by the
// caller when warn is true).
func (s *Source) streamPath(e *Entry) (p string, ok bool, why string) {
	p, ok = s.PathOf(e)
	if !ok || e.Kind == KindLinkTarget || e.Kind == KindDeleted {
		return "", false, ""
	}
	if fs.ValidPath(p) && p != "." {
		return p, true, ""
	}
	// A site root ("example.com/"): its pages link to it as a folder,
	// which a reader serves as the folder's index.html.
	if dir := strings.TrimSuffix(p, "/"); dir != p && fs.ValidPath(dir) && dir != "." {
		idx := dir + "/index.html"
		if _, err := s.a.LookupPath(s.fullPath(e, idx)); errors.Is(err, ErrNotFound) {
			return idx, true, fmt.Sprintf("%q: its URL ends in a slash; stored as %q", e.Path(), idx)
		}
		return "", false, fmt.Sprintf("%q: its URL ends in a slash and %q exists too; left out", e.Path(), idx)
	}
	return "", false, fmt.Sprintf("%q: its URL does not make a clean relative path (empty, \".\" or \"..\" elements); left out", e.Path())
}

// fullPath turns a stream path back into the ZIM path of e's namespace.
func (s *Source) fullPath(e *Entry, p string) string {
	if s.a.hdr.NewNamespaces() {
		return "C/" + p
	}
	return p
}

// Walk calls fn for every redirect (first, in path order) and then every
// content entry in cluster order, so each cluster is decompressed once
// whatever order the writer put entries in clusters. It keeps 8 bytes per
// content entry for that sort. Before calling fn it checks that the entry
// can be read (its cluster decompresses and holds its blob, or for a big
// cluster read in a stream, its offset table does), so a damaged file
// stops Walk with an error naming the entry. Redirects are resolved to
// their final target, which must be a content entry of the stream.
//
// What Walk leaves out or renames is not an error but a warning (see
// Warnings): an entry whose URL is not a clean path, a redirect loop, a
// redirect to an entry outside the stream.
//
// Entries' Open holds no decompressed data between calls: content of
// small clusters comes from the cluster cache (decoded again when
// evicted), content of big ones from a stream (see streamThreshold).
func (s *Source) Walk(ctx context.Context, fn func(source.Entry) error) error {
	s.warnings = nil
	a := s.a
	n := a.hdr.EntryCount
	var prev *Entry
	var win window
	var content []uint64 // cluster<<32 | entry index
	ptrs := make([]byte, 0, 8*walkBatch)
	for base := uint32(0); base < n; {
		count := min(n-base, walkBatch)
		ptrs = ptrs[:8*count]
		if err := a.readAt(ptrs, int64(a.hdr.PathPtrPos)+8*int64(base), "path pointer list"); err != nil {
			return err
		}
		for k := uint32(0); k < count; k++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			i := base + k
			off, err := a.checkDirentPos(i, binary.LittleEndian.Uint64(ptrs[8*k:]))
			if err != nil {
				return err
			}
			e, err := a.readDirent(i, off, &win)
			if err != nil {
				return err
			}
			// Sorted, duplicate-free paths are what make Lookup work and
			// the stream's paths unique.
			if prev != nil && compareKey(e.Namespace, e.URL, prev) <= 0 {
				return fmt.Errorf("entry %d (%q) is not after entry %d (%q) in path order: %w", i, e.Path(), prev.Index, prev.Path(), ErrCorrupt)
			}
			prev = e
			if e.Kind == KindContent {
				if _, ok := s.PathOf(e); ok {
					content = append(content, uint64(e.Cluster)<<32|uint64(e.Index))
				}
				continue
			}
			if err := s.emitRedirect(e, fn); err != nil {
				return err
			}
		}
		base += count
	}
	slices.Sort(content)
	var group []*Entry
	for k := 0; k < len(content); {
		ci := uint32(content[k] >> 32)
		group = group[:0]
		for ; k < len(content) && uint32(content[k]>>32) == ci; k++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			e, err := a.EntryAt(uint32(content[k]))
			if err != nil {
				return err
			}
			group = append(group, e)
		}
		if err := s.emitCluster(ctx, ci, group, fn); err != nil {
			return err
		}
	}
	return nil
}

// emitCluster yields the content entries of cluster ci.
func (s *Source) emitCluster(ctx context.Context, ci uint32, group []*Entry, fn func(source.Entry) error) error {
	var p0 string
	for _, e := range group {
		if p, ok, _ := s.streamPath(e); ok {
			p0 = p
			break
		}
	}
	if p0 == "" { // nothing of this cluster goes in the stream
		for _, e := range group {
			s.content(e, nil, nil, fn)
		}
		return nil
	}
	c, st, err := s.a.startCluster(ci)
	if err != nil {
		return fmt.Errorf("entry %d (%q): %w", group[0].Index, group[0].Path(), err)
	}
	if st != nil {
		defer st.finish()
		// One decoder reads the blobs in the order they are stored.
		slices.SortStableFunc(group, func(x, y *Entry) int { return cmp.Compare(x.Blob, y.Blob) })
	}
	for _, e := range group {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := s.content(e, c, st, fn); err != nil {
			return err
		}
	}
	return nil
}

// content yields one content entry of an open cluster (c or st).
func (s *Source) content(e *Entry, c *cluster, st *clusterStream, fn func(source.Entry) error) error {
	p, ok, why := s.streamPath(e)
	if why != "" {
		s.warn("%s", why)
	}
	if !ok {
		return nil
	}
	ie := source.Entry{Path: p, MIME: s.a.MIME(e)}
	if s.isArticle(e, ie.MIME) {
		ie.Article = true
		ie.Title = e.DisplayTitle()
	}
	a, ci, bi := s.a, e.Cluster, e.Blob
	switch {
	case st != nil:
		o1, o2, err := st.span(bi)
		if err != nil {
			return fmt.Errorf("entry %q: cluster %d: %w", e.Path(), ci, err)
		}
		ie.Size = int64(o2 - o1)
		ie.Open = func() (io.ReadCloser, error) { return st.openBlob(bi) }
	case c.plain:
		sr, err := a.blobIn(c, bi)
		if err != nil {
			return fmt.Errorf("entry %q: cluster %d: %w", e.Path(), ci, err)
		}
		ie.Size = sr.Size()
		// In the file: each Open gets its own reader over the same bytes.
		ie.Open = func() (io.ReadCloser, error) {
			return io.NopCloser(io.NewSectionReader(sr, 0, sr.Size())), nil
		}
	default:
		sr, err := a.blobIn(c, bi)
		if err != nil {
			return fmt.Errorf("entry %q: cluster %d: %w", e.Path(), ci, err)
		}
		ie.Size = sr.Size()
		// Not sr itself: it would keep the whole cluster alive as long as
		// the packer holds the entry.
		ie.Open = func() (io.ReadCloser, error) {
			sr, err := a.blob(ci, bi)
			if err != nil {
				return nil, fmt.Errorf("entry %q: %w", e.Path(), err)
			}
			return io.NopCloser(sr), nil
		}
	}
	return fn(ie)
}

// emitRedirect yields a redirect, or warns and leaves it out when it loops
// or leads outside the stream.
func (s *Source) emitRedirect(e *Entry, fn func(source.Entry) error) error {
	p, ok, why := s.streamPath(e)
	if why != "" {
		s.warn("%s", why)
	}
	if !ok || e.Kind != KindRedirect {
		return nil
	}
	t, err := s.a.Resolve(e)
	if err != nil {
		if errors.Is(err, errLoop) {
			s.warn("redirect %q: a loop or a chain of more than %d redirects; left out", e.Path(), maxRedirects)
			return nil
		}
		return err
	}
	tp, ok, _ := s.streamPath(t)
	if !ok || t.Kind != KindContent {
		s.warn("redirect %q leads to %q, which is not a content entry of the stream; left out", e.Path(), t.Path())
		return nil
	}
	ie := source.Entry{Path: p, Redirect: tp}
	// A redirect's title is another name of an article (useful to
	// search); redirects to resources (e.g. -/favicon) have none.
	if s.isArticle(t, s.a.MIME(t)) {
		ie.Title = e.DisplayTitle()
	}
	return fn(ie)
}

// Close closes the archive (and the file OpenFile opened).
func (s *Source) Close() error { return s.a.Close() }
