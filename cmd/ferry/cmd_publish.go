package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"ferry/internal/progress"
	"ferry/internal/publish"
	"ferry/internal/publish/config"
)

func init() {
	register(&command{name: "publish", usage: "-c CONFIG [--channel NAME]... [--dry-run] [--due] [--proxy URL] [--replay WARC|DIR]...",
		summary: "harvest each channel's sources and publish its next edition into its store",
		about: `
Builds the next edition of each channel of CONFIG (a TOML file, see
docs/publish.md): harvests its feeds and sites from the web (politely:
robots.txt, rate limits, conditional requests, every response recorded in
a WARC), packs them with its local sources into a signed full edition,
makes the delta from the edition before, and publishes both, with the
WARCs, into the channel's store (a folder or s3://BUCKET/PREFIX, with the
AWS_* variables for the endpoint and keys). Then it updates the channel's
signed index and the store's OPDS catalogue. When nothing changed, nothing
is published. Several publishers may share a store: an edition number is
published once, and a run that loses a race publishes nothing visible
(run it again). --dry-run harvests and packs, and says what would be
published. --due skips channels whose cadence (in CONFIG) has not passed
since their latest edition, so one job run every hour publishes each
channel at its own cadence. --replay audits offline: it harvests from
the WARCs given (files, or folders such as a copy of the store's
CHANNEL/warc/) instead of the web, and says whether they rebuild the
channel's latest edition exactly; it publishes nothing.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o publishOptions
			fs.StringVar(&o.Config, "c", "", "channel config file (required)")
			fs.Var(&o.Channels, "channel", "publish only this channel (repeatable)")
			fs.BoolVar(&o.DryRun, "dry-run", false, "harvest and pack, say what would be published, publish nothing")
			fs.BoolVar(&o.Due, "due", false, "skip channels whose cadence has not passed since their latest edition (for a job run often)")
			fs.StringVar(&o.Proxy, "proxy", "", "fetch the web through this proxy (http://HOST:PORT or socks5://HOST:PORT)")
			fs.Var(&o.Replay, "replay", "harvest from these WARC files or folders of them instead of the web, and say whether they rebuild the latest edition (repeatable; publishes nothing)")
			return func(ctx context.Context, t *terminal, args []string) error { return runPublish(ctx, t, o, args) }
		}})
}

type publishOptions struct {
	Config   string
	Channels stringList
	DryRun   bool
	Due      bool
	Proxy    string
	Replay   stringList
}

func runPublish(ctx context.Context, t *terminal, o publishOptions, args []string) error {
	if o.Config == "" || len(args) > 0 {
		return usagef("give the channel config with -c CONFIG (and no other arguments)")
	}
	cfg, err := config.Load(o.Config)
	if err != nil {
		return err
	}
	for _, n := range o.Channels {
		if !slices.ContainsFunc(cfg.Channels, func(c config.Channel) bool { return c.Name == n }) {
			return usagef("%s has no channel %q", o.Config, n)
		}
	}
	warcs, err := replayFiles(o.Replay)
	if err != nil {
		return err
	}
	bars := &publishBars{t: t}
	res, err := publish.Run(ctx, cfg, publish.Options{
		Channels: o.Channels, DryRun: o.DryRun, Due: o.Due, Proxy: o.Proxy, Replay: warcs,
		Progress: bars.update,
		Warn: func(ch, msg string) {
			bars.done()
			t.warnf("%s: %s", ch, msg)
		},
	})
	bars.done()
	var differ []string
	for _, r := range res {
		reportPublish(t, r, len(warcs) > 0)
		if len(warcs) > 0 && r.Err == nil && !r.Unchanged && !r.NotDue {
			differ = append(differ, r.Channel)
		}
	}
	if err == nil && len(differ) > 0 {
		return fmt.Errorf("the WARCs do not rebuild the latest edition of %s", strings.Join(differ, ", "))
	}
	if err != nil && len(res) > 1 {
		var failed []string
		for _, r := range res {
			if r.Err != nil {
				failed = append(failed, r.Channel)
			}
		}
		return fmt.Errorf("%s of %d failed (%s); the others are done", count(len(failed), "channel"), len(res), strings.Join(failed, ", "))
	}
	if err != nil && len(res) == 1 {
		return res[0].Err
	}
	return err
}

// replayFiles lists the WARC files given or found in the folders given,
// each folder's in the order of their paths (the store's names sort by
// edition, then by time).
func replayFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		fi, err := os.Stat(a)
		if err != nil {
			return nil, fmt.Errorf("--replay: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(p, ".warc.gz") || strings.HasSuffix(p, ".warc")) {
				found = append(found, p)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("--replay: %w", err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("--replay: no WARC files in %s", a)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// reportPublish prints the summary of one channel; replay says it was an
// audit from WARCs.
func reportPublish(t *terminal, r *publish.Result, replay bool) {
	if r.NotDue {
		t.printf("%s: not due: edition %d is younger than its cadence; next after %s\n", r.Channel, r.Previous, r.NextDue.Local().Format("2006-01-02 15:04"))
		return
	}
	var parts []string
	if h := r.Harvest; h != nil {
		parts = append(parts, fmt.Sprintf("pages %d fetched, %d unchanged, %d failed", h.Fetched, h.Unchanged, h.Failed))
		for i, e := range h.Errors {
			if i == 5 {
				t.warnf("%s: and %d more URLs failed", r.Channel, len(h.Errors)-5)
				break
			}
			t.warnf("%s: %v", r.Channel, e)
		}
	}
	if d := r.Delta; d != nil {
		parts = append(parts, fmt.Sprintf("entries %d added, %d changed, %d removed", d.Added, d.Changed, d.Removed))
	} else if r.Pack != nil {
		parts = append(parts, count(r.Pack.Entries, "entry"))
	}
	if r.Pack != nil && !r.Unchanged {
		sizes := "full " + progress.Bytes(r.FullBytes)
		if r.Delta != nil {
			sizes += ", delta " + progress.Bytes(r.DeltaBytes)
		}
		if r.WARCBytes > 0 {
			sizes += ", WARC " + progress.Bytes(r.WARCBytes)
		}
		parts = append(parts, sizes)
	}
	parts = append(parts, r.Duration.Round(time.Millisecond).String())
	detail := strings.Join(parts, "; ")
	switch {
	case r.Err != nil && r.Edition == 0:
		t.printf("%s: not published: %s\n", r.Channel, detail)
	case r.Err != nil:
		t.printf("%s: edition %d not published: %s\n", r.Channel, r.Edition, detail)
	case replay && r.Unchanged:
		t.printf("%s: the WARCs rebuild edition %d exactly; %s\n", r.Channel, r.Previous, detail)
	case replay:
		t.printf("%s: the WARCs do not rebuild edition %d: %s\n", r.Channel, r.Previous, detail)
	case r.Unchanged:
		t.printf("%s: nothing changed since edition %d: nothing published; %s\n", r.Channel, r.Previous, detail)
	case r.DryRun:
		t.printf("%s: would publish edition %d to %s: %s\n", r.Channel, r.Edition, r.Store, detail)
	default:
		chain := ""
		if r.NewChain && r.Previous > 0 {
			chain = " (deltas start again from this full edition)"
		}
		t.printf("%s: published edition %d to %s%s: %s\n", r.Channel, r.Edition, r.Store, chain, detail)
	}
	if r.Err != nil && errors.Is(r.Err, publish.ErrConflict) {
		t.warnf("%s: another publisher won the race; nothing of this run is visible to readers", r.Channel)
	}
}

// publishBars shows one progress bar per step of a channel.
type publishBars struct {
	t   *terminal
	key string
	bar *progress.Bar
}

func (b *publishBars) update(p publish.Progress) {
	label, bytes := "", false
	switch p.Phase {
	case "harvest":
		label = p.Channel + ": harvesting"
	case "pack":
		label = p.Channel + ": packing (" + p.Label + ")"
	case "delta":
		b.done() // no measure of its progress to show
		return
	case "upload", "download":
		label, bytes = p.Channel+": "+p.Phase+"ing "+p.Label, true
	default:
		label = p.Channel + ": " + p.Phase
	}
	if label != b.key {
		b.done()
		b.key = label
		b.bar = b.t.bar(label, bytes)
	}
	b.bar.Update(p.Done, p.Total)
}

func (b *publishBars) done() {
	if b.bar != nil {
		b.bar.Done()
		b.bar, b.key = nil, ""
	}
}
