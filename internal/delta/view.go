// Package delta makes delta archives (only what changed since a base
// edition, plus the paths removed), presents a base and its chain of deltas
// as one edition (View), and folds a chain back into a full edition
// (Compact). The format of a delta is an ordinary archive with a manifest
// "base" and a "removed" section (docs/format.md); the semantics are in
// docs/library.md.
package delta

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"

	"ferry/internal/archive"
)

// Errors of this package; test with errors.Is.
var (
	// ErrChain reports archives that do not form base → delta → delta.
	ErrChain = errors.New("delta: archives do not form a chain")
)

// maxRedirects bounds redirect chains followed across layers.
const maxRedirects = 16

// Entry is an entry of a View: the archive entry and the layer (index into
// the chain, 0 = the full base edition) it comes from.
type Entry struct {
	archive.Entry
	Layer int
}

// Hit is one search result of a View.
type Hit struct {
	Entry
	Score float64
}

// View presents a full edition and the deltas on top of it as the newest
// edition: entries of a higher layer win, paths a delta removes vanish.
// It is safe for concurrent use (archive.Reader is).
type View struct {
	layers  []*archive.Reader
	removed []map[string]bool // removed[i]: paths layer i removes from the layers below
	man     archive.Manifest
}

// NewView checks that layers form a chain — layers[0] is a full edition and
// each next one is a delta whose base id is the previous archive's id, in
// the same channel with a higher edition — and returns the combined view.
func NewView(layers ...*archive.Reader) (*View, error) {
	if len(layers) == 0 {
		return nil, fmt.Errorf("%w: no archive", ErrChain)
	}
	if b := layers[0].Manifest().Base; b != nil {
		return nil, fmt.Errorf("%w: %s edition %d is a delta; its base (id %s) is needed first",
			ErrChain, layers[0].Manifest().Channel, layers[0].Manifest().Edition, short(b.ID))
	}
	v := &View{layers: layers, removed: make([]map[string]bool, len(layers))}
	for i := 1; i < len(layers); i++ {
		prev, m := layers[i-1], layers[i].Manifest()
		if m.Base == nil {
			return nil, fmt.Errorf("%w: %s edition %d is a full edition, not a delta", ErrChain, m.Channel, m.Edition)
		}
		if m.Base.ID != prev.ID() || m.Channel != prev.Manifest().Channel || m.Edition <= prev.Manifest().Edition {
			return nil, fmt.Errorf("%w: %s edition %d is based on %s edition %d (id %s), not on %s edition %d (id %s)",
				ErrChain, m.Channel, m.Edition, m.Base.Channel, m.Base.Edition, short(m.Base.ID),
				prev.Manifest().Channel, prev.Manifest().Edition, short(prev.ID()))
		}
		rm, err := layers[i].Removed()
		if err != nil {
			return nil, fmt.Errorf("%s edition %d: %w", m.Channel, m.Edition, err)
		}
		v.removed[i] = make(map[string]bool, len(rm))
		for _, p := range rm {
			v.removed[i][p] = true
		}
	}
	top := layers[len(layers)-1].Manifest()
	v.man = *top
	v.man.Base = nil
	return v, nil
}

func short(id string) string {
	if len(id) > 16 {
		return id[:16]
	}
	return id
}

// Layers returns the archives of the chain, full edition first.
func (v *View) Layers() []*archive.Reader { return v.layers }

// Top returns the newest archive of the chain.
func (v *View) Top() *archive.Reader { return v.layers[len(v.layers)-1] }

// Manifest describes the newest edition: the newest archive's manifest
// without its base. Counts, sections and sizes are those of that archive
// alone, not of the combined edition.
func (v *View) Manifest() *archive.Manifest { m := v.man; return &m }

// hidden reports whether path, found in layer i, is replaced or removed by
// a higher layer.
func (v *View) hidden(path string, i int) bool {
	for j := i + 1; j < len(v.layers); j++ {
		if v.removed[j][path] {
			return true
		}
		if _, err := v.layers[j].Lookup(path); err == nil {
			return true
		}
	}
	return false
}

// Lookup finds the entry with exactly this path in the newest edition.
func (v *View) Lookup(path string) (Entry, error) {
	for i := len(v.layers) - 1; i >= 0; i-- {
		e, err := v.layers[i].Lookup(path)
		if err == nil {
			return Entry{e, i}, nil
		}
		if !errors.Is(err, archive.ErrNotFound) {
			return Entry{}, err
		}
		if v.removed[i][path] {
			break
		}
	}
	return Entry{}, fmt.Errorf("%w: %q", archive.ErrNotFound, path)
}

// Target returns the entry a redirect points to (one step), looked up by
// path in the whole view, so a base redirect reaches its target's newest
// version.
func (v *View) Target(e Entry) (Entry, error) {
	if !e.Redirect {
		return e, nil
	}
	t, err := v.layers[e.Layer].Target(e.Entry)
	if err != nil {
		return Entry{}, err
	}
	return v.Lookup(t.Path)
}

// Resolve follows redirects from e to a content entry.
func (v *View) Resolve(e Entry) (Entry, error) {
	for i := 0; e.Redirect; i++ {
		if i >= maxRedirects {
			return Entry{}, fmt.Errorf("%w: redirect loop at %q", archive.ErrCorrupt, e.Path)
		}
		var err error
		if e, err = v.Target(e); err != nil {
			return Entry{}, err
		}
	}
	return e, nil
}

// Open returns a reader of the entry's verified content (redirects followed).
func (v *View) Open(e Entry) (*io.SectionReader, error) {
	e, err := v.Resolve(e)
	if err != nil {
		return nil, err
	}
	return v.layers[e.Layer].Open(e.Entry)
}

// ReadAll returns the entry's verified content (redirects followed).
func (v *View) ReadAll(e Entry) ([]byte, error) {
	e, err := v.Resolve(e)
	if err != nil {
		return nil, err
	}
	return v.layers[e.Layer].ReadAll(e.Entry)
}

// Cat returns the content at path.
func (v *View) Cat(path string) ([]byte, error) {
	e, err := v.Lookup(path)
	if err != nil {
		return nil, err
	}
	return v.ReadAll(e)
}

// Each calls fn for every entry of the newest edition in path order.
func (v *View) Each(fn func(Entry) error) error {
	type head struct {
		i int
		e archive.Entry
	}
	heads := make([]*head, len(v.layers))
	next := func(l int, i int) error {
		if i >= v.layers[l].NumEntries() {
			heads[l] = nil
			return nil
		}
		e, err := v.layers[l].EntryAt(i)
		if err != nil {
			return err
		}
		heads[l] = &head{i, e}
		return nil
	}
	for l := range v.layers {
		if err := next(l, 0); err != nil {
			return err
		}
	}
	for {
		win := -1
		for l := len(v.layers) - 1; l >= 0; l-- {
			if h := heads[l]; h != nil && (win < 0 || h.e.Path < heads[win].e.Path) {
				win = l
			}
		}
		if win < 0 {
			return nil
		}
		p := heads[win].e.Path
		visible := true
		for j := win + 1; j < len(v.layers); j++ {
			if v.removed[j][p] {
				visible = false
			}
		}
		if visible {
			if err := fn(Entry{heads[win].e, win}); err != nil {
				return err
			}
		}
		for l := range v.layers {
			if h := heads[l]; h != nil && h.e.Path == p {
				if err := next(l, h.i+1); err != nil {
					return err
				}
			}
		}
	}
}

// Search ranks the newest edition's articles for query. Each layer's index
// is searched on its own; hits for paths a higher layer replaces or removes
// are dropped and the rest merged by score. Scores of different layers come
// from different collection statistics, so the merged ranking is close to,
// not identical with, that of a compacted edition. The total is an estimate.
func (v *View) Search(query string, offset, limit int) ([]Hit, int, error) {
	if offset < 0 || limit <= 0 {
		return nil, 0, nil
	}
	want := offset + limit
	var all []Hit
	total, indexed := 0, 0
	var firstErr error
	for i, r := range v.layers {
		fetch := want*2 + 10
		hits, n, err := r.Search(query, 0, fetch)
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
		dropped := 0
		for _, h := range hits {
			if v.hidden(h.Path, i) {
				dropped++
				continue
			}
			all = append(all, Hit{Entry{h.Entry, i}, h.Score})
		}
		total += max(n-dropped, 0)
	}
	if indexed == 0 {
		if firstErr != nil {
			return nil, 0, firstErr
		}
		return nil, 0, archive.ErrNoIndex
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].Score > all[b].Score })
	total = max(total, len(all))
	if offset >= len(all) {
		return nil, total, firstErr
	}
	return all[offset:min(want, len(all))], total, firstErr
}

// SuggestTitles returns up to n entries of the newest edition whose title
// starts with prefix (folded as the archive folds titles), in title order.
func (v *View) SuggestTitles(prefix string, n int) ([]Entry, error) {
	var out []Entry
	for i, r := range v.layers {
		es, err := r.SuggestTitles(prefix, n*2+8)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			if !v.hidden(e.Path, i) {
				out = append(out, Entry{e, i})
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		fa, fb := strings.ToLower(out[a].Title), strings.ToLower(out[b].Title)
		if fa != fb {
			return fa < fb
		}
		return out[a].Path < out[b].Path
	})
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

// RandomArticle returns an article of the newest edition chosen at random
// (layers weighted by their article counts).
func (v *View) RandomArticle() (Entry, error) {
	weight := 0
	for _, r := range v.layers {
		weight += r.Manifest().Counts.Articles
	}
	if weight == 0 {
		return Entry{}, fmt.Errorf("%w: the edition has no articles", archive.ErrNotFound)
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
				return Entry{e, i}, nil
			}
			break
		}
	}
	// Everything sampled was replaced: walk in order instead.
	var found *Entry
	errStop := errors.New("stop")
	err := v.Each(func(e Entry) error {
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
		return Entry{}, err
	}
	return Entry{}, fmt.Errorf("%w: no article found", archive.ErrNotFound)
}
