package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// releaseTargets are the platforms ferry is built for (docs/release.md).
var releaseTargets = []string{
	"linux/amd64", "linux/arm64", "linux/arm", "linux/386",
	"windows/amd64", "windows/arm64", "windows/386",
	"darwin/amd64", "darwin/arm64", "android/arm64",
}

// TestCrossCompile builds ferry for other platforms. By default the one
// that catches the most, windows/386 (32 bits: an int that overflows
// there; Windows-only files); FERRY_CROSS=all builds every release target
// (about a CPU-minute each on a cold cache).
func TestCrossCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no cross-compiling")
	}
	targets := []string{"windows/386"}
	if os.Getenv("FERRY_CROSS") == "all" {
		targets = releaseTargets
	}
	for _, tg := range targets {
		goos, goarch, _ := strings.Cut(tg, "/")
		t.Run(strings.ReplaceAll(tg, "/", "-"), func(t *testing.T) {
			cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(t.TempDir(), "ferry"), ".")
			cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0")
			if goarch == "arm" {
				cmd.Env = append(cmd.Env, "GOARM=7")
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("GOOS=%s GOARCH=%s go build: %v\n%s", goos, goarch, err, out)
			}
		})
	}
}
