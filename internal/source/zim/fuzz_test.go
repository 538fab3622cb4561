package zim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"ferry/internal/source"
)

// seeds are the package's own vectors (a few KiB together) and, cut
// short, the first of them: small seeds keep the fuzzer at thousands of
// executions per second. The real files of the shared test data are too
// big to be useful seeds (hundreds of KiB each).
func seeds(f *testing.F) [][]byte {
	var out [][]byte
	for _, name := range []string{
		"testdata/v5-old-xz.zim", "testdata/v6.0-old-zlib.zim",
		"testdata/v6.1-new-zstd.zim", "testdata/v6.3-new-xz-listings.zim",
	} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// fuzzOptions keep memory small so the fuzzer finds logic bugs, not limits.
// Clusters over 256 bytes are read as streams, so that path is fuzzed too.
var fuzzOptions = Options{MaxClusterSize: 4 << 20, CacheClusters: 2, CacheBytes: 8 << 20, streamAbove: 256}

// fuzzMaxEntries caps the entries one fuzz input walks.
const fuzzMaxEntries = 256

var errEnough = errors.New("enough entries for one fuzz input")

// FuzzOpen opens arbitrary bytes as a ZIM file, walks every entry and reads
// all content, metadata and listings. Errors are fine; panics, hangs and
// runaway allocations are bugs.
func FuzzOpen(f *testing.F) {
	for _, b := range seeds(f) {
		f.Add(b)
		if len(b) > 200 {
			f.Add(b[:len(b)/2])
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := OpenOptions(bytes.NewReader(b), int64(len(b)), fuzzOptions)
		if err != nil {
			return
		}
		a.Verify(context.Background())
		a.TitleOrder()
		a.FrontArticles()
		if e, err := a.MainPage(); err == nil {
			a.Content(e)
		}
		s, err := NewSource(a)
		if err != nil {
			return
		}
		n := 0
		s.Walk(context.Background(), func(e source.Entry) error {
			n++
			if n > fuzzMaxEntries {
				return errEnough // bounded work per input
			}
			if e.Redirect != "" {
				return nil
			}
			rc, err := e.Open()
			if err != nil {
				t.Fatalf("%s: Walk yielded an entry whose Open fails: %v", e.Path, err)
			}
			got, err := io.Copy(io.Discard, rc)
			if err != nil || got != e.Size {
				t.Fatalf("%s: read %d of %d bytes: %v", e.Path, got, e.Size, err)
			}
			return nil
		})
		if uint32(n) > a.EntryCount() && n <= fuzzMaxEntries {
			t.Fatalf("walk yielded %d entries of %d", n, a.EntryCount())
		}
	})
}

// FuzzCluster decodes arbitrary bytes as one cluster (info byte, then the
// possibly compressed offset table and blobs), checks every blob lies
// inside the data, and for uncompressed clusters checks that the in-place
// reader agrees with the decoder.
func FuzzCluster(f *testing.F) {
	for _, b := range seeds(f) {
		a, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			continue
		}
		for i := uint32(0); i < a.hdr.ClusterCount; i++ {
			start, end, err := a.clusterBounds(i)
			if err == nil {
				f.Add(b[start:end])
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		a := &Archive{r: bytes.NewReader(b), size: int64(len(b)), opts: fuzzOptions}
		a.hdr.ChecksumPos = uint64(len(b))
		c, err := a.decodeCluster(a.r, 0, int64(len(b)))
		if err != nil {
			return
		}
		if uint64(len(c.data)) != c.offset(c.n-1) {
			t.Fatalf("cluster data %d bytes, table ends at %d", len(c.data), c.offset(c.n-1))
		}
		var table *cluster
		if b[0]&0x0f <= compNone {
			if table, err = a.plainTable(0, int64(len(b)), b[0]&extendedFlag != 0); err != nil {
				t.Fatalf("decoder accepts, in-place reader fails: %v", err)
			}
		}
		for i := uint64(0); i < c.blobs(); i++ {
			blob, err := c.blob(uint32(i))
			if err != nil {
				t.Fatalf("blob %d of %d: %v", i, c.blobs(), err)
			}
			if table == nil {
				continue
			}
			sr, err := a.blobIn(table, uint32(i))
			if err != nil {
				t.Fatalf("blob %d: decoder accepts, in-place reader fails: %v", i, err)
			}
			got := make([]byte, sr.Size())
			sr.ReadAt(got, 0)
			if !bytes.Equal(got, blob) {
				t.Fatalf("blob %d: in-place reader and decoder differ", i)
			}
		}
		if _, err := c.blob(uint32(c.blobs())); err == nil && c.blobs() < 1<<32 {
			t.Fatal("blob past the end accepted")
		}
	})
}
