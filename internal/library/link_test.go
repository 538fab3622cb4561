package library

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/trust"
)

// linkFixture is a library trusting k and an archive file beside it, on
// the same filesystem, as a sync session leaves its assembled archive.
type linkFixture struct {
	dir, src string
	l        *Library
	r        *archive.Reader
	orig     []byte
}

func newLinkFixture(t *testing.T, k *key.Secret, trusted bool) *linkFixture {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "lib")
	var l *Library
	if trusted {
		l = trustingLibrary(t, dir, k.Public())
	} else {
		l = trustingLibrary(t, dir, must(key.Generate()).Public())
	}
	parts := filepath.Join(dir, ".sync")
	if err := os.MkdirAll(parts, 0o700); err != nil {
		t.Fatal(err)
	}
	src := packFile(t, parts, "ray", 3, bigSite(t), k)
	orig, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	return &linkFixture{dir: dir, src: src, l: l, r: openFile(t, src), orig: orig}
}

func (x *linkFixture) add(ctx context.Context) (*AddResult, error) {
	return x.l.Add(ctx, []Arrival{{From: "peer", Path: x.src, Size: int64(len(x.orig))}}, AddOptions{})
}

// leftovers lists what is in the archives folder besides final names
// listed in the state.
func (x *linkFixture) leftovers(t *testing.T) []string {
	t.Helper()
	ents, _ := os.ReadDir(filepath.Join(x.dir, ArchiveDir))
	var out []string
	for _, e := range ents {
		if _, ok := x.l.Record(e.Name()[:len(e.Name())-len(filepath.Ext(e.Name()))]); ok && filepath.Ext(e.Name()) == archiveExt {
			continue
		}
		out = append(out, e.Name())
	}
	return out
}

// unchanged checks the carrier's file is still there, byte for byte.
func (x *linkFixture) unchanged(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(x.src)
	if err != nil || !bytes.Equal(b, x.orig) {
		t.Fatalf("the carrier's file changed (%v)", err)
	}
}

// TestAddPathLinks: an arrival named by a path on the library's filesystem
// becomes the library's file by a hard link (no copy), verified, recorded,
// mode 0644; the carrier's file is untouched and nothing else is left.
func TestAddPathLinks(t *testing.T) {
	k := must(key.Generate())
	x := newLinkFixture(t, k, true)
	if err := os.Chmod(x.src, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := x.add(context.Background())
	if err != nil || len(res.Added) != 1 {
		t.Fatalf("add: %+v %v", res, err)
	}
	l := consistent(t, x.dir)
	rec, ok := l.Record(x.r.ID())
	if !ok {
		t.Fatal("not recorded")
	}
	a, _ := os.Stat(x.src)
	b, err := os.Stat(l.Path(rec))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(a, b) {
		t.Error("the archive was copied, not linked")
	}
	if b.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 as a copy has", b.Mode().Perm())
	}
	if left := x.leftovers(t); len(left) != 0 {
		t.Errorf("left in the archives folder: %v", left)
	}
	x.unchanged(t)
	// The carrier deletes its name; the library's stays.
	if err := os.Remove(x.src); err != nil {
		t.Fatal(err)
	}
	if !l.Holds(rec) {
		t.Error("the library lost the archive when the carrier removed its file")
	}
	// Offered again by path: held, skipped.
	if err := os.WriteFile(x.src, x.orig, 0o600); err != nil {
		t.Fatal(err)
	}
	if res, err := x.add(context.Background()); err != nil || len(res.Skipped) != 1 {
		t.Fatalf("again: %+v %v", res, err)
	}
}

// TestAddPathOtherFilesystem: where no link can be made, the archive is
// copied (resuming nothing it must not) with the same result.
func TestAddPathOtherFilesystem(t *testing.T) {
	k := must(key.Generate())
	x := newLinkFixture(t, k, true)
	old := linkFile
	linkFile = func(string, string) error { return &os.LinkError{Op: "link", Err: syscall.EXDEV} }
	defer func() { linkFile = old }()
	res, err := x.add(context.Background())
	if err != nil || len(res.Added) != 1 {
		t.Fatalf("add: %+v %v", res, err)
	}
	l := consistent(t, x.dir)
	rec, _ := l.Record(x.r.ID())
	a, _ := os.Stat(x.src)
	b, _ := os.Stat(l.Path(rec))
	if os.SameFile(a, b) {
		t.Error("linked although links fail")
	}
	if left := x.leftovers(t); len(left) != 0 {
		t.Errorf("left in the archives folder: %v", left)
	}
	x.unchanged(t)
}

// TestAddPathDamaged: a linked file that does not verify (a disk that lost
// a write in a cluster) is refused as a bad copy; the link is removed, the
// state is unchanged and the carrier's file is untouched.
func TestAddPathDamaged(t *testing.T) {
	k := must(key.Generate())
	x := newLinkFixture(t, k, true)
	m := x.r.Manifest()
	off := m.Data.Offset + m.Data.Length/2
	x.orig[off] ^= 0x40
	if err := os.WriteFile(x.src, x.orig, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := x.add(context.Background())
	if !errors.Is(err, ErrCopy) {
		t.Fatalf("damaged file added or refused for another reason: %v", err)
	}
	l := consistent(t, x.dir)
	if len(l.State.Archives) != 0 {
		t.Errorf("state lists %d archives", len(l.State.Archives))
	}
	if left := x.leftovers(t); len(left) != 0 {
		t.Errorf("left in the archives folder: %v", left)
	}
	x.unchanged(t)
}

// TestAddPathRefused: untrusted archives and rollbacks are refused before
// anything is linked.
func TestAddPathRefused(t *testing.T) {
	k := must(key.Generate())
	x := newLinkFixture(t, k, false)
	if _, err := x.add(context.Background()); !errors.Is(err, trust.ErrUntrusted) {
		t.Fatalf("untrusted: %v", err)
	}
	if left := x.leftovers(t); len(left) != 0 {
		t.Errorf("untrusted: left in the archives folder: %v", left)
	}
	x.unchanged(t)

	y := newLinkFixture(t, k, true)
	y.l.State.Channels["ray"] = &ChannelState{Highest: 4}
	if _, err := y.add(context.Background()); !errors.Is(err, ErrRollback) {
		t.Fatalf("rollback: %v", err)
	}
	if left := y.leftovers(t); len(left) != 0 {
		t.Errorf("rollback: left in the archives folder: %v", left)
	}
	y.unchanged(t)
}

// TestAddPathCanceled: a context ended during the check removes the link.
func TestAddPathCanceled(t *testing.T) {
	k := must(key.Generate())
	x := newLinkFixture(t, k, true)
	ctx, cancel := context.WithCancel(context.Background())
	_, _, err := linkArchive(ctx, x.src, bytes.NewReader(x.orig), int64(len(x.orig)), x.r.ID(), filepath.Join(x.dir, ArchiveDir),
		CopyOptions{VerifyProgress: func(done, total int64) { cancel() }})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled link: %v", err)
	}
	if left := x.leftovers(t); len(left) != 0 {
		t.Errorf("left in the archives folder: %v", left)
	}
	x.unchanged(t)
}

// TestAddPathNotRegular: a path that is not a regular file of the size
// given is refused with a clear error, and nothing is written.
func TestAddPathNotRegular(t *testing.T) {
	k := must(key.Generate())
	x := newLinkFixture(t, k, true)
	ln := filepath.Join(filepath.Dir(x.src), "link.ferry")
	if err := os.Symlink(x.src, ln); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(x.dir, ArchiveDir)
	if _, _, err := linkArchive(context.Background(), ln, bytes.NewReader(x.orig), int64(len(x.orig)), x.r.ID(), dir, CopyOptions{}); err == nil {
		t.Fatal("a symbolic link was linked")
	}
	if _, _, err := linkArchive(context.Background(), x.src, bytes.NewReader(x.orig), int64(len(x.orig))+1, x.r.ID(), dir, CopyOptions{}); err == nil {
		t.Fatal("a file of another size was linked")
	}
	if left := x.leftovers(t); len(left) != 0 {
		t.Errorf("left in the archives folder: %v", left)
	}
	x.unchanged(t)
}

// TestCopyDoesNotResumeALink: a .part left by an interrupted link shares
// the carrier's file; a later copy of the same archive must not write into
// it (it starts a fresh file instead), so the carrier's file stays as it was.
func TestCopyDoesNotResumeALink(t *testing.T) {
	k := must(key.Generate())
	x := newLinkFixture(t, k, true)
	dir := filepath.Join(x.dir, ArchiveDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The carrier's file as a crash may leave it: a tail of zeros.
	damaged := append([]byte{}, x.orig...)
	clear(damaged[len(damaged)/2:])
	if err := os.WriteFile(x.src, damaged, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(x.src, filepath.Join(dir, "."+x.r.ID()+partExt)); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	if _, _, err := CopyArchive(context.Background(), bytes.NewReader(x.orig), int64(len(x.orig)), x.r.ID(), dir, CopyOptions{backoff: testBackoff}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(x.src); !bytes.Equal(b, damaged) {
		t.Fatal("the copy wrote into the carrier's file through the link")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, x.r.ID()+archiveExt)); !bytes.Equal(b, x.orig) {
		t.Fatal("the copy is not the archive")
	}
}
