package library

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/trust"
)

// ImportOptions tune Import.
type ImportOptions struct {
	// AllowUntrusted adds archives signed by keys the library does not trust.
	AllowUntrusted bool
	// Copy receives each copy's options (progress); Start, if set, is told
	// which file is about to be copied.
	Copy  CopyOptions
	Start func(path string, r Record)
}

// Refusal is an archive Import did not add, and why.
type Refusal struct {
	Path string
	Err  error
}

// ImportResult says what Import did.
type ImportResult struct {
	Added, Skipped []Record
	Refused        []Refusal
}

// UntrustedError reports an archive signed by keys the library does not
// trust; Keys are the signers, so the caller can offer to trust one.
type UntrustedError struct {
	Channel string
	Keys    []key.Public
	Reason  string
	Dir     string
}

func (e *UntrustedError) Error() string {
	cmd := "ferry trust add " + e.Keys[0].String()
	if e.Dir != "" && e.Dir != DefaultDir() {
		cmd += " --library " + e.Dir
	}
	return fmt.Sprintf("channel %s: %s; if you trust this publisher, run: %s", e.Channel, e.Reason, cmd)
}

func (e *UntrustedError) Unwrap() error { return trust.ErrUntrusted }

// Sources expands import arguments: an archive file, or a folder whose
// *.ferry files (directly inside or in its archives/ folder) are taken.
func Sources(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, a)
			continue
		}
		var found []string
		for _, pat := range []string{filepath.Join(a, "*"+archiveExt), filepath.Join(a, ArchiveDir, "*"+archiveExt)} {
			m, err := filepath.Glob(pat)
			if err != nil {
				return nil, err
			}
			found = append(found, m...)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no *%s archives in this folder", a, archiveExt)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}

type candidate struct {
	path string
	r    *archive.Reader
	rec  Record
}

// Import adds archive files to the library. Each is checked before it is
// added: signed by a trusted, unrevoked key (unless AllowUntrusted), not
// older than the highest edition seen in its channel (unless a newer
// archive needs it as its base), and, once copied, every byte verified.
// Archives the library already holds (by id) are skipped. A refused
// archive does not stop the others; the error lists all refusals.
func (l *Library) Import(ctx context.Context, paths []string, opts ImportOptions) (*ImportResult, error) {
	res := &ImportResult{}
	var cands []*candidate
	defer func() {
		for _, c := range cands {
			c.r.Close()
		}
	}()
	for _, p := range paths {
		r, err := archive.OpenFile(p)
		if err != nil {
			res.Refused = append(res.Refused, Refusal{p, err})
			continue
		}
		cands = append(cands, &candidate{p, r, recordOf(r)})
	}
	// Oldest first, so a card with a base and its deltas imports whole.
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i].rec, cands[j].rec
		if a.Channel != b.Channel {
			return a.Channel < b.Channel
		}
		return a.Edition < b.Edition
	})
	needed := l.neededBases(cands, opts.AllowUntrusted)
	seen := map[string]bool{}
	for _, c := range cands {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if seen[c.rec.ID] {
			continue
		}
		seen[c.rec.ID] = true
		added, err := l.importOne(ctx, c, needed, opts)
		switch {
		case err != nil:
			if errors.Is(err, context.Canceled) {
				return res, err
			}
			res.Refused = append(res.Refused, Refusal{c.path, err})
		case added:
			res.Added = append(res.Added, c.rec)
		default:
			res.Skipped = append(res.Skipped, c.rec)
		}
	}
	if len(res.Refused) > 0 {
		return res, &ImportError{Refused: res.Refused, Total: len(paths)}
	}
	return res, nil
}

// ImportError lists the archives Import refused; errors.Is and errors.As
// see each refusal's error.
type ImportError struct {
	Refused []Refusal
	Total   int
}

func (e *ImportError) Error() string {
	var msgs []string
	for _, f := range e.Refused {
		msgs = append(msgs, fmt.Sprintf("%s: %v", f.Path, f.Err))
	}
	return fmt.Sprintf("%d of %d archives refused: %s", len(e.Refused), e.Total, strings.Join(msgs, "; "))
}

func (e *ImportError) Unwrap() []error {
	var errs []error
	for _, f := range e.Refused {
		errs = append(errs, f.Err)
	}
	return errs
}

func recordOf(r *archive.Reader) Record {
	m := r.Manifest()
	rec := Record{ID: r.ID(), File: fileFor(r.ID()), Channel: m.Channel, Edition: m.Edition, Size: r.Size()}
	if m.Base != nil {
		rec.Base = m.Base.ID
	}
	for _, k := range r.Signers() {
		rec.Signers = append(rec.Signers, k.Fingerprint())
	}
	return rec
}

// Check says whether the library would accept the archive r: trusted (or
// allowUntrusted) and no rollback. It also returns revocations to remember.
func (l *Library) Check(r *archive.Reader, allowUntrusted bool) (trust.Decision, error) {
	m := r.Manifest()
	d, err := l.State.Trust.Check(r.Signers(), m.Extra)
	if err != nil {
		return d, fmt.Errorf("channel %s edition %d: certificates in the manifest: %w", m.Channel, m.Edition, err)
	}
	if !d.Trusted && !allowUntrusted {
		return d, &UntrustedError{Channel: m.Channel, Keys: r.Signers(), Reason: d.Reason, Dir: l.Dir}
	}
	return d, nil
}

func (l *Library) importOne(ctx context.Context, c *candidate, needed map[string]bool, opts ImportOptions) (bool, error) {
	if old, ok := l.Record(c.rec.ID); ok && l.holds(old) {
		return false, nil
	}
	d, err := l.Check(c.r, opts.AllowUntrusted)
	// Revocations are root-signed and self-authenticating: remember them
	// even from an archive we refuse, and before the rollback check (the
	// edition that carries a revocation may be the one to replace what the
	// revoked key signed).
	if len(d.NewRevocations) > 0 {
		l.remember(d.NewRevocations)
		if serr := l.Save(); serr != nil {
			return false, serr
		}
	}
	if err != nil {
		return false, err
	}
	if cs := l.State.Channels[c.rec.Channel]; cs != nil && c.rec.Edition < cs.Highest && !needed[c.rec.ID] {
		return false, fmt.Errorf("%w: channel %s edition %d is older than edition %d already seen",
			ErrRollback, c.rec.Channel, c.rec.Edition, cs.Highest)
	}
	if opts.Start != nil {
		opts.Start(c.path, c.rec)
	}
	f, err := os.Open(c.path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	if _, _, err := CopyArchive(ctx, f, c.rec.Size, c.rec.ID, filepath.Join(l.Dir, ArchiveDir), opts.Copy); err != nil {
		return false, err
	}
	l.State.Archives = removeRecord(l.State.Archives, c.rec.ID)
	l.State.Archives = append(l.State.Archives, c.rec)
	cs := l.State.Channels[c.rec.Channel]
	if cs == nil {
		cs = &ChannelState{}
		l.State.Channels[c.rec.Channel] = cs
	}
	if c.rec.Edition >= cs.Highest {
		cs.Highest, cs.HighestBy = c.rec.Edition, c.rec.Signers
	}
	return true, l.Save()
}

// neededBases returns the ids that may be imported although older than
// their channel's highest edition, because an archive that stays needs
// them as its base: bases of archives held, and of candidates that will be
// accepted (trusted, and not rollbacks themselves unless needed in turn).
// A base named only by a refused archive is not needed: an attacker's own
// delta must not carry an old edition past the rollback check.
func (l *Library) neededBases(cands []*candidate, allowUntrusted bool) map[string]bool {
	needed := map[string]bool{}
	for _, r := range l.State.Archives {
		if r.Base != "" {
			needed[r.Base] = true
		}
	}
	trusted := map[*candidate]bool{}
	for _, c := range cands {
		if _, err := l.Check(c.r, allowUntrusted); err == nil {
			trusted[c] = true
		}
	}
	for changed := true; changed; {
		changed = false
		for _, c := range cands {
			if !trusted[c] || c.rec.Base == "" || needed[c.rec.Base] {
				continue
			}
			cs := l.State.Channels[c.rec.Channel]
			if cs == nil || c.rec.Edition >= cs.Highest || needed[c.rec.ID] {
				needed[c.rec.Base] = true
				changed = true
			}
		}
	}
	return needed
}

// remember stores revocations and lowers the highest edition of channels
// whose highest edition only revoked keys signed.
func (l *Library) remember(revs []trust.Statement) {
	l.State.Trust.Remember(revs...)
	for name, cs := range l.State.Channels {
		if len(cs.HighestBy) == 0 || !l.allRevoked(cs.HighestBy) {
			continue
		}
		cs.Highest, cs.HighestBy = 0, nil
		for _, r := range l.State.Archives {
			if r.Channel == name && r.Edition >= cs.Highest && !l.allRevoked(r.Signers) {
				cs.Highest, cs.HighestBy = r.Edition, r.Signers
			}
		}
	}
}

// allRevoked reports whether every one of the key fingerprints is revoked.
func (l *Library) allRevoked(fps []string) bool {
	for _, fp := range fps {
		revoked := false
		for _, st := range l.State.Trust.Revoked {
			if k := st.Subject(); k.Fingerprint() == fp && l.State.Trust.IsRevoked(k) {
				revoked = true
				break
			}
		}
		if !revoked {
			return false
		}
	}
	return len(fps) > 0
}

// holds reports whether the library's copy of rec is there and opens as
// that archive (header, manifest, signatures); a missing, truncated or
// replaced copy is copied again from the card.
func (l *Library) holds(rec Record) bool {
	st, err := os.Stat(l.Path(rec))
	if err != nil || st.Size() != rec.Size {
		return false
	}
	r, err := archive.OpenFile(l.Path(rec))
	if err != nil {
		return false
	}
	defer r.Close()
	return r.ID() == rec.ID
}

func removeRecord(rs []Record, id string) []Record {
	out := rs[:0]
	for _, r := range rs {
		if r.ID != id {
			out = append(out, r)
		}
	}
	return out
}
