// Package library keeps a reader's archives in one folder: the archive
// files, and a small state file holding the keys the reader trusts, the
// revocations seen, the highest edition seen per channel (rollback
// protection without a clock) and what each archive is. It imports archives
// from cards and files (verifying them first), exports what another library
// lacks to a card, and opens a library for serving: each channel's newest
// edition as a full archive plus its chain of deltas. Copies are atomic and
// resumable. The folder layout, state file, inventory and copy protocol are
// specified in docs/library.md.
package library

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"ferry/internal/archive"
	"ferry/internal/atomicfile"
	"ferry/internal/edition"
	"ferry/internal/trust"
)

// Names inside a library folder.
const (
	StateFile  = "library.json"
	ArchiveDir = "archives"
	// IndexDir holds the search indexes the library built for archives
	// that arrived without one (radio editions): IndexDir/ID.idx.
	IndexDir   = "index"
	archiveExt = ".ferry"
	partExt    = ".part"
	maxState   = 64 << 20
	maxRecords = 1 << 20
	// stateFormat is the version of library.json this ferry writes.
	stateFormat = 1
)

// Errors of this package; test with errors.Is.
var (
	ErrState    = errors.New("library: state file is damaged")
	ErrRollback = errors.New("library: rollback refused")
	ErrNoSpace  = errors.New("library: not enough free space")
	ErrNotFound = errors.New("library: no such archive or channel")
	ErrCopy     = errors.New("library: the copy does not verify")
	ErrHeld     = errors.New("library: already holds this archive")
	ErrNewer    = errors.New("library: made by a newer ferry")
)

// DefaultDir is the library used when none is given: $FERRY_LIBRARY, or
// "ferry-library" in the current folder (so that a library on a card is
// used by running ferry from the card, and nothing is written elsewhere).
func DefaultDir() string {
	if d := os.Getenv("FERRY_LIBRARY"); d != "" {
		return d
	}
	return "ferry-library"
}

// Record describes one archive held by a library.
type Record struct {
	ID      string `json:"id"`
	File    string `json:"file"` // slash path relative to the library folder
	Channel string `json:"channel"`
	Edition uint64 `json:"edition"`
	// Base is the id of the archive a delta builds on; empty for a full edition.
	Base    string   `json:"base,omitempty"`
	Size    int64    `json:"size"`
	Signers []string `json:"signers"` // key fingerprints
}

// ChannelState is what a library remembers about a channel.
type ChannelState struct {
	// Highest is the highest edition ever accepted; older ones are refused.
	Highest uint64 `json:"highest_edition"`
	// HighestBy lists the fingerprints of the keys that signed it. When all
	// of them are revoked, Highest falls back to the newest edition held
	// that another key signed: a stolen key must not lock a channel with a
	// huge edition number.
	HighestBy []string `json:"highest_by,omitempty"`
	// HighestUntrusted is the highest edition accepted with
	// AllowUntrusted. It holds back only other untrusted editions: an
	// edition 999999 someone added untrusted must not lock the trusted
	// publisher out.
	HighestUntrusted uint64 `json:"highest_untrusted,omitempty"`
}

// floor is the lowest edition an archive of the channel may have to be
// added: trusted archives answer to trusted editions seen, untrusted ones
// to every edition seen.
func (cs *ChannelState) floor(trusted bool) uint64 {
	if cs == nil {
		return 0
	}
	if trusted {
		return cs.Highest
	}
	return max(cs.Highest, cs.HighestUntrusted)
}

// State is the content of the state file.
type State struct {
	Format   int                      `json:"format"`
	Trust    trust.Store              `json:"trust"`
	Channels map[string]*ChannelState `json:"channels"`
	Archives []Record                 `json:"archives"`
}

// Library is a library folder and its loaded state. It is not safe for
// concurrent use, and two processes must not change one library at once.
type Library struct {
	Dir   string
	State State
}

// LoadLocked is Load for a command that changes the library: it first
// takes the library's lock, so that two ferry processes importing (or
// changing trust) at once do not lose one's update of the state file; the
// second waits, until ctx ends. Call unlock when done (the lock also ends
// with the process).
func LoadLocked(ctx context.Context, dir string, create bool) (l *Library, unlock func(), err error) {
	if create {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, nil, err
		}
	}
	if unlock, err = lockDir(ctx, dir); err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("library %s: %w", dir, err)
		}
		if _, serr := os.Stat(dir); serr != nil {
			return nil, nil, fmt.Errorf("library %s: %w (create it with 'ferry library add' or 'ferry import')", dir, serr)
		}
		return nil, nil, fmt.Errorf("library %s: locking it: %w", dir, err)
	}
	if l, err = Load(dir, create); err != nil {
		unlock()
		return nil, nil, err
	}
	return l, unlock, nil
}

// Load reads the library in dir. A folder without a state file is an empty
// library; with create, a missing folder is made.
func Load(dir string, create bool) (*Library, error) {
	l := &Library{Dir: dir, State: State{Format: 1, Channels: map[string]*ChannelState{}}}
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist) && create:
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("library %s: %w (create it with 'ferry library add' or 'ferry import')", dir, err)
	case !st.IsDir():
		return nil, fmt.Errorf("library %s: not a folder", dir)
	}
	b, err := readCapped(filepath.Join(dir, StateFile), maxState)
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, err
	}
	s, err := ParseState(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, StateFile), err)
	}
	l.State = *s
	return l, nil
}

// ParseState parses and checks a state file.
func ParseState(b []byte) (*State, error) {
	// The format number first: a newer ferry's state file may not parse
	// as this one's, and is not damaged.
	var head struct {
		Format json.RawMessage `json:"format"`
	}
	if err := json.Unmarshal(b, &head); err == nil {
		var f int
		if json.Unmarshal(head.Format, &f) == nil && f > stateFormat {
			return nil, fmt.Errorf("%w: its format is %d and this ferry knows %d: the library was written by a newer ferry; use that one or a newer ferry (nothing was changed)", ErrNewer, f, stateFormat)
		}
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrState, err)
	}
	if s.Format != stateFormat {
		return nil, fmt.Errorf("%w: format %d (this ferry knows %d)", ErrState, s.Format, stateFormat)
	}
	if len(s.Archives) > maxRecords {
		return nil, fmt.Errorf("%w: %d archives", ErrState, len(s.Archives))
	}
	if s.Channels == nil {
		s.Channels = map[string]*ChannelState{}
	}
	seen := map[string]bool{}
	for _, r := range s.Archives {
		if !validID(r.ID) || seen[r.ID] || r.File != fileFor(r.ID) || (r.Base != "" && !validID(r.Base)) || r.Size < 0 {
			return nil, fmt.Errorf("%w: bad archive record %q", ErrState, r.ID)
		}
		seen[r.ID] = true
	}
	for name, c := range s.Channels {
		if c == nil {
			return nil, fmt.Errorf("%w: channel %q has no state", ErrState, name)
		}
	}
	return &s, nil
}

func validID(id string) bool {
	if len(id) != 64 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// fileFor is where the archive with this id lives, relative to the library.
func fileFor(id string) string { return ArchiveDir + "/" + id + archiveExt }

// Path returns the absolute file path of a record.
func (l *Library) Path(r Record) string { return filepath.Join(l.Dir, filepath.FromSlash(r.File)) }

// Record returns the record with this id.
func (l *Library) Record(id string) (Record, bool) {
	for _, r := range l.State.Archives {
		if r.ID == id {
			return r, true
		}
	}
	return Record{}, false
}

// Save writes the state file atomically: a temporary file, fsync, rename,
// fsync of the folder. A crash leaves either the old or the new state.
func (l *Library) Save() error {
	sort.Slice(l.State.Archives, func(i, j int) bool {
		a, b := l.State.Archives[i], l.State.Archives[j]
		if a.Channel != b.Channel {
			return a.Channel < b.Channel
		}
		if a.Edition != b.Edition {
			return a.Edition < b.Edition
		}
		return a.ID < b.ID
	})
	b, err := json.MarshalIndent(l.State, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(l.Dir, StateFile), append(b, '\n'), 0o644)
}

// Remove deletes the archives whose id (or id prefix of at least 8 digits)
// or channel is name, and returns their records. The highest edition seen
// stays remembered.
func (l *Library) Remove(name string) ([]Record, error) {
	var kept, gone []Record
	for _, r := range l.State.Archives {
		if r.Channel == name || r.ID == name || (len(name) >= 8 && len(name) < 64 && r.ID[:len(name)] == name) {
			gone = append(gone, r)
		} else {
			kept = append(kept, r)
		}
	}
	if len(gone) == 0 {
		return nil, fmt.Errorf("%w: %q ('ferry library list' shows what there is)", ErrNotFound, name)
	}
	l.State.Archives = kept
	if err := l.Save(); err != nil {
		return nil, err
	}
	for _, r := range gone {
		if err := os.Remove(l.Path(r)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return gone, err
		}
		os.Remove(l.indexPath(r.ID)) // if the library built one
	}
	return gone, atomicfile.SyncDir(filepath.Join(l.Dir, ArchiveDir))
}

// bestChain picks, per channel, the archives to present: the highest
// edition whose chain of bases down to a full edition is complete among
// recs (shortest chain on a tie). Chains are returned full edition first.
// Chain lengths are memoised, so the work is linear in len(recs).
func bestChain(recs []Record) map[string][]Record {
	byID := map[string]Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	depth := map[string]int{} // id -> chain length, or -1 if incomplete
	walk := func(id string) int {
		// Iterative to bound the stack: collect the unresolved path first.
		var path []string
		cur := id
		d := 0
		for {
			if v, ok := depth[cur]; ok {
				d = v
				break
			}
			r, ok := byID[cur]
			if !ok || len(path) > len(recs) {
				d = -1
				break
			}
			path = append(path, cur)
			depth[cur] = -1 // a loop resolves as incomplete
			if r.Base == "" {
				d = 0
				break
			}
			if b, ok := byID[r.Base]; ok && b.Channel != r.Channel {
				d = -1
				break
			}
			cur = r.Base
		}
		for i := len(path) - 1; i >= 0; i-- {
			if d >= 0 {
				d++
			}
			depth[path[i]] = d
		}
		return depth[id]
	}
	best := map[string]Record{}
	for _, r := range recs {
		if walk(r.ID) < 0 {
			continue
		}
		if b, ok := best[r.Channel]; !ok || betterTop(r, depth[r.ID], b, depth[b.ID]) {
			best[r.Channel] = r
		}
	}
	out := map[string][]Record{}
	for ch, top := range best {
		chain := make([]Record, depth[top.ID])
		cur := top
		for i := len(chain) - 1; i >= 0; i-- {
			chain[i] = cur
			cur = byID[cur.Base]
		}
		out[ch] = chain
	}
	return out
}

func betterTop(a Record, da int, b Record, db int) bool {
	if a.Edition != b.Edition {
		return a.Edition > b.Edition
	}
	if da != db {
		return da < db
	}
	return a.ID < b.ID
}

func better(a, b []Record) bool {
	return betterTop(a[len(a)-1], len(a), b[len(b)-1], len(b))
}

// ChainTo returns the chain of records from a full edition up to the
// archive id, full edition first, and whether it is complete in the
// library (every base held, same channel).
func (l *Library) ChainTo(id string) ([]Record, bool) {
	var rev []Record
	for range len(l.State.Archives) + 1 {
		r, ok := l.Record(id)
		if !ok || (len(rev) > 0 && r.Channel != rev[0].Channel) {
			return nil, false
		}
		rev = append(rev, r)
		if r.Base == "" {
			slices.Reverse(rev)
			return rev, true
		}
		id = r.Base
	}
	return nil, false
}

// indexPath is where the library keeps the index it built for archive id.
func (l *Library) indexPath(id string) string {
	return filepath.Join(l.Dir, IndexDir, id+".idx")
}

// buildIndex builds and keeps the search index of an archive that arrived
// without one (edition.BuildIndex), from the library's verified copy.
func (l *Library) buildIndex(ctx context.Context, rec Record) error {
	r, err := archive.OpenFile(l.Path(rec))
	if err != nil {
		return err
	}
	defer r.Close()
	if _, _, err := r.SearchIndex(); !errors.Is(err, archive.ErrNoIndex) {
		return err // it has one (or is broken: Add said so)
	}
	if err := atomicfile.MkdirReal(filepath.Join(l.Dir, IndexDir)); err != nil {
		return err
	}
	return atomicfile.Write(l.indexPath(rec.ID), 0o644, func(w io.Writer) error {
		return edition.BuildIndex(ctx, r, w)
	})
}
