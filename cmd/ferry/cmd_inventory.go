package main

import (
	"context"
	"encoding/json"
	"os"

	"ferry/internal/carry/card"
	"ferry/internal/library"
)

func init() {
	register(&command{name: "inventory", summary: "write the small file saying what the library holds", run: runInventory})
}

func runInventory(ctx context.Context, args []string) error {
	fs := newFlags("inventory", "[-o FILE] [--library DIR]", `
Writes the inventory of the library (channels, highest editions, archive
ids; no keys, times or names of files) to FILE or standard output. Carry it
to the sender: 'ferry export --since-inventory FILE' then writes only what
is missing.`)
	lib := libraryFlag(fs)
	out := fs.String("o", "", "file to write (default: standard output)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	l, err := library.Load(*lib, false)
	if err != nil {
		return err
	}
	if *out != "" {
		return card.WriteInventory(l, *out)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(l.Inventory())
}
