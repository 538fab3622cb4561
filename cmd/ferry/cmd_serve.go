package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/progress"
	"ferry/internal/reader"
)

func init() {
	register(&command{name: "serve", usage: "[--addr HOST:PORT] [--trust NAME.pub]... [--sealed FILE] [--memory SIZE] [--no-glossary] [--library DIR]... [PATH...]",
		summary: "open archives in a browser on this device (the built-in sample without PATH)",
		about: `
Serves archives (files), folders of archives and libraries (folders made
by 'ferry import': each channel's newest edition with its deltas applied,
only from publishers the library trusts) to a web browser on this device.
Without PATH it serves the sample library built into ferry.
It listens on 127.0.0.1:8080 (or a free port if that is taken) and prints
the address to open. It keeps no log and writes nothing to disk.
Listening on another address needs --addr and lets others on the network
read the library.

The home page's "share with a friend" does what 'ferry sync --listen' does
for the first library folder, once its button is pressed: on this device
only (127.0.0.1), or on the --addr host when that is a network address.

--memory SIZE (e.g. 256MiB) is the memory the reader should stay within:
the Go heap's soft limit (as GOMEMLIMIT) and the caches of archive blocks,
page texts and word notes, all sized from it. Without it the limit is a
quarter of this device's memory (half of a container's limit); on a 1 GB
phone that is 256 MiB. --memory off sets none.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o serveOptions
			fs.StringVar(&o.Addr, "addr", "", "address to listen on (default "+defaultAddr+")")
			libraryPathsFlag(fs, &o.Libraries)
			trustFlag(fs, &o.Trust, "public key file (NAME.pub) of a publisher you trust (repeatable)")
			fs.BoolVar(&o.ArchiveScripts, "archive-scripts", false, "let scripts stored in archives run (off: pages of one archive could read the others)")
			fs.StringVar(&o.Sealed, "sealed", "", "serve the library in this sealed container (asks for the passphrase)")
			fs.BoolVar(&o.AllowUntrusted, "allow-untrusted", false, "in library folders, also show channels signed by keys the library does not trust")
			fs.StringVar(&o.Memory, "memory", "", "stay within SIZE of memory, e.g. 256MiB (default: a quarter of the device's; off: no limit)")
			fs.BoolVar(&o.NoGlossary, "no-glossary", false, "do not mark South Korean loanwords with explanations (the reader cannot turn them on)")
			return func(ctx context.Context, t *terminal, args []string) error {
				return runServe(ctx, t, o, append(args, o.Libraries...))
			}
		}})
}

type serveOptions struct {
	Addr, Sealed, Memory                       string
	Trust, Libraries                           stringList
	ArchiveScripts, AllowUntrusted, NoGlossary bool
}

const defaultAddr = "127.0.0.1:8080"

func runServe(ctx context.Context, t *terminal, o serveOptions, args []string) error {
	pos, sealed, allowUntrusted, addr, scripts := args, &o.Sealed, &o.AllowUntrusted, &o.Addr, &o.ArchiveScripts
	lowMemory()
	limit, err := memoryLimit(o.Memory)
	if err != nil {
		return err
	}
	applyMemoryLimit(limit)
	keys, err := key.LoadPublicFiles(o.Trust)
	if err != nil {
		return err
	}
	libs := []reader.Library{reader.Sample()}
	if *sealed != "" {
		var closeSealed func()
		libs, closeSealed, err = sealedLibraries(t, *sealed)
		if err != nil {
			return err
		}
		defer closeSealed()
		if len(pos) > 0 {
			more, libKeys, closeMore, err := readerLibraries(t, pos, *allowUntrusted)
			if err != nil {
				return err
			}
			defer closeMore()
			libs = append(libs, more...)
			keys = append(keys, libKeys...)
		}
	} else if len(pos) > 0 {
		var libKeys []key.Public
		var closeLibs func()
		libs, libKeys, closeLibs, err = readerLibraries(t, pos, *allowUntrusted)
		if err != nil {
			return err
		}
		defer closeLibs()
		keys = append(keys, libKeys...)
	}
	for _, l := range libs {
		if l.Err != nil {
			t.warnf("%s: %v (shown as broken; the others are served)", l.Path, l.Err)
		}
	}
	ln, err := listen(t, *addr)
	if err != nil {
		return err
	}
	opts := reader.Options{Trusted: keys, ArchiveScripts: *scripts, NoGlossary: o.NoGlossary, MemoryLimit: limit}
	if host, _, err := net.SplitHostPort(*addr); err == nil && host != "" && net.ParseIP(host) == nil {
		// The reader refuses host names it was not told about (DNS rebinding).
		opts.AllowHosts = []string{host}
	}
	for _, l := range libs {
		if l.LibraryDir != "" {
			// "Share with a friend" syncs the first library folder.
			opts.ShareLibrary = l.LibraryDir
			break
		}
	}
	if host, _, err := net.SplitHostPort(*addr); err == nil && host != "" && host != "localhost" {
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			// Told to listen on the network: sharing may too.
			opts.ShareHost = host
		}
	}
	h := reader.New(libs, opts)
	defer h.Close()
	// Damage is found and shown before a damaged page is opened.
	cctx, stopCheck := context.WithCancel(ctx)
	defer stopCheck()
	go h.CheckAll(cctx)
	return serveOn(ctx, t, reader.Listener(ln), h)
}

// memoryLimit reads --memory: a size, "off" (0, no limit), or nothing (the
// device's suggestion, unless GOMEMLIMIT is set: then the runtime keeps
// that and the caches follow it).
func memoryLimit(s string) (int64, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		if os.Getenv("GOMEMLIMIT") != "" {
			if n := debug.SetMemoryLimit(-1); n < math.MaxInt64 {
				return n, nil
			}
			return 0, nil
		}
		return archive.DeviceMemoryLimit(), nil
	case "off", "0":
		return 0, nil
	}
	n, err := parseSize(s)
	if err != nil {
		return 0, usagef("--memory: %v (give e.g. 256MiB, or off)", err)
	}
	if n < minMemory {
		return 0, usagef("--memory %s is too little to serve anything: give at least %s", s, progress.Bytes(minMemory))
	}
	return n, nil
}

// minMemory is the least --memory accepted: the reader's fixed needs (its
// binary, templates, one page in flight) are about this much.
const minMemory = 32 << 20

// applyMemoryLimit sets the Go heap's soft limit and the archive caches
// from limit (0: the defaults, no limit).
func applyMemoryLimit(limit int64) {
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	archive.SetMemoryLimit(limit)
}

// lowMemory makes the garbage collector keep the heap within 1.5 times the
// memory in use instead of 2 (GOGC=50), unless GOGC is set: the reader runs
// on phones and old laptops, and its live memory is mostly bounded caches,
// so the extra collections cost little (docs/benchmarks.md).
func lowMemory() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
}

// listen opens the reader's address. Without an explicit address it uses
// the default loopback port, or any free loopback port if that is taken.
func listen(t *terminal, addr string) (net.Listener, error) {
	if addr == "" {
		ln, err := net.Listen("tcp", defaultAddr)
		if err == nil {
			return ln, nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			return nil, err
		}
		fmt.Fprintf(t.err, "%s is in use; using a free port instead\n", defaultAddr)
		return net.Listen("tcp", "127.0.0.1:0")
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, usagef("--addr must be HOST:PORT, e.g. 127.0.0.1:8080: %v", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		fmt.Fprintf(t.err, "WARNING: listening on %s: anyone on your network can open this library and see what is in it.\n", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w (choose another port with --addr)", addr, err)
	}
	return ln, nil
}

// serveOn serves h on ln until ctx is cancelled.
// readerServer is the HTTP server of serve and open: a client that sends
// its request slowly (slowloris) or a huge header is cut off, and the
// server's own complaints are not logged (no history of what was asked).
func readerServer(h http.Handler) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second,
		MaxHeaderBytes: 64 << 10, ErrorLog: discardLog()}
}

func serveOn(ctx context.Context, t *terminal, ln net.Listener, h http.Handler) error {
	srv := readerServer(h)
	t.printf("ferry is serving at http://%s/ — open it in a browser; press Ctrl+C to stop.\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		t.printf("stopped.\n")
		return nil
	case err := <-errc:
		return err
	}
}
