package zim

import (
	"bytes"
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
}

var (
	_ source.Source    = (*Source)(nil)
	_ source.Describer = (*Source)(nil)
)

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

// Walk calls fn for every redirect (first, in path order) and then every
// content entry in cluster order, so each cluster is decompressed once
// whatever order the writer put entries in clusters. It keeps 8 bytes per
// content entry for that sort. Before calling fn it checks that the entry
// can be read (its cluster decompresses and holds its blob), so a damaged
// file stops Walk with an error naming the entry, never with entries left
// out silently. Redirects are resolved to their final target, which must be
// a content entry of the stream.
func (s *Source) Walk(ctx context.Context, fn func(source.Entry) error) error {
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
			if err := s.emit(e, fn); err != nil {
				return err
			}
		}
		base += count
	}
	slices.Sort(content)
	for _, key := range content {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, err := a.EntryAt(uint32(key))
		if err != nil {
			return err
		}
		if err := s.emit(e, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Source) emit(e *Entry, fn func(source.Entry) error) error {
	ie, ok, err := s.entry(e)
	if err != nil || !ok {
		return err
	}
	return fn(ie)
}

// entry converts a directory entry to an source.Entry; ok is false for
// entries outside the stream.
func (s *Source) entry(e *Entry) (ie source.Entry, ok bool, err error) {
	p, ok := s.PathOf(e)
	if !ok || e.Kind == KindLinkTarget || e.Kind == KindDeleted {
		return ie, false, nil
	}
	if !fs.ValidPath(p) || p == "." {
		return ie, false, fmt.Errorf("entry %d (%q): URL does not make a clean relative path (empty, \".\" or \"..\" elements, or a trailing slash): %w", e.Index, e.Path(), ErrCorrupt)
	}
	ie.Path = p
	if e.Kind == KindRedirect {
		t, err := s.a.Resolve(e)
		if err != nil {
			return ie, false, err
		}
		tp, ok := s.PathOf(t)
		if !ok || t.Kind != KindContent {
			return ie, false, fmt.Errorf("redirect %q leads to %q, which is not a content entry: %w", e.Path(), t.Path(), ErrCorrupt)
		}
		ie.Redirect = tp
		// A redirect's title is another name of an article (useful to
		// search); redirects to resources (e.g. -/favicon) have none.
		if s.isArticle(t, s.a.MIME(t)) {
			ie.Title = e.DisplayTitle()
		}
		return ie, true, nil
	}
	sr, err := s.a.Content(e)
	if err != nil {
		return ie, false, err
	}
	ie.MIME = s.a.MIME(e)
	ie.Size = sr.Size()
	if s.isArticle(e, ie.MIME) {
		ie.Article = true
		ie.Title = e.DisplayTitle()
	}
	// Each Open gets its own reader over the same bytes: in the file for
	// uncompressed clusters, in the decompressed cluster otherwise.
	ie.Open = func() (io.ReadCloser, error) {
		return io.NopCloser(io.NewSectionReader(sr, 0, sr.Size())), nil
	}
	return ie, true, nil
}

// Close closes the archive (and the file OpenFile opened).
func (s *Source) Close() error { return s.a.Close() }
