package main

import (
	"context"
	"encoding/json"
	"flag"

	"ferry/internal/carry/card"
	"ferry/internal/library"
)

func init() {
	register(&command{name: "inventory", usage: "[-o FILE] [--library DIR]",
		summary: "write the small file saying what the library holds",
		about: `
Writes the inventory of the library (channels, highest editions, archive
ids; no keys, times or names of files) to FILE or standard output. Carry it
to the sender: 'ferry export --since-inventory FILE' then writes only what
is missing.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o inventoryOptions
			libraryFlag(fs, &o.Library)
			fs.StringVar(&o.Out, "o", "", "file to write (default: standard output)")
			return func(ctx context.Context, t *terminal, args []string) error { return runInventory(ctx, t, o, args) }
		}})
}

type inventoryOptions struct{ Library, Out string }

func runInventory(ctx context.Context, t *terminal, o inventoryOptions, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	l, err := library.Load(o.Library, false)
	if err != nil {
		return err
	}
	if o.Out != "" {
		return card.WriteInventory(l, o.Out)
	}
	enc := json.NewEncoder(t.out)
	enc.SetIndent("", "  ")
	return enc.Encode(l.Inventory())
}
