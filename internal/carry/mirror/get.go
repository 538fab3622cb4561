package mirror

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
	"time"

	"ferry/internal/atomicfile"
	"ferry/internal/library"
	"ferry/internal/progress"
	"ferry/internal/publish/index"
	"ferry/internal/store"
)

// GetDir is the folder inside a library where Get keeps partial downloads
// and what it learned (known.json). Nothing in it is needed to read the
// library; the archives themselves enter only through library.AddTo.
const GetDir = ".get"

// GetOptions tune Get.
type GetOptions struct {
	// Library is the library folder (default library.DefaultDir()).
	Library string
	// Channels limits Get to these channels (default: every channel of the
	// origin whose archives the library would take).
	Channels []string
	// AllowUntrusted takes archives signed by keys the library does not
	// trust (they stay marked untrusted).
	AllowUntrusted bool
	// Progress receives each download's bytes (resumed bytes count as done).
	Progress func(label string, done, total int64)
	// Log receives things the reader should know.
	Log func(string)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Result is what Get did.
type Result struct {
	Channels []*ChannelGet // in the order they were fetched
	Bytes    int64         // bytes downloaded in this run
}

// ChannelGet is what Get did for one channel.
type ChannelGet struct {
	Name, Title string
	// Held is the edition the library presented before; Latest the
	// origin's newest.
	Held, Latest uint64
	// Plan is what brings the library to Latest, base first: the
	// smallest download from what it held.
	Plan []Step
	// PlanBytes is what the plan still had to fetch (resumed bytes not
	// counted); FullBytes the size of the latest full edition, to compare.
	PlanBytes, FullBytes int64
	Added                []library.Record
	UpToDate             bool
	// Skipped says why nothing was fetched although a newer edition exists
	// (not trusted, an older edition than one seen).
	Skipped string
	Err     error
	seq     uint64 // the index's version
}

// Step is one archive of a plan.
type Step struct {
	Key     string
	Edition uint64
	Delta   bool
	Size    int64
	Resumed int64 // bytes already here from an earlier, cut download
	arch    *index.Archive
}

// ErrCut reports a download that ended early; its bytes are kept and the
// next Get resumes it.
var ErrCut = errors.New("mirror: the download was cut")

// Get brings the library's channels up to the origin's newest editions.
// It reads the origin's channel list and each channel's signed index,
// plans for each channel the smallest download that reaches the newest
// edition from what the library holds (a chain of deltas, or a full
// edition and the deltas after it), asks the library whether it would take
// each archive before fetching it (library.Wants on the manifest the index
// carries), fetches the channels with the smallest downloads first, each
// archive resumable and checked against the index's SHA-256, and hands
// them to library.AddTo, which checks signatures, trust and rollback again
// and copies them in verified. A channel that fails does not stop the
// others; the error joins theirs.
func Get(ctx context.Context, from Origin, opts GetOptions) (*Result, error) {
	if opts.Library == "" {
		opts.Library = library.DefaultDir()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	g := &getter{from: from, opts: opts, dir: filepath.Join(opts.Library, GetDir)}
	b, _, err := readSmall(ctx, from, index.ChannelsKey, index.MaxChannelsSize)
	if err != nil {
		return nil, fmt.Errorf("reading the channel list of %s: %w", from, err)
	}
	list, err := index.ParseChannels(b)
	if err != nil {
		return nil, fmt.Errorf("the channel list of %s: %w", from, err)
	}
	names := opts.Channels
	for _, n := range names {
		if list.Find(n) == nil {
			return nil, fmt.Errorf("%s has no channel %q", from, n)
		}
	}
	if len(names) == 0 {
		for _, c := range list.Channels {
			names = append(names, c.Name)
		}
	}
	if err := os.MkdirAll(g.dir, 0o755); err != nil {
		return nil, err
	}
	lib, err := library.Load(opts.Library, true)
	if err != nil {
		return nil, err
	}
	g.known = readKnown(opts.Library)
	res := &Result{}
	for _, n := range names {
		cg := g.plan(ctx, lib, n, len(opts.Channels) > 0)
		if cg != nil {
			res.Channels = append(res.Channels, cg)
		}
	}
	// What was learned is kept even if the connection ends now.
	g.saveKnown(res)
	// Smallest downloads first: a short connection brings the most channels.
	sort.SliceStable(res.Channels, func(i, j int) bool { return res.Channels[i].PlanBytes < res.Channels[j].PlanBytes })
	var errs []error
	for _, cg := range res.Channels {
		if cg.Err == nil && len(cg.Plan) > 0 {
			n, err := g.fetch(ctx, cg)
			res.Bytes += n
			cg.Err = err
		}
		if cg.Err != nil {
			errs = append(errs, fmt.Errorf("channel %s: %w", cg.Name, cg.Err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	g.saveKnown(res)
	return res, errors.Join(errs...)
}

type getter struct {
	from  Origin
	opts  GetOptions
	dir   string
	known *Known
}

func (g *getter) log(format string, a ...any) {
	if g.opts.Log != nil {
		g.opts.Log(fmt.Sprintf(format, a...))
	}
}

// plan reads a channel's index and decides what to fetch. It returns nil
// for a channel the library would not take, when the reader did not name it.
func (g *getter) plan(ctx context.Context, lib *library.Library, name string, named bool) *ChannelGet {
	cg := &ChannelGet{Name: name}
	b, _, err := readSmall(ctx, g.from, index.IndexKey(name), index.MaxIndexSize)
	if err != nil {
		cg.Err = fmt.Errorf("reading its index: %w", err)
		return cg
	}
	ix, err := index.Parse(b)
	if err == nil && ix.Channel != name {
		err = fmt.Errorf("%s is the index of channel %q", index.IndexKey(name), ix.Channel)
	}
	if err != nil {
		cg.Err = err
		return cg
	}
	cg.Title, cg.Latest, cg.seq = ix.Title, ix.Latest, ix.Sequence
	if k, ok := g.known.Channels[name]; ok && k.Sequence > ix.Sequence {
		g.log("%s: %s gives an older index of %s (version %d) than one seen before (version %d): it may be stale",
			name, g.from, name, ix.Sequence, k.Sequence)
	}
	if last := ix.Edition(ix.Latest); last != nil {
		cg.FullBytes = last.Full.Size
	}

	held := map[string]bool{}
	for _, r := range lib.State.Archives {
		if r.Channel != name {
			continue
		}
		if _, ok := lib.ChainTo(r.ID); ok {
			held[r.ID] = true
			cg.Held = max(cg.Held, r.Edition)
		}
	}
	if cg.Held >= ix.Latest {
		cg.UpToDate = true
		return cg
	}

	// The cheapest way to each archive: its own bytes still to fetch, plus
	// the way to its base. Archives held cost nothing.
	cost := map[string]int64{}
	left := func(a *index.Archive) int64 { return max(0, a.Size-g.partial(a)) }
	for i := range ix.Editions {
		e := &ix.Editions[i]
		for _, a := range []*index.Archive{&e.Full, e.Delta} {
			switch {
			case a == nil:
			case held[a.ID]:
				cost[a.ID] = 0
			case a.Base == "":
				cost[a.ID] = left(a)
			default:
				if c, ok := cost[a.Base]; ok {
					cost[a.ID] = c + left(a)
				}
			}
		}
	}
	last := ix.Edition(ix.Latest)
	end := &last.Full
	if d := last.Delta; d != nil {
		if c, ok := cost[d.ID]; ok && c < cost[end.ID] {
			end = d
		}
	}
	// Prefer ending on the tip, which later deltas build on, unless it
	// costs much more: the next update is then a delta, not a full edition.
	if tip, _ := ix.Find(ix.Tip); tip != nil && tip != end {
		if c, ok := cost[tip.ID]; ok && float64(c) <= 1.5*float64(cost[end.ID]) {
			end = tip
		}
	}
	var path []*index.Archive
	for a := end; a != nil && !held[a.ID]; {
		path = append(path, a)
		if a.Base == "" {
			break
		}
		a, _ = ix.Find(a.Base)
	}
	slices.Reverse(path)

	// Ask the library before fetching, from the manifests the index carries.
	for i, a := range path {
		r, err := a.Open()
		if err != nil {
			continue // no manifest listed: Add decides when it arrives
		}
		if i == len(path)-1 && !slices.ContainsFunc(r.Signers(), ix.SignedBy) {
			cg.Skipped = fmt.Sprintf("its index is not signed by the key that signed edition %d", ix.Latest)
			return cg
		}
		err = lib.Wants(r.ID(), r.Manifest(), r.Signers(), g.opts.AllowUntrusted)
		if err != nil && (i == len(path)-1 || !errors.Is(err, library.ErrRollback)) {
			if !named {
				var ue *library.UntrustedError
				if errors.As(err, &ue) {
					return nil // a channel of the mirror the reader does not trust: not theirs
				}
			}
			cg.Skipped = err.Error()
			return cg
		}
	}
	for _, a := range path {
		st := Step{Key: a.Key, Edition: editionOf(ix.Index, a), Delta: a.Base != "", Size: a.Size, Resumed: g.partial(a), arch: a}
		cg.Plan = append(cg.Plan, st)
		cg.PlanBytes += a.Size - st.Resumed
	}
	return cg
}

func editionOf(ix *index.Index, a *index.Archive) uint64 {
	_, e := ix.Find(a.ID)
	if e == nil {
		return 0
	}
	return e.Edition
}

// Files of a download in the get folder: ID.part while it comes, with
// ID.json saying what it is; ID.ferry when complete and checked.
func (g *getter) partPath(a *index.Archive) string { return filepath.Join(g.dir, a.ID+".part") }
func (g *getter) metaPath(a *index.Archive) string { return filepath.Join(g.dir, a.ID+".json") }
func (g *getter) donePath(a *index.Archive) string { return filepath.Join(g.dir, a.ID+".ferry") }

// partMeta is what a partial download is of.
type partMeta struct {
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	ETag   string `json:"etag,omitempty"`
}

func (g *getter) readMeta(a *index.Archive) (partMeta, bool) {
	b, err := os.ReadFile(g.metaPath(a))
	if err != nil {
		return partMeta{}, false
	}
	var m partMeta
	if json.Unmarshal(b, &m) != nil || m.Size != a.Size || m.SHA256 != a.SHA256 {
		return partMeta{}, false
	}
	return m, true
}

// partial is how many bytes of a are here already.
func (g *getter) partial(a *index.Archive) int64 {
	if st, err := os.Stat(g.donePath(a)); err == nil && st.Size() == a.Size {
		return a.Size
	}
	if _, ok := g.readMeta(a); !ok {
		return 0
	}
	st, err := os.Stat(g.partPath(a))
	if err != nil || st.Size() > a.Size {
		return 0
	}
	return st.Size()
}

// fetch downloads a channel's plan and hands it to the library.
func (g *getter) fetch(ctx context.Context, cg *ChannelGet) (int64, error) {
	var total int64
	var files []string
	for _, st := range cg.Plan {
		kind := "edition"
		if st.Delta {
			kind = "delta to edition"
		}
		label := fmt.Sprintf("%s %s %d", cg.Name, kind, st.Edition)
		n, err := g.download(ctx, st.arch, label)
		total += n
		if err != nil {
			return total, err
		}
		files = append(files, g.donePath(st.arch))
	}
	var in []library.Arrival
	for _, f := range files {
		a, closeFile, err := library.OpenArrival(f)
		if err != nil {
			return total, err
		}
		defer closeFile()
		a.From = g.from.String()
		in = append(in, a)
	}
	res, err := library.AddTo(ctx, g.opts.Library, in, library.AddOptions{AllowUntrusted: g.opts.AllowUntrusted})
	if res != nil {
		cg.Added = res.Added
		for _, w := range res.Warnings {
			g.log("%s: %s", cg.Name, w)
		}
	}
	var ae *library.AddError
	if err == nil || errors.As(err, &ae) {
		// Added, held already or refused for good: not needed again.
		for _, st := range cg.Plan {
			os.Remove(g.donePath(st.arch))
			os.Remove(g.metaPath(st.arch))
		}
	}
	if err != nil {
		return total, err
	}
	cg.Held = cg.Latest
	return total, nil
}

// download fetches one archive into the get folder, resuming a partial
// download, and checks it against the index's size and SHA-256. It returns
// the bytes it downloaded.
func (g *getter) download(ctx context.Context, a *index.Archive, label string) (int64, error) {
	if g.partial(a) == a.Size {
		if _, err := os.Stat(g.donePath(a)); err == nil {
			return 0, nil
		}
	}
	meta, ok := g.readMeta(a)
	part := g.partPath(a)
	var off int64
	if ok {
		if st, err := os.Stat(part); err == nil && st.Size() <= a.Size {
			off = st.Size()
		}
	}
	if off == 0 {
		meta = partMeta{Key: a.Key, Size: a.Size, SHA256: a.SHA256}
	}
	rc, info, err := g.from.GetRange(ctx, a.Key, off, -1)
	if err == nil && info.Size >= 0 && info.Size != a.Size {
		rc.Close()
		err = fmt.Errorf("%s is %d bytes at %s, its index says %d", a.Key, info.Size, g.from, a.Size)
	}
	if err == nil && off > 0 && meta.ETag != "" && info.ETag != "" && info.ETag != meta.ETag {
		// Not the bytes the partial file has: start again.
		rc.Close()
		off, meta.ETag = 0, ""
		rc, info, err = g.from.GetRange(ctx, a.Key, 0, -1)
	}
	if err != nil {
		return 0, fmt.Errorf("fetching %s: %w", a.Key, err)
	}
	defer rc.Close()
	meta.ETag = info.ETag
	mb, _ := json.Marshal(meta)
	if err := atomicfile.WriteFile(g.metaPath(a), mb, 0o644); err != nil {
		return 0, err
	}
	flag := os.O_WRONLY | os.O_CREATE
	if off == 0 {
		flag |= os.O_TRUNC
	}
	f, err := os.OpenFile(part, flag, 0o644)
	if err != nil {
		return 0, err
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return 0, err
	}
	done := off
	report := func() {
		if g.opts.Progress != nil {
			g.opts.Progress(label, done, a.Size)
		}
	}
	report()
	buf := make([]byte, 256<<10)
	var readErr error
	for done < a.Size {
		n, err := rc.Read(buf[:min(int64(len(buf)), a.Size-done)])
		if n > 0 {
			if _, werr := f.Write(buf[:n]); werr != nil {
				f.Close()
				return done - off, werr
			}
			done += int64(n)
			report()
		}
		if err != nil {
			readErr = err
			break
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return done - off, err
	}
	if err := f.Close(); err != nil {
		return done - off, err
	}
	if done < a.Size {
		if ctx.Err() != nil {
			return done - off, ctx.Err()
		}
		if readErr == nil || readErr == io.EOF {
			readErr = io.ErrUnexpectedEOF
		}
		return done - off, fmt.Errorf("%w: %s after %s of %s (%v); the bytes that came are kept: run it again to resume",
			ErrCut, label, progress.Bytes(done), progress.Bytes(a.Size), readErr)
	}
	sum, _, err := store.HashFile(part)
	if err != nil {
		return done - off, err
	}
	if sum != a.SHA256 {
		os.Remove(part)
		os.Remove(g.metaPath(a))
		return done - off, fmt.Errorf("%s from %s does not match its signed index (damaged on the way or at the mirror); it was thrown away: run again", a.Key, g.from)
	}
	if err := os.Rename(part, g.donePath(a)); err != nil {
		return done - off, err
	}
	atomicfile.SyncDir(g.dir)
	return done - off, nil
}
