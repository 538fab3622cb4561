package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestStaticcheck runs staticcheck over the whole module, when it is
// installed (.ci/run installs it): its findings fail the suite.
func TestStaticcheck(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: staticcheck not run")
	}
	bin, err := exec.LookPath("staticcheck")
	if err != nil {
		gopath := os.Getenv("GOPATH")
		if gopath == "" {
			gopath = filepath.Join(os.Getenv("HOME"), "go")
		}
		bin = filepath.Join(gopath, "bin", "staticcheck")
		if runtime.GOOS == "windows" {
			bin += ".exe"
		}
		if _, err := os.Stat(bin); err != nil {
			t.Skip("staticcheck is not installed: go install honnef.co/go/tools/cmd/staticcheck@v0.8.2")
		}
	}
	cmd := exec.Command(bin, "./...")
	cmd.Dir = filepath.Join("..", "..")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("staticcheck found problems:\n%s", strings.TrimSpace(string(out)))
	}
}
