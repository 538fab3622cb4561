package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"

	"ferry/internal/carry/card"
	"ferry/internal/library"
	"ferry/internal/progress"
)

func init() {
	register(&command{name: "import", usage: "SRC_DIR|ARCHIVE... [--library DIR] [--allow-untrusted]",
		summary: "verify archives from a card or files and add them to the library",
		about: `
Adds archives to the library: each ARCHIVE, or every *.ferry archive in
SRC_DIR (a card written by 'ferry export' or any folder). An archive is
added only if it is signed by a trusted key (see 'ferry trust'), is not
older than an edition already seen (rollback), and every byte of the copy
verifies. Archives already in the library are skipped; a delta whose base
edition is missing is kept and named. An interrupted import resumes where
it stopped when run again. Programs a card carries (ferry for other
devices) are checked against their signed list and kept in the library.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o importOptions
			o.flags(fs)
			return func(ctx context.Context, t *terminal, args []string) error { return runImport(ctx, t, o, args) }
		}})
}

type importOptions struct {
	Library        string
	AllowUntrusted bool
}

func (o *importOptions) flags(fs *flag.FlagSet) {
	libraryFlag(fs, &o.Library)
	fs.BoolVar(&o.AllowUntrusted, "allow-untrusted", false, "add archives signed by keys the library does not trust")
}

func runImport(ctx context.Context, t *terminal, o importOptions, args []string) error {
	if len(args) == 0 {
		return usagef("give a card folder or archive files to import")
	}
	l, unlock, err := lockLibrary(ctx, t, o.Library, true)
	if err != nil {
		return err
	}
	defer unlock()
	bars := &copyBars{t: t}
	opts := library.AddOptions{AllowUntrusted: o.AllowUntrusted, Copy: bars.options(),
		Start: func(from string, r library.Record) {
			bars.start(fmt.Sprintf("%s edition %d (%s)", r.Channel, r.Edition, filepath.Base(from)))
		}}
	imp, err := card.Import(ctx, l, args, opts)
	bars.done()
	if imp != nil && imp.AddResult != nil {
		res := imp.AddResult
		for _, r := range res.Added {
			kind := "edition"
			if r.Base != "" {
				kind = "delta to edition"
			}
			t.printf("added %s %s %d (%s)\n", r.Channel, kind, r.Edition, progress.Bytes(r.Size))
		}
		if len(res.Skipped) > 0 {
			t.printf("%s already in the library\n", count(len(res.Skipped), "archive"))
		}
		for _, w := range res.Warnings {
			t.warnf("%s", w)
		}
	}
	if imp != nil && len(imp.Programs) > 0 {
		t.printf("%s for other devices checked against their signed list and kept in %s\n", count(len(imp.Programs), "program"), filepath.Join(o.Library, card.ProgramsDir))
	}
	if imp != nil && imp.ProgramsErr != nil {
		t.warnf("the card's programs were not taken: %v", imp.ProgramsErr)
	}
	return markTrust(err)
}

// copyBars shows one copy and one verify bar per archive.
type copyBars struct {
	t         *terminal
	label     string
	cp, check interface {
		Update(done, total int64)
		Done()
	}
}

func (b *copyBars) start(label string) {
	b.done()
	b.label = label
}

func (b *copyBars) options() library.CopyOptions {
	return library.CopyOptions{
		Progress: func(done, total int64) {
			if b.cp == nil {
				b.cp = b.t.bar("copying "+b.label, true)
			}
			b.cp.Update(done, total)
		},
		VerifyProgress: func(done, total int64) {
			if b.check == nil {
				if b.cp != nil {
					b.cp.Done()
				}
				b.check = b.t.bar("verifying "+b.label, true)
			}
			b.check.Update(done, total)
		},
	}
}

func (b *copyBars) done() {
	if b.cp != nil {
		b.cp.Done()
	}
	if b.check != nil {
		b.check.Done()
	}
	b.cp, b.check = nil, nil
}
