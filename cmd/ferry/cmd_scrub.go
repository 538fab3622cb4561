package main

import (
	"context"
	"fmt"

	"ferry/internal/scrub"
)

func init() {
	register(&command{name: "scrub", summary: "find and remove Red Star OS watermarks and identifying metadata", run: runScrub})
}

func runScrub(ctx context.Context, args []string) error {
	fs := newFlags("scrub", "[--check] FILE|DIR...", `
Removes the watermarks that Red Star OS appends to files it touches (which
carry the machine's disk serial) and identifying metadata: EXIF (GPS,
camera serial, owner), XMP, and author fields of DOCX, ODT and PDF files.
Files are rewritten atomically; nothing else in them changes.
Use it on a card before passing it on. --check only reports.`)
	check := fs.Bool("check", false, "report what would be removed, change nothing")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("give the FILE or DIR to scrub")
	}
	var files, marked, failed int
	for _, root := range pos {
		err := scrub.Walk(root, *check, func(p string, findings []scrub.Finding, err error) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			files++
			if err != nil {
				failed++
				fmt.Printf("%s: error: %v\n", p, err)
				return nil
			}
			if len(findings) > 0 {
				marked++
			}
			for _, f := range findings {
				fmt.Printf("%s: %s\n", p, f)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	verb := "scrubbed"
	if *check {
		verb = "checked"
	}
	fmt.Printf("%s %d files: %d with findings, %d errors\n", verb, files, marked, failed)
	if failed > 0 {
		return fmt.Errorf("%d files could not be read or rewritten", failed)
	}
	return nil
}
