package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"ferry/internal/carry/card"
	"ferry/internal/library"
	"ferry/internal/progress"
)

func init() {
	register(&command{name: "import", summary: "verify archives from a card or files and add them to the library", run: runImport})
}

func runImport(ctx context.Context, args []string) error {
	fs := newFlags("import", "SRC_DIR|ARCHIVE... [--library DIR] [--allow-untrusted]", `
Adds archives to the library: each ARCHIVE, or every *.ferry archive in
SRC_DIR (a card written by 'ferry export' or any folder). An archive is
added only if it is signed by a trusted key (see 'ferry trust'), is not
older than an edition already seen (rollback), and every byte of the copy
verifies. Archives already in the library are skipped. An interrupted
import resumes where it stopped when run again.`)
	lib := libraryFlag(fs)
	allow := fs.Bool("allow-untrusted", false, "add archives signed by keys the library does not trust")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("give a card folder or archive files to import")
	}
	return importInto(ctx, *lib, pos, *allow)
}

func importInto(ctx context.Context, dir string, args []string, allow bool) error {
	paths, err := card.Find(args)
	if err != nil {
		return err
	}
	l, unlock, err := library.LoadLocked(dir, true)
	if err != nil {
		return err
	}
	defer unlock()
	bars := &copyBars{}
	opts := library.AddOptions{AllowUntrusted: allow, Copy: bars.options(),
		Start: func(p string, r library.Record) {
			bars.start(fmt.Sprintf("%s edition %d (%s)", r.Channel, r.Edition, filepath.Base(p)))
		}}
	res, err := l.AddFiles(ctx, paths, opts)
	bars.done()
	if res != nil {
		for _, r := range res.Added {
			kind := "edition"
			if r.Base != "" {
				kind = "delta to edition"
			}
			fmt.Printf("added %s %s %d (%s)\n", r.Channel, kind, r.Edition, progress.Bytes(r.Size))
		}
		if len(res.Skipped) > 0 {
			fmt.Printf("%s already in the library\n", count(len(res.Skipped), "archive"))
		}
		for _, w := range res.Warnings {
			fmt.Fprintln(os.Stderr, "warning:", w)
		}
	}
	return markTrust(err)
}

// copyBars shows one copy and one verify bar per archive.
type copyBars struct {
	label     string
	cp, check *progress.Bar
}

func (b *copyBars) start(label string) {
	b.done()
	b.label = label
}

func (b *copyBars) options() library.CopyOptions {
	return library.CopyOptions{
		Progress: func(done, total int64) {
			if b.cp == nil {
				b.cp = progress.New("copying "+b.label, true)
			}
			b.cp.Update(done, total)
		},
		VerifyProgress: func(done, total int64) {
			if b.check == nil {
				if b.cp != nil {
					b.cp.Done()
				}
				b.check = progress.New("verifying "+b.label, true)
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
