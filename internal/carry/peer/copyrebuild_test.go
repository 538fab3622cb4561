package peer

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"ferry/internal/archive"
	"ferry/internal/library"
	"ferry/internal/testkit/packtest"
)

// photoEditions packs two editions of 40 "photos" of random bytes (stored
// uncompressed, several to a cluster); in the second, photo 3 is gone, so
// the clusters after it hold the same photos cut at other places: rebuilt,
// without gaps, from the held edition's uncompressed clusters.
func photoEditions(t *testing.T) (e41, e42 []byte) {
	t.Helper()
	rng := rand.New(rand.NewPCG(17, 4))
	s := fstest.MapFS{}
	for i := range 40 {
		b := make([]byte, 20<<10+rng.IntN(40<<10))
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		s[fmt.Sprintf("img/p%03d.jpg", i)] = &fstest.MapFile{Data: b}
	}
	s["index.html"] = &fstest.MapFile{Data: []byte("<html><head><title>photos</title></head><body>photos</body></html>")}
	e41 = packtest.FS(t, s, archive.Info{Channel: "photos", Edition: 41, Created: time.Unix(1700000000, 0)})
	delete(s, "img/p003.jpg")
	e42 = packtest.FS(t, s, archive.Info{Channel: "photos", Edition: 42, Created: time.Unix(1700000042, 0)})
	return e41, e42
}

// TestRebuildByCopy: uncompressed clusters whose photos the taker holds are
// rebuilt by copying file to file, and the result is edition 42.
func TestRebuildByCopy(t *testing.T) {
	e41, e42 := photoEditions(t)
	a, b := newLib(t), newLib(t)
	addTo(t, a, e42)
	addTo(t, b, e41)
	_, sb := mustSync(t, testOpts(a), testOpts(b))
	if !bytes.Equal(held(t, b)[idHex(t, e42)], e42) {
		t.Fatalf("edition 42 not received byte for byte")
	}
	t.Logf("edition 42: %d bytes; local %d, rebuilt %d, fetched %d", len(e42), sb.Local, sb.Rebuilt, sb.Fetched)
	if sb.Rebuilt == 0 {
		t.Errorf("no cluster was rebuilt")
	}
}

// TestRebuildByCopyDamaged: a damaged photo in the held edition, copied
// into a rebuilt cluster unhashed, fails the library's final check; the
// library is then marked, and the next session hashes what it rebuilds and
// gets edition 42.
func TestRebuildByCopyDamaged(t *testing.T) {
	e41, e42 := photoEditions(t)
	a, b := newLib(t), newLib(t)
	addTo(t, a, e42)
	addTo(t, b, e41)
	path := filepath.Join(b, library.ArchiveDir, idHex(t, e41)+".ferry")
	l41, err := openLocal(path, true)
	if err != nil {
		t.Fatal(err)
	}
	// The entry hashes are kept from before the damage (as they are once
	// computed): computing them now would read the damaged cluster, hashed.
	if err := os.MkdirAll(filepath.Join(b, SyncDir), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := contentHashes(l41, filepath.Join(b, SyncDir)); err != nil {
		t.Fatal(err)
	}
	shared := clusterHashes(t, e42)
	// Damage the middle of a photo in an uncompressed cluster of 41 that
	// 42 does not share (its photos are rebuilt, not copied as a cluster).
	var off int64 = -1
	for _, e := range l41.Lay.Entries {
		c := l41.Lay.Clusters[e.Cluster]
		if !e.Chunked && e.Size > 1024 && !shared[c.Hash] && c.codec() == codecNone {
			off = c.Off + 1 + int64(e.Offset) + e.Size/2
			break
		}
	}
	if off < 0 {
		t.Fatal("no uncompressed cluster of 41 to damage")
	}
	flipByte(t, path, off)

	_, sb := mustSync(t, testOpts(a), testOpts(b))
	t.Logf("first session: %s", sb)
	if len(sb.Received) != 0 || len(sb.Failed) != 1 {
		t.Fatalf("first session: received %d, failed %d; want the archive failed", len(sb.Received), len(sb.Failed))
	}
	if _, err := os.Stat(filepath.Join(b, SyncDir, checkLocalFile)); err != nil {
		t.Fatalf("the library was not marked to hash local copies: %v", err)
	}
	_, sb = mustSync(t, testOpts(a), testOpts(b))
	if len(sb.Received) != 1 || !bytes.Equal(held(t, b)[idHex(t, e42)], e42) {
		t.Fatalf("second session: %s; edition 42 not received byte for byte", sb)
	}
}
