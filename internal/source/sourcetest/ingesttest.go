// Package sourcetest holds what the tests of every ingest source check the
// same way: walking a source (unique, clean paths) and reading an entry
// (its bytes match its declared size).
package sourcetest

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"testing"

	"ferry/internal/source"
)

// Walked is every entry a source yielded, by path and in walk order.
type Walked struct {
	Entries map[string]source.Entry
	Order   []string
}

// Walk walks s, failing the test on an error, a duplicate path or a path
// that is not clean and relative.
func Walk(tb testing.TB, s source.Source) Walked {
	tb.Helper()
	w := Walked{Entries: map[string]source.Entry{}}
	err := s.Walk(context.Background(), func(e source.Entry) error {
		if _, dup := w.Entries[e.Path]; dup {
			return fmt.Errorf("duplicate path %q", e.Path)
		}
		if p := e.Path; p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p || strings.HasPrefix(p, "../") || p == ".." {
			return fmt.Errorf("unclean path %q", p)
		}
		w.Entries[e.Path] = e
		w.Order = append(w.Order, e.Path)
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return w
}

// Read returns an entry's content, failing the test if it cannot be read
// or its length differs from the size the entry declared.
func Read(tb testing.TB, e source.Entry) []byte {
	tb.Helper()
	rc, err := e.Open()
	if err != nil {
		tb.Fatalf("%s: %v", e.Path, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		tb.Fatalf("%s: %v", e.Path, err)
	}
	if e.Size >= 0 && int64(len(b)) != e.Size {
		tb.Errorf("%s: Size %d, read %d bytes", e.Path, e.Size, len(b))
	}
	return b
}
