package library

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry/internal/key"
)

// TestAddFilesOpensOneAtATime: adding a card's archives keeps at most one
// of them open at a time (a card may hold more archives than a process may
// open files), and every file is closed afterwards.
func TestAddFilesOpensOneAtATime(t *testing.T) {
	card := t.TempDir()
	k := must(key.Generate())
	site := smallSite(t)
	var paths []string
	for e := 1; e <= 6; e++ {
		paths = append(paths, packFile(t, card, fmt.Sprintf("ch%d", e), 1, edit(site, "eng.html", fmt.Sprint(e)), k))
	}
	openOnCard := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip("no /proc/self/fd:", err)
		}
		n := 0
		for _, e := range ents {
			if to, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasPrefix(to, card+string(filepath.Separator)) {
				n++
			}
		}
		return n
	}
	l := trustingLibrary(t, t.TempDir(), k.Public())
	most := 0
	res, err := l.AddFiles(context.Background(), paths, AddOptions{Start: func(string, Record) {
		most = max(most, openOnCard())
	}})
	if err != nil || len(res.Added) != len(paths) {
		t.Fatalf("added %d of %d: %v", len(res.Added), len(paths), err)
	}
	if most > 1 {
		t.Errorf("%d archives of the card open at once while adding, want at most 1", most)
	}
	if n := openOnCard(); n != 0 {
		t.Errorf("%d archives of the card still open after AddFiles", n)
	}
}
