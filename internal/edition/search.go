package edition

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"ferry/internal/archive"
	"ferry/internal/search"
)

// Index returns the full-text index of layer i, opened in place on first
// use (only its small trailer is read; dictionary blocks and postings are
// read and verified per query). archive.ErrNoIndex if it has none.
func (v *View) Index(i int) (*search.Index, error) {
	li := &v.idx[i]
	li.once.Do(func() {
		ra, size, err := v.layers[i].SearchIndex()
		if err != nil {
			li.err = err
			return
		}
		li.ix, li.err = search.Open(ra, size)
		if li.err != nil {
			li.err = fmt.Errorf("%w: search index: %w", archive.ErrCorrupt, li.err)
		}
	})
	return li.ix, li.err
}

// searchLayer ranks layer i's articles for query.
func (v *View) searchLayer(i int, query string, offset, limit int) ([]lent, []float64, int, error) {
	ix, err := v.Index(i)
	if err != nil {
		return nil, nil, 0, err
	}
	res, err := ix.Search(query, offset, limit)
	if err != nil {
		return nil, nil, 0, err
	}
	r := v.layers[i]
	hits := make([]lent, 0, len(res.Hits))
	scores := make([]float64, 0, len(res.Hits))
	for _, h := range res.Hits {
		k, err := r.DocEntry(h.Doc)
		if err != nil {
			return nil, nil, 0, err
		}
		e, err := r.EntryAt(k)
		if err != nil {
			return nil, nil, 0, err
		}
		hits = append(hits, lent{e, i})
		scores = append(scores, h.Score)
	}
	return hits, scores, res.Total, nil
}

// Search ranks the edition's articles for query. With one archive this is
// its index's ranking. In a chain each layer's index is searched on its
// own; hits for paths a higher layer replaces or removes are dropped and
// the rest merged by score. Scores of different layers come from different
// collection statistics, so the merged ranking is close to, not identical
// with, that of a compacted edition, and the total is an estimate.
func (v *View) Search(query string, offset, limit int) ([]Hit, int, error) {
	if v.single() {
		hits, scores, total, err := v.searchLayer(0, query, offset, limit)
		if err != nil {
			return nil, 0, err
		}
		out := make([]Hit, len(hits))
		for i, h := range hits {
			out[i] = Hit{h.Entry, scores[i]}
		}
		return out, total, nil
	}
	if offset < 0 || limit <= 0 {
		return nil, 0, nil
	}
	want := offset + limit
	type scored struct {
		e lent
		s float64
	}
	var all []scored
	total, indexed := 0, 0
	var firstErr error
	for i := range v.layers {
		// Hits a higher layer hides are dropped; read on (in pages that
		// double) until want remain or the layer has no more, so a delta
		// that changes the best pages cannot leave a page empty.
		page, off, dropped, kept, n := want*2+10, 0, 0, 0, 0
		var err error
		for {
			var hits []lent
			var scores []float64
			hits, scores, n, err = v.searchLayer(i, query, off, page)
			if err != nil {
				break
			}
			for k, h := range hits {
				if v.hidden(h.Path, i) {
					dropped++
					continue
				}
				kept++
				all = append(all, scored{h, scores[k]})
			}
			off += len(hits)
			if kept >= want || len(hits) == 0 || off >= n {
				break
			}
			page *= 2
		}
		if errors.Is(err, archive.ErrNoIndex) {
			continue
		}
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		indexed++
		total += max(n-dropped, 0)
	}
	if indexed == 0 {
		if firstErr != nil {
			return nil, 0, firstErr
		}
		return nil, 0, archive.ErrNoIndex
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].s > all[b].s })
	total = max(total, len(all))
	if offset >= len(all) {
		return nil, total, firstErr
	}
	all = all[offset:min(want, len(all))]
	out := make([]Hit, 0, len(all))
	for _, h := range all {
		e, err := v.flat(h.e)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, Hit{e, h.s})
	}
	return out, total, firstErr
}

// SuggestTitles returns up to n entries of the edition whose title starts
// with prefix (folded as the archive folds titles), in title order.
func (v *View) SuggestTitles(prefix string, n int) ([]archive.Entry, error) {
	if v.single() {
		return v.layers[0].SuggestTitles(prefix, n)
	}
	var found []lent
	for i, r := range v.layers {
		// Ask again for more while hidden titles leave fewer than n.
		for k := n*2 + 8; ; k *= 4 {
			es, err := r.SuggestTitles(prefix, k)
			if err != nil {
				return nil, err
			}
			var mine []lent
			for _, e := range es {
				if !v.hidden(e.Path, i) {
					mine = append(mine, lent{e, i})
				}
			}
			if len(mine) >= n || len(es) < k || k >= 1<<16 {
				found = append(found, mine...)
				break
			}
		}
	}
	sort.SliceStable(found, func(a, b int) bool {
		fa, fb := strings.ToLower(found[a].Title), strings.ToLower(found[b].Title)
		if fa != fb {
			return fa < fb
		}
		return found[a].Path < found[b].Path
	})
	if len(found) > n {
		found = found[:n]
	}
	out := make([]archive.Entry, 0, len(found))
	for _, e := range found {
		x, err := v.flat(e)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// RandomArticle returns an article of the edition chosen at random
// (layers weighted by their article counts).
func (v *View) RandomArticle() (archive.Entry, error) {
	if v.single() {
		return v.layers[0].RandomArticle()
	}
	weight := 0
	for _, r := range v.layers {
		weight += r.Manifest().Counts.Articles
	}
	if weight == 0 {
		return archive.Entry{}, fmt.Errorf("%w: the edition has no articles", archive.ErrNotFound)
	}
	for try := 0; try < 64; try++ {
		k := rand.IntN(weight)
		for i, r := range v.layers {
			a := r.Manifest().Counts.Articles
			if k >= a {
				k -= a
				continue
			}
			e, err := r.RandomArticle()
			if err != nil {
				break
			}
			if !v.hidden(e.Path, i) {
				return v.flat(lent{e, i})
			}
			break
		}
	}
	// Everything sampled was replaced: walk in order instead.
	var found *archive.Entry
	errStop := errors.New("stop")
	err := v.Each(func(e archive.Entry) error {
		if e.Article && !e.Redirect {
			found = &e
			return errStop
		}
		return nil
	})
	if found != nil {
		return *found, nil
	}
	if err != nil && err != errStop {
		return archive.Entry{}, err
	}
	return archive.Entry{}, fmt.Errorf("%w: no article found", archive.ErrNotFound)
}
