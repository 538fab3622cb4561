package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"ferry/internal/archive"
	"ferry/internal/carry/static"
	"ferry/internal/library"
	"ferry/internal/progress"
)

func init() {
	register(&command{name: "static", summary: "write archives as plain HTML files that open in any browser", run: runStatic})
}

func runStatic(ctx context.Context, args []string) error {
	fs := newFlags("static", "-o DIR [--no-search] ARCHIVE|LIBRARY|FOLDER...", `
Writes each archive (or every archive in a FOLDER; for a library folder,
each trusted channel's newest edition) as plain files into DIR:
an index page, every article as an .html file, images and media as plain
files (an MP4 stays a playable MP4), title index pages (A–Z, 가나다), and
an optional search that works from file:// in old browsers. File names are
safe on FAT32 cards. Open DIR/index.html in any browser; nothing to install.`)
	out := fs.String("o", "", "output folder, empty or new (required)")
	noSearch := fs.Bool("no-search", false, "leave out the JavaScript search")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *out == "" || len(pos) == 0 {
		return usagef("give the output folder with -o DIR and at least one ARCHIVE")
	}
	var paths []string
	var as []archive.Contents
	for _, p := range pos {
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
			for _, ch := range o.Channels {
				if ch.View == nil {
					fmt.Fprintf(os.Stderr, "skipping channel %s: %s\n", ch.Name, orReason(ch.Reason, ch.Err))
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
	bar := progress.New("exporting", false)
	sum, err := static.Export(*out, as, static.Options{NoSearch: *noSearch, Progress: bar.Update})
	bar.Done()
	if err != nil {
		return err
	}
	fmt.Printf("wrote %d files (%s) to %s; open %s\n", sum.Files, progress.Bytes(sum.Bytes), *out, filepath.Join(*out, "index.html"))
	return nil
}

func orReason(reason string, err error) string {
	if err != nil {
		return err.Error()
	}
	return reason
}
