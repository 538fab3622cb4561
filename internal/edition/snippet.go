package edition

import (
	"iter"

	"ferry/internal/archive"
	"ferry/internal/htmltext"
	"ferry/internal/search"
)

// PageText returns a function that yields the visible text of entry e in
// pieces from its start, for search.NewText: an HTML page's text as the
// index saw it, other text as it is.
func PageText(c archive.Contents, e archive.Entry) func() (iter.Seq[string], error) {
	return func() (iter.Seq[string], error) {
		b, err := c.ReadAll(e)
		if err != nil {
			return nil, err
		}
		if htmltext.IsHTML(e.MIME) {
			return htmltext.Pieces(b), nil
		}
		return func(yield func(string) bool) { yield(string(b)) }, nil
	}
}

// Snippet cuts the snippet of search hit e for the query of m, of
// search.SnippetRunes runes: the snippet the web reader shows for the same
// hit.
func Snippet(c archive.Contents, e archive.Entry, m *search.Matcher) []search.Fragment {
	s := search.NewText(PageText(c, e), e.Title, nil, false)
	defer s.Close()
	return s.Snippet(m, search.SnippetRunes)
}
