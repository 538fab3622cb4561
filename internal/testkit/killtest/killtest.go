// Package killtest runs the test binary again as a child process and kills
// it at a chosen moment, as a power cut or a pulled card would, for tests
// that such a kill leaves nothing broken. The child is told what to do by
// environment variables that the package's TestMain reads.
package killtest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Run starts the test binary with env added to its environment and kills
// it (SIGKILL on Unix) after kill; with kill 0 it lets the child finish
// and logs its output if it fails. It returns the child's error: nil when
// it ran to its end.
func Run(tb testing.TB, env []string, kill time.Duration) error {
	tb.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), env...)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	if kill > 0 {
		t := time.AfterFunc(kill, func() { cmd.Process.Kill() })
		defer t.Stop()
	}
	err := cmd.Wait()
	if err != nil && kill == 0 {
		tb.Logf("child output: %s", out)
	}
	return err
}

// Main is the TestMain of a package with kill tests: when the environment
// variable env is set, this process is a child started by Run and runs
// child with its value, then exits (1, printing the error, if it failed);
// otherwise the tests run. A child runs no test, so no helper test shows
// as skipped in ordinary runs.
func Main(m *testing.M, env string, child func(value string) error) {
	if v := os.Getenv(env); v != "" {
		if err := child(v); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
