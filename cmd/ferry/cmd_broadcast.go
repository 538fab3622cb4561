package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ferry/internal/carry/broadcast"
	"ferry/internal/key"
	"ferry/internal/progress"
)

func init() {
	registerGroup(&group{name: "broadcast", summary: "send archives as fountain-coded packets, or rebuild them from packets",
		about: `encode cuts archives into RaptorQ packets (a stream file and/or UDP);
receive rebuilds them from any mix of recordings, resuming across runs, and
adds them to the library through the same checks as 'ferry import'.`})
	register(&command{name: "broadcast encode", usage: "[--repair 50%] [--symbol-size N] [--rate BYTES/S] [--rounds N] [--udp GROUP:PORT] [-k NAME.key] -o STREAM ARCHIVE...",
		summary: "cut archives into fountain-coded packets",
		about: `
Cuts each ARCHIVE into RaptorQ encoding symbols and writes them as packets,
the archives interleaved in carousel order, with the signed announcement
repeated in between. Round 0 sends every source symbol and --repair more
repair symbols; each further round sends as many fresh repair symbols. A
receiver needs slightly more than the archive's size in any packets.
The stream file (-o) is length-prefixed packets (docs/broadcast.md); --udp
sends each packet as one UDP datagram, paced by --rate.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o encodeOptions
			fs.StringVar(&o.Repair, "repair", "50%", "repair overhead per round, as a share of the source symbols")
			fs.IntVar(&o.SymbolSize, "symbol-size", 1024, "symbol size in bytes (a packet is 138 bytes more)")
			fs.StringVar(&o.Rate, "rate", "", "send at most BYTES/S (k, M, G suffixes; default: as fast as possible)")
			fs.IntVar(&o.Rounds, "rounds", 1, "number of carousel rounds")
			fs.StringVar(&o.Out, "o", "", "write the packet stream to this file")
			fs.BoolVar(&o.Force, "force", false, "replace the stream file if it exists")
			fs.StringVar(&o.UDP, "udp", "", "also send the packets as UDP datagrams to GROUP:PORT")
			const keyUsage = "sign packets with this key (NAME.key from 'ferry keygen'); default: a fresh key per run, so recordings of different runs do not combine"
			fs.StringVar(&o.Key, "k", "", keyUsage)
			fs.StringVar(&o.Key, "key", "", "same as -k")
			fs.IntVar(&o.Every, "announce-every", 0, "repeat the announcement after this many symbol packets (default: 1/8 of a round, 32..256)")
			return func(ctx context.Context, t *terminal, args []string) error {
				return runBroadcastEncode(ctx, t, o, args)
			}
		}})
	register(&command{name: "broadcast receive", usage: "[--state DIR] [--udp ADDR [--timeout D] [--until-done]] [--trust NAME.pub]... [--library DIR] [STREAM...]",
		summary: "rebuild archives from packets into the library",
		about: `
Collects packets from the STREAM files (recordings, in any number and order)
and/or a UDP socket, and adds each archive to the library as soon as it
decodes, the way 'ferry import' does: it must verify against its
publisher's signature, be signed by a key the library trusts and not be
older than an edition already seen. Only archives the library would take
are collected. Symbols are kept in --state, so a later run with more
recordings continues where this one stopped. Damaged, duplicate, forged and
foreign packets are counted and dropped.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o receiveOptions
			libraryFlag(fs, &o.Library)
			fs.StringVar(&o.State, "state", "", "folder for partial collections (default LIBRARY/.broadcast)")
			fs.StringVar(&o.UDP, "udp", "", "listen for packets on ADDR (host:port; a multicast group is joined)")
			fs.DurationVar(&o.Timeout, "timeout", 0, "with --udp, stop listening after this long (e.g. 10m; default: until interrupted or --until-done)")
			fs.BoolVar(&o.UntilDone, "until-done", false, "with --udp, stop once every archive heard in this run is in the library")
			trustFlag(fs, &o.Trust, "collect only archives signed by this public key (NAME.pub; repeatable)")
			fs.BoolVar(&o.Quiet, "q", false, "print only the final summary")
			return func(ctx context.Context, t *terminal, args []string) error {
				return runBroadcastReceive(ctx, t, o, args)
			}
		}})
}

type encodeOptions struct {
	Repair, Rate, Out, UDP, Key string
	SymbolSize, Rounds, Every   int
	Force                       bool
}

type receiveOptions struct {
	Library, State, UDP string
	Timeout             time.Duration
	UntilDone, Quiet    bool
	Trust               stringList
}

// parseRate reads BYTES/S with an optional k, M or G suffix (powers of 1000).
func parseRate(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	s = strings.TrimSuffix(strings.TrimSuffix(s, "/s"), "B")
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1000, s[:len(s)-1]
	case strings.HasSuffix(s, "M"):
		mult, s = 1000_000, s[:len(s)-1]
	case strings.HasSuffix(s, "G"):
		mult, s = 1000_000_000, s[:len(s)-1]
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0, usagef("bad --rate %q: give bytes per second, e.g. 500k or 2M", s)
	}
	return int64(v * float64(mult)), nil
}

// parsePercent reads "50%" or "0.5".
func parsePercent(s string) (float64, error) {
	if p, ok := strings.CutSuffix(s, "%"); ok {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil || v < 0 {
			return 0, usagef("bad --repair %q: give e.g. 50%%", s)
		}
		return v / 100, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0, usagef("bad --repair %q: give e.g. 50%%", s)
	}
	return v, nil
}

func runBroadcastEncode(ctx context.Context, t *terminal, o encodeOptions, args []string) error {
	pos := args
	repair, symSize, rate, rounds, out, udp, keyFile, every := &o.Repair, &o.SymbolSize, &o.Rate, &o.Rounds, &o.Out, &o.UDP, &o.Key, &o.Every
	if len(pos) == 0 {
		return usagef("give the ARCHIVE(s) to broadcast")
	}
	if *out == "" && *udp == "" {
		return usagef("give -o STREAM and/or --udp GROUP:PORT")
	}
	rep, err := parsePercent(*repair)
	if err != nil {
		return err
	}
	bps, err := parseRate(*rate)
	if err != nil {
		return err
	}
	if *rounds < 1 {
		return usagef("--rounds must be at least 1")
	}
	opts := broadcast.SendOptions{SymbolSize: *symSize, Repair: rep, Rounds: *rounds, AnnounceEvery: *every}
	if *keyFile != "" {
		if opts.Key, err = key.LoadSecret(*keyFile); err != nil {
			return err
		}
	}
	var srcs []*broadcast.Source
	for _, path := range pos {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		s, err := broadcast.NewSource(data, *symSize)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		srcs = append(srcs, s)
	}
	var file *os.File
	var bw *bufWriter
	if *out != "" {
		if err := checkOutput(*out, o.Force); err != nil {
			return err
		}
		if file, err = os.Create(*out); err != nil {
			return err
		}
		defer file.Close()
		bw = &bufWriter{f: file, buf: make([]byte, 0, 1<<20)}
	}
	var conn net.Conn
	if *udp != "" {
		if conn, err = net.Dial("udp", *udp); err != nil {
			return err
		}
		defer conn.Close()
	}
	pace := broadcast.NewPacer(bps)
	var n, bytes int64
	start := time.Now()
	err = broadcast.Send(srcs, opts, func(p []byte) error {
		if err := pace.Wait(ctx, len(p)); err != nil {
			return err
		}
		n++
		bytes += int64(len(p))
		if bw != nil {
			if err := broadcast.WriteStreamPacket(bw, p); err != nil {
				return err
			}
		}
		if conn != nil {
			// One-way: nobody listening (ICMP port unreachable) is normal.
			if _, err := conn.Write(p); err != nil && !errors.Is(err, syscall.ECONNREFUSED) {
				return fmt.Errorf("udp: %w", err)
			}
		}
		return nil
	})
	if err == nil && bw != nil {
		err = bw.flush()
	}
	if err == nil && file != nil {
		if err = file.Sync(); err == nil {
			err = file.Close()
		}
	}
	if err != nil {
		return err
	}
	for _, s := range srcs {
		k := 0
		for b := 0; b < s.Params.SourceBlocks(); b++ {
			k += s.Params.SourceSymbols(b)
		}
		t.printf("%s: %s, K = %d symbols of %d bytes in %s\n", s.Ann.Label(), progress.Bytes(s.Ann.Length), k, s.Params.T, count(s.Params.SourceBlocks(), "block"))
	}
	t.printf("sent %s, %s, in %.1fs\n", count(int(n), "packet"), progress.Bytes(bytes), time.Since(start).Seconds())
	return nil
}

// bufWriter batches small writes to the stream file.
type bufWriter struct {
	f   *os.File
	buf []byte
}

func (b *bufWriter) Write(p []byte) (int, error) {
	if len(b.buf)+len(p) > cap(b.buf) {
		if err := b.flush(); err != nil {
			return 0, err
		}
	}
	if len(p) > cap(b.buf) {
		return b.f.Write(p)
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *bufWriter) flush() error {
	_, err := b.f.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

func runBroadcastReceive(ctx context.Context, t *terminal, o receiveOptions, args []string) error {
	pos, quiet, udp, timeout, untilDone, state, lib := args, &o.Quiet, &o.UDP, &o.Timeout, &o.UntilDone, &o.State, &o.Library
	if len(pos) == 0 && *udp == "" {
		return usagef("give STREAM files and/or --udp ADDR")
	}
	keys, err := key.LoadPublicFiles(o.Trust)
	if err != nil {
		return err
	}
	logf := func(msg string) {
		if !*quiet {
			t.printf("%s\n", msg)
		}
	}
	if *state == "" {
		*state = filepath.Join(*lib, ".broadcast")
	}
	want, deliver := broadcast.IntoLibrary(ctx, *lib, keys, logf)
	r, err := broadcast.NewReceiver(broadcast.ReceiveOptions{State: *state, Want: want, Deliver: deliver, Log: logf})
	if err != nil {
		return err
	}
	defer r.Close()
	report := func() {
		for _, s := range r.Status() {
			switch {
			case s.Done && s.AtDone > 0:
				t.printf("  %s: %s (decoded from %d symbols, K = %d, %.3f×K)\n", s.Name, s.Result, s.AtDone, s.Needed, float64(s.AtDone)/float64(max(1, s.Needed)))
			case s.Done:
				t.printf("  %s: %s\n", s.Name, s.Result)
			case s.Needed == 0:
				t.printf("  %s: announced, no symbols yet\n", s.Name)
			default:
				t.printf("  %s: %d of %d symbols held (%.0f%%)\n", s.Name, s.Held, s.Needed, 100*float64(s.Held)/float64(max(1, s.Needed)))
			}
		}
	}
	for _, path := range pos {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		skipped, err := broadcast.Receive(f, r)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if !*quiet {
			t.printf("%s: read", path)
			if skipped > 0 {
				t.printf(" (%s of damaged framing skipped)", progress.Bytes(skipped))
			}
			t.printf("\n")
			report()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if *udp != "" {
		conn, err := broadcast.ListenUDP(*udp)
		if err != nil {
			return err
		}
		defer conn.Close()
		if !*quiet {
			t.printf("listening on %s\n", conn.LocalAddr())
		}
		uctx := ctx
		if *timeout > 0 {
			var cancel context.CancelFunc
			uctx, cancel = context.WithTimeout(ctx, *timeout)
			defer cancel()
		}
		tick := report
		if *quiet {
			tick = nil
		}
		if err := broadcast.ReceiveUDP(uctx, conn, r, *untilDone, 5*time.Second, tick); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	st := r.Stats()
	t.printf("packets: %d seen, %d kept, %d duplicate, %d damaged, %d forged, %d foreign\n",
		st.Packets, st.Accepted, st.Duplicate, st.Damaged, st.Forged, st.Foreign)
	report()
	return r.Close()
}
