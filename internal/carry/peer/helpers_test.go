package peer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"ferry/internal/archive"
	"ferry/internal/carry/peer/channel"
	"ferry/internal/key"
	"ferry/internal/library"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/packtest"
	"ferry/internal/trust"
)

// newLib makes an empty library that trusts the test publisher key.
func newLib(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lib")
	l, err := library.Load(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.State.Trust.Add(trust.Anchor{Label: "pub", Keys: []key.Public{packtest.Key(t).Public()}, Threshold: 1}); err != nil {
		t.Fatal(err)
	}
	if err := l.Save(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// addTo adds archive bytes to a library through its door.
func addTo(t testing.TB, dir string, archives ...[]byte) {
	t.Helper()
	var in []library.Arrival
	for _, b := range archives {
		in = append(in, library.Arrival{From: "test", R: bytes.NewReader(b), Size: int64(len(b))})
	}
	if _, err := library.AddTo(context.Background(), dir, in, library.AddOptions{}); err != nil {
		t.Fatal(err)
	}
}

// held returns the archive files of a library, id -> bytes.
func held(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	l, err := library.Load(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, r := range l.State.Archives {
		b, err := os.ReadFile(l.Path(r))
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(idOf(t, b)) != r.ID {
			t.Fatalf("library file %s is not archive %s", r.File, r.ID)
		}
		out[r.ID] = b
	}
	return out
}

func idOf(t testing.TB, b []byte) []byte {
	t.Helper()
	r := packtest.Open(t, b)
	h := sha256.Sum256(r.ManifestBytes())
	return h[:]
}

func idHex(t testing.TB, b []byte) string { return hex.EncodeToString(idOf(t, b)) }

func ids(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// site packs a corpus site as an edition.
func site(t testing.TB, opts corpus.Options, channel string, edition uint64) (fstest.MapFS, []byte) {
	t.Helper()
	s, err := corpus.Site(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, packtest.FS(t, s, archive.Info{Channel: channel, Edition: edition, Created: time.Unix(1700000000, 0)})
}

// edit packs the next edition of a site.
func edit(t testing.TB, s fstest.MapFS, opts corpus.Options, every int, removed []int, added int, channel string, edition uint64) (fstest.MapFS, []byte) {
	t.Helper()
	n, _, err := corpus.Edit(s, opts, every, removed, added)
	if err != nil {
		t.Fatal(err)
	}
	return n, packtest.FS(t, n, archive.Info{Channel: channel, Edition: edition, Created: time.Unix(1700000000+int64(edition), 0)})
}

// testOpts are fast timeouts for loopback tests.
func testOpts(lib string) Options {
	return Options{Library: lib, HandshakeTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, StallTimeout: 20 * time.Second}
}

// pairSync runs one session between two libraries over loopback: a
// listens, b dials with the code.
func pairSync(t testing.TB, a, b Options) (sa, sb *Summary, ea, eb error) {
	t.Helper()
	l, err := Listen("127.0.0.1:0", a)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sa, ea = l.Serve(ctx)
	}()
	sb, eb = Dial(ctx, l.Addr().String(), l.Pairing().Code, b)
	wg.Wait()
	return
}

// mustSync is pairSync that fails the test on any error.
func mustSync(t testing.TB, a, b Options) (sa, sb *Summary) {
	t.Helper()
	sa, sb, ea, eb := pairSync(t, a, b)
	if ea != nil || eb != nil {
		t.Fatalf("sync: listener: %v; dialler: %v", ea, eb)
	}
	return sa, sb
}

var _ = channel.Code("")

// clusterHashes is the set of the stored cluster hashes of the archive b.
func clusterHashes(t *testing.T, b []byte) map[[32]byte]bool {
	t.Helper()
	p := filepath.Join(t.TempDir(), "archive.ferry")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := openLocal(p, false)
	if err != nil {
		t.Fatal(err)
	}
	set := map[[32]byte]bool{}
	for _, c := range l.Lay.Clusters {
		set[c.Hash] = true
	}
	return set
}

// flipByte damages the file at path by changing its byte at off.
func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var one [1]byte
	if _, err := f.ReadAt(one[:], off); err != nil {
		t.Fatal(err)
	}
	one[0] ^= 0x55
	if _, err := f.WriteAt(one[:], off); err != nil {
		t.Fatal(err)
	}
}
