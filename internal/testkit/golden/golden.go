// Package golden checks test vectors committed under a package's testdata/
// against what the test's own writer makes, and rewrites them when the
// test runs with -update (restic's and the Go tree's habit): a vector of
// our making can never drift from the code that documents how it is made.
package golden

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

// Update is the -update flag of every test binary that imports golden.
var Update = flag.Bool("update", false, "rewrite the committed test vectors in testdata/ from their writers")

// Check compares the file at path with want: with -update it writes want
// there instead.
func Check(tb testing.TB, path string, want []byte) {
	tb.Helper()
	if *Update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			tb.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("%v (run the test with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		tb.Errorf("%s differs from what its writer makes now: if the change is meant, run the test with -update and commit the file", path)
	}
}
