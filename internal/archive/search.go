package archive

import (
	"errors"
	"fmt"
	"sync"

	"ferry/internal/htmltext"
	"ferry/internal/search"
)

// ErrNoIndex reports an archive packed without a full-text index.
var ErrNoIndex = errors.New("archive: no search index (packed with --no-index)")

type searchIndex struct {
	once sync.Once
	ix   *search.Index
	err  error
}

// Index returns the archive's full-text index, opened in place on first use
// (only its small trailer is read; dictionary blocks and postings are read
// and verified per query).
func (r *Reader) Index() (*search.Index, error) {
	r.search.once.Do(func() {
		sec := r.secs[secSearch]
		if sec == nil {
			r.search.err = ErrNoIndex
			return
		}
		r.search.ix, r.search.err = search.Open(sec, sec.s.Length)
		if r.search.err != nil {
			r.search.err = fmt.Errorf("%w: search index: %w", ErrCorrupt, r.search.err)
		}
	})
	return r.search.ix, r.search.err
}

// Hit is one search result: the entry and its score.
type Hit struct {
	Entry
	Score float64
}

// Search ranks the archive's articles for query and returns results
// offset..offset+limit-1 and the (possibly estimated) number of matches.
func (r *Reader) Search(query string, offset, limit int) ([]Hit, int, error) {
	ix, err := r.Index()
	if err != nil {
		return nil, 0, err
	}
	res, err := ix.Search(query, offset, limit)
	if err != nil {
		return nil, 0, err
	}
	hits := make([]Hit, 0, len(res.Hits))
	for _, h := range res.Hits {
		i, err := r.DocEntry(h.Doc)
		if err != nil {
			return nil, 0, err
		}
		e, err := r.EntryAt(i)
		if err != nil {
			return nil, 0, err
		}
		hits = append(hits, Hit{Entry: e, Score: h.Score})
	}
	return hits, res.Total, nil
}

// Text returns the title and visible text of an HTML entry, as indexed.
func (r *Reader) Text(e Entry) (title, text string, err error) {
	b, err := r.ReadAll(e)
	if err != nil {
		return "", "", err
	}
	title, text = htmltext.Extract(b)
	return title, text, nil
}

// verifySearch opens the index so that a malformed trailer is reported by
// Verify (its bytes were already checked block by block).
func (r *Reader) verifySearch() error {
	if r.secs[secSearch] == nil {
		return nil
	}
	_, err := r.Index()
	return err
}
