package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"

	"ferry/internal/carry/card"
	"ferry/internal/library"
	"ferry/internal/progress"
	"ferry/internal/scrub"
)

func init() {
	register(&command{name: "export", usage: "--to DIR [--channel C]... [--since-inventory FILE] [--library DIR]",
		summary: "write what another library lacks to a card (USB stick, SD card)",
		about: `
Writes to DIR (a card; a library folder) the archives needed for the newest
edition of each channel, leaving out what DIR already holds and, with
--since-inventory, what the library that made FILE ('ferry inventory')
holds: then only what that library lacks travels, by the smallest chain
(the newest deltas, not a full edition, when it holds the base). Copies are
verified and resumable; free space is checked first.

Red Star OS watermarks and identifying metadata are removed from the
archives (ferry's own files) before and after copying, and each file changed
is named. Other files on the card (yours: photos, documents) are checked and
listed first; they are changed only if you say yes, or with --scrub-card.
--no-scrub leaves everything as it is.

With --with-programs DIR, ferry's programs for every device (from 'ferry
release') go on the card too, after their checksum list is checked against
a signature by a key the library trusts.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o exportOptions
			libraryFlag(fs, &o.Library)
			fs.StringVar(&o.To, "to", "", "card folder to write to (required)")
			fs.StringVar(&o.Since, "since-inventory", "", "inventory file of the receiving library")
			fs.Var(&o.Channels, "channel", "export only this channel (repeatable)")
			fs.BoolVar(&o.NoScrub, "no-scrub", false, "do not remove Red Star OS watermarks and identifying metadata from the archives")
			fs.BoolVar(&o.ScrubCard, "scrub-card", false, "also remove them from the card's other files (photos, documents) without asking")
			fs.StringVar(&o.Programs, "with-programs", "", "also put ferry's programs for every device on the card, from this release folder ('ferry release'), checked against their signed list")
			return func(ctx context.Context, t *terminal, args []string) error { return runExport(ctx, t, o, args) }
		}})
}

type exportOptions struct {
	Library, To, Since, Programs string
	Channels                     stringList
	NoScrub, ScrubCard           bool
}

func runExport(ctx context.Context, t *terminal, o exportOptions, args []string) error {
	if o.To == "" || len(args) > 0 {
		return usagef("give the card folder with --to DIR")
	}
	l, unlock, err := lockLibrary(ctx, t, o.Library, false)
	if err != nil {
		return err
	}
	defer unlock()
	opts := card.ExportOptions{Channels: o.Channels, Scrub: !o.NoScrub, Programs: o.Programs}
	if o.Since != "" {
		if opts.Since, err = card.ReadInventory(o.Since); err != nil {
			return err
		}
	}
	if opts.Scrub {
		opts.Scrubbed = func(p string, findings []scrub.Finding, err error) {
			switch {
			case err != nil:
				t.warnf("%s: not scrubbed: %v", p, err)
			case scrub.HasWatermark(findings):
				fmt.Fprintf(t.err, "removed a Red Star OS watermark from %s: %v\n", p, findings)
			default:
				fmt.Fprintf(t.err, "removed identifying metadata from %s: %v\n", p, findings)
			}
		}
		opts.ScrubOthers = func(found []card.Found) bool {
			fmt.Fprintf(t.err, "The card holds %s of yours that carry identifying marks:\n", count(len(found), "other file"))
			for _, f := range found {
				fmt.Fprintf(t.err, "  %s: %v\n", f.Path, f.Findings)
			}
			switch {
			case o.ScrubCard:
				fmt.Fprintln(t.err, "removing them (--scrub-card)")
				return true
			case !t.tty:
				fmt.Fprintln(t.err, "left as they are: give --scrub-card to remove the marks too (or run 'ferry scrub' on them)")
				return false
			}
			return t.askYes("Remove these marks from those files too (they are rewritten; --no-scrub skips all scrubbing)?")
		}
	}
	bars := &copyBars{t: t}
	opts.Copy = bars.options()
	opts.Start = func(r library.Record) { bars.start(fmt.Sprintf("%s edition %d", r.Channel, r.Edition)) }
	res, err := card.Export(ctx, l, o.To, opts)
	bars.done()
	if res != nil {
		for _, r := range res.Written {
			t.printf("wrote %s edition %d (%s)\n", r.Channel, r.Edition, progress.Bytes(r.Size))
		}
		t.printf("%s written (%s), %s already on the card\n", count(len(res.Written), "archive"), progress.Bytes(res.Bytes), count(len(res.Present), "archive"))
		if len(res.Programs) > 0 {
			t.printf("%s for other devices put in %s (checked against their signed list)\n", count(len(res.Programs), "program"), filepath.Join(o.To, card.ProgramsDir))
		}
	}
	return err
}
