// Package browser starts Debian's chromium, headless, for tests that drive
// a real browser with chromedp. Tests skip, saying how to install it, when
// chromium is missing.
package browser

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Path returns the chromium binary, or "".
func Path() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// New starts a headless chromium with an empty profile in a temporary
// folder and returns a chromedp context for it, cancelled when the test
// ends (after at most timeout). The browser reaches nothing but what the
// test points it at.
func New(tb testing.TB, timeout time.Duration) context.Context {
	tb.Helper()
	return NewWith(tb, timeout, Options{})
}

// Options choose where the browser keeps its profile and what environment
// it gets.
type Options struct {
	Profile string   // profile folder (default: a test temporary folder)
	Env     []string // extra environment variables, e.g. HOME=...
}

// NewWith is New with options.
func NewWith(tb testing.TB, timeout time.Duration, o Options) context.Context {
	tb.Helper()
	bin := Path()
	if bin == "" {
		tb.Skip("chromium is not installed: apt-get install chromium (browser tests skipped)")
	}
	profile := o.Profile
	if profile == "" {
		profile = tb.TempDir()
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(profile),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("allow-file-access-from-files", true),
		chromedp.Flag("disable-breakpad", true),
		chromedp.Flag("disable-crash-reporter", true),
		chromedp.WindowSize(390, 844),
	}
	if len(o.Env) > 0 {
		opts = append(opts, chromedp.Env(o.Env...))
	}
	if os.Getenv("FERRY_BROWSER_WIDE") != "" {
		opts = append(opts, chromedp.WindowSize(1280, 900))
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	// The first run starts the browser and must not carry the timeout.
	if err := chromedp.Do(ctx); err != nil {
		cancelC()
		cancelA()
		tb.Fatalf("starting chromium: %v", err)
	}
	tctx, cancelT := context.WithTimeout(ctx, timeout)
	tb.Cleanup(func() {
		cancelT()
		cancelC()
		cancelA()
	})
	return tctx
}

// DisableScripts turns JavaScript off in the page of ctx.
func DisableScripts() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return chromedp.Void{}, err
	}
}
