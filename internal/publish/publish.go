// Package publish is the publisher's service: it builds the next edition of
// each channel of a config from a fresh harvest and its other sources, the
// delta from the edition before, and publishes both with the harvest's WARCs
// into the channel's store, then updates the signed channel index and the
// store's catalogue, as specified in docs/publish.md ("Publishing").
//
// Several workers may publish into one store at once (one per channel on
// different machines, or by mistake two for one channel). The store's
// conditional writes keep them apart: an edition number is claimed by
// creating its full edition with IfNoneMatch, so it is published at most
// once; the index and the catalogue are replaced with IfMatch in
// read-modify-write loops, so no update is lost; and the index is written
// only after every object it names is complete, so a worker that fails or
// crashes half way leaves nothing a reader can see. Objects a failed run
// created are removed, by it or by the next run on the same machine.
//
// The package never prints; Options.Progress receives events.
package publish

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"ferry/internal/delta"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/publish/config"
	"ferry/internal/publish/harvest"
	"ferry/internal/publish/index"
	"ferry/internal/store"
)

// Errors of a channel's publish, checked with errors.Is.
var (
	// ErrConflict: another worker published the edition this run built on
	// or claimed its number meanwhile. Nothing of this run is visible; run
	// again to build on the new edition.
	ErrConflict = errors.New("publish: another worker got there first")
	// ErrLocked: another publish of the channel runs on this machine.
	ErrLocked = errors.New("publish: another publish of this channel is running here")
	// ErrBudget: the edition is larger than the channel's budget.
	ErrBudget = errors.New("publish: the edition is larger than the channel's budget")
	// ErrSourceEmpty: a web source gave nothing this run; publishing would
	// remove its pages from every reader's library.
	ErrSourceEmpty = errors.New("publish: a source gave nothing this run")
	// ErrForeignIndex: the store's index of the channel is not signed by
	// the channel's key.
	ErrForeignIndex = errors.New("publish: the store's index of this channel is signed by another key")
)

// Options tune Run.
type Options struct {
	// Channels limits the run to these channel names (default: all).
	Channels []string
	// DryRun harvests and packs, then reports what would be published
	// without writing to the store.
	DryRun bool
	// Due skips channels whose cadence has not passed since their latest
	// edition was made (less 5%, so that a job run every cadence does not
	// miss a turn by starting a little early): for a job that runs often
	// and publishes each channel at its own cadence.
	Due bool
	// Proxy replaces the config's [harvest] proxy.
	Proxy string
	// Harvest, if set, may change each channel's harvest options.
	Harvest func(*harvest.Options)
	// Replay lists WARC files (oldest first: those published with a
	// channel's editions) to harvest from instead of the web, in a fresh
	// temporary harvest state: an offline audit that implies DryRun. A
	// result that is Unchanged means the WARCs rebuild the latest edition.
	Replay []string
	// OpenStore opens a channel's store (default store.Open with the
	// config's [s3] settings).
	OpenStore func(ctx context.Context, location string) (store.Store, error)
	// Progress receives events; calls are not concurrent.
	Progress func(Progress)
	// Warn receives things the publisher should know that do not stop a
	// channel.
	Warn func(channel, msg string)
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Progress is one step of a run.
type Progress struct {
	Channel string
	// Phase: "harvest" (Done of Total URLs), "pack" (entries), "delta",
	// "download" and "upload" (bytes of Label).
	Phase       string
	Label       string
	Done, Total int64
}

// Result is what became of one channel.
type Result struct {
	Channel string
	Store   string
	// Edition is the edition published (with DryRun, the one that would
	// be); Previous the latest before, 0 for none.
	Edition, Previous uint64
	Published         bool
	Unchanged         bool // nothing changed: nothing was published
	DryRun            bool
	// NotDue: with Options.Due, the channel's cadence has not passed;
	// nothing was done. NextDue is when it will have.
	NotDue  bool
	NextDue time.Time
	// NewChain: readers that follow deltas will need this full edition
	// (or the delta, then the next full one) to follow on.
	NewChain bool
	Harvest  *harvest.Summary // nil without web sources
	Pack     *pack.Summary
	Delta    *delta.Summary // nil for a channel's first edition
	// Sizes of what was (or would be) published.
	FullBytes, DeltaBytes, WARCBytes int64
	// Keys written to the store.
	Keys     []string
	Duration time.Duration
	Err      error
}

// Run publishes every channel of cfg (or those opts names), one after the
// other. The error joins the channels' errors; each Result has its own.
func Run(ctx context.Context, cfg *config.Config, opts Options) ([]*Result, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.OpenStore == nil {
		opts.OpenStore = func(ctx context.Context, loc string) (store.Store, error) {
			return store.Open(ctx, loc, store.Options{S3: store.S3Options{
				Endpoint: cfg.S3.Endpoint, Region: cfg.S3.Region, PathStyle: cfg.S3.PathStyle,
				AccessKey: cfg.S3.AccessKeyID, SecretKey: cfg.S3.SecretAccessKey,
			}})
		}
	}
	if len(opts.Replay) > 0 {
		rp, err := harvest.NewReplay(opts.Replay...)
		if err != nil {
			return nil, err
		}
		tmp, err := os.MkdirTemp("", "ferry-replay-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		c := *cfg
		c.Harvest.State = tmp
		cfg = &c
		opts.DryRun = true
		hook := opts.Harvest
		opts.Harvest = func(o *harvest.Options) {
			o.Transport, o.Retries, o.Delay, o.Proxy = rp, -1, -1, ""
			if hook != nil {
				hook(o)
			}
		}
	}
	var chans []config.Channel
	for _, name := range opts.Channels {
		if !slices.ContainsFunc(cfg.Channels, func(c config.Channel) bool { return c.Name == name }) {
			return nil, fmt.Errorf("publish: %s has no channel %q", cfg.Path, name)
		}
	}
	for _, c := range cfg.Channels {
		if len(opts.Channels) == 0 || slices.Contains(opts.Channels, c.Name) {
			chans = append(chans, c)
		}
	}
	var results []*Result
	var errs []error
	for i := range chans {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		p := &run{cfg: cfg, ch: &chans[i], opts: &opts, ctx: ctx}
		res := p.publish()
		results = append(results, res)
		if res.Err != nil {
			errs = append(errs, fmt.Errorf("channel %s: %w", res.Channel, res.Err))
		}
	}
	return results, errors.Join(errs...)
}

// run is one channel's publish.
type run struct {
	cfg    *config.Config
	ch     *config.Channel
	opts   *Options
	ctx    context.Context
	res    *Result
	st     store.Store
	secret *key.Secret
	dir    string // the channel's state folder
}

func (p *run) progress(ev Progress) {
	if p.opts.Progress != nil {
		ev.Channel = p.ch.Name
		p.opts.Progress(ev)
	}
}

func (p *run) warn(format string, a ...any) {
	if p.opts.Warn != nil {
		p.opts.Warn(p.ch.Name, fmt.Sprintf(format, a...))
	}
}

func (p *run) publish() *Result {
	start := time.Now()
	p.res = &Result{Channel: p.ch.Name, Store: p.ch.Store, DryRun: p.opts.DryRun}
	err := p.do()
	p.res.Err = err
	p.res.Duration = time.Since(start)
	return p.res
}

func (p *run) do() error {
	ch := p.ch
	if err := index.ValidChannel(ch.Name); err != nil {
		return err
	}
	p.dir = filepath.Join(p.cfg.Harvest.State, ch.Name)
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		return fmt.Errorf("state folder: %w", err)
	}
	unlock, err := lockDir(p.dir)
	if err != nil {
		return err
	}
	defer unlock()
	if p.secret, err = key.LoadSecret(ch.Key); err != nil {
		return fmt.Errorf("signing key: %w", err)
	}
	if !isS3(ch.Store) {
		if err := os.MkdirAll(ch.Store, 0o755); err != nil {
			return fmt.Errorf("store folder: %w", err)
		}
	}
	if p.st, err = p.opts.OpenStore(p.ctx, ch.Store); err != nil {
		return err
	}
	p.res.Store = p.st.String()
	cur, _, err := p.readIndex()
	if err != nil {
		return err
	}
	if cur != nil {
		p.res.Previous = cur.Latest
		if e := cur.Edition(cur.Latest); p.opts.Due && e != nil {
			next := e.Created.Add(ch.Cadence - ch.Cadence/20)
			if p.opts.Now().Before(next) {
				p.res.NotDue, p.res.NextDue = true, next
				return nil
			}
		}
	}
	if !p.opts.DryRun {
		p.cleanup(cur)
	}

	srcs, closeSrcs, info, err := p.gather()
	if err != nil {
		return err
	}
	defer closeSrcs()

	next, err := p.nextNumber(cur)
	if err != nil {
		return err
	}
	p.res.Edition = next
	b, err := p.build(cur, next, srcs, info)
	if b != nil {
		defer b.remove()
	}
	if err != nil || p.res.Unchanged || p.opts.DryRun {
		return err
	}
	if err := p.upload(cur, b); err != nil {
		return err
	}
	p.res.Published = true
	p.finish(b)
	return nil
}

func isS3(loc string) bool { return len(loc) > 5 && loc[:5] == "s3://" }
