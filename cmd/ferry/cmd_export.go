package main

import (
	"context"
	"fmt"
	"os"

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
holds: then only the newest deltas travel. Copies are verified and
resumable; free space is checked first.`)
	lib := libraryFlag(fs)
	to := fs.String("to", "", "card folder to write to (required)")
	since := fs.String("since-inventory", "", "inventory file of the receiving library")
	var channels stringList
	fs.Var(&channels, "channel", "export only this channel (repeatable)")
	noScrub := fs.Bool("no-scrub", false, "do not remove Red Star OS watermarks and identifying metadata from the library's archives and the card's files")
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
	opts := library.ExportOptions{Channels: channels}
	if *since != "" {
		if opts.Since, err = library.ReadInventory(*since); err != nil {
			return err
		}
	}
	if !*noScrub {
		// A card that went through a Red Star OS computer carries its
		// serial: clean the archives before they are copied out.
		if err := scrubFolder(l.Dir); err != nil {
			return err
		}
	}
	bars := &copyBars{}
	opts.Copy = bars.options()
	opts.Start = func(r library.Record) { bars.start(fmt.Sprintf("%s edition %d", r.Channel, r.Edition)) }
	res, err := l.Export(ctx, *to, opts)
	bars.done()
	if res != nil {
		for _, r := range res.Written {
			fmt.Printf("wrote %s edition %d (%s)\n", r.Channel, r.Edition, progress.Bytes(r.Size))
		}
		fmt.Printf("%d archives written (%s), %d already on the card\n", len(res.Written), progress.Bytes(res.Bytes), len(res.Present))
	}
	if err == nil && !*noScrub {
		err = scrubFolder(*to)
	}
	return err
}

// scrubFolder removes Red Star OS watermarks and identifying metadata from
// every file under dir, warning about each watermark found. Removing a
// watermark from an archive gives back its signed bytes.
func scrubFolder(dir string) error {
	return scrub.Walk(dir, false, func(p string, findings []scrub.Finding, err error) error {
		if err != nil {
			fmt.Fprintf(os.Stderr, "warning: %s: %v\n", p, err)
			return nil
		}
		if scrub.HasWatermark(findings) {
			fmt.Fprintf(os.Stderr, "warning: %s carried a Red Star OS watermark: %v\n", p, findings)
		}
		return nil
	})
}
