package main

import (
	"context"
	"flag"
	"fmt"

	"ferry/internal/carry/mirror"
	"ferry/internal/progress"
)

func init() {
	register(&command{name: "get", usage: "URL [--library DIR] [--channel NAME]... [--proxy URL] [--allow-untrusted]",
		summary: "fetch the newest editions of trusted channels from a mirror (a few minutes online are enough)",
		about: `
Brings the library's channels up to the newest editions at URL (a
mirror's http(s):// address, or a store folder or s3:// URL). For each
channel signed by a publisher the library trusts (or each one named with
--channel) it fetches the smallest download that reaches the newest
edition from what the library holds — the deltas since, or a full
edition — smallest channels first, so a short connection brings the
most. Each archive is checked against the channel's signed index and
then by the library (signature, trust, no rollback) as 'ferry import'
does. A download that is cut is kept and resumed by the next 'ferry get'.
What it learned (the newest editions) is kept in the library, for the
reader to show.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o getOptions
			libraryFlag(fs, &o.Library)
			fs.Var(&o.Channels, "channel", "get only this channel (repeatable)")
			fs.StringVar(&o.Proxy, "proxy", "", "reach URL through this proxy (http://HOST:PORT or socks5://HOST:PORT)")
			fs.BoolVar(&o.AllowUntrusted, "allow-untrusted", false, "also take archives signed by keys the library does not trust")
			return func(ctx context.Context, t *terminal, args []string) error { return runGet(ctx, t, o, args) }
		}})
}

type getOptions struct {
	Library, Proxy string
	Channels       stringList
	AllowUntrusted bool
}

func runGet(ctx context.Context, t *terminal, o getOptions, args []string) error {
	if len(args) != 1 {
		return usagef("give the mirror's URL (or a store) to get from")
	}
	from, err := mirror.Open(ctx, args[0], mirror.OpenOptions{Proxy: o.Proxy})
	if err != nil {
		return err
	}
	bars := &byteBars{t: t}
	res, err := mirror.Get(ctx, from, mirror.GetOptions{Library: o.Library, Channels: o.Channels,
		AllowUntrusted: o.AllowUntrusted, Progress: bars.update,
		Log: func(s string) { bars.done(); t.warnf("%s", s) }})
	bars.done()
	if res == nil {
		return err
	}
	for _, c := range res.Channels {
		switch {
		case c.Err != nil:
			t.printf("%s: not brought to edition %d (see below)\n", c.Name, c.Latest)
		case c.UpToDate:
			t.printf("%s: up to date (edition %d)\n", c.Name, c.Held)
		case c.Skipped != "":
			t.printf("%s: edition %d not taken: %s\n", c.Name, c.Latest, c.Skipped)
		default:
			var what string
			switch n := len(c.Plan); {
			case c.Plan[0].Delta:
				what = count(n, "delta")
			case n == 1:
				what = "the full edition"
			default:
				// Landing on the chain later deltas build on.
				what = fmt.Sprintf("edition %d and %s after it, so that the next updates are deltas", c.Plan[0].Edition, count(n-1, "delta"))
			}
			t.printf("%s: now at edition %d: fetched %s (%s; the full edition is %s)\n", c.Name, c.Latest, what,
				progress.Bytes(c.PlanBytes), progress.Bytes(c.FullBytes))
		}
	}
	if len(res.Channels) == 0 && err == nil {
		t.printf("none of the channels at %s is signed by a publisher this library trusts: trust one with 'ferry trust add NAME.pub', or name a channel with --channel to see why\n", from)
		return nil
	}
	t.printf("fetched %s\n", progress.Bytes(res.Bytes))
	return err
}
