package main

import (
	"context"
	"fmt"
	"os"

	"ferry/internal/carry/card"
	"ferry/internal/library"
	"ferry/internal/progress"
	"ferry/internal/scrub"
)

func init() {
	register(&command{name: "export", summary: "write what another library lacks to a card (USB stick, SD card)", run: runExport})
}

func runExport(ctx context.Context, args []string) error {
	fs := newFlags("export", "--to DIR [--channel C]... [--since-inventory FILE] [--library DIR]", `
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
--no-scrub leaves everything as it is.`)
	lib := libraryFlag(fs)
	to := fs.String("to", "", "card folder to write to (required)")
	since := fs.String("since-inventory", "", "inventory file of the receiving library")
	var channels stringList
	fs.Var(&channels, "channel", "export only this channel (repeatable)")
	noScrub := fs.Bool("no-scrub", false, "do not remove Red Star OS watermarks and identifying metadata from the archives")
	scrubCard := fs.Bool("scrub-card", false, "also remove them from the card's other files (photos, documents) without asking")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *to == "" || len(pos) > 0 {
		return usagef("give the card folder with --to DIR")
	}
	l, unlock, err := library.LoadLocked(*lib, false)
	if err != nil {
		return err
	}
	defer unlock()
	opts := card.ExportOptions{Channels: channels, Scrub: !*noScrub}
	if *since != "" {
		if opts.Since, err = card.ReadInventory(*since); err != nil {
			return err
		}
	}
	if opts.Scrub {
		opts.Scrubbed = func(p string, findings []scrub.Finding, err error) {
			switch {
			case err != nil:
				fmt.Fprintf(os.Stderr, "warning: %s: not scrubbed: %v\n", p, err)
			case scrub.HasWatermark(findings):
				fmt.Fprintf(os.Stderr, "removed a Red Star OS watermark from %s: %v\n", p, findings)
			default:
				fmt.Fprintf(os.Stderr, "removed identifying metadata from %s: %v\n", p, findings)
			}
		}
		opts.ScrubOthers = func(found []card.Found) bool {
			fmt.Fprintf(os.Stderr, "The card holds %d other files that carry identifying marks:\n", len(found))
			for _, f := range found {
				fmt.Fprintf(os.Stderr, "  %s: %v\n", f.Path, f.Findings)
			}
			if *scrubCard {
				fmt.Fprintln(os.Stderr, "removing them (--scrub-card)")
				return true
			}
			if !interactive() {
				fmt.Fprintln(os.Stderr, "left as they are: run again with --scrub-card to remove the marks (or 'ferry scrub DIR')")
				return false
			}
			return askYes("Remove these marks from those files too (the files are rewritten)?")
		}
	}
	bars := &copyBars{}
	opts.Copy = bars.options()
	opts.Start = func(r library.Record) { bars.start(fmt.Sprintf("%s edition %d", r.Channel, r.Edition)) }
	res, err := card.Export(ctx, l, *to, opts)
	bars.done()
	if res != nil {
		for _, r := range res.Written {
			fmt.Printf("wrote %s edition %d (%s)\n", r.Channel, r.Edition, progress.Bytes(r.Size))
		}
		fmt.Printf("%s written (%s), %s already on the card\n", count(len(res.Written), "archive"), progress.Bytes(res.Bytes), count(len(res.Present), "archive"))
	}
	return err
}
