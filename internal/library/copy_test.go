package library

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/testkit/killtest"
	"ferry/internal/trust"
)

var errPulled = errors.New("card pulled out")

// testBackoff is the resume back-off in tests: the test archives are
// smaller than the real 1 MiB, which would make every resume start over.
const testBackoff = 16 << 10

// faultWriter writes the first n bytes it is given, then fails as a card
// pulled out mid-write does.
type faultWriter struct {
	w io.Writer
	n int64
}

func (f *faultWriter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errPulled
	}
	if int64(len(p)) > f.n {
		k, _ := f.w.Write(p[:f.n])
		f.n = 0
		return k, errPulled
	}
	f.n -= int64(len(p))
	return f.w.Write(p)
}

// slowWriter writes in small pieces with pauses, so a test can kill the
// process in the middle of a copy.
type slowWriter struct{ w io.Writer }

func (s slowWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), 4<<10)
		m, err := s.w.Write(p[:k])
		n += m
		if err != nil {
			return n, err
		}
		p = p[k:]
		time.Sleep(time.Millisecond)
	}
	return n, nil
}

func TestCopyFaultsResume(t *testing.T) {
	k, _ := key.Generate()
	src := packFile(t, t.TempDir(), "ray", 1, bigSite(t), k)
	r := openFile(t, src)
	f, _ := os.Open(src)
	defer f.Close()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	ctx := context.Background()
	final := filepath.Join(dir, r.ID()+archiveExt)
	// Each attempt fails after a random number of bytes (up to 1/8 of the
	// archive), so the copy gets there over many interrupted runs.
	faults := 0
	for i := 0; i < 200 && faults < 40; i++ {
		n := rng.Int64N(r.Size() / 8)
		opts := CopyOptions{backoff: testBackoff, wrap: func(w io.Writer) io.Writer { return &faultWriter{w, n} }}
		_, _, err := CopyArchive(ctx, f, r.Size(), r.ID(), dir, opts)
		if err == nil {
			// Done: the archive is complete and verified; start over.
			consistent(t, dir)
			os.Remove(final)
			continue
		}
		if !errors.Is(err, errPulled) {
			t.Fatalf("fault after %d bytes: %v", n, err)
		}
		faults++
		if _, err := os.Stat(final); err == nil {
			t.Fatalf("final file exists after a failed copy")
		}
	}
	if faults < 40 {
		t.Fatalf("only %d faults injected", faults)
	}
	// Damage the kept part of the interrupted copy: the rerun notices and copies again.
	part := filepath.Join(dir, "."+r.ID()+partExt)
	pf, err := os.OpenFile(part, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	pf.WriteAt([]byte("XXXX"), 20)
	pf.Close()
	var last int64
	path, present, err := CopyArchive(ctx, f, r.Size(), r.ID(), dir, CopyOptions{backoff: testBackoff, Progress: func(d, tot int64) { last = d }})
	if err != nil || present || path != final || last != r.Size() {
		t.Fatalf("rerun: %v present=%v progress=%d", err, present, last)
	}
	consistent(t, dir)
	if _, err := os.Stat(part); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("partial file left behind")
	}
	if _, present, err := CopyArchive(ctx, f, r.Size(), r.ID(), dir, CopyOptions{}); err != nil || !present {
		t.Fatalf("copy of a present archive: %v %v", present, err)
	}
	// A resume really resumes: fail at 3/4, then count what the rerun writes.
	dir2 := t.TempDir()
	three := r.Size() * 3 / 4
	CopyArchive(ctx, f, r.Size(), r.ID(), dir2, CopyOptions{backoff: testBackoff, wrap: func(w io.Writer) io.Writer { return &faultWriter{w, three} }})
	var written int64
	counting := func(w io.Writer) io.Writer { return &faultWriter{w, 1 << 62} }
	_, _, err = CopyArchive(ctx, f, r.Size(), r.ID(), dir2, CopyOptions{backoff: testBackoff, wrap: func(w io.Writer) io.Writer {
		cw := counting(w).(*faultWriter)
		return writerFunc(func(p []byte) (int, error) { written += int64(len(p)); return cw.Write(p) })
	}})
	if err != nil || written > r.Size()-three+testBackoff || written == 0 {
		t.Fatalf("resume wrote %d of %d bytes (%v)", written, r.Size(), err)
	}
	// No space: refused before writing, saying how much is missing.
	freeSpaceOf = func(string) (int64, bool) { return 100, true }
	defer func() { freeSpaceOf = freeSpace }()
	_, _, err = CopyArchive(ctx, f, r.Size(), r.ID(), t.TempDir(), CopyOptions{})
	if !errors.Is(err, ErrNoSpace) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("no space: %v", err)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestImportFaultKeepsLibrary: an import interrupted at random points
// never harms what the library already holds, and a rerun completes.
func TestImportFaultKeepsLibrary(t *testing.T) {
	src := t.TempDir()
	k, _ := key.Generate()
	first := packFile(t, src, "udhr", 1, smallSite(t), k)
	second := packFile(t, src, "ray", 1, bigSite(t), k)
	dir := t.TempDir()
	l, _ := Load(dir, true)
	l.State.Trust.Add(trust.Anchor{Label: "p", Keys: []key.Public{k.Public()}, Threshold: 1})
	ctx := context.Background()
	if _, err := l.AddFiles(ctx, []string{first}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	size := openFile(t, second).Size()
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 10; i++ {
		n := rng.Int64N(size / 20)
		_, err := l.AddFiles(ctx, []string{second}, AddOptions{Copy: CopyOptions{backoff: testBackoff, wrap: func(w io.Writer) io.Writer { return &faultWriter{w, n} }}})
		if !errors.Is(err, errPulled) {
			t.Fatalf("import with fault: %v", err)
		}
		if got := consistent(t, dir); len(got.State.Archives) != 1 {
			t.Fatalf("state after fault lists %d archives", len(got.State.Archives))
		}
	}
	if res, err := l.AddFiles(ctx, []string{second}, AddOptions{}); err != nil || len(res.Added) != 1 {
		t.Fatalf("rerun: %+v %v", res, err)
	}
	if got := consistent(t, dir); len(got.State.Archives) != 2 {
		t.Fatalf("after rerun: %d archives", len(got.State.Archives))
	}
}

// TestMain runs the test binary as TestKillImport's child process when
// FERRY_TEST_IMPORT_LIBRARY is set (an import to be killed midway), and
// the tests otherwise. A child started from TestMain runs no test, so no
// helper test shows as skipped in ordinary runs.
func TestMain(m *testing.M) {
	killtest.Main(m, "FERRY_TEST_IMPORT_LIBRARY", func(dir string) error {
		return helperImport(dir, strings.Split(os.Getenv("FERRY_TEST_IMPORT_FILES"), ","))
	})
}

// helperImport imports files into the library at dir slowly, for
// TestKillImport to kill.
func helperImport(dir string, files []string) error {
	l, err := Load(dir, true)
	if err != nil {
		return err
	}
	opts := AddOptions{Copy: CopyOptions{backoff: testBackoff, wrap: func(w io.Writer) io.Writer { return slowWriter{w} }}}
	_, err = l.AddFiles(context.Background(), files, opts)
	return err
}

// TestKillImport kills an importing process with SIGKILL at random moments
// (as a power cut would), then checks the library and completes the import.
func TestKillImport(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	src := t.TempDir()
	k, _ := key.Generate()
	files := []string{packFile(t, src, "udhr", 1, smallSite(t), k),
		packFile(t, src, "ray", 1, bigSite(t), k)}
	dir := t.TempDir()
	l, _ := Load(dir, true)
	l.State.Trust.Add(trust.Anchor{Label: "p", Keys: []key.Public{k.Public()}, Threshold: 1})
	if err := l.Save(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	run := func(kill time.Duration) error {
		return killtest.Run(t, []string{"FERRY_TEST_IMPORT_LIBRARY=" + dir, "FERRY_TEST_IMPORT_FILES=" + strings.Join(files, ",")}, kill)
	}
	killed, partial := 0, 0
	for i := 0; i < 8; i++ {
		if err := run(time.Duration(5+rng.IntN(80)) * time.Millisecond); err != nil {
			killed++
		}
		consistent(t, dir)
		if p, _ := filepath.Glob(filepath.Join(dir, ArchiveDir, ".*"+partExt)); len(p) > 0 {
			partial++
		}
	}
	if err := run(0); err != nil {
		t.Fatalf("final run: %v", err)
	}
	got := consistent(t, dir)
	if len(got.State.Archives) != 2 {
		t.Fatalf("after the final run the library holds %d archives", len(got.State.Archives))
	}
	t.Logf("%d of 8 runs killed, %d of them left a partial copy to resume", killed, partial)
	for _, r := range got.State.Archives {
		a, err := archive.OpenFile(got.Path(r))
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
	}
}

// BenchmarkCopyArchive measures the safe copy (write, fsync, drop cache,
// read back and verify every byte, rename) of the packed Ray Charles folder.
func BenchmarkCopyArchive(b *testing.B) {
	k, _ := key.Generate()
	src := packFile(b, b.TempDir(), "ray", 1, bigSite(b), k)
	r := openFile(b, src)
	f, _ := os.Open(src)
	defer f.Close()
	b.SetBytes(r.Size())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		if _, _, err := CopyArchive(context.Background(), f, r.Size(), r.ID(), dir, CopyOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
