package card

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"ferry/internal/library"
	"ferry/internal/progress"
	"ferry/internal/release"
	"ferry/internal/scrub"
)

// ExportOptions tune Export.
type ExportOptions struct {
	// Channels limits the export to these channels (default: all).
	Channels []string
	// Since is the inventory of the library the card goes to: what it
	// already holds is not written.
	Since *library.Inventory
	Copy  library.CopyOptions
	Start func(r library.Record)

	// Scrub removes Red Star OS watermarks and identifying metadata from
	// ferry's own files — the library's archives before they are copied
	// (scrubbing an archive gives back its signed bytes) and the card's
	// archives and state after — reporting each file changed to Scrubbed.
	Scrub bool
	// ScrubOthers, if set, is shown the card's other files (the owner's
	// photos and documents) that carry watermarks or metadata, before
	// anything is changed, and says whether to clean them too. Without it
	// they are left alone.
	ScrubOthers func(found []Found) bool
	// Scrubbed is told of every file scrubbed (or that could not be read).
	Scrubbed func(path string, findings []scrub.Finding, err error)

	// Programs, if set, is a release folder ('ferry release'): its programs
	// are checked against their list, which a key the library trusts must
	// have signed, and copied to the card's programs folder.
	Programs string

	freeSpace func(string) (int64, bool) // tests: a full card
}

// Found is a file with what scrubbing would remove from it.
type Found struct {
	Path     string
	Findings []scrub.Finding
}

// ExportResult says what Export did.
type ExportResult struct {
	Written, Present []library.Record
	Bytes            int64
	Programs         []string // program files put on the card
}

// Plan returns the archives a library that holds have (archive ids) lacks
// to present the newest edition of each selected channel of l (the newest
// the library trusts; an untrusted one only for a channel with no trusted
// edition): for each
// channel, of the complete chains that end at its newest edition, the one
// that costs the fewest bytes to send, given what the other side holds
// (so with edition 2 and the delta 2-on-1 at hand and edition 1 over
// there, only the delta travels).
func Plan(l *library.Library, channels []string, have map[string]bool) ([]library.Record, error) {
	want := map[string]bool{}
	for _, c := range channels {
		if _, ok := l.State.Channels[c]; !ok {
			return nil, fmt.Errorf("%w: channel %q", library.ErrNotFound, c)
		}
		want[c] = true
	}
	type choice struct {
		send    []library.Record
		cost    int64
		top     library.Record
		trusted bool
		found   bool
	}
	best := map[string]*choice{}
	for _, r := range l.State.Archives {
		if len(want) > 0 && !want[r.Channel] {
			continue
		}
		chain, ok := l.ChainTo(r.ID)
		if !ok {
			continue
		}
		start := 0
		for i, c := range chain {
			if have[c.ID] {
				start = i + 1
			}
		}
		send := chain[start:]
		var cost int64
		for _, c := range send {
			cost += c.Size
		}
		b := best[r.Channel]
		if b == nil {
			b = &choice{}
			best[r.Channel] = b
		}
		// A trusted edition goes before any untrusted one, whatever its
		// number: an edition 999999 someone added with --allow-untrusted
		// must not be what the courier carries.
		trusted := l.Trusts(r)
		better := !b.found || trusted && !b.trusted || trusted == b.trusted && (r.Edition > b.top.Edition ||
			r.Edition == b.top.Edition && (cost < b.cost || cost == b.cost && (len(send) < len(b.send) ||
				len(send) == len(b.send) && r.ID < b.top.ID)))
		if better {
			*b = choice{send: send, cost: cost, top: r, trusted: trusted, found: true}
		}
	}
	names := make([]string, 0, len(best))
	for n := range best {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []library.Record
	for _, n := range names {
		out = append(out, best[n].send...)
	}
	return out, nil
}

// Export writes to the card dir (a library folder, made if missing) every
// archive it lacks for the newest edition of each selected channel, each
// through the card library's own door (library.Add: verified, resumable
// copies, recorded in its state file). Trust is not exported: the reader
// of the card decides whom to trust.
func Export(ctx context.Context, l *library.Library, dir string, opts ExportOptions) (*ExportResult, error) {
	if opts.freeSpace == nil {
		opts.freeSpace = library.FreeSpace
	}
	if opts.Scrub {
		// A library that went through a Red Star OS computer carries its
		// serial in the archives' trailers: clean them before they go out.
		if err := scrubOwn(l.Dir, opts.Scrubbed); err != nil {
			return nil, err
		}
	}
	if same(l.Dir, dir) {
		return nil, fmt.Errorf("the card folder %s is the library itself: give the card's folder with --to (a USB stick or SD card)", dir)
	}
	dst, unlock, err := library.LoadLocked(ctx, dir, true)
	if err != nil {
		return nil, err
	}
	defer unlock()
	var others []Found
	if opts.Scrub && opts.ScrubOthers != nil {
		// Say what the owner's own files carry before changing anything.
		if others, err = foreignFindings(dir); err != nil {
			return nil, err
		}
	}
	have := map[string]bool{}
	if opts.Since != nil {
		for _, a := range opts.Since.Archives {
			have[a.ID] = true
		}
	}
	held := map[string]bool{}
	for _, r := range dst.State.Archives {
		// What the card's state lists but its folder lacks (deleted to
		// free space) is written again.
		if dst.Holds(r) {
			held[r.ID] = true
			have[r.ID] = true
		}
	}
	plan, err := Plan(l, opts.Channels, have)
	if err != nil {
		return nil, err
	}
	var need int64
	for _, r := range plan {
		need += r.Size
	}
	if free, ok := opts.freeSpace(dir); ok && free < need {
		return nil, fmt.Errorf("%w on %s: %s to write, %s free: %s missing (choose fewer channels with --channel, or a bigger card)",
			library.ErrNoSpace, dir, progress.Bytes(need), progress.Bytes(free), progress.Bytes(need-free))
	}
	res := &ExportResult{}
	var failed []error
	broken := map[string]bool{} // channels with an archive that failed
	for _, r := range plan {
		if broken[r.Channel] {
			continue // its deltas cannot be shown without it
		}
		if opts.Start != nil {
			opts.Start(r)
		}
		added, err := exportOne(ctx, l, dst, r, opts)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, library.ErrNoSpace) {
				return res, err
			}
			// One damaged or missing archive must not keep the other
			// channels off the card.
			failed = append(failed, err)
			broken[r.Channel] = true
			continue
		}
		if len(added.Added) == 0 || held[r.ID] {
			res.Present = append(res.Present, r)
		} else {
			res.Written = append(res.Written, r)
			res.Bytes += r.Size
		}
	}
	if len(failed) > 0 {
		return res, fmt.Errorf("%d channels not exported: %w", len(broken), errors.Join(failed...))
	}
	if opts.Programs != "" {
		v, err := release.Copy(opts.Programs, filepath.Join(dir, ProgramsDir), Trusts(l))
		if err != nil {
			return res, fmt.Errorf("programs from %s: %w", opts.Programs, err)
		}
		res.Programs = v.Files
	}
	if opts.Scrub {
		if err := scrubOwn(dir, opts.Scrubbed); err != nil {
			return res, err
		}
		if len(others) > 0 && opts.ScrubOthers(others) {
			for _, f := range others {
				findings, err := scrub.ScrubFile(f.Path, false)
				if opts.Scrubbed != nil {
					opts.Scrubbed(f.Path, findings, err)
				}
			}
		}
	}
	return res, nil
}

// exportOne adds the archive of r, from l, to the card library dst.
func exportOne(ctx context.Context, l, dst *library.Library, r library.Record, opts ExportOptions) (*library.AddResult, error) {
	a, closeFile, err := library.OpenArrival(l.Path(r))
	if err != nil {
		return nil, fmt.Errorf("channel %s edition %d: its file is missing from the library (%v); run 'ferry import' of it again or 'ferry library remove %s'", r.Channel, r.Edition, err, r.Channel)
	}
	defer closeFile()
	added, err := dst.Add(ctx, []library.Arrival{a}, library.AddOptions{AllowUntrusted: true, Copy: opts.Copy})
	if err != nil {
		var ae *library.AddError
		if errors.As(err, &ae) && len(ae.Refused) == 1 {
			err = ae.Refused[0].Err
		}
		return nil, fmt.Errorf("channel %s edition %d: %w", r.Channel, r.Edition, err)
	}
	return added, nil
}

// same reports whether the folders a and b are one (b may not exist yet).
func same(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}

// ownFile reports whether a path inside a library folder is ferry's own:
// the archives and the state file.
func ownFile(rel string) bool {
	rel = filepath.ToSlash(rel)
	return rel == library.StateFile || strings.HasPrefix(rel, library.ArchiveDir+"/") || strings.HasPrefix(rel, ProgramsDir+"/")
}

// scrubOwn scrubs ferry's own files in a library folder (and no other).
func scrubOwn(dir string, report func(string, []scrub.Finding, error)) error {
	tell := func(p string, findings []scrub.Finding, err error) error {
		if report != nil && (err != nil || len(findings) > 0) {
			report(p, findings, err)
		}
		return nil
	}
	state := filepath.Join(dir, library.StateFile)
	if findings, err := scrub.ScrubFile(state, false); !errors.Is(err, fs.ErrNotExist) {
		tell(state, findings, err)
	}
	err := scrub.Walk(filepath.Join(dir, library.ArchiveDir), false, tell)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// foreignFindings checks (without changing them) the card's files that
// are not ferry's.
func foreignFindings(dir string) ([]Found, error) {
	var out []Found
	err := scrub.Walk(dir, true, func(p string, findings []scrub.Finding, err error) error {
		rel, rerr := filepath.Rel(dir, p)
		if rerr != nil || ownFile(rel) || err != nil || len(findings) == 0 {
			return nil
		}
		out = append(out, Found{p, findings})
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return out, err
}
