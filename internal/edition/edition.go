// Package edition presents what a reader reads: one edition of a channel,
// held either as one full archive or as a full archive with its chain of
// deltas applied, as entries in path order with titles and full-text
// search. It is the seam between what holds archives (a file, a library,
// a carrier) and what shows or copies them (the web reader, the static
// export, the delta maker, the command line): they take an Edition, or the
// narrower archive.Contents, and never care how many files are behind it.
//
// Package archive knows the bytes and the format; this package adds the
// meaning: which layer's entry wins, how search results of several layers
// merge, the visible text of a page.
package edition

import (
	"context"
	"fmt"

	"ferry/internal/archive"
	"ferry/internal/htmltext"
	"ferry/internal/key"
	"ferry/internal/search"
)

// Edition is the read side of one channel edition, whatever holds it.
// Entries are numbered 0..NumEntries()-1 in path order of the whole
// edition, and every byte handed out has been verified against the
// publisher's signature.
type Edition interface {
	archive.Contents
	// ID is the archive id of the newest archive: it names the edition
	// (each delta's manifest holds its base's id).
	ID() string
	// Size is the bytes of every archive of the edition.
	Size() int64
	// Signers are the verified signers of the newest archive.
	Signers() []key.Public
	// SignedBy reports whether every archive of the edition is signed by p.
	SignedBy(p key.Public) bool
	// Resolve follows redirects from e to a content entry.
	Resolve(e archive.Entry) (archive.Entry, error)
	// Text returns the title and visible text of an entry, as indexed.
	Text(e archive.Entry) (title, text string, err error)
	// Search ranks the edition's articles for query and returns results
	// offset..offset+limit-1 and the (possibly estimated) number of matches.
	Search(query string, offset, limit int) ([]Hit, int, error)
	// SuggestTitles returns up to n entries whose title starts with
	// prefix, in title order (redirects included: they are other titles).
	SuggestTitles(prefix string, n int) ([]archive.Entry, error)
	// RandomArticle returns an article chosen at random.
	RandomArticle() (archive.Entry, error)
}

// Every implementation, checked by the compiler.
var (
	_ Edition          = (*View)(nil)
	_ archive.Contents = (*View)(nil)
	_ archive.Contents = (*archive.Reader)(nil)
)

// Hit is one search result: the entry and its score.
type Hit struct {
	archive.Entry
	Score float64
}

// Text returns the title and visible text of a page's bytes, as the index
// sees them: HTML is reduced to its visible text, other text is taken as
// it is.
func Text(mime string, b []byte) (title, text string) {
	if IsHTML(mime) {
		return htmltext.Extract(b)
	}
	return "", string(b)
}

// IsHTML reports whether a MIME type is an HTML page.
func IsHTML(mime string) bool { return htmltext.IsHTML(mime) }

// Verify checks every byte of an archive (archive.Reader.Verify) and that
// its search index, whose bytes the archive checks as an opaque section,
// opens as an index. Every carrier's copy is checked this way before the
// library keeps it.
func Verify(ctx context.Context, r *archive.Reader, progress func(done, total int64)) error {
	if err := r.Verify(ctx, progress); err != nil {
		return err
	}
	ra, size, err := r.SearchIndex()
	if err == archive.ErrNoIndex {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := search.Open(ra, size); err != nil {
		return fmt.Errorf("%w: search index: %w", archive.ErrCorrupt, err)
	}
	return nil
}
