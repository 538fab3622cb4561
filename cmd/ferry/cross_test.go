package main

import (
	"ferry/internal/release"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCrossCompile builds ferry for other platforms. By default three
// that between them cover every family of platform-specific files and
// both word sizes: windows/386 (32 bits, where an int overflows; the
// Windows files), linux/arm (32-bit ARM) and darwin/arm64 (the macOS
// files). FERRY_CROSS=all builds every release target (release.Targets;
// about 100 CPU-seconds each on a cold cache).
func TestCrossCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no cross-compiling")
	}
	targets := []string{"windows/386", "linux/arm", "darwin/arm64"}
	if os.Getenv("FERRY_CROSS") == "all" {
		targets = nil
		for _, tg := range release.Targets {
			targets = append(targets, tg.String())
		}
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
