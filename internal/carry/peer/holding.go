package peer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

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

	checkOnce sync.Once
	check     atomic.Bool
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
	h.viewMu.Lock()
	for _, v := range h.views {
		<-v.ready
		v.close()
	}
	h.viewMu.Unlock()
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

// checkLocalFile, in the sync folder, says that an assembled archive
// failed the library's final check on this device: from then on, pieces
// copied from the library's own archives are hashed as they are copied.
const checkLocalFile = "check-local"

// checkLocal reports whether local copies are to be hashed.
func (h *holding) checkLocal() bool {
	h.checkOnce.Do(func() {
		_, err := os.Lstat(filepath.Join(h.syncDir, checkLocalFile))
		h.check.Store(err == nil)
	})
	return h.check.Load()
}

// setCheckLocal makes local copies hashed from now on, on this device.
func (h *holding) setCheckLocal() {
	h.checkLocal()
	h.check.Store(true)
	// If the mark cannot be written, this session still hashes; the next
	// one may fail once more.
	_ = os.WriteFile(filepath.Join(h.syncDir, checkLocalFile), nil, 0o600)
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
	view   *edition.View
	items  [][]byte // entryItem of each content entry, sorted
	byKey  map[[16]byte]viewEntry
	layers []*localArchive
	files  []*os.File
	cache  rawCache
	hold   *holding // whether local pieces are hashed (checkLocal)
	err    error
	ready  chan struct{}
}

// viewEntry is where a content entry of the edition lies: its layer and
// its record there.
type viewEntry struct {
	path  string
	layer int
	e     entryRec
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
	v := &viewItems{ready: make(chan struct{}), hold: h}
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
	var recs []map[int]entryRec
	for _, rec := range ch.Chain {
		p := filepath.Join(h.dir, filepath.FromSlash(rec.File))
		la, err := openLocal(p, true)
		if err != nil {
			return err
		}
		hs, err := contentHashes(la, h.syncDir)
		if err != nil {
			return err
		}
		f, err := openRead(p)
		if err != nil {
			return err
		}
		v.layers, v.files = append(v.layers, la), append(v.files, f)
		layers = append(layers, hs)
		m := make(map[int]entryRec, len(la.Lay.Entries))
		for _, e := range la.Lay.Entries {
			m[e.Index] = e
		}
		recs = append(recs, m)
	}
	v.byKey = map[[16]byte]viewEntry{}
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
		r, ok := recs[li][le.Index]
		if !ok {
			return fmt.Errorf("peer: internal error: entry %q has no content record", e.Path)
		}
		it := entryItem(e.Path, layers[li][le.Index])
		v.items = append(v.items, it[:])
		v.byKey[pathKey(e.Path)] = viewEntry{path: e.Path, layer: li, e: r}
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(v.items, func(a, b []byte) int { return bytesCompare(a, b) })
	return nil
}

// read returns an entry's content from its layer's clusters, each checked
// against its hash as it is decoded (and kept a while: a rebuilt cluster
// reads many entries of the same few clusters).
func (v *viewItems) read(ve viewEntry) ([]byte, error) {
	la, f := v.layers[ve.layer], v.files[ve.layer]
	if !ve.e.Chunked {
		raw, err := v.cluster(ve.layer, la, f, int(ve.e.Cluster))
		if err != nil {
			return nil, err
		}
		return raw[ve.e.Offset : int64(ve.e.Offset)+ve.e.Size], nil
	}
	out := make([]byte, 0, ve.e.Size)
	k := max(1, (ve.e.Size+int64(la.Lay.M.ChunkSize)-1)/int64(la.Lay.M.ChunkSize))
	for j := int64(0); j < k; j++ {
		raw, err := v.cluster(ve.layer, la, f, int(ve.e.Cluster)+int(j))
		if err != nil {
			return nil, err
		}
		out = append(out, raw...)
	}
	if int64(len(out)) != ve.e.Size {
		return nil, fmt.Errorf("%w: chunked entry %q", archive.ErrCorrupt, ve.path)
	}
	return out, nil
}

func (v *viewItems) cluster(layer int, la *localArchive, f *os.File, ci int) ([]byte, error) {
	key := uint64(layer)<<32 | uint64(ci)
	if b, ok := v.cache.get(key); ok {
		return b, nil
	}
	// What is read here is what rebuilds are made of, and a rebuilt
	// cluster is kept only if it matches the signed hash of the cluster
	// it stands for: the held cluster's own hash adds nothing to that
	// (a damaged one costs that rebuild, which is then fetched), unless a
	// final check has failed here before and local pieces are hashed.
	raw, err := la.readCluster(f, ci, v.hold != nil && v.hold.checkLocal())
	if err != nil {
		return nil, err
	}
	v.cache.put(key, raw)
	return raw, nil
}

func (v *viewItems) close() {
	for _, f := range v.files {
		f.Close()
	}
}

// rawCache keeps decoded clusters, the oldest dropped past 64 MiB.
type rawCache struct {
	mu    sync.Mutex
	m     map[uint64][]byte
	order []uint64
	size  int64
}

const rawCacheBytes = 64 << 20

func (c *rawCache) get(k uint64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.m[k]
	return b, ok
}

func (c *rawCache) put(k uint64, b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[uint64][]byte{}
	}
	if _, ok := c.m[k]; ok {
		return
	}
	c.m[k] = b
	c.order = append(c.order, k)
	c.size += int64(len(b))
	for c.size > rawCacheBytes && len(c.order) > 1 {
		old := c.order[0]
		c.order = c.order[1:]
		c.size -= int64(len(c.m[old]))
		delete(c.m, old)
	}
}

func bytesCompare(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return int(a[i]) - int(b[i])
		}
	}
	return len(a) - len(b)
}
