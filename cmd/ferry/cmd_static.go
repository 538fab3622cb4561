package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"ferry/internal/archive"
	"ferry/internal/carry/card"
	"ferry/internal/carry/static"
	"ferry/internal/library"
	"ferry/internal/progress"
	"ferry/internal/release"
)

func init() {
	register(&command{name: "static", usage: "-o DIR [--no-search] [--no-glossary] [--with-programs] [--library DIR]... ARCHIVE|LIBRARY|FOLDER...",
		summary: "write archives as plain HTML files that open in any browser",
		about: `
Writes each archive (or every archive in a FOLDER; for a library folder,
each trusted channel's newest edition) as plain files into DIR:
an index page, every article as an .html file, images and media as plain
files (an MP4 stays a playable MP4), title index pages (A–Z, 가나다), and
an optional search that works from file:// in old browsers. File names are
safe on FAT32 cards. Korean pages have their South Korean loanwords marked
with plain explanations (--no-glossary: not). What cannot go on a FAT32
card (a file of 4 GiB or more) or cannot be made safe is left out, each
named in a warning. Open DIR/index.html in any browser; nothing to install.
--with-programs also copies the ferry programs a library holds (its
programs folder, checked against their signed list and the library's
trust) into DIR/programs with a Korean README that the index links to.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o staticOptions
			fs.StringVar(&o.Out, "o", "", "output folder, empty or new (required)")
			fs.BoolVar(&o.NoSearch, "no-search", false, "leave out the JavaScript search")
			fs.BoolVar(&o.NoGlossary, "no-glossary", false, "do not mark South Korean loanwords with explanations")
			fs.BoolVar(&o.WithPrograms, "with-programs", false, "copy the LIBRARY's verified ferry programs and a README saying which to run")
			libraryPathsFlag(fs, &o.Libraries)
			return func(ctx context.Context, t *terminal, args []string) error {
				return runStatic(ctx, t, o, append(args, o.Libraries...))
			}
		}})
}

type staticOptions struct {
	Out                                string
	NoSearch, NoGlossary, WithPrograms bool
	Libraries                          stringList
}

func runStatic(ctx context.Context, t *terminal, o staticOptions, args []string) error {
	if o.Out == "" || len(args) == 0 {
		return usagef("give the output folder with -o DIR and at least one ARCHIVE (or --library DIR)")
	}
	var paths []string
	var as []archive.Contents
	var programsFrom string // a library folder that holds programs
	var programsTrust release.Trusted
	for _, p := range args {
		st, err := os.Stat(p)
		if err != nil {
			return err
		}
		if !st.IsDir() {
			paths = append(paths, p)
			continue
		}
		if _, err := os.Stat(filepath.Join(p, library.StateFile)); err == nil {
			// A library: each trusted channel's newest edition, deltas applied.
			o, err := library.Open(p, library.OpenOptions{})
			if err != nil {
				return err
			}
			defer o.Close()
			if _, err := os.Stat(filepath.Join(p, card.ProgramsDir, release.ListFile)); err == nil && programsFrom == "" {
				l, err := library.Load(p, false)
				if err != nil {
					return err
				}
				programsFrom, programsTrust = filepath.Join(p, card.ProgramsDir), card.Trusts(l)
			}
			for _, ch := range o.Channels {
				if ch.View == nil {
					fmt.Fprintf(t.err, "skipping channel %s: %s\n", ch.Name, orReason(ch.Reason, ch.Err))
					continue
				}
				as = append(as, ch.View)
			}
			continue
		}
		found, _ := filepath.Glob(filepath.Join(p, "*.ferry"))
		sort.Strings(found)
		if len(found) == 0 {
			return fmt.Errorf("%s holds no .ferry archives", p)
		}
		paths = append(paths, found...)
	}
	for _, p := range paths {
		r, err := archive.OpenFile(p)
		if err != nil {
			return err
		}
		defer r.Close()
		as = append(as, r)
	}
	if len(as) == 0 {
		return fmt.Errorf("nothing to export")
	}
	sopts := static.Options{NoSearch: o.NoSearch, NoGlossary: o.NoGlossary}
	if o.WithPrograms {
		if programsFrom == "" {
			return usagef("--with-programs needs a LIBRARY folder that holds programs (ferry import of a card made with 'ferry export --with-programs')")
		}
		sopts.Programs = card.ProgramsDir + "/" + release.ReadmeFile
	}
	bar := t.bar("exporting", false)
	warn := func(msg string) {
		if t.tty && t.rawErr != nil {
			fmt.Fprint(t.rawErr, "\r\033[K") // over the bar, which the next update draws again
		}
		t.warnf("%s", msg)
	}
	sopts.Progress, sopts.Warn = bar.Update, warn
	sum, err := static.Export(ctx, o.Out, as, sopts)
	bar.Done()
	if err != nil {
		return err
	}
	if o.WithPrograms {
		v, err := release.Copy(programsFrom, filepath.Join(o.Out, card.ProgramsDir), programsTrust)
		if err != nil {
			return fmt.Errorf("programs from %s: %w (the export itself is written)", programsFrom, err)
		}
		t.printf("copied %d programs, checked against their signed list, and %s\n", len(v.Files), filepath.Join(o.Out, card.ProgramsDir, release.ReadmeFile))
	}
	left := ""
	if sum.Skipped > 0 {
		left = fmt.Sprintf(", left out %d (named above)", sum.Skipped)
	}
	t.printf("wrote %d files (%s) to %s%s; open %s\n", sum.Files, progress.Bytes(sum.Bytes), o.Out, left, filepath.Join(o.Out, "index.html"))
	return nil
}

func orReason(reason string, err error) string {
	if err != nil {
		return err.Error()
	}
	return reason
}
