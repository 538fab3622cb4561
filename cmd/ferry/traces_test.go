package main

import (
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"ferry/internal/testkit/browser"
)

// buildFerry builds the command once per test binary.
func buildFerry(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ferry")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type fileState struct {
	size  int64
	mtime time.Time
}

// snapshot lists every file and folder under the roots.
func snapshot(t *testing.T, roots ...string) map[string]fileState {
	t.Helper()
	m := map[string]fileState{}
	for _, root := range roots {
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if info, err := d.Info(); err == nil {
				m[p] = fileState{info.Size(), info.ModTime()}
			}
			return nil
		})
	}
	return m
}

// TestNoTraces runs a whole reading session — ferry serve driven by
// chromium — with HOME, TMPDIR, the working folder and the browser profile
// in temporary folders, and checks that nothing was created or changed in
// any of them but the browser's own profile, which is deleted at the end.
func TestNoTraces(t *testing.T) {
	if browser.Path() == "" {
		t.Skip("chromium is not installed: apt-get install chromium (browser tests skipped)")
	}
	bin := buildFerry(t)
	home, tmp, work := t.TempDir(), t.TempDir(), t.TempDir()
	profile := filepath.Join(tmp, "browser-profile")
	before := snapshot(t, home, tmp, work)

	addr := freePort(t)
	cmd := exec.Command(bin, "serve", "--addr", addr)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "HOME="+home, "TMPDIR="+tmp, "XDG_CACHE_HOME=", "XDG_CONFIG_HOME=")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cmd.Process.Signal(syscall.SIGINT)
			cmd.Wait()
		}
	}
	defer stop()
	base := "http://" + addr
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			break
		}
		if i > 100 {
			t.Fatalf("ferry serve did not start: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}

	func() {
		env, err := privateEnv(profile)
		if err != nil {
			t.Fatal(err)
		}
		ctx := browser.NewWith(t, 90*time.Second, browser.Options{Profile: profile,
			Env: append([]string{"HOME=" + home, "TMPDIR=" + tmp}, env...)})
		if err := chromedp.Do(ctx,
			chromedp.Navigate(base+"/?lang=ko"),
			chromedp.Navigate(base+"/search?q="+"권리&lang=ko"),
			chromedp.WaitVisible(`body`),
			chromedp.Navigate(base+"/a/sample/"),
			chromedp.WaitVisible(`body`),
		); err != nil {
			t.Fatal(err)
		}
		text, err := chromedp.Run(ctx, chromedp.Text(`body`))
		if err != nil || len(text) < 50 {
			t.Fatalf("no article shown: %q %v", text, err)
		}
		// Close the browser and wait for it to exit.
		if err := chromedp.Cancel(ctx); err != nil {
			t.Logf("closing chromium: %v", err)
		}
	}()
	stop()
	if err := os.RemoveAll(profile); err != nil {
		t.Fatal(err)
	}
	after := snapshot(t, home, tmp, work)
	var changed []string
	for p, st := range after {
		if b, ok := before[p]; !ok {
			changed = append(changed, "created "+p)
		} else if b != st && p != home && p != tmp && p != work {
			changed = append(changed, "modified "+p)
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			changed = append(changed, "deleted "+p)
		}
	}
	if len(changed) > 0 {
		t.Fatalf("the session left traces:\n%s", strings.Join(changed, "\n"))
	}
	t.Logf("session over: nothing created or changed under HOME, TMPDIR or the working folder (%d entries checked)", len(after))
}

// TestOpenDeletesProfile runs 'ferry open' with a stand-in browser (this
// test binary) that fetches the page it is given, and checks the profile
// folder existed while it ran and is gone afterwards.
func TestOpenDeletesProfile(t *testing.T) {
	if os.Getenv("FERRY_FAKE_BROWSER") != "" {
		return
	}
	bin := buildFerry(t)
	tmp := t.TempDir()
	report := filepath.Join(t.TempDir(), "report")
	self, _ := os.Executable()
	cmd := exec.Command(bin, "open", "--browser", self)
	// A screen, as far as ferry can tell (the stand-in browser needs none).
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp, "FERRY_FAKE_BROWSER="+report, "DISPLAY=:0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ferry open: %v\n%s", err, out)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var status int
	var profile string
	if _, err := fmt.Sscanf(string(b), "%d %s", &status, &profile); err != nil {
		t.Fatalf("report %q: %v", b, err)
	}
	if status != 200 || !strings.HasPrefix(profile, tmp) {
		t.Fatalf("browser saw status %d, profile %q", status, profile)
	}
	if _, err := os.Stat(profile); !os.IsNotExist(err) {
		t.Fatalf("profile %s still exists", profile)
	}
	if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
		t.Fatalf("left in TMPDIR: %v", ents)
	}
}

// TestMain lets this test binary act as the stand-in browser.
func TestMain(m *testing.M) {
	if report := os.Getenv("FERRY_FAKE_BROWSER"); report != "" && len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-test.") {
		fakeBrowser(report, os.Args[1:])
		return
	}
	os.Exit(m.Run())
}

func fakeBrowser(report string, args []string) {
	var profile, url string
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--user-data-dir="); ok {
			profile = v
		}
		if strings.HasPrefix(a, "http://") {
			url = a
		}
	}
	status := 0
	if st, err := os.Stat(profile); err == nil && st.IsDir() {
		if resp, err := http.Get(url); err == nil {
			status = resp.StatusCode
			resp.Body.Close()
		}
	}
	// Like chromium, leave lock files in the temporary folder it is given.
	os.WriteFile(filepath.Join(os.TempDir(), "SingletonLock"), nil, 0o600)
	os.WriteFile(report, []byte(fmt.Sprintf("%d %s\n", status, profile)), 0o644)
	os.Exit(0)
}

// TestOpenWithoutScreen: with no display, 'ferry open' says that no
// graphical browser can start and to use 'ferry serve' (it ended with
// "browser /usr/bin/chromium: exit status 1").
func TestOpenWithoutScreen(t *testing.T) {
	c := newCLI(t)
	self, _ := os.Executable()
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	out := c.run(1, "", "open", "--browser", self)
	if !strings.Contains(out, "ferry serve") || !strings.Contains(out, "no graphical browser") {
		t.Errorf("message: %s", out)
	}
}
