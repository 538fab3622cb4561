package peer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/library"
)

// SyncDir is the folder inside a library where sync keeps its own state:
// partial archives being received, the entry hashes of archives, and (only
// when the user asks to remember peers) this device's identity and the
// peers it remembers. Nothing in it is needed to read the library.
const SyncDir = ".sync"

// ErrSealed is returned for a library that is a sealed container: its
// archives are not offered or taken by sync.
var ErrSealed = errors.New("peer: a sealed library cannot be synced; sync a library folder")

// holding is what one side holds for a session: its library, the archives
// it offers, and the channels it can update from.
type holding struct {
	opts    Options
	dir     string
	syncDir string
	unlock  func()
	opened  *library.Opened
	offered []offeredArchive // sorted by id
	byID    map[[32]byte]int
	bases   map[string]*library.Channel // offered channels shown from trusted archives: bases for updates

	idxOnce sync.Once
	idx     *localIndex

	viewMu sync.Mutex
	views  map[string]*viewItems
}

// offeredArchive is one archive this side offers.
type offeredArchive struct {
	ID   [32]byte
	Path string
	Rec  library.Record
}

// openHolding opens the library for a session: it takes the sync lock
// (one session per library at a time) and lists what is offered.
func openHolding(opts Options) (*holding, error) {
	dir := opts.Library
	if dir == "" {
		dir = library.DefaultDir()
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("%s: %w", dir, ErrSealed)
	}
	if _, err := library.Load(dir, true); err != nil {
		return nil, err
	}
	h := &holding{opts: opts, dir: dir, syncDir: filepath.Join(dir, SyncDir), byID: map[[32]byte]int{},
		bases: map[string]*library.Channel{}, views: map[string]*viewItems{}}
	if err := os.MkdirAll(h.syncDir, 0o700); err != nil {
		return nil, err
	}
	unlock, err := lockSync(h.syncDir)
	if err != nil {
		return nil, err
	}
	h.unlock = unlock
	o, err := library.Open(dir, library.OpenOptions{})
	if err != nil {
		h.close()
		return nil, err
	}
	h.opened = o
	want, unknown := map[string]bool{}, map[string]bool{}
	for _, c := range opts.Channels {
		want[c], unknown[c] = true, true
	}
	for _, ch := range o.Channels {
		if ch.View == nil || !ch.Trusted || (len(want) > 0 && !want[ch.Name]) {
			continue
		}
		delete(unknown, ch.Name)
		h.bases[ch.Name] = ch
		for _, rec := range ch.Chain {
			var id [32]byte
			copy(id[:], mustHex(rec.ID))
			h.offered = append(h.offered, offeredArchive{ID: id, Path: filepath.Join(dir, filepath.FromSlash(rec.File)), Rec: rec})
		}
	}
	if len(unknown) > 0 {
		var names []string
		for n := range unknown {
			names = append(names, n)
		}
		sort.Strings(names)
		h.close()
		return nil, fmt.Errorf("peer: the library has no trusted edition of channel %v to offer ('ferry library list' shows what there is)", names)
	}
	if len(h.offered) > maxIDList {
		n := len(h.offered)
		h.close()
		return nil, fmt.Errorf("peer: the library offers %d archives, at most %d can be offered at once: choose channels", n, maxIDList)
	}
	sort.Slice(h.offered, func(i, j int) bool { return string(h.offered[i].ID[:]) < string(h.offered[j].ID[:]) })
	for i, a := range h.offered {
		h.byID[a.ID] = i
	}
	return h, nil
}

func (h *holding) close() {
	if h.opened != nil {
		h.opened.Close()
	}
	if h.unlock != nil {
		h.unlock()
	}
}

func (h *holding) offeredIDs() [][32]byte {
	out := make([][32]byte, len(h.offered))
	for i, a := range h.offered {
		out[i] = a.ID
	}
	return out
}

// loc is where a piece lies in a local archive file.
type loc struct {
	path string
	off  int64
	n    int64
}

// localIndex finds clusters and sections this library already holds, by
// the hashes the archive format names them with.
type localIndex struct {
	clusters map[[32]byte]loc
	sections map[[32]byte]loc // by root; off/n: the section's bytes (hash list computed again)
}

// index returns the local index of every archive in the library (built
// once per session; an archive that does not open is left out).
func (h *holding) index() *localIndex {
	h.idxOnce.Do(func() {
		x := &localIndex{clusters: map[[32]byte]loc{}, sections: map[[32]byte]loc{}}
		l, err := library.Load(h.dir, false)
		if err == nil {
			for _, rec := range l.State.Archives {
				p := l.Path(rec)
				la, err := openLocal(p, false)
				if err != nil {
					continue
				}
				for _, c := range la.Lay.Clusters {
					x.clusters[c.Hash] = loc{p, c.Off, c.Stored}
				}
				for _, s := range la.Lay.Secs {
					x.sections[root(s)] = loc{p, s.Offset, s.Length}
				}
			}
		}
		h.idx = x
	})
	return h.idx
}

// viewItems is the entry set of a channel's served edition, for entry
// reconciliation and for rebuilding clusters from its content.
type viewItems struct {
	view  *edition.View
	items [][]byte // entryItem of each content entry, sorted
	byKey map[[16]byte]archive.Entry
	err   error
	ready chan struct{}
}

// viewOf returns the entry set of an offered channel's edition, computing
// it in the background the first time (content hashes are kept in the sync
// folder). Wait on ready.
func (h *holding) viewOf(channel string) *viewItems {
	h.viewMu.Lock()
	defer h.viewMu.Unlock()
	if v, ok := h.views[channel]; ok {
		return v
	}
	ch := h.bases[channel]
	v := &viewItems{ready: make(chan struct{})}
	h.views[channel] = v
	if ch == nil {
		v.err = fmt.Errorf("peer: no base edition of channel %s", channel)
		close(v.ready)
		return v
	}
	v.view = ch.View
	go func() {
		defer close(v.ready)
		v.err = v.compute(h, ch)
	}()
	return v
}

func (v *viewItems) compute(h *holding, ch *library.Channel) error {
	var layers [][][32]byte
	for _, rec := range ch.Chain {
		la, err := openLocal(filepath.Join(h.dir, filepath.FromSlash(rec.File)), true)
		if err != nil {
			return err
		}
		hs, err := contentHashes(la, h.syncDir)
		if err != nil {
			return err
		}
		layers = append(layers, hs)
	}
	v.byKey = map[[16]byte]archive.Entry{}
	err := v.view.Each(func(e archive.Entry) error {
		if e.Redirect {
			return nil
		}
		li, le, err := v.view.Layer(e)
		if err != nil {
			return err
		}
		if li < 0 || li >= len(layers) || le.Index < 0 || le.Index >= len(layers[li]) {
			return fmt.Errorf("peer: internal error: entry %q outside its layer", e.Path)
		}
		it := entryItem(e.Path, layers[li][le.Index])
		v.items = append(v.items, it[:])
		v.byKey[pathKey(e.Path)] = e
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(v.items, func(a, b []byte) int { return bytesCompare(a, b) })
	return nil
}

func bytesCompare(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return len(a) - len(b)
}
