package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"sync"

	"ferry/internal/carry/peer"
	"ferry/internal/carry/peer/channel"
	"ferry/internal/library"
	"ferry/internal/progress"
)

func init() {
	register(&command{name: "sync", usage: "--listen [--addr HOST:PORT] | HOST:PORT --code CODE  [--library DIR] [--channel NAME]... [--max SIZE] [--remember]",
		summary: "exchange what the other device lacks, device to device, paired by a short code",
		about: `
Two devices that meet exchange the archives the other lacks, in both
directions, over an encrypted connection, and only the difference: what
each already holds is found without sending lists, and an edition that
replaces an older one is rebuilt from the entries already here plus the
changed ones, ending byte for byte the publisher's signed archive.

On one device run 'ferry sync --listen': it shows a one-time code and a QR
code. On the other run 'ferry sync HOST:PORT --code CODE' with what it
shows (or the QR code's text, FERRY-SYNC:...). Listening is on this device
only (127.0.0.1) unless --addr names another address, e.g. 0.0.0.0:4040 on
a shared Wi-Fi. Only archives signed by keys the library trusts are offered
(--channel chooses which channels) and taken; every archive taken is
checked as 'ferry import' checks it. A sync cut short continues where it
stopped the next time (with this device or another that has the same
archive). With --remember (on both devices) each keeps the other's key in
its library's .sync folder, and later 'ferry sync HOST:PORT' alone
connects to a listening device it remembers, without a code.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o syncOptions
			libraryFlag(fs, &o.Library)
			fs.BoolVar(&o.Listen, "listen", false, "wait for the other device and show a pairing code")
			fs.StringVar(&o.Addr, "addr", "", "with --listen: address to listen on (default "+peer.DefaultAddr+", this device only)")
			fs.StringVar(&o.Code, "code", "", "the code the listening device shows")
			fs.Var(&o.Channels, "channel", "offer only this channel (repeatable; default: every trusted channel)")
			fs.StringVar(&o.Max, "max", "", "take at most SIZE of archives in this sync (e.g. 2GiB)")
			fs.BoolVar(&o.Remember, "remember", false, "remember the other device, to sync again later without a code")
			fs.BoolVar(&o.Stay, "stay", false, "with --listen: keep waiting for more devices after a sync")
			fs.BoolVar(&o.Forget, "forget", false, "forget every remembered device and this device's kept key, then stop")
			fs.StringVar(&o.Policy, "prefer", "time", "time: rebuild changed editions when that is faster than fetching them; bytes: send the fewest bytes")
			return func(ctx context.Context, t *terminal, args []string) error { return runSync(ctx, t, o, args) }
		}})
}

type syncOptions struct {
	Library, Addr, Code, Max, Policy string
	Channels                         stringList
	Listen, Remember, Stay, Forget   bool
}

func runSync(ctx context.Context, t *terminal, o syncOptions, args []string) error {
	if o.Forget {
		if err := peer.Forget(o.Library); err != nil {
			return err
		}
		t.printf("forgot every remembered device\n")
		return nil
	}
	opts := peer.Options{Library: o.Library, Channels: o.Channels, Remember: o.Remember}
	switch o.Policy {
	case "time", "":
	case "bytes":
		opts.Policy = peer.PolicyBytes
	default:
		return usagef("--prefer is time or bytes, not %q", o.Policy)
	}
	if o.Max != "" {
		n, err := parseSize(o.Max)
		if err != nil {
			return usagef("--max: %v", err)
		}
		opts.Max = n
	}
	bars := &syncBars{t: t}
	opts.Progress = bars.event
	if o.Listen {
		if len(args) > 0 || o.Code != "" {
			return usagef("--listen takes no address or code: it shows a code for the other device")
		}
		return runSyncListen(ctx, t, o, opts, bars)
	}
	if o.Addr != "" || o.Stay {
		return usagef("--addr and --stay are for --listen; to connect, give HOST:PORT")
	}
	if o.Code != "" {
		// The code is shown in groups ("7491 0199"); typed without quotes
		// the later groups arrive as arguments of their own.
		var rest []string
		for _, a := range args {
			if a != "" && strings.Trim(a, "0123456789-") == "" {
				o.Code += a
			} else {
				rest = append(rest, a)
			}
		}
		args = rest
	}
	if len(args) != 1 {
		return usagef("give the other device's HOST:PORT (or run 'ferry sync --listen' here)")
	}
	addr, code := args[0], channel.Code("")
	if strings.HasPrefix(strings.ToUpper(addr), "FERRY-SYNC:") {
		p, err := channel.ParsePairingInfo(addr)
		if err != nil {
			return usagef("%v", err)
		}
		addr, code = p.Addr, p.Code
	}
	if o.Code != "" {
		c, err := channel.ParseCode(o.Code)
		if err != nil {
			return usagef("--code: %v", err)
		}
		code = c
	}
	t.printf("connecting to %s...\n", addr)
	sum, err := peer.Dial(ctx, addr, code, opts)
	bars.done()
	return reportSync(t, sum, err)
}

func runSyncListen(ctx context.Context, t *terminal, o syncOptions, opts peer.Options, bars *syncBars) error {
	l, err := peer.Listen(o.Addr, opts)
	if err != nil {
		return err
	}
	defer l.Close()
	if l.Loopback() {
		t.printf("Listening on %s: only this device can connect. To sync with a device on your network, listen on an address it can reach, e.g. --addr 0.0.0.0:4040.\n", l.Addr())
	} else {
		fmt.Fprintf(t.err, "WARNING: listening on %s: any device on your network can try to connect; only one that has the code can pair, and only three tries are allowed.\n", l.Addr())
	}
	p := l.Pairing()
	t.printf("\nOn the other device run:\n\n    ferry sync %s --code %s\n\nor scan this code with its camera:\n\n", p.Addr, p.Code.Display())
	if qr, err := l.QRTerminal(); err == nil {
		t.printf("%s\n", qr)
	}
	if hosts := l.Hosts(); len(hosts) > 1 {
		t.printf("(this device can also be reached at %s)\n", strings.Join(hosts[1:], ", "))
	}
	t.printf("Pairing code: %s — waiting; press Ctrl+C to stop.\n", p.Code.Display())
	for {
		sum, err := l.Serve(ctx)
		bars.done()
		if !o.Stay || errors.Is(err, context.Canceled) || errors.Is(err, channel.ErrTooManyFailures) {
			return reportSync(t, sum, err)
		}
		if rerr := reportSync(t, sum, err); rerr != nil {
			t.warnf("%v", rerr)
		}
		t.printf("waiting for the next device (the code is used up: only remembered devices can connect now)...\n")
	}
}

// reportSync prints a session's notes and its one-line summary.
func reportSync(t *terminal, sum *peer.Summary, err error) error {
	if sum != nil {
		for _, f := range sum.Failed {
			t.warnf("%s edition %d not finished: %v", f.Channel, f.Edition, f.Err)
		}
		if err == nil || len(sum.Received)+len(sum.Sent) > 0 {
			t.printf("sync: %s\n", sum)
		}
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, channel.ErrPairing):
		return fmt.Errorf("%w; check the code and try again", err)
	case errors.Is(err, peer.ErrSealed):
		return fmt.Errorf("%w (a sealed container is read with 'ferry serve --sealed')", err)
	case errors.Is(err, library.ErrNoSpace):
		return err
	}
	if sum != nil && (len(sum.Received) > 0 || len(sum.Failed) > 0) {
		return fmt.Errorf("%w (what arrived is kept; run sync again to continue)", err)
	}
	return err
}

// syncBars shows one progress bar per archive being received or sent.
type syncBars struct {
	t    *terminal
	mu   sync.Mutex
	bars map[string]*progress.Bar
}

func (b *syncBars) event(e peer.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bars == nil {
		b.bars = map[string]*progress.Bar{}
	}
	dir := "sending "
	if e.Receiving {
		dir = "receiving "
	}
	k := dir + e.ID
	switch e.Kind {
	case peer.EventNote:
		b.t.printf("note: %s\n", e.Text)
	case peer.EventStart:
		if old := b.bars[k]; old != nil {
			old.Done()
		}
		b.bars[k] = b.t.bar(dir+e.Label(), true)
		b.bars[k].Update(e.Done, e.Total)
	case peer.EventProgress:
		if bar := b.bars[k]; bar != nil {
			bar.Update(min(e.Done, e.Total), e.Total)
		}
	case peer.EventDone, peer.EventFailed:
		if bar := b.bars[k]; bar != nil {
			if e.Kind == peer.EventDone {
				bar.Update(e.Total, e.Total)
			}
			bar.Done()
			delete(b.bars, k)
		}
		if e.Kind == peer.EventDone && e.Receiving {
			b.t.printf("received %s (%s)\n", clean(e.Label()), progress.Bytes(e.Total))
		}
	}
}

func (b *syncBars) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, bar := range b.bars {
		bar.Done()
		delete(b.bars, k)
	}
}
