package delta

import (
	"fmt"
	"io"
	"sort"
	"sync"

	"ferry/internal/archive"
	"ferry/internal/htmltext"
	"ferry/internal/key"
)

// Flat is a View with the method set of *archive.Reader: entries are
// archive.Entry values whose Index is the position in the merged, path-
// sorted listing of the newest edition. Code written for one archive (the
// web reader, the static export) can serve a chain through it. The listing
// costs 8 bytes per entry and is built on first use by reading every
// layer's directory once.
type Flat struct {
	v    *View
	once sync.Once
	refs []ref
	arts int
	err  error
}

type ref struct {
	layer uint32
	index uint32
}

// Flat returns the single-archive face of v.
func (v *View) Flat() *Flat { return &Flat{v: v} }

// View returns the underlying view.
func (f *Flat) View() *View { return f.v }

func (f *Flat) build() error {
	f.once.Do(func() {
		f.err = f.v.Each(func(e Entry) error {
			f.refs = append(f.refs, ref{uint32(e.Layer), uint32(e.Index)})
			if e.Article && !e.Redirect {
				f.arts++
			}
			return nil
		})
	})
	return f.err
}

// Manifest is the view's manifest with the counts of entries and articles
// of the combined edition.
func (f *Flat) Manifest() *archive.Manifest {
	m := f.v.Manifest()
	if f.build() == nil {
		m.Counts.Entries, m.Counts.Articles = len(f.refs), f.arts
	}
	return m
}

// ID returns the id of the newest archive of the chain (it names the whole
// chain: each delta's manifest holds its base's id).
func (f *Flat) ID() string { return f.v.Top().ID() }

// Size returns the bytes of all archives of the chain.
func (f *Flat) Size() int64 {
	var n int64
	for _, r := range f.v.layers {
		n += r.Size()
	}
	return n
}

// Signers returns the verified signers of the newest archive.
func (f *Flat) Signers() []key.Public { return f.v.Top().Signers() }

// SignedBy reports whether every archive of the chain is signed by p.
func (f *Flat) SignedBy(p key.Public) bool {
	for _, r := range f.v.layers {
		if !r.SignedBy(p) {
			return false
		}
	}
	return true
}

// NumEntries returns the number of entries of the newest edition.
func (f *Flat) NumEntries() int {
	if f.build() != nil {
		return 0
	}
	return len(f.refs)
}

// EntryAt returns entry i of the newest edition in path order.
func (f *Flat) EntryAt(i int) (archive.Entry, error) {
	if err := f.build(); err != nil {
		return archive.Entry{}, err
	}
	if i < 0 || i >= len(f.refs) {
		return archive.Entry{}, fmt.Errorf("%w: entry index %d", archive.ErrNotFound, i)
	}
	e, err := f.v.layers[f.refs[i].layer].EntryAt(int(f.refs[i].index))
	if err != nil {
		return archive.Entry{}, err
	}
	e.Index = i
	return e, nil
}

// layerEntry returns the layer entry behind a Flat entry.
func (f *Flat) layerEntry(e archive.Entry) (Entry, error) {
	if err := f.build(); err != nil {
		return Entry{}, err
	}
	if e.Index < 0 || e.Index >= len(f.refs) {
		return Entry{}, fmt.Errorf("%w: entry index %d", archive.ErrNotFound, e.Index)
	}
	r := f.refs[e.Index]
	le, err := f.v.layers[r.layer].EntryAt(int(r.index))
	if err != nil {
		return Entry{}, err
	}
	if le.Path != e.Path {
		return Entry{}, fmt.Errorf("delta: entry %d is %q, not %q (entry from another view?)", e.Index, le.Path, e.Path)
	}
	return Entry{le, int(r.layer)}, nil
}

// index finds the flat index of a view entry by binary search on its path.
func (f *Flat) flat(e Entry) (archive.Entry, error) {
	if err := f.build(); err != nil {
		return archive.Entry{}, err
	}
	var ferr error
	i := sort.Search(len(f.refs), func(i int) bool {
		if ferr != nil {
			return true
		}
		x, err := f.v.layers[f.refs[i].layer].EntryAt(int(f.refs[i].index))
		if err != nil {
			ferr = err
			return true
		}
		return x.Path >= e.Path
	})
	if ferr != nil {
		return archive.Entry{}, ferr
	}
	if i >= len(f.refs) || f.refs[i] != (ref{uint32(e.Layer), uint32(e.Index)}) {
		return archive.Entry{}, fmt.Errorf("%w: %q", archive.ErrNotFound, e.Path)
	}
	out := e.Entry
	out.Index = i
	return out, nil
}

// Lookup finds the entry with exactly this path.
func (f *Flat) Lookup(path string) (archive.Entry, error) {
	e, err := f.v.Lookup(path)
	if err != nil {
		return archive.Entry{}, err
	}
	return f.flat(e)
}

// Target returns the entry a redirect points to (one step).
func (f *Flat) Target(e archive.Entry) (archive.Entry, error) {
	if !e.Redirect {
		return e, nil
	}
	le, err := f.layerEntry(e)
	if err != nil {
		return archive.Entry{}, err
	}
	t, err := f.v.Target(le)
	if err != nil {
		return archive.Entry{}, err
	}
	return f.flat(t)
}

// Resolve follows redirects from e to a content entry.
func (f *Flat) Resolve(e archive.Entry) (archive.Entry, error) {
	for i := 0; e.Redirect; i++ {
		if i >= maxRedirects {
			return archive.Entry{}, fmt.Errorf("%w: redirect loop at %q", archive.ErrCorrupt, e.Path)
		}
		var err error
		if e, err = f.Target(e); err != nil {
			return archive.Entry{}, err
		}
	}
	return e, nil
}

// Open returns a reader of the entry's verified content.
func (f *Flat) Open(e archive.Entry) (*io.SectionReader, error) {
	le, err := f.layerEntry(e)
	if err != nil {
		return nil, err
	}
	return f.v.Open(le)
}

// ReadAll returns the entry's verified content.
func (f *Flat) ReadAll(e archive.Entry) ([]byte, error) {
	le, err := f.layerEntry(e)
	if err != nil {
		return nil, err
	}
	return f.v.ReadAll(le)
}

// Cat returns the content at path.
func (f *Flat) Cat(path string) ([]byte, error) { return f.v.Cat(path) }

// Text returns the title and visible text of an HTML entry.
func (f *Flat) Text(e archive.Entry) (title, text string, err error) {
	b, err := f.ReadAll(e)
	if err != nil {
		return "", "", err
	}
	title, text = htmltext.Extract(b)
	return title, text, nil
}

// Search ranks the newest edition's articles (see View.Search for how
// layers are merged).
func (f *Flat) Search(query string, offset, limit int) ([]archive.Hit, int, error) {
	hits, total, err := f.v.Search(query, offset, limit)
	out := make([]archive.Hit, 0, len(hits))
	for _, h := range hits {
		e, ferr := f.flat(h.Entry)
		if ferr != nil {
			return nil, 0, ferr
		}
		out = append(out, archive.Hit{Entry: e, Score: h.Score})
	}
	return out, total, err
}

// SuggestTitles returns up to n entries whose title starts with prefix.
func (f *Flat) SuggestTitles(prefix string, n int) ([]archive.Entry, error) {
	es, err := f.v.SuggestTitles(prefix, n)
	if err != nil {
		return nil, err
	}
	out := make([]archive.Entry, 0, len(es))
	for _, e := range es {
		x, err := f.flat(e)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}

// RandomArticle returns an article chosen at random.
func (f *Flat) RandomArticle() (archive.Entry, error) {
	e, err := f.v.RandomArticle()
	if err != nil {
		return archive.Entry{}, err
	}
	return f.flat(e)
}

// Close does nothing: the archives belong to whoever opened them.
func (f *Flat) Close() error { return nil }
