package main

import (
	"context"
	"flag"
	"fmt"

	"ferry/internal/scrub"
)

func init() {
	register(&command{name: "scrub", usage: "[--check] FILE|DIR...",
		summary: "find and remove Red Star OS watermarks and identifying metadata",
		about: `
Removes the watermarks that Red Star OS appends to files it touches (which
carry the machine's disk serial) and identifying metadata: EXIF (GPS,
camera serial, owner), XMP, and author fields of DOCX, ODT and PDF files.
Files are rewritten atomically; nothing else in them changes.
Use it on a card before passing it on. --check only reports, and exits 5
when it found something to remove (0 when the files are clean).`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o scrubOptions
			fs.BoolVar(&o.Check, "check", false, "report what would be removed, change nothing")
			return func(ctx context.Context, t *terminal, args []string) error { return runScrub(ctx, t, o, args) }
		}})
}

type scrubOptions struct {
	Check bool
}

func runScrub(ctx context.Context, t *terminal, o scrubOptions, args []string) error {
	if len(args) == 0 {
		return usagef("give the FILE or DIR to scrub")
	}
	var files, marked, failed int
	for _, root := range args {
		err := scrub.Walk(root, o.Check, func(p string, findings []scrub.Finding, err error) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			files++
			if err != nil {
				failed++
				t.printf("%s: error: %v\n", p, err)
				return nil
			}
			if len(findings) > 0 {
				marked++
			}
			for _, f := range findings {
				t.printf("%s: %s\n", p, f)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	verb := "scrubbed"
	if o.Check {
		verb = "checked"
	}
	t.printf("%s %s: %d with findings, %s\n", verb, count(files, "file"), marked, count(failed, "error"))
	if failed > 0 {
		return fmt.Errorf("%s could not be read or rewritten (named above)", count(failed, "file"))
	}
	if o.Check && marked > 0 {
		// Like grep: a check that finds something says so in its status.
		return errFound
	}
	return nil
}
