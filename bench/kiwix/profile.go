package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"ferry/internal/reader"
)

// profileServe serves archives with ferry's reader (as `ferry serve` does)
// on a loopback address while writing a CPU profile, so that the load of
// bench/kiwix.sh can be profiled: it stops after -secs or on interrupt.
func profileServe(args []string) error {
	fs := flag.NewFlagSet("profile-serve", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:18490", "loopback address")
	out := fs.String("cpuprofile", "cpu.pprof", "CPU profile to write")
	memOut := fs.String("memprofile", "", "heap profile to write at the end (optional)")
	secs := fs.Int("secs", 30, "stop after this many seconds")
	fs.Parse(args)
	host, _, err := net.SplitHostPort(*addr)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		return fmt.Errorf("profile-serve: -addr must be a loopback address")
	}
	libs, err := reader.OpenPaths(fs.Args())
	if err != nil {
		return err
	}
	defer reader.Close(libs)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: reader.New(libs, reader.Options{}), ReadHeaderTimeout: 10 * time.Second}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go srv.Serve(ln)
	fmt.Fprintf(os.Stderr, "profiling at http://%s/ for %d s\n", *addr, *secs)
	select {
	case <-ctx.Done():
	case <-time.After(time.Duration(*secs) * time.Second):
	}
	pprof.StopCPUProfile()
	if *memOut != "" {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(os.Stderr, "heap in use %d kB, heap sys %d kB, stacks %d kB, runtime total sys %d kB\n",
			ms.HeapInuse>>10, ms.HeapSys>>10, ms.StackSys>>10, ms.Sys>>10)
		if st, err := os.ReadFile("/proc/self/status"); err == nil {
			for _, l := range strings.Split(string(st), "\n") {
				if strings.HasPrefix(l, "VmRSS") || strings.HasPrefix(l, "VmHWM") || strings.HasPrefix(l, "RssAnon") || strings.HasPrefix(l, "RssFile") {
					fmt.Fprintln(os.Stderr, l)
				}
			}
		}
		m, err := os.Create(*memOut)
		if err != nil {
			return err
		}
		if err := pprof.Lookup("heap").WriteTo(m, 0); err != nil {
			return err
		}
		m.Close()
	}
	srv.Close()
	return f.Close()
}
