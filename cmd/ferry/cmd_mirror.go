package main

import (
	"context"
	"flag"
	"fmt"
	"net"

	"ferry/internal/carry/mirror"
	"ferry/internal/key"
	"ferry/internal/progress"
	"ferry/internal/store"
)

func init() {
	registerGroup(&group{name: "mirror", summary: "serve a publisher's store over HTTP, or keep a mirror of one",
		about: `serve offers a store (a folder or s3://BUCKET/PREFIX) to card writers,
other mirrors and readers: an OPDS catalogue, the signed channel indexes
and the archives, with byte ranges. pull keeps a verified copy of a
store or mirror in a folder, which can be served in turn.`})
	register(&command{name: "mirror serve", usage: "STORE [--addr HOST:PORT] [--url PUBLIC_URL]",
		summary: "serve a store over HTTP (OPDS catalogue, channel indexes, archives)",
		about: `
Serves STORE read-only over HTTP: the OPDS 1.2 catalogue at / (Kiwix's
catalogue clients read it), channels.json, each channel's signed
index.json, and the archives and WARCs an index names, with byte ranges
and ETags so downloads resume. Objects no index names are not served. It
listens on 127.0.0.1:8088 unless --addr says otherwise; --url gives the
address readers use (for the catalogue's links) when it differs.
An s3:// STORE takes its endpoint and keys from the AWS_* variables.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o mirrorServeOptions
			fs.StringVar(&o.Addr, "addr", "127.0.0.1:8088", "address to listen on")
			fs.StringVar(&o.URL, "url", "", "the mirror's public URL, for the catalogue's links (default: from each request)")
			return func(ctx context.Context, t *terminal, args []string) error { return runMirrorServe(ctx, t, o, args) }
		}})
	register(&command{name: "mirror pull", usage: "URL DIR [--channel NAME]... [--trust NAME.pub]... [--proxy URL]",
		summary: "keep a full, verified mirror of a store or mirror in a folder",
		about: `
Copies into DIR every archive and WARC that the channels' signed indexes
at URL name (a mirror's http(s):// URL, a store folder or s3:// URL), each
checked against its index's size and SHA-256; then the indexes, the
channel list and the catalogue, so DIR never names an object it lacks.
What DIR holds intact is not fetched again, and a cut download resumes.
With --trust, only indexes signed by those keys are taken. DIR can be
served with 'ferry mirror serve DIR'.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o mirrorPullOptions
			fs.Var(&o.Channels, "channel", "pull only this channel (repeatable)")
			trustFlag(fs, &o.Trust, "public key file (NAME.pub): take only indexes it signed (repeatable)")
			fs.StringVar(&o.Proxy, "proxy", "", "reach URL through this proxy (http://HOST:PORT or socks5://HOST:PORT)")
			return func(ctx context.Context, t *terminal, args []string) error { return runMirrorPull(ctx, t, o, args) }
		}})
}

type mirrorServeOptions struct{ Addr, URL string }

func runMirrorServe(ctx context.Context, t *terminal, o mirrorServeOptions, args []string) error {
	if len(args) != 1 {
		return usagef("give the store to serve: a folder or s3://BUCKET/PREFIX")
	}
	st, err := store.Open(ctx, args[0], store.Options{})
	if err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(o.Addr); err != nil {
		return usagef("--addr must be HOST:PORT, e.g. 127.0.0.1:8088: %v", err)
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w (choose another with --addr)", o.Addr, err)
	}
	h := mirror.Handler(st, mirror.ServeOptions{BaseURL: o.URL, Log: func(s string) { t.warnf("%s", s) }})
	t.printf("serving %s; its OPDS catalogue is at http://%s/\n", st, ln.Addr())
	return serveOn(ctx, t, ln, h)
}

type mirrorPullOptions struct {
	Channels, Trust stringList
	Proxy           string
}

func runMirrorPull(ctx context.Context, t *terminal, o mirrorPullOptions, args []string) error {
	if len(args) != 2 {
		return usagef("give the URL (or store) to mirror and the folder to keep the mirror in")
	}
	keys, err := key.LoadPublicFiles(o.Trust)
	if err != nil {
		return err
	}
	from, err := mirror.Open(ctx, args[0], mirror.OpenOptions{Proxy: o.Proxy})
	if err != nil {
		return err
	}
	bars := &byteBars{t: t}
	res, err := mirror.Pull(ctx, from, args[1], mirror.PullOptions{Channels: o.Channels, Trust: keys,
		Progress: bars.update, Log: func(s string) { bars.done(); t.warnf("%s", s) }})
	bars.done()
	if res != nil {
		t.printf("%s mirrored in %s: %d of %d objects fetched (%s), the rest were there\n", count(res.Channels, "channel"),
			args[1], res.Fetched, res.Objects, progress.Bytes(res.Bytes))
	}
	return err
}

// byteBars shows one bar per download.
type byteBars struct {
	t     *terminal
	label string
	bar   *progress.Bar
}

func (b *byteBars) update(label string, done, total int64) {
	if label != b.label {
		b.done()
		b.label = label
		b.bar = b.t.bar(label, true)
	}
	b.bar.Update(done, total)
}

func (b *byteBars) done() {
	if b.bar != nil {
		b.bar.Done()
		b.bar, b.label = nil, ""
	}
}
