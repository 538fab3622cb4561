package library

import (
	"context"
	"errors"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"ferry/internal/key"
	"ferry/internal/trust"
)

// TestStolenKeyHugeEdition: a thief signs edition 2^62 with a certified
// key; the publisher's next edition, signed by a new key and carrying the
// revocation of the stolen one, is accepted (not refused as a rollback),
// the revocation is kept, and the publisher's edition is what is served.
func TestStolenKeyHugeEdition(t *testing.T) {
	src := t.TempDir()
	kr := newRotation()
	k1 := kr.k1
	udhr := smallSite(t)
	thief := packFile(t, src, "udhr", 1<<62, edit(udhr, "eng.html", "forged"), kr.k1, kr.c1)
	good := packFile(t, src, "udhr", 2, edit(udhr, "eng.html", "two"), kr.k2, kr.c2, kr.rev)
	dir := t.TempDir()
	l := trustingLibrary(t, dir, kr.root.Public())
	ctx := context.Background()
	if _, err := l.AddFiles(ctx, []string{thief}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AddFiles(ctx, []string{good}, AddOptions{}); err != nil {
		t.Fatalf("the publisher's edition after a stolen key's: %v", err)
	}
	l2 := consistent(t, dir)
	if !l2.State.Trust.IsRevoked(k1.Public()) {
		t.Fatal("revocation not kept")
	}
	if cs := l2.State.Channels["udhr"]; cs.Highest != 2 {
		t.Errorf("highest edition %d, want 2", cs.Highest)
	}
	o, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if c := o.Channel("udhr"); c.Edition != 2 || !c.Trusted {
		t.Fatalf("served %+v", c)
	}
}

// TestForgedDeltaCannotCarryOldEdition: a card holds the genuine edition 1
// and a delta on it signed by an attacker; the library already has
// edition 2. Edition 1 is refused as a rollback, the delta as untrusted.
func TestForgedDeltaCannotCarryOldEdition(t *testing.T) {
	src := t.TempDir()
	k, attacker := must(key.Generate()), must(key.Generate())
	udhr := smallSite(t)
	ed1 := packFile(t, src, "udhr", 1, udhr, k)
	ed2 := packFile(t, src, "udhr", 2, edit(udhr, "eng.html", "two"), k)
	evil := packFile(t, src, "udhr", 3, edit(udhr, "eng.html", "evil"), attacker)
	forged := deltaFile(t, src, evil, attacker, ed1)
	dir := t.TempDir()
	l := trustingLibrary(t, dir, k.Public())
	ctx := context.Background()
	if _, err := l.AddFiles(ctx, []string{ed2}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err := l.AddFiles(ctx, []string{ed1, forged}, AddOptions{})
	if len(res.Added) != 0 || !errors.Is(err, ErrRollback) || !errors.Is(err, trust.ErrUntrusted) {
		t.Fatalf("added %d, err %v", len(res.Added), err)
	}
}

// TestUntrustedEditionNoLockout: an archive added with AllowUntrusted
// (an attacker's edition 999999 of the channel) does not raise the
// channel's rollback memory: the genuine, trusted edition 1 is still
// accepted and served.
func TestUntrustedEditionNoLockout(t *testing.T) {
	src := t.TempDir()
	k, attacker := must(key.Generate()), must(key.Generate())
	udhr := smallSite(t)
	evil := packFile(t, src, "udhr", 999999, edit(udhr, "eng.html", "evil"), attacker)
	good := packFile(t, src, "udhr", 1, udhr, k)
	dir := t.TempDir()
	l := trustingLibrary(t, dir, k.Public())
	ctx := context.Background()
	if _, err := l.AddFiles(ctx, []string{evil}, AddOptions{AllowUntrusted: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AddFiles(ctx, []string{good}, AddOptions{}); err != nil {
		t.Fatalf("the trusted edition after an untrusted one: %v", err)
	}
	o, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if c := o.Channel("udhr"); c == nil || c.Edition != 1 || !c.Trusted {
		t.Fatalf("served %+v", c)
	}
}

// TestIsRefusal: refusals for what an archive is (untrusted, a rollback,
// not an archive) are told apart from the library failing to write.
func TestIsRefusal(t *testing.T) {
	src := t.TempDir()
	k, other := must(key.Generate()), must(key.Generate())
	udhr := smallSite(t)
	ed1 := packFile(t, src, "udhr", 1, udhr, k)
	ed2 := packFile(t, src, "udhr", 2, edit(udhr, "eng.html", "two"), k)
	stranger := packFile(t, src, "udhr", 3, udhr, other)
	junk := src + "/junk.ferry"
	if err := os.WriteFile(junk, []byte("not an archive at all, just words"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	l := trustingLibrary(t, dir, k.Public())
	if _, err := l.AddFiles(ctx, []string{ed2}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{ed1, stranger, junk} {
		if _, err := l.AddFiles(ctx, []string{p}, AddOptions{}); err == nil || !IsRefusal(err) {
			t.Errorf("%s: %v; IsRefusal false", p, err)
		}
	}
	broken := t.TempDir()
	lb := trustingLibrary(t, broken, k.Public())
	if err := os.WriteFile(broken+"/"+ArchiveDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := lb.AddFiles(ctx, []string{ed1}, AddOptions{}); err == nil || IsRefusal(err) {
		t.Errorf("a library that cannot write: %v; IsRefusal %v", err, IsRefusal(err))
	}
}

// TestEditedStateFile: someone edits library.json to relabel editions and
// channels; what is served follows the signed manifests.
func TestEditedStateFile(t *testing.T) {
	src := t.TempDir()
	k := must(key.Generate())
	udhr := smallSite(t)
	ed1 := packFile(t, src, "udhr", 1, udhr, k)
	ed2 := packFile(t, src, "udhr", 2, edit(udhr, "eng.html", "two"), k)
	dir := t.TempDir()
	l := trustingLibrary(t, dir, k.Public())
	if _, err := l.AddFiles(context.Background(), []string{ed1, ed2}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	for i := range l.State.Archives {
		r := &l.State.Archives[i]
		if r.Edition == 1 {
			r.Edition = 99
		} else {
			r.Edition, r.Channel = 0, "other"
		}
	}
	if err := l.Save(); err != nil {
		t.Fatal(err)
	}
	o, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if c := o.Channel("udhr"); c == nil || c.Edition != 2 || !c.Trusted {
		t.Fatalf("served %+v", c)
	}
	if c := o.Channel("other"); c != nil {
		t.Fatalf("a channel named by the state file only: %+v", c)
	}
}

// TestReimportRepairs: a library copy damaged in place is copied again when
// the same archive is imported from a card.
func TestReimportRepairs(t *testing.T) {
	src := t.TempDir()
	k := must(key.Generate())
	ed1 := packFile(t, src, "udhr", 1, smallSite(t), k)
	dir := t.TempDir()
	l := trustingLibrary(t, dir, k.Public())
	ctx := context.Background()
	if _, err := l.AddFiles(ctx, []string{ed1}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	p := l.Path(l.State.Archives[0])
	f, _ := os.OpenFile(p, os.O_WRONLY, 0)
	f.WriteAt([]byte("DAMAGED!"), 0)
	f.Close()
	res, err := l.AddFiles(ctx, []string{ed1}, AddOptions{})
	if err != nil || len(res.Added) != 1 {
		t.Fatalf("re-import: %+v %v", res, err)
	}
	consistent(t, dir)
}

// TestLockedUpdatesKept: two changes of one library at once (as two ferry
// processes importing would make) both survive: the second waits for the
// first's lock and loads its state.
func TestLockedUpdatesKept(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, label := range []string{"a", "b"} {
		k := must(key.Generate())
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, unlock, err := LoadLocked(context.Background(), dir, true)
			if err != nil {
				errs <- err
				return
			}
			defer unlock()
			time.Sleep(50 * time.Millisecond) // the other one is waiting now
			if err := l.State.Trust.Add(trust.Anchor{Label: label, Keys: []key.Public{k.Public()}, Threshold: 1}); err != nil {
				errs <- err
				return
			}
			errs <- l.Save()
		}()
	}
	wg.Wait()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	l, err := Load(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(l.State.Trust.Anchors); n != 2 {
		t.Errorf("%d of 2 trust anchors kept", n)
	}
}

// TestLockWaitEndsWithContext: waiting for a library another holder has
// locked ends when the context does (Ctrl+C), with an error saying so.
func TestLockWaitEndsWithContext(t *testing.T) {
	dir := t.TempDir()
	_, unlock, err := LoadLocked(context.Background(), dir, true)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if runtime.GOOS == "windows" {
		t.Skip("folders are not locked on Windows")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, u, err := LoadLocked(ctx, dir, true)
		if err == nil {
			u()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "another ferry") {
			t.Fatalf("waiting for a held lock: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the wait for the lock did not end with its context")
	}
}
