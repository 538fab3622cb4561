package edition

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/search"
)

// ErrChain reports archives that do not form base → delta → delta.
var ErrChain = errors.New("edition: archives do not form a chain")

// maxRedirects bounds redirect chains followed across layers.
const maxRedirects = 16

// View is an Edition made of layers: a full edition (layer 0) and the
// deltas on top of it, newest last. Entries of a higher layer win; paths a
// delta removes vanish. Entry indexes are positions in the merged path
// order; with one layer they are that archive's own. The merged listing of
// a chain costs 8 bytes per entry and is built on first use by reading
// every layer's directory once. A View is safe for concurrent use; the
// archives belong to whoever opened them.
type View struct {
	layers  []*archive.Reader
	removed []map[string]bool // removed[i]: paths layer i removes from the layers below
	man     archive.Manifest
	idx     []layerIndex

	once sync.Once // the merged listing, for chains
	refs []ref
	arts int
	err  error
}

type ref struct{ layer, index uint32 }

// lent is an entry of one layer.
type lent struct {
	archive.Entry
	layer int
}

type layerIndex struct {
	once sync.Once
	ix   *search.Index
	err  error
}

// Of returns the edition that one full archive holds.
func Of(r *archive.Reader) (*View, error) { return Open(r) }

// Open checks that layers form a chain — layers[0] is a full edition and
// each next one is a delta whose base id is the previous archive's id, in
// the same channel with a higher edition — and returns the combined view.
func Open(layers ...*archive.Reader) (*View, error) {
	if len(layers) == 0 {
		return nil, fmt.Errorf("%w: no archive", ErrChain)
	}
	if b := layers[0].Manifest().Base; b != nil {
		return nil, fmt.Errorf("%w: %s edition %d is a delta; its base (id %s) is needed first",
			ErrChain, layers[0].Manifest().Channel, layers[0].Manifest().Edition, short(b.ID))
	}
	v := &View{layers: layers, removed: make([]map[string]bool, len(layers)), idx: make([]layerIndex, len(layers))}
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
	v.man = *layers[len(layers)-1].Manifest()
	v.man.Base = nil
	return v, nil
}

func short(id string) string {
	if len(id) > 16 {
		return id[:16]
	}
	return id
}

func (v *View) single() bool { return len(v.layers) == 1 }

// Layers returns the archives of the chain, full edition first.
func (v *View) Layers() []*archive.Reader { return v.layers }

// Top returns the newest archive of the chain.
func (v *View) Top() *archive.Reader { return v.layers[len(v.layers)-1] }

// Manifest describes the edition: the newest archive's manifest without
// its base; for a chain, the entry and article counts are those of the
// merged edition (sections and sizes stay the newest archive's).
func (v *View) Manifest() *archive.Manifest {
	m := v.man
	if !v.single() && v.build() == nil {
		m.Counts.Entries, m.Counts.Articles = len(v.refs), v.arts
	}
	return &m
}

// ID returns the id of the newest archive.
func (v *View) ID() string { return v.Top().ID() }

// Size returns the bytes of all archives of the chain.
func (v *View) Size() int64 {
	var n int64
	for _, r := range v.layers {
		n += r.Size()
	}
	return n
}

// Signers returns the verified signers of the newest archive.
func (v *View) Signers() []key.Public { return v.Top().Signers() }

// SignedBy reports whether every archive of the chain is signed by p.
func (v *View) SignedBy(p key.Public) bool {
	for _, r := range v.layers {
		if !r.SignedBy(p) {
			return false
		}
	}
	return true
}

// build makes the merged listing of a chain.
func (v *View) build() error {
	v.once.Do(func() {
		v.err = v.eachLayered(func(e lent) error {
			v.refs = append(v.refs, ref{uint32(e.layer), uint32(e.Index)})
			if e.Article && !e.Redirect {
				v.arts++
			}
			return nil
		})
	})
	return v.err
}

// NumEntries returns the number of entries of the edition (0 if a
// chain's listing cannot be read; EntryAt then reports why).
func (v *View) NumEntries() int {
	if v.single() {
		return v.layers[0].NumEntries()
	}
	if v.build() != nil {
		return 0
	}
	return len(v.refs)
}

// EntryAt returns entry i of the edition in path order.
func (v *View) EntryAt(i int) (archive.Entry, error) {
	if v.single() {
		return v.layers[0].EntryAt(i)
	}
	if err := v.build(); err != nil {
		return archive.Entry{}, err
	}
	if i < 0 || i >= len(v.refs) {
		return archive.Entry{}, fmt.Errorf("%w: entry index %d", archive.ErrNotFound, i)
	}
	e, err := v.layers[v.refs[i].layer].EntryAt(int(v.refs[i].index))
	if err != nil {
		return archive.Entry{}, err
	}
	e.Index = i
	return e, nil
}

// Layer returns the layer an entry of the view comes from (0 = the full
// edition) and that layer's own entry, for code that works per archive
// (the delta maker compares stored content).
func (v *View) Layer(e archive.Entry) (int, archive.Entry, error) {
	le, err := v.layerEntry(e)
	return le.layer, le.Entry, err
}

// layerEntry returns the layer entry behind an entry of the view.
func (v *View) layerEntry(e archive.Entry) (lent, error) {
	if v.single() {
		return lent{e, 0}, nil
	}
	if err := v.build(); err != nil {
		return lent{}, err
	}
	if e.Index < 0 || e.Index >= len(v.refs) {
		return lent{}, fmt.Errorf("%w: entry index %d", archive.ErrNotFound, e.Index)
	}
	r := v.refs[e.Index]
	le, err := v.layers[r.layer].EntryAt(int(r.index))
	if err != nil {
		return lent{}, err
	}
	if le.Path != e.Path {
		return lent{}, fmt.Errorf("edition: entry %d is %q, not %q (an entry of another edition?)", e.Index, le.Path, e.Path)
	}
	return lent{le, int(r.layer)}, nil
}

// flat turns a layer entry into an entry of the view (its merged index).
func (v *View) flat(e lent) (archive.Entry, error) {
	if v.single() {
		return e.Entry, nil
	}
	if err := v.build(); err != nil {
		return archive.Entry{}, err
	}
	var ferr error
	i := sort.Search(len(v.refs), func(i int) bool {
		if ferr != nil {
			return true
		}
		x, err := v.layers[v.refs[i].layer].EntryAt(int(v.refs[i].index))
		if err != nil {
			ferr = err
			return true
		}
		return x.Path >= e.Path
	})
	if ferr != nil {
		return archive.Entry{}, ferr
	}
	if i >= len(v.refs) || v.refs[i] != (ref{uint32(e.layer), uint32(e.Index)}) {
		return archive.Entry{}, fmt.Errorf("%w: %q", archive.ErrNotFound, e.Path)
	}
	out := e.Entry
	out.Index = i
	return out, nil
}

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

// lookup finds the layer entry that holds path in the edition.
func (v *View) lookup(path string) (lent, error) {
	for i := len(v.layers) - 1; i >= 0; i-- {
		e, err := v.layers[i].Lookup(path)
		if err == nil {
			return lent{e, i}, nil
		}
		if !errors.Is(err, archive.ErrNotFound) {
			return lent{}, err
		}
		if v.removed[i][path] {
			break
		}
	}
	return lent{}, fmt.Errorf("%w: %q", archive.ErrNotFound, path)
}

// Lookup finds the entry with exactly this path in the edition.
func (v *View) Lookup(path string) (archive.Entry, error) {
	e, err := v.lookup(path)
	if err != nil {
		return archive.Entry{}, err
	}
	return v.flat(e)
}

// Target returns the entry a redirect points to (one step), looked up by
// path in the whole edition, so a base edition's redirect reaches its
// target's newest version.
func (v *View) Target(e archive.Entry) (archive.Entry, error) {
	if !e.Redirect {
		return e, nil
	}
	if v.single() {
		return v.layers[0].Target(e)
	}
	le, err := v.layerEntry(e)
	if err != nil {
		return archive.Entry{}, err
	}
	t, err := v.layers[le.layer].Target(le.Entry)
	if err != nil {
		return archive.Entry{}, err
	}
	return v.Lookup(t.Path)
}

// Resolve follows redirects from e to a content entry.
func (v *View) Resolve(e archive.Entry) (archive.Entry, error) {
	for i := 0; e.Redirect; i++ {
		if i >= maxRedirects {
			return archive.Entry{}, fmt.Errorf("%w: redirect loop at %q", archive.ErrCorrupt, e.Path)
		}
		var err error
		if e, err = v.Target(e); err != nil {
			return archive.Entry{}, err
		}
	}
	return e, nil
}

// Open returns a reader of the entry's verified content (redirects
// followed).
func (v *View) Open(e archive.Entry) (*io.SectionReader, error) {
	e, err := v.Resolve(e)
	if err != nil {
		return nil, err
	}
	le, err := v.layerEntry(e)
	if err != nil {
		return nil, err
	}
	return v.layers[le.layer].Open(le.Entry)
}

// ReadAll returns the entry's verified content (redirects followed).
func (v *View) ReadAll(e archive.Entry) ([]byte, error) {
	e, err := v.Resolve(e)
	if err != nil {
		return nil, err
	}
	le, err := v.layerEntry(e)
	if err != nil {
		return nil, err
	}
	return v.layers[le.layer].ReadAll(le.Entry)
}

// Cat returns the verified content at path.
func (v *View) Cat(path string) ([]byte, error) {
	e, err := v.Lookup(path)
	if err != nil {
		return nil, err
	}
	return v.ReadAll(e)
}

// Text returns the title and visible text of an entry, as indexed.
func (v *View) Text(e archive.Entry) (title, text string, err error) {
	b, err := v.ReadAll(e)
	if err != nil {
		return "", "", err
	}
	title, text = Text(e.MIME, b)
	return title, text, nil
}

// Each calls fn for every entry of the edition in path order.
func (v *View) Each(fn func(archive.Entry) error) error {
	if v.single() {
		r := v.layers[0]
		for i := 0; i < r.NumEntries(); i++ {
			e, err := r.EntryAt(i)
			if err != nil {
				return err
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		return nil
	}
	n := 0
	return v.eachLayered(func(e lent) error {
		x := e.Entry
		x.Index = n
		n++
		return fn(x)
	})
}

// eachLayered merges the layers' directories in path order.
func (v *View) eachLayered(fn func(lent) error) error {
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
			if err := fn(lent{heads[win].e, win}); err != nil {
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
