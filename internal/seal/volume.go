package seal

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"
)

// Volume is one unlocked library. Its methods are safe for concurrent use;
// readers returned by Open may be used concurrently with Add and Remove.
type Volume struct {
	mu      sync.Mutex
	st      storage
	nBlocks int64
	k       *keys
	sb      *superblock
	slot    int64    // block holding the current superblock
	slots   [2]int64 // this library's two superblock slots
	// other is the other library to protect, when known: the outer one for
	// a hidden library, the hidden one for an outer library from UnlockBoth.
	other        *keys
	otherIsOuter bool
	readOnly     bool
	closed       atomic.Bool
}

// File describes one stored file.
type File struct {
	Name string
	Size int64
}

// initSlots computes this library's two superblock slots.
func (v *Volume) initSlots() error {
	var taken = [2]int64{-1, -1}
	if v.sb.role == roleHidden {
		var ok bool
		if taken, ok = slotsOf(v.other.candidate, [2]int64{-1, -1}); !ok {
			return corrupt("outer library has no usable slots")
		}
	}
	s, ok := slotsOf(v.k.candidate, taken)
	if !ok || (v.slot != s[0] && v.slot != s[1]) {
		return corrupt("superblock in an unexpected slot")
	}
	v.slots = s
	return nil
}

// Hidden reports whether this is the hidden library.
func (v *Volume) Hidden() bool { return v.sb.role == roleHidden }

// List returns the stored files, sorted by name.
func (v *Volume) List() []File {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := make([]File, 0, len(v.sb.files))
	for _, e := range v.sb.files {
		out = append(out, File{e.name, e.size})
	}
	slices.SortFunc(out, func(a, b File) int {
		if a.Name < b.Name {
			return -1
		} else if a.Name > b.Name {
			return 1
		}
		return 0
	})
	return out
}

// Free returns how many more bytes of file content fit, as far as this
// Volume knows (an outer library opened alone counts hidden blocks as free).
func (v *Volume) Free() (int64, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	used, err := v.usedMap()
	if err != nil {
		return 0, err
	}
	var n int64
	for b := int64(firstData); b < v.nBlocks; b++ {
		if !used.get(b) {
			n++
		}
	}
	return n * payloadSize, nil
}

// Close forgets the keys and closes the container. Readers from Open fail
// afterwards.
func (v *Volume) Close() error {
	if v.closed.Swap(true) {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	clear(v.k.master[:])
	clear(v.sb.outerMaster[:])
	if v.other != nil {
		clear(v.other.master[:])
	}
	return v.st.Close()
}

// usedMap returns every block this Volume must not overwrite: block 0, its
// own slots and files, and the other library's slots and files when known.
// The other library is re-read, since another Volume may have changed it.
func (v *Volume) usedMap() (bitmap, error) {
	used := newBitmap(v.nBlocks)
	used.set(0)
	used.set(v.slots[0])
	used.set(v.slots[1])
	used.mark(v.sb)
	if v.other != nil {
		osb, oslot, _, err := findSuper(v.st, v.nBlocks, v.other)
		if err != nil {
			return nil, fmt.Errorf("reading the other library to protect it: %w", err)
		}
		used.mark(osb)
		used.set(oslot)
		taken := [2]int64{-1, -1}
		if !v.otherIsOuter {
			taken = v.slots // the other is hidden: its slots avoid ours
		}
		if s, ok := slotsOf(v.other.candidate, taken); ok {
			used.set(s[0])
			used.set(s[1])
		}
	}
	return used, nil
}

// allocate picks n free data blocks: lowest first for the outer library,
// highest first for the hidden one, so that the two grow towards each other
// and meet only when the container is nearly full. The result is sorted.
func (v *Volume) allocate(used bitmap, n int64) ([]int64, error) {
	// The capacity is not taken from n alone: n comes from a size the
	// caller claims, and a full container must not cost its whole map.
	out := make([]int64, 0, min(n, 4096))
	if v.sb.role == roleOuter {
		for b := int64(firstData); b < v.nBlocks && int64(len(out)) < n; b++ {
			if !used.get(b) {
				out = append(out, b)
			}
		}
	} else {
		for b := v.nBlocks - 1; b >= firstData && int64(len(out)) < n; b-- {
			if !used.get(b) {
				out = append(out, b)
			}
		}
		slices.Reverse(out)
	}
	if int64(len(out)) < n {
		return nil, fmt.Errorf("%w: need %d blocks, %d free", ErrFull, n, len(out))
	}
	return out, nil
}

func toExtents(blocks []int64) []extent {
	var ext []extent
	for _, b := range blocks {
		if l := len(ext); l > 0 && ext[l-1].start+ext[l-1].count == b {
			ext[l-1].count++
		} else {
			ext = append(ext, extent{b, 1})
		}
	}
	return ext
}

func blocksOf(ext []extent) []int64 {
	var out []int64
	for _, x := range ext {
		for b := x.start; b < x.start+x.count; b++ {
			out = append(out, b)
		}
	}
	return out
}

// Add stores size bytes read from r under name, replacing a file of that
// name. It is atomic: the new directory is the last write, so an error or a
// crash leaves the previous state. It also rewrites 16 unused blocks with
// fresh random bytes (docs/seal.md, "Writing" and "Known limits"). Other
// calls on v wait while it runs; readers already open do not.
func (v *Volume) Add(name string, r io.Reader, size int64) error {
	if err := checkName(name); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("adding %q: negative size %d", name, size)
	}
	if v.closed.Load() {
		return ErrClosed
	}
	if v.readOnly {
		return fmt.Errorf("adding %q: %w", name, ErrReadOnly)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	used, err := v.usedMap()
	if err != nil {
		return fmt.Errorf("adding %q: %w", name, err)
	}
	if size > v.nBlocks*payloadSize { // also keeps chunksFor from overflowing
		return fmt.Errorf("adding %q: %w", name, ErrFull)
	}
	n := chunksFor(size)
	if n > v.nBlocks {
		return fmt.Errorf("adding %q: %w", name, ErrFull)
	}
	blocks, err := v.allocate(used, n)
	if err != nil {
		return fmt.Errorf("adding %q: %w", name, err)
	}
	e := fileEntry{name: name, size: size, ext: toExtents(blocks)}
	rand.Read(e.id[:])
	nsb := v.next()
	var old *fileEntry
	if i := slices.IndexFunc(nsb.files, func(f fileEntry) bool { return f.name == name }); i >= 0 {
		o := nsb.files[i]
		old = &o
		nsb.files[i] = e
	} else {
		nsb.files = append(nsb.files, e)
	}
	if superHeader+nsb.encodedLen() > payloadSize {
		return fmt.Errorf("adding %q: %w: the directory is full", name, ErrFull)
	}
	if err := v.writeFile(&e, r, blocks); err != nil {
		v.scrub(blocks) // best effort: leave no decryptable leftovers
		return fmt.Errorf("adding %q: %w", name, err)
	}
	for _, b := range blocks {
		used.set(b)
	}
	var freed []int64
	if old != nil {
		freed = blocksOf(old.ext)
	}
	if err := v.commit(nsb, used, freed); err != nil {
		return fmt.Errorf("adding %q: %w", name, err)
	}
	return nil
}

// Remove deletes name from the library and overwrites its blocks with random
// bytes.
func (v *Volume) Remove(name string) error {
	if v.closed.Load() {
		return ErrClosed
	}
	if v.readOnly {
		return fmt.Errorf("removing %q: %w", name, ErrReadOnly)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	nsb := v.next()
	i := slices.IndexFunc(nsb.files, func(f fileEntry) bool { return f.name == name })
	if i < 0 {
		return fmt.Errorf("removing %q: %w", name, ErrNotFound)
	}
	freed := blocksOf(nsb.files[i].ext)
	nsb.files = slices.Delete(nsb.files, i, i+1)
	used, err := v.usedMap()
	if err != nil {
		return fmt.Errorf("removing %q: %w", name, err)
	}
	if err := v.commit(nsb, used, freed); err != nil {
		return fmt.Errorf("removing %q: %w", name, err)
	}
	return nil
}

// next returns a copy of the current superblock with the next generation.
func (v *Volume) next() *superblock {
	nsb := *v.sb
	nsb.gen++
	nsb.files = slices.Clone(v.sb.files)
	return &nsb
}

// writeFile encrypts r into blocks, batching runs of consecutive blocks.
func (v *Volume) writeFile(e *fileEntry, r io.Reader, blocks []int64) error {
	const batch = 16
	plain := make([]byte, payloadSize)
	defer clear(plain)
	buf := make([]byte, 0, batch*BlockSize)
	aad := make([]byte, 0, 64)
	left := e.size
	var runStart int64 = -1
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		_, err := v.st.WriteAt(buf, runStart*BlockSize)
		buf = buf[:0]
		return err
	}
	for chunk, b := range blocks {
		if len(buf) > 0 && (runStart+int64(len(buf)/BlockSize) != b || len(buf) == cap(buf)) {
			if err := flush(); err != nil {
				return err
			}
		}
		if len(buf) == 0 {
			runStart = b
		}
		n := min(left, payloadSize)
		clear(plain[n:])
		if _, err := io.ReadFull(r, plain[:n]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return ErrShortInput
			}
			return fmt.Errorf("reading input: %w", err)
		}
		left -= n
		buf = buf[:len(buf)+BlockSize]
		sealBlock(buf[len(buf)-BlockSize:], v.k.data, plain, dataAAD(aad, v.k, b, e.id, int64(chunk)))
	}
	return flush()
}

// commit makes nsb the current directory: chaff, sync, write the superblock
// into the other slot, sync, then wipe the old slot and the freed blocks.
func (v *Volume) commit(nsb *superblock, used bitmap, freed []int64) error {
	v.chaff(used)
	if err := v.st.Sync(); err != nil {
		return fmt.Errorf("syncing: %w", err)
	}
	newSlot := v.slots[0]
	if newSlot == v.slot {
		newSlot = v.slots[1]
	}
	if err := writeSuper(v.st, v.k, newSlot, nsb); err != nil {
		return err
	}
	if err := v.st.Sync(); err != nil {
		return fmt.Errorf("syncing: %w", err)
	}
	oldSlot := v.slot
	v.sb, v.slot = nsb, newSlot
	// From here the change is durable; what follows only removes leftovers.
	v.scrub(append(freed, oldSlot))
	if err := v.st.Sync(); err != nil {
		return fmt.Errorf("syncing: %w", err)
	}
	return nil
}

// chaff overwrites chaffBlocks distinct blocks not in used (and not block 0)
// with random bytes: chaffSlots of them in the slot area, where every commit
// of either library changes two blocks, the rest anywhere. Indices are drawn
// at random and used ones rejected, so memory does not grow with the
// container; on a nearly full container it falls back to listing the free
// blocks.
func (v *Volume) chaff(used bitmap) {
	picked := make(map[int64]bool, chaffBlocks)
	v.pickFree(used, picked, 1, 1+slotArea, chaffSlots)
	v.pickFree(used, picked, 1, v.nBlocks, chaffBlocks)
	blocks := make([]int64, 0, len(picked))
	for b := range picked {
		blocks = append(blocks, b)
	}
	v.scrub(blocks)
}

// pickFree adds blocks from [lo, hi), not used and not yet picked, to picked
// until it holds want blocks or none is left.
func (v *Volume) pickFree(used bitmap, picked map[int64]bool, lo, hi int64, want int) {
	for try := 0; try < 64*want && len(picked) < want; try++ {
		if b := lo + randInt(hi-lo); !used.get(b) {
			picked[b] = true
		}
	}
	if len(picked) >= want {
		return
	}
	var free []int64
	for b := lo; b < hi; b++ {
		if !used.get(b) && !picked[b] {
			free = append(free, b)
		}
	}
	for len(picked) < want && len(free) > 0 {
		k := randInt(int64(len(free)))
		picked[free[k]] = true
		free[k] = free[len(free)-1]
		free = free[:len(free)-1]
	}
}

// randInt returns a uniform random integer in [0, n) from crypto/rand.
func randInt(n int64) int64 {
	j, err := rand.Int(rand.Reader, big.NewInt(n))
	if err != nil {
		panic("seal: internal error: no randomness: " + err.Error())
	}
	return j.Int64()
}

// scrub overwrites blocks with random bytes; errors are ignored (best effort,
// the caller syncs and reports).
func (v *Volume) scrub(blocks []int64) {
	buf := make([]byte, BlockSize)
	for _, b := range blocks {
		rand.Read(buf)
		v.st.WriteAt(buf, b*BlockSize)
	}
}
