// Package shared finds the shared real-world test content (../shared/testdata
// beside the repository) for tests. The files there are other people's work:
// tests read them in place and never copy them into the repository.
package shared

import (
	"os"
	"path/filepath"
	"testing"
)

// Root returns the shared test data folder, or "" when it is absent.
// FERRY_TESTDATA overrides the search.
func Root() string {
	if d := os.Getenv("FERRY_TESTDATA"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			cand := filepath.Join(dir, "..", "shared", "testdata")
			if st, err := os.Stat(cand); err == nil && st.IsDir() {
				return cand
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Path returns the path of name inside the shared test data, skipping the
// test with a message saying what is missing when it is not there.
func Path(tb testing.TB, name string) string {
	tb.Helper()
	root := Root()
	if root == "" {
		tb.Skip("shared test data not found: place the project's shared/testdata beside the repository (../shared/testdata) or set FERRY_TESTDATA")
	}
	p := filepath.Join(root, filepath.FromSlash(name))
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared test data %s not found: %v", name, err)
	}
	return p
}
