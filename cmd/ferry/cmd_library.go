package main

import (
	"context"
	"flag"
	"strings"

	"ferry/internal/library"
	"ferry/internal/progress"
)

func init() {
	registerGroup(&group{name: "library", summary: "add, list and remove the archives of the library",
		about: "Works on the library folder (--library DIR; default $FERRY_LIBRARY, else ./ferry-library)."})
	register(&command{name: "library add", usage: "ARCHIVE... [--library DIR] [--allow-untrusted]",
		summary: "verify archives and add them (as 'ferry import')",
		about:   "Verifies archives and adds them to the library (as 'ferry import').",
		flags: func(fs *flag.FlagSet) runFunc {
			var o importOptions
			o.flags(fs)
			return func(ctx context.Context, t *terminal, args []string) error {
				if len(args) == 0 {
					return usagef("give archives to add")
				}
				return runImport(ctx, t, o, args)
			}
		}})
	register(&command{name: "library list", usage: "[--library DIR] [--allow-untrusted]",
		summary: "channels, their served edition and trust, and every archive",
		about:   "Lists the channels of the library, the edition served, and every archive.",
		flags: func(fs *flag.FlagSet) runFunc {
			var o libraryListOptions
			libraryFlag(fs, &o.Library)
			fs.BoolVar(&o.AllowUntrusted, "allow-untrusted", false, "show what would be served with --allow-untrusted")
			return func(ctx context.Context, t *terminal, args []string) error { return runLibraryList(ctx, t, o, args) }
		}})
	register(&command{name: "library remove", usage: "ID|CHANNEL [--library DIR]",
		summary: "delete an archive (by id or id prefix) or a whole channel",
		about:   "Deletes an archive or all archives of a channel. The highest edition seen stays remembered.",
		flags: func(fs *flag.FlagSet) runFunc {
			var dir string
			libraryFlag(fs, &dir)
			return func(ctx context.Context, t *terminal, args []string) error {
				return runLibraryRemove(ctx, t, dir, args)
			}
		}})
}

type libraryListOptions struct {
	Library        string
	AllowUntrusted bool
}

func runLibraryRemove(ctx context.Context, t *terminal, dir string, args []string) error {
	if len(args) != 1 {
		return usagef("give one archive id or channel")
	}
	l, unlock, err := lockLibrary(ctx, t, dir, false)
	if err != nil {
		return err
	}
	defer unlock()
	gone, err := l.Remove(args[0])
	for _, r := range gone {
		t.printf("removed %s edition %d (%s)\n", r.Channel, r.Edition, short(r.ID))
	}
	return err
}

func runLibraryList(ctx context.Context, t *terminal, o libraryListOptions, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	op, err := library.Open(o.Library, library.OpenOptions{AllowUntrusted: o.AllowUntrusted})
	if err != nil {
		return err
	}
	defer op.Close()
	l, err := library.Load(o.Library, false)
	if err != nil {
		return err
	}
	if len(op.Channels) == 0 {
		t.printf("the library is empty; add archives with 'ferry import'\n")
	}
	for _, c := range op.Channels {
		switch {
		case c.View != nil && c.Trusted:
			t.printf("%s: edition %d, %q, %s, trusted (%s)\n", c.Name, c.Edition, c.Title, count(len(c.Chain), "archive"), c.Anchor)
		case c.View != nil:
			t.printf("%s: edition %d, %q, UNTRUSTED (served because of --allow-untrusted): %s\n", c.Name, c.Edition, c.Title, c.Reason)
		case c.Err != nil:
			t.printf("%s: not served: %v\n", c.Name, c.Err)
		default:
			t.printf("%s: edition %d, UNTRUSTED, not served: %s\n", c.Name, c.Edition, c.Reason)
		}
	}
	for _, r := range l.State.Archives {
		kind := "full"
		if r.Base != "" {
			kind = "delta on " + short(r.Base)
		}
		t.printf("  %s  %s edition %d  %s  %s  signed by %s\n", short(r.ID), r.Channel, r.Edition, kind,
			progress.Bytes(r.Size), strings.Join(r.Signers, ", "))
	}
	return nil
}
