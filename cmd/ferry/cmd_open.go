package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"ferry/internal/key"
	"ferry/internal/reader"
)

func init() {
	register(&command{name: "open", usage: "[--browser PATH] [--library DIR]... [PATH...]",
		summary: "serve archives and open them in a private browser window that leaves no profile behind",
		about: `
Like 'ferry serve', on a free loopback port, then starts a browser in a
private window with a new, temporary profile, and when that browser is
closed, stops serving and deletes the profile. Without PATH it opens the
sample library. If no browser is found, or none can start (no screen), it
says so: use 'ferry serve' and your browser's private mode then.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o openOptions
			fs.StringVar(&o.Browser, "browser", "", "browser program to start (default: the first of chromium, chrome, edge, brave, firefox found)")
			libraryPathsFlag(fs, &o.Libraries)
			return func(ctx context.Context, t *terminal, args []string) error {
				return runOpen(ctx, t, o, append(args, o.Libraries...))
			}
		}})
}

type openOptions struct {
	Browser   string
	Libraries stringList
}

// errNoBrowser says that no graphical browser could start.
var errNoBrowser = errors.New("no graphical browser could start here (is there a screen?): run 'ferry serve' instead and open the address it prints in a private window")

func runOpen(ctx context.Context, t *terminal, o openOptions, args []string) error {
	libs := []reader.Library{reader.Sample()}
	var keys []key.Public
	var err error
	if len(args) > 0 {
		var closeLibs func()
		if libs, keys, closeLibs, err = readerLibraries(t, args, false); err != nil {
			return err
		}
		defer closeLibs()
	}
	bin := o.Browser
	if bin == "" {
		bin = findBrowser()
	}
	if bin != "" && !canShowWindows() {
		return errNoBrowser
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	url := "http://" + ln.Addr().String() + "/"
	lowMemory()
	limit, _ := memoryLimit("") // the device's suggestion
	applyMemoryLimit(limit)
	ropts := reader.Options{Trusted: keys, MemoryLimit: limit}
	for _, l := range libs {
		if l.LibraryDir != "" {
			ropts.ShareLibrary = l.LibraryDir // "share with a friend", on loopback
			break
		}
	}
	h := reader.New(libs, ropts)
	defer h.Close()
	cctx, stopCheck := context.WithCancel(ctx)
	defer stopCheck()
	go h.CheckAll(cctx)
	if bin == "" {
		fmt.Fprintln(t.err, "no browser found: open the address below in a private window")
		return serveOn(ctx, t, reader.Listener(ln), h)
	}
	// A neutral name: the folder is visible in the temporary folder while
	// the browser runs.
	profile, err := os.MkdirTemp("", "")
	if err != nil {
		return err
	}
	defer removeProfile(t, profile)
	env, err := privateEnv(profile)
	if err != nil {
		return err
	}
	srv := readerServer(h)
	go srv.Serve(reader.Listener(ln))
	defer srv.Close()
	cmd := exec.CommandContext(ctx, bin, browserArgs(bin, profile, url)...)
	// On Ctrl+C the browser is asked to quit (it cleans up its lock and
	// socket files) and killed only if it has not after 5 s.
	cmd.Cancel = func() error {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			return cmd.Process.Kill() // no interrupt on Windows
		}
		return nil
	}
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = nil, nil // the browser's chatter is not kept
	t.printf("opening %s in a private window; close the browser to stop.\n", url)
	started := time.Now()
	if err := cmd.Run(); err != nil && ctx.Err() == nil {
		if time.Since(started) < 10*time.Second {
			// It ended at once: it could not open a window.
			return fmt.Errorf("%w (%s: %v)", errNoBrowser, filepath.Base(bin), err)
		}
		return fmt.Errorf("browser %s: %w", bin, err)
	}
	return nil
}

// browserArgs starts a private window with its own profile folder, so the
// browser keeps nothing of the session once the folder is deleted.
func browserArgs(bin, profile, url string) []string {
	name := strings.ToLower(filepath.Base(bin))
	if strings.Contains(name, "firefox") {
		return []string{"-no-remote", "-profile", profile, "-private-window", url}
	}
	return []string{"--user-data-dir=" + profile, "--incognito", "--no-first-run", "--no-default-browser-check",
		"--disable-background-networking", "--disable-sync", "--disable-component-update",
		"--disable-breakpad", "--disable-crash-reporter", "--new-window", url}
}

// privateEnv points the browser's other per-user folders (crash reports,
// settings caches, the temporary folder) into the temporary profile, so they
// go when it goes:
// chromium otherwise writes crash-report settings under ~/.config even
// with its own profile folder (found by TestNoTraces).
func privateEnv(profile string) ([]string, error) {
	tmp := filepath.Join(profile, "tmp") // chromium's lock and socket files
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, err
	}
	return []string{
		"XDG_CONFIG_HOME=" + filepath.Join(profile, "config"),
		"XDG_CACHE_HOME=" + filepath.Join(profile, "cache"),
		"XDG_DATA_HOME=" + filepath.Join(profile, "data"),
		"TMPDIR=" + tmp, "TMP=" + tmp, "TEMP=" + tmp,
	}, nil
}

// removeProfile deletes the browser's profile folder, trying again for a
// few seconds: helper processes of the browser may still be writing to it
// just after the main process ends.
func removeProfile(t *terminal, dir string) {
	for i := 0; i < 20; i++ {
		if err := os.RemoveAll(dir); err == nil {
			if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
				return
			}
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.warnf("could not delete the browser's temporary folder %s: delete it yourself", dir)
}

func findBrowser() string {
	for _, c := range browserCandidates() {
		if filepath.IsAbs(c) {
			if _, err := os.Stat(c); err == nil {
				return c
			}
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			return p
		}
	}
	return ""
}
