package card

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ferry/internal/archive"
	"ferry/internal/library"
	"ferry/internal/testkit/killtest"
)

// TestMain runs the test binary as TestKillExport's child when
// FERRY_TEST_EXPORT_LIBRARY is set (an export to be killed midway), and
// the tests otherwise.
func TestMain(m *testing.M) {
	killtest.Main(m, "FERRY_TEST_EXPORT_LIBRARY", func(dir string) error {
		return helperExport(dir, os.Getenv("FERRY_TEST_EXPORT_CARD"))
	})
}

// helperExport exports the library at dir to card, pausing before each
// archive so that a kill lands inside the export.
func helperExport(dir, card string) error {
	l, err := library.Load(dir, false)
	if err != nil {
		return err
	}
	_, err = Export(context.Background(), l, card, ExportOptions{Start: func(library.Record) { time.Sleep(40 * time.Millisecond) }})
	return err
}

// TestKillExport kills an exporting process with SIGKILL at random
// moments (a card pulled, a power cut), checks after each that the card
// is a consistent library whose every listed and final-named archive
// verifies, and that a last run completes the card.
func TestKillExport(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	f := newFixture(t)
	A := trusting(t)
	add(t, A, f.ed1, f.d2, f.d3, f.other)
	card := filepath.Join(t.TempDir(), "card")
	rng := rand.New(rand.NewPCG(7, 8))
	run := func(kill time.Duration) error {
		return killtest.Run(t, []string{"FERRY_TEST_EXPORT_LIBRARY=" + A.Dir, "FERRY_TEST_EXPORT_CARD=" + card}, kill)
	}
	killed := 0
	for i := 0; i < 8; i++ {
		if err := run(time.Duration(5+rng.IntN(90)) * time.Millisecond); err != nil {
			killed++
		}
		cardConsistent(t, card)
	}
	if killed == 0 {
		t.Fatal("no export was killed midway: the test checked nothing")
	}
	if err := run(0); err != nil {
		t.Fatalf("final run: %v", err)
	}
	got := cardConsistent(t, card)
	if len(got.State.Archives) != 4 {
		t.Fatalf("after the final run the card holds %d archives, want 4", len(got.State.Archives))
	}
	t.Logf("%d of 8 exports killed", killed)
}

// cardConsistent checks a card after an interruption: it loads as a
// library (or is not one yet), every archive it lists and every file under
// a final archive name verifies.
func cardConsistent(t *testing.T, card string) *library.Library {
	t.Helper()
	if _, err := os.Stat(filepath.Join(card, library.StateFile)); os.IsNotExist(err) {
		files, _ := filepath.Glob(filepath.Join(card, library.ArchiveDir, "*.ferry"))
		checkArchives(t, files)
		return nil
	}
	l, err := library.Load(card, false)
	if err != nil {
		t.Fatalf("card after interruption: %v", err)
	}
	var listed []string
	for _, r := range l.State.Archives {
		listed = append(listed, l.Path(r))
	}
	checkArchives(t, listed)
	files, _ := filepath.Glob(filepath.Join(card, library.ArchiveDir, "*.ferry"))
	checkArchives(t, files)
	return l
}

func checkArchives(t *testing.T, paths []string) {
	t.Helper()
	for _, p := range paths {
		a, err := archive.OpenFile(p)
		if err == nil {
			err = a.Verify(context.Background(), nil)
			a.Close()
		}
		if err != nil {
			t.Fatalf("%s on the card after a kill: %v", filepath.Base(p), err)
		}
	}
}
