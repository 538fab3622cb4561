package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"ferry/internal/library"
	"ferry/internal/progress"
)

func init() {
	register(&command{name: "library", summary: "add, list and remove the archives of the library", run: runLibrary})
}

func runLibrary(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(os.Stderr, `Usage: ferry library SUBCOMMAND [--library DIR]

Subcommands:
  library add ARCHIVE...         same as 'ferry import'
  library list                   channels, their served edition and trust, and every archive
  library remove ID|CHANNEL      delete an archive (by id or id prefix) or a whole channel`)
		if len(args) == 0 {
			return usagef("give a subcommand")
		}
		return nil
	}
	switch args[0] {
	case "add":
		fs := newFlags("library add", "ARCHIVE... [--library DIR] [--allow-untrusted]", "Verifies archives and adds them to the library (as 'ferry import').")
		lib := libraryFlag(fs)
		allow := fs.Bool("allow-untrusted", false, "add archives signed by keys the library does not trust")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) == 0 {
			return usagef("give archives to add")
		}
		return importInto(ctx, *lib, pos, *allow)
	case "list":
		fs := newFlags("library list", "[--library DIR] [--allow-untrusted]", "Lists the channels of the library, the edition served, and every archive.")
		lib := libraryFlag(fs)
		allow := fs.Bool("allow-untrusted", false, "show what would be served with --allow-untrusted")
		if _, err := parse(fs, args[1:]); err != nil {
			return err
		}
		return libraryList(*lib, *allow)
	case "remove":
		fs := newFlags("library remove", "ID|CHANNEL [--library DIR]", "Deletes an archive or all archives of a channel. The highest edition seen stays remembered.")
		lib := libraryFlag(fs)
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("give one archive id or channel")
		}
		l, unlock, err := library.LoadLocked(*lib, false)
		if err != nil {
			return err
		}
		defer unlock()
		gone, err := l.Remove(pos[0])
		for _, r := range gone {
			fmt.Printf("removed %s edition %d (%s)\n", r.Channel, r.Edition, r.ID[:16])
		}
		return err
	}
	return usagef("unknown library subcommand %q (add, list, remove)", args[0])
}

func libraryList(dir string, allow bool) error {
	o, err := library.Open(dir, library.OpenOptions{AllowUntrusted: allow})
	if err != nil {
		return err
	}
	defer o.Close()
	l, err := library.Load(dir, false)
	if err != nil {
		return err
	}
	if len(o.Channels) == 0 {
		fmt.Println("the library is empty; add archives with 'ferry import'")
	}
	for _, c := range o.Channels {
		switch {
		case c.View != nil && c.Trusted:
			fmt.Printf("%s: edition %d, %q, %d archive(s), trusted (%s)\n", c.Name, c.Edition, c.Title, len(c.Chain), c.Anchor)
		case c.View != nil:
			fmt.Printf("%s: edition %d, %q, UNTRUSTED (served because of --allow-untrusted): %s\n", c.Name, c.Edition, c.Title, c.Reason)
		case c.Err != nil:
			fmt.Printf("%s: not served: %v\n", c.Name, c.Err)
		default:
			fmt.Printf("%s: edition %d, UNTRUSTED, not served: %s\n", c.Name, c.Edition, c.Reason)
		}
	}
	for _, r := range l.State.Archives {
		kind := "full"
		if r.Base != "" {
			kind = "delta on " + r.Base[:16]
		}
		fmt.Printf("  %s  %s edition %d  %s  %s  signed by %s\n", r.ID[:16], r.Channel, r.Edition, kind,
			progress.Bytes(r.Size), strings.Join(r.Signers, ", "))
	}
	return nil
}
