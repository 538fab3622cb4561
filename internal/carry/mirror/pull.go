package mirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"ferry/internal/atomicfile"
	"ferry/internal/key"
	"ferry/internal/progress"
	"ferry/internal/publish/index"
	"ferry/internal/publish/opds"
	"ferry/internal/store"
)

// PullDir is the folder inside a mirror where Pull keeps partial downloads
// (a name no store key can have).
const PullDir = ".ferry-pull"

// PullOptions tune Pull.
type PullOptions struct {
	// Channels limits the pull to these channels (default: all).
	Channels []string
	// Trust, if set, refuses indexes signed by none of these keys.
	Trust []key.Public
	// Progress receives each download's bytes.
	Progress func(label string, done, total int64)
	Log      func(string)
	Now      func() time.Time
}

// PullResult says what Pull did.
type PullResult struct {
	Channels int   // channels brought up to date
	Objects  int   // objects the indexes name
	Fetched  int   // of which fetched now
	Bytes    int64 // bytes downloaded
}

// Pull makes the folder dir a full mirror of from: every object each
// channel's signed index names, checked against the index's size and
// SHA-256, then the index, then the channel list and catalogue, so the
// mirror never names an object it does not hold completely. dir is a
// folder store and can be served with Handler. Objects already there and
// intact are not fetched again; a download cut half way resumes. A channel
// whose index is older than the mirror's own is left as it is.
func Pull(ctx context.Context, from Origin, dir string, opts PullOptions) (*PullResult, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	dst, err := store.NewFolder(dir)
	if err != nil {
		return nil, err
	}
	b, _, err := readSmall(ctx, from, index.ChannelsKey, index.MaxChannelsSize)
	if err != nil {
		return nil, fmt.Errorf("reading the channel list of %s: %w", from, err)
	}
	list, err := index.ParseChannels(b)
	if err != nil {
		return nil, fmt.Errorf("the channel list of %s: %w", from, err)
	}
	for _, n := range opts.Channels {
		if list.Find(n) == nil {
			return nil, fmt.Errorf("%s has no channel %q", from, n)
		}
	}
	// The mirror's own list: channels that fail keep their old entry.
	mine := &index.Channels{}
	if b, _, err := readSmall(ctx, dst, index.ChannelsKey, index.MaxChannelsSize); err == nil {
		if l, err := index.ParseChannels(b); err == nil {
			mine = l
		}
	}
	p := &puller{from: from, dst: dst, dir: filepath.Join(dir, PullDir), opts: opts, res: &PullResult{}}
	var errs []error
	for _, c := range list.Channels {
		if len(opts.Channels) > 0 && !slices.Contains(opts.Channels, c.Name) {
			continue
		}
		ix, err := p.channel(ctx, c.Name)
		if err != nil {
			errs = append(errs, fmt.Errorf("channel %s: %w", c.Name, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		p.res.Channels++
		entry := index.ChannelOf(ix)
		if old := mine.Find(c.Name); old != nil {
			if old.Sequence <= entry.Sequence {
				*old = entry
			}
		} else {
			mine.Channels = append(mine.Channels, entry)
			slices.SortFunc(mine.Channels, func(a, b index.Channel) int { return strings.Compare(a.Name, b.Name) })
		}
	}
	mine.Updated = opts.Now().UTC().Truncate(time.Second)
	if list.Updated.After(mine.Updated) {
		mine.Updated = list.Updated
	}
	if p.res.Channels > 0 {
		data, err := index.MarshalChannels(mine)
		if err == nil {
			_, err = dst.Put(ctx, index.ChannelsKey, bytes.NewReader(data), int64(len(data)), store.Cond{})
		}
		if err == nil {
			feed := opds.Feed("", opds.Title, mine.Channels, mine.Updated)
			_, err = dst.Put(ctx, index.CatalogKey, bytes.NewReader(feed), int64(len(feed)), store.Cond{})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("writing the mirror's channel list: %w", err))
		}
	}
	return p.res, errors.Join(errs...)
}

type puller struct {
	from Origin
	dst  *store.Folder
	dir  string
	opts PullOptions
	res  *PullResult
}

// channel mirrors one channel: its objects, then its index.
func (p *puller) channel(ctx context.Context, name string) (*index.Index, error) {
	raw, _, err := readSmall(ctx, p.from, index.IndexKey(name), index.MaxIndexSize)
	if err != nil {
		return nil, fmt.Errorf("reading its index: %w", err)
	}
	ix, err := index.Parse(raw)
	if err == nil && ix.Channel != name {
		err = fmt.Errorf("%s is the index of channel %q", index.IndexKey(name), ix.Channel)
	}
	if err != nil {
		return nil, err
	}
	if len(p.opts.Trust) > 0 && !slices.ContainsFunc(p.opts.Trust, ix.SignedBy) {
		return nil, fmt.Errorf("its index is signed by %s, not by a key given with --trust", ix.Signers[0].Fingerprint())
	}
	if b, _, err := readSmall(ctx, p.dst, index.IndexKey(name), index.MaxIndexSize); err == nil {
		if own, err := index.Parse(b); err == nil && own.Sequence > ix.Sequence {
			if p.opts.Log != nil {
				p.opts.Log(fmt.Sprintf("%s: %s has an older index (version %d) than this mirror (version %d); left as it is", name, p.from, ix.Sequence, own.Sequence))
			}
			return own.Index, nil
		}
	}
	for _, o := range ix.Keys() {
		p.res.Objects++
		if err := p.object(ctx, o); err != nil {
			return nil, err
		}
	}
	if _, err := p.dst.Put(ctx, index.IndexKey(name), bytes.NewReader(raw), int64(len(raw)), store.Cond{}); err != nil {
		return nil, err
	}
	return ix.Index, nil
}

// object makes sure the mirror holds o intact. A folder store's ETag is
// the SHA-256 of the content, so an intact copy is recognised without
// reading it.
func (p *puller) object(ctx context.Context, o index.Object) error {
	if info, err := p.dst.Stat(ctx, o.Key); err == nil && info.Size == o.Size && info.ETag == o.SHA256 {
		return nil
	}
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return err
	}
	part := filepath.Join(p.dir, o.SHA256+".part")
	var off int64
	if st, err := os.Stat(part); err == nil && st.Size() <= o.Size {
		off = st.Size()
	}
	rc, info, err := p.from.GetRange(ctx, o.Key, off, -1)
	if err == nil && info.Size >= 0 && info.Size != o.Size {
		rc.Close()
		err = fmt.Errorf("%s is %d bytes at %s, its index says %d", o.Key, info.Size, p.from, o.Size)
	}
	if err != nil {
		return fmt.Errorf("fetching %s: %w", o.Key, err)
	}
	defer rc.Close()
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if err := f.Truncate(off); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		f.Close()
		return err
	}
	cr := &progress.Reader{R: rc, Report: func(n int64) {
		if p.opts.Progress != nil {
			p.opts.Progress(o.Key, off+n, o.Size)
		}
	}}
	n, cerr := io.Copy(f, io.LimitReader(cr, o.Size-off))
	p.res.Bytes += n
	if err := f.Sync(); err != nil && cerr == nil {
		cerr = err
	}
	if err := f.Close(); err != nil && cerr == nil {
		cerr = err
	}
	if cerr == nil && off+n < o.Size {
		cerr = io.ErrUnexpectedEOF
	}
	if cerr != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %s after %s of %s (%v); run the pull again to resume", ErrCut, o.Key, progress.Bytes(off+n), progress.Bytes(o.Size), cerr)
	}
	sum, _, err := store.HashFile(part)
	if err != nil {
		return err
	}
	if sum != o.SHA256 {
		os.Remove(part)
		return fmt.Errorf("%s from %s does not match its signed index (damaged on the way or at the origin); thrown away: pull again", o.Key, p.from)
	}
	f, err = os.Open(part)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := p.dst.Put(ctx, o.Key, f, o.Size, store.Cond{}); err != nil {
		return err
	}
	p.res.Fetched++
	os.Remove(part)
	atomicfile.SyncDir(p.dir)
	return nil
}
