package library

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/trust"
)

// Arrival is an archive a carrier brought: its bytes, and where it came
// from for messages. Every carrier — a card or file, a broadcast, a radio
// recording, a peer, a mirror — ends by handing its arrivals to Add.
type Arrival struct {
	// From says where the archive came from, in messages: a file path,
	// "broadcast", "peer 192.168.1.5".
	From string
	// R and Size are the archive's bytes. Add reads them only through
	// archive.Open and the verified copy. R may be nil when Path is set.
	R    io.ReaderAt
	Size int64
	// Path, if set, names the regular file holding these bytes, which the
	// carrier owns and will delete (a sync session's assembled archive).
	// When it is on the library's filesystem, Add hard-links it into the
	// archives folder instead of copying it, and verifies the linked file
	// as it verifies a copy: the carrier MUST NOT write to the file once
	// Add is called. Elsewhere (another filesystem, or one without hard
	// links) Add copies it. Add never changes or removes the file at Path.
	Path string
}

// AddOptions tune Add.
type AddOptions struct {
	// AllowUntrusted adds archives signed by keys the library does not trust.
	AllowUntrusted bool
	// Copy receives each copy's options (progress); Start, if set, is told
	// which archive is about to be copied.
	Copy  CopyOptions
	Start func(from string, r Record)
}

// Refusal is an archive Add did not add, and why.
type Refusal struct {
	From string
	Err  error
}

// AddResult says what Add did. Warnings are things the reader should know
// about archives that were added (a delta whose base is missing is kept,
// but shown only once its base arrives).
type AddResult struct {
	Added, Skipped []Record
	Refused        []Refusal
	Warnings       []string
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

type candidate struct {
	from string
	src  Arrival
	r    *archive.Reader
	rec  Record
	warn string // said once added
}

// Add is the one door into the library. Every archive arriving is checked
// before it is kept: it must open as an archive, be signed by a trusted,
// unrevoked key (unless AllowUntrusted; certificates and revocations it
// carries are applied), not be older than the highest edition seen in its
// channel (unless an archive that stays needs it as its base), and, once
// copied into the library's archives folder, verify byte for byte; then it
// is recorded in the state file. Archives that arrive together may be a
// base and its deltas, in any order. Archives the library already holds
// (by id) are skipped. A refused archive does not stop the others; the
// error lists all refusals. The caller holds the library's lock (AddTo
// takes it).
func (l *Library) Add(ctx context.Context, in []Arrival, opts AddOptions) (*AddResult, error) {
	res := &AddResult{}
	var cands []*candidate
	for _, a := range in {
		if a.R == nil && a.Path != "" {
			a.R = &lazyFile{path: a.Path, size: a.Size}
		}
		if a.R == nil {
			res.Refused = append(res.Refused, Refusal{a.From, fmt.Errorf("%w: no bytes given", archive.ErrNotArchive)})
			continue
		}
		r, err := archive.Open(a.R, a.Size)
		if err != nil {
			releaseArrival(a)
			res.Refused = append(res.Refused, Refusal{a.From, err})
			continue
		}
		cands = append(cands, &candidate{from: a.From, src: a, r: r, rec: recordOf(r)})
		releaseArrival(a)
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
		releaseArrival(c.src)
		switch {
		case err != nil:
			if errors.Is(err, context.Canceled) {
				return res, err
			}
			res.Refused = append(res.Refused, Refusal{c.from, err})
		case added:
			res.Added = append(res.Added, c.rec)
		default:
			res.Skipped = append(res.Skipped, c.rec)
		}
		if err == nil && c.warn != "" {
			res.Warnings = append(res.Warnings, c.warn)
		}
	}
	res.Warnings = append(res.Warnings, l.missingBases(res.Added)...)
	if len(res.Refused) > 0 {
		return res, &AddError{Refused: res.Refused, Total: len(in)}
	}
	return res, nil
}

// missingBases warns about added deltas whose chain down to a full edition
// is not complete in the library.
func (l *Library) missingBases(added []Record) []string {
	var out []string
	for _, r := range added {
		if r.Base == "" {
			continue
		}
		id := r.ID
		for range len(l.State.Archives) + 1 {
			rec, ok := l.Record(id)
			if !ok {
				out = append(out, fmt.Sprintf("channel %s edition %d is a delta, and the edition it builds on (archive %s) is not in the library: it is kept, and shown once that edition arrives (import it, or a full edition %d)",
					r.Channel, r.Edition, short(id), r.Edition))
				break
			}
			if rec.Base == "" {
				break
			}
			id = rec.Base
		}
	}
	return out
}

func short(id string) string {
	if len(id) > 16 {
		return id[:16]
	}
	return id
}

// AddError lists the archives Add refused; errors.Is and errors.As see
// each refusal's error.
type AddError struct {
	Refused []Refusal
	Total   int
}

func (e *AddError) Error() string {
	var msgs []string
	for _, f := range e.Refused {
		msgs = append(msgs, fmt.Sprintf("%s: %v", f.From, f.Err))
	}
	return fmt.Sprintf("%d of %d archives refused: %s", len(e.Refused), e.Total, strings.Join(msgs, "; "))
}

// IsRefusal reports whether err, from Add, says only that archives were
// refused for what they are: not an archive, damaged, badly signed,
// untrusted, a rollback, already held. Offering the same bytes again
// changes nothing (unless the user changes trust), so a carrier may
// forget them. Any other error is the library's (a full disk, a failed
// write, a damaged state file): the archive should be kept and offered
// again once that is fixed.
func IsRefusal(err error) bool {
	var ae *AddError
	if !errors.As(err, &ae) {
		return refusedFor(err)
	}
	for _, f := range ae.Refused {
		if !refusedFor(f.Err) {
			return false
		}
	}
	return len(ae.Refused) > 0
}

func refusedFor(err error) bool {
	for _, e := range []error{archive.ErrNotArchive, archive.ErrVersion, archive.ErrTruncated, archive.ErrCorrupt,
		archive.ErrSignature, trust.ErrUntrusted, trust.ErrFormat, ErrRollback, ErrHeld} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (e *AddError) Unwrap() []error {
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

// Trusts reports whether the library trusts the archive of rec (signed by
// a trusted key, or one its certificates make trusted) and holds it.
func (l *Library) Trusts(rec Record) bool {
	r, err := archive.OpenFile(l.Path(rec))
	if err != nil {
		return false
	}
	defer r.Close()
	d, err := l.Check(r, false)
	return err == nil && d.Trusted && r.ID() == rec.ID
}

// Check says whether the library trusts the archive r (or allowUntrusted):
// signed by a trusted, unrevoked key, directly or through certificates the
// manifest carries. It also returns revocations to remember.
func (l *Library) Check(r *archive.Reader, allowUntrusted bool) (trust.Decision, error) {
	return l.checkTrust(r.Manifest(), r.Signers(), allowUntrusted)
}

func (l *Library) checkTrust(m *archive.Manifest, signers []key.Public, allowUntrusted bool) (trust.Decision, error) {
	d, err := l.State.Trust.Check(signers, m.Extra)
	if err != nil {
		return d, fmt.Errorf("channel %s edition %d: certificates in the manifest: %w", m.Channel, m.Edition, err)
	}
	if !d.Trusted && !allowUntrusted {
		return d, &UntrustedError{Channel: m.Channel, Keys: signers, Reason: d.Reason, Dir: l.Dir}
	}
	return d, nil
}

// Wants says whether Add would now take an archive with this signed
// manifest and these verified signers: nil if it would, else the reason
// (untrusted, a rollback, already held). Carriers that learn of an archive
// before its bytes — a broadcast announcement, a peer's offer, a mirror's
// index — ask first, so they collect only what the library will keep. Add
// decides again when the bytes arrive.
func (l *Library) Wants(id string, m *archive.Manifest, signers []key.Public, allowUntrusted bool) error {
	if old, ok := l.Record(id); ok && l.Holds(old) {
		return fmt.Errorf("%w: channel %s edition %d", ErrHeld, m.Channel, m.Edition)
	}
	d, err := l.checkTrust(m, signers, allowUntrusted)
	if err != nil {
		return err
	}
	if floor := l.State.Channels[m.Channel].floor(d.Trusted); m.Edition < floor {
		// A base an archive held needs passes (as in Add).
		for _, r := range l.State.Archives {
			if r.Base == id {
				return nil
			}
		}
		return fmt.Errorf("%w: channel %s edition %d is older than edition %d already seen",
			ErrRollback, m.Channel, m.Edition, floor)
	}
	return nil
}

// AddFiles adds archive files: the arrivals of a card or a download. A
// file is open only while it is read (a card may hold more archives than
// a process may open files).
func (l *Library) AddFiles(ctx context.Context, paths []string, opts AddOptions) (*AddResult, error) {
	var in []Arrival
	var bad []Refusal
	for _, p := range paths {
		a, closeFile, err := OpenArrival(p)
		if err != nil {
			bad = append(bad, Refusal{p, err})
			continue
		}
		closeFile()
		lf := &lazyFile{path: p, size: a.Size}
		defer lf.release()
		a.R = lf
		in = append(in, a)
	}
	res, err := l.Add(ctx, in, opts)
	if len(bad) == 0 {
		return res, err
	}
	if res == nil {
		res = &AddResult{}
	}
	res.Refused = append(bad, res.Refused...)
	return res, &AddError{Refused: res.Refused, Total: len(paths)}
}

// OpenArrival opens an archive file for Add. Only regular files are
// opened: a FIFO or device named *.ferry on a card would block or read
// forever.
func OpenArrival(path string) (Arrival, func() error, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Arrival{}, nil, err
	}
	if !st.Mode().IsRegular() {
		return Arrival{}, nil, fmt.Errorf("%w: not a regular file", archive.ErrNotArchive)
	}
	f, err := os.Open(path)
	if err != nil {
		return Arrival{}, nil, err
	}
	return Arrival{From: path, R: f, Size: st.Size()}, f.Close, nil
}

// lazyFile reads an arrival's file, opening it at the first read after a
// release; a file that is no longer the regular file of the size first
// seen fails the read.
type lazyFile struct {
	path string
	size int64
	f    *os.File
}

func (lf *lazyFile) ReadAt(p []byte, off int64) (int, error) {
	if lf.f == nil {
		a, _, err := OpenArrival(lf.path)
		if err != nil {
			return 0, err
		}
		f := a.R.(*os.File)
		if a.Size != lf.size {
			f.Close()
			return 0, fmt.Errorf("%s changed while it was being added (%d bytes, then %d)", lf.path, lf.size, a.Size)
		}
		lf.f = f
	}
	return lf.f.ReadAt(p, off)
}

// release closes the file until the next read.
func (lf *lazyFile) release() {
	if lf.f != nil {
		lf.f.Close()
		lf.f = nil
	}
}

// releaseArrival lets go of what an arrival holds open, when it can.
func releaseArrival(a Arrival) {
	if lf, ok := a.R.(*lazyFile); ok {
		lf.release()
	}
}

// AddTo is Add for a carrier that runs on its own (a broadcast or radio
// receiver that listens for days, a sync session): it takes the library's
// lock, loads its current state, adds, saves and lets go, so that an
// import running meanwhile loses nothing.
func AddTo(ctx context.Context, dir string, in []Arrival, opts AddOptions) (*AddResult, error) {
	l, unlock, err := LoadLocked(ctx, dir, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	return l.Add(ctx, in, opts)
}

func (l *Library) importOne(ctx context.Context, c *candidate, needed map[string]bool, opts AddOptions) (bool, error) {
	if old, ok := l.Record(c.rec.ID); ok && l.Holds(old) {
		// Held already; an index whose build failed before is tried again.
		c.warn = l.retryIndex(ctx, c)
		return false, ctx.Err()
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
	if floor := l.State.Channels[c.rec.Channel].floor(d.Trusted); c.rec.Edition < floor && !needed[c.rec.ID] {
		return false, fmt.Errorf("%w: channel %s edition %d is older than edition %d already seen",
			ErrRollback, c.rec.Channel, c.rec.Edition, floor)
	}
	if opts.Start != nil {
		opts.Start(c.from, c.rec)
	}
	place := CopyArchive
	if c.src.Path != "" {
		path := c.src.Path
		place = func(ctx context.Context, src io.ReaderAt, size int64, id, dir string, opts CopyOptions) (string, bool, error) {
			return linkArchive(ctx, path, src, size, id, dir, opts)
		}
	}
	if _, _, err := place(ctx, c.src.R, c.rec.Size, c.rec.ID, filepath.Join(l.Dir, ArchiveDir), opts.Copy); err != nil {
		return false, err
	}
	if _, _, err := c.r.SearchIndex(); errors.Is(err, archive.ErrNoIndex) {
		// A radio edition travels without an index: build it here, from
		// the verified copy, so the reader can search it.
		if err := l.buildIndex(ctx, c.rec); err != nil {
			if errors.Is(err, context.Canceled) {
				return false, err
			}
			c.warn = indexWarning(c.rec, err)
		}
	}
	l.State.Archives = removeRecord(l.State.Archives, c.rec.ID)
	l.State.Archives = append(l.State.Archives, c.rec)
	cs := l.State.Channels[c.rec.Channel]
	if cs == nil {
		cs = &ChannelState{}
		l.State.Channels[c.rec.Channel] = cs
	}
	// An edition added with AllowUntrusted raises only the untrusted
	// memory: it must not lock the genuine publisher out.
	switch {
	case d.Trusted && c.rec.Edition >= cs.Highest:
		cs.Highest, cs.HighestBy = c.rec.Edition, c.rec.Signers
	case !d.Trusted:
		cs.HighestUntrusted = max(cs.HighestUntrusted, c.rec.Edition)
	}
	return true, l.Save()
}

// retryIndex builds the index of a held archive that has none and whose
// library-built index is missing (its build failed or was interrupted);
// it returns a warning when that fails again.
func (l *Library) retryIndex(ctx context.Context, c *candidate) string {
	if _, _, err := c.r.SearchIndex(); !errors.Is(err, archive.ErrNoIndex) {
		return ""
	}
	if _, err := os.Lstat(l.indexPath(c.rec.ID)); err == nil {
		return ""
	}
	if err := l.buildIndex(ctx, c.rec); err != nil {
		return indexWarning(c.rec, err)
	}
	return ""
}

func indexWarning(rec Record, err error) string {
	return fmt.Sprintf("channel %s edition %d: its search index could not be built (%v); it is kept, without search (importing it again tries again)", rec.Channel, rec.Edition, err)
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
	accepted := map[*candidate]bool{} // passes the trust check
	trusted := map[*candidate]bool{}  // and is trusted (not only allowed)
	for _, c := range cands {
		if d, err := l.Check(c.r, allowUntrusted); err == nil {
			accepted[c], trusted[c] = true, d.Trusted
		}
		releaseArrival(c.src)
	}
	for changed := true; changed; {
		changed = false
		for _, c := range cands {
			if !accepted[c] || c.rec.Base == "" || needed[c.rec.Base] {
				continue
			}
			if c.rec.Edition >= l.State.Channels[c.rec.Channel].floor(trusted[c]) || needed[c.rec.ID] {
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
// Holds reports whether the archive of rec is really in the library: its
// file is in the archives folder, of its size, and opens as that archive.
// The state file alone is not proof (someone may have deleted files to
// free space on a card).
func (l *Library) Holds(rec Record) bool {
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
