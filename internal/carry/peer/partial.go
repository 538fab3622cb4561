package peer

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"ferry/internal/atomicfile"
	"ferry/internal/library"
)

// A partial archive is the file being assembled, at its final size, and a
// state file saying which of its pieces are in place and verified. Pieces
// are written only after they verify (sections: block hashes collected as
// they arrive, checked against the root when the section is complete;
// clusters copied from the library's own archives are checked by the
// library's final check, see copyLocal), and
// the state is saved only after the file is synced, so a cut connection or
// a crash loses at most what arrived since the last save. The next session
// — with this peer or another that offers the same archive — continues
// from there.

const (
	partsDir   = "parts"
	partFormat = 1
	saveEvery  = 5 * time.Second
	syncEvery  = 64 << 20
	maxState   = 64 << 20
)

// secProgress is how far a section has come.
type secProgress struct {
	Done   bool   `json:"done,omitempty"`
	Offset int64  `json:"offset,omitempty"` // bytes in place, a multiple of the block size
	Hashes []byte `json:"hashes,omitempty"` // block hashes of those bytes
}

// clusterProgress is how far a cluster fetched in chunks has come: the
// bytes in place and the SHA-256 state over them.
type clusterProgress struct {
	Offset int64  `json:"offset"`
	State  []byte `json:"state"`
}

// partState is the state file.
type partState struct {
	Format   int                     `json:"format"`
	ID       string                  `json:"id"`
	Size     int64                   `json:"size"`
	Manifest []byte                  `json:"manifest"`
	Sigs     []byte                  `json:"signatures"`
	Sections []secProgress           `json:"sections"`
	Clusters []byte                  `json:"clusters"` // bit i: cluster i in place
	Partial  map[int]clusterProgress `json:"partial,omitempty"`
}

// partial is an archive being assembled.
type partial struct {
	path, statePath string
	f               *os.File
	st              partState
	lastSave        time.Time
	unsynced        atomic.Int64 // bytes written since the last sync (workers write too)
	dirty           bool
}

func partPaths(syncDir string, id [32]byte) (string, string) {
	name := hex.EncodeToString(id[:])
	d := filepath.Join(syncDir, partsDir)
	return filepath.Join(d, name+".part"), filepath.Join(d, name+".json")
}

// openPartial resumes the partial archive of h, or starts one.
func openPartial(syncDir string, h *signedHead, lay *layout) (*partial, error) {
	path, statePath := partPaths(syncDir, h.ID)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	p := &partial{path: path, statePath: statePath}
	if st, err := loadState(statePath); err == nil && st.ID == hex.EncodeToString(h.ID[:]) && st.Size == lay.Size &&
		len(st.Sections) == len(lay.Secs) && len(st.Clusters) == (lay.M.Counts.Clusters+7)/8 {
		if f, err := os.OpenFile(path, os.O_RDWR, 0); err == nil {
			if fst, err := f.Stat(); err == nil && fst.Mode().IsRegular() && fst.Size() == lay.Size {
				p.f, p.st = f, *st
				p.st.Sigs = h.Sigs
				if st.Partial == nil {
					p.st.Partial = map[int]clusterProgress{}
				}
				// The state file is on a disk others may have handled:
				// progress that cannot be true is dropped.
				for i, s := range lay.Secs {
					sp := &p.st.Sections[i]
					whole := sp.Offset == s.Length
					if sp.Offset < 0 || sp.Offset > s.Length || (!whole && sp.Offset%int64(s.BlockSize) != 0) ||
						int64(len(sp.Hashes)) != 32*((sp.Offset+int64(s.BlockSize)-1)/int64(s.BlockSize)) || whole || (sp.Done && sp.Offset != 0) {
						done := sp.Done && sp.Offset == 0 && len(sp.Hashes) == 0
						*sp = secProgress{Done: done || s.Length == 0}
					}
				}
				// The signature block may differ from the first peer's: write this one.
				if err := p.writeTail(h, lay); err != nil {
					f.Close()
					return nil, err
				}
				return p, nil
			}
			f.Close()
		}
	}
	os.Remove(path)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	p.f = f
	p.st = partState{Format: partFormat, ID: hex.EncodeToString(h.ID[:]), Size: lay.Size, Manifest: h.Manifest, Sigs: h.Sigs,
		Sections: make([]secProgress, len(lay.Secs)), Clusters: make([]byte, (lay.M.Counts.Clusters+7)/8), Partial: map[int]clusterProgress{}}
	if err := f.Truncate(lay.Size); err != nil {
		p.close()
		return nil, err
	}
	var hdr [headerSize]byte
	copy(hdr[:], headerMagic)
	binary.LittleEndian.PutUint16(hdr[8:], 1)
	if _, err := f.WriteAt(hdr[:], 0); err != nil {
		p.close()
		return nil, err
	}
	if err := p.writeTail(h, lay); err != nil {
		p.close()
		return nil, err
	}
	for i, s := range lay.Secs {
		if s.Length == 0 {
			p.st.Sections[i].Done = true
		}
	}
	return p, p.saveState(false) // nothing is in place yet: no need to wait for the disk
}

// writeTail writes manifest, signatures and trailer.
func (p *partial) writeTail(h *signedHead, lay *layout) error {
	tail := append(append([]byte{}, h.Manifest...), h.Sigs...)
	var tr [trailerSize]byte
	binary.LittleEndian.PutUint64(tr[0:], uint64(lay.TailOff))
	binary.LittleEndian.PutUint32(tr[8:], uint32(len(h.Manifest)))
	binary.LittleEndian.PutUint32(tr[12:], uint32(len(h.Sigs)))
	copy(tr[24:], trailerMagic)
	tail = append(tail, tr[:]...)
	if int64(len(tail)) != lay.Size-lay.TailOff {
		return fmt.Errorf("peer: internal error: tail of %d bytes where %d are left", len(tail), lay.Size-lay.TailOff)
	}
	_, err := p.f.WriteAt(tail, lay.TailOff)
	return err
}

func loadState(path string) (*partState, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxState+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxState {
		return nil, errors.New("peer: partial state too large")
	}
	var st partState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, err
	}
	if st.Format != partFormat {
		return nil, errors.New("peer: partial state of another format")
	}
	return &st, nil
}

// writeAt writes verified bytes.
func (p *partial) writeAt(b []byte, off int64) error {
	if _, err := p.f.WriteAt(b, off); err != nil {
		return fmt.Errorf("writing %s: %w", p.path, err)
	}
	p.unsynced.Add(int64(len(b)))
	p.dirty = true
	return nil
}

func (p *partial) clusterDone(i int) bool { return p.st.Clusters[i/8]&(1<<(i%8)) != 0 }

func (p *partial) setClusterDone(i int, done bool) {
	if done {
		p.st.Clusters[i/8] |= 1 << (i % 8)
		delete(p.st.Partial, i)
	} else {
		p.st.Clusters[i/8] &^= 1 << (i % 8)
	}
	p.dirty = true
}

// maybeSave saves the state when enough has changed.
func (p *partial) maybeSave() error {
	if p.dirty && (time.Since(p.lastSave) >= saveEvery || p.unsynced.Load() >= syncEvery) {
		return p.save(false)
	}
	return nil
}

// save syncs the file, then writes the state file atomically: the state
// never claims a piece the disk might not have.
func (p *partial) save(force bool) error {
	if !p.dirty && !force {
		return nil
	}
	if err := p.f.Sync(); err != nil {
		return err
	}
	return p.saveState(true)
}

// saveState writes the state file; durable says to sync it too (the
// partial file must have been synced first).
func (p *partial) saveState(durable bool) error {
	b, err := json.Marshal(&p.st)
	if err != nil {
		return err
	}
	if durable {
		err = atomicfile.WriteFile(p.statePath, b, 0o600)
	} else {
		err = writeQuick(p.statePath, b)
	}
	if err != nil {
		return err
	}
	p.lastSave, p.dirty = time.Now(), false
	if durable {
		p.unsynced.Store(0)
	}
	return nil
}

// writeQuick replaces a file by a temporary one renamed over it, without
// waiting for the disk: for state that may be lost (a crash then costs
// work done again, never a wrong result).
func writeQuick(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func (p *partial) close() {
	if p.f != nil {
		p.f.Close()
		p.f = nil
	}
}

// remove deletes the partial archive and its state.
func (p *partial) remove() {
	p.close()
	os.Remove(p.path)
	os.Remove(p.statePath)
}

// staleParts lists the partial archives in the sync folder with their
// heads, for the taker to drop those the library no longer wants.
func staleParts(syncDir string) []struct {
	id   [32]byte
	st   *partState
	path string
} {
	var out []struct {
		id   [32]byte
		st   *partState
		path string
	}
	d := filepath.Join(syncDir, partsDir)
	ents, err := os.ReadDir(d)
	if err != nil {
		return nil
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || e.Type()&fs.ModeType != 0 {
			continue
		}
		b, err := hex.DecodeString(name)
		if err != nil || len(b) != 32 {
			continue
		}
		st, err := loadState(filepath.Join(d, e.Name()))
		var id [32]byte
		copy(id[:], b)
		if err != nil {
			st = nil
		}
		out = append(out, struct {
			id   [32]byte
			st   *partState
			path string
		}{id, st, filepath.Join(d, name)})
	}
	return out
}

// linksInto reports whether a file in the sync folder can be hard-linked
// into the library's archives folder, as library.Add does with a finished
// partial archive instead of copying it. It tries with an empty file.
func linksInto(syncDir, libDir string) bool {
	d := filepath.Join(syncDir, partsDir)
	if err := os.MkdirAll(d, 0o700); err != nil {
		return false
	}
	f, err := os.CreateTemp(d, ".probe-*")
	if err != nil {
		return false
	}
	f.Close()
	defer os.Remove(f.Name())
	to := filepath.Join(libDir, library.ArchiveDir, "."+filepath.Base(f.Name()))
	if err := os.Link(f.Name(), to); err != nil {
		return false
	}
	os.Remove(to)
	return true
}
