package peer

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"ferry/internal/archive"
)

// Entry content hashes are what the two sides reconcile inside a channel
// (docs/sync.md §4.6). Computing them reads and decompresses a whole
// archive, so they are kept, per archive id, in the sync folder: an
// archive never changes, and a damaged or foreign cache file only makes
// rebuilt clusters fail their hash check, after which they travel whole.

// decodeCluster checks stored bytes against the cluster's hash and returns
// its raw bytes (any codec of docs/format.md, through the archive package).
func decodeCluster(c clusterRec, stored []byte) ([]byte, error) {
	if int64(len(stored)) != c.Stored || sha256.Sum256(stored) != c.Hash {
		return nil, fmt.Errorf("%w: a cluster does not match its hash", archive.ErrCorrupt)
	}
	return archive.DecodeCluster(stored, c.Raw)
}

// readCluster reads and decodes cluster i of a local archive, checking its
// hash first when check is set.
func (la *localArchive) readCluster(f *os.File, i int, check bool) ([]byte, error) {
	c := la.Lay.Clusters[i]
	stored := make([]byte, c.Stored)
	if _, err := f.ReadAt(stored, c.Off); err != nil {
		return nil, fmt.Errorf("%s: reading cluster %d: %w", la.Path, i, err)
	}
	var raw []byte
	var err error
	if check {
		raw, err = decodeCluster(c, stored)
	} else {
		raw, err = archive.DecodeCluster(stored, c.Raw)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: cluster %d: %w", la.Path, i, err)
	}
	return raw, nil
}

// contentHashes returns SHA-256 of the content of each entry of la, by
// directory index (zero for redirects). la must have its entries.
func contentHashes(la *localArchive, syncDir string) ([][32]byte, error) {
	n := la.Lay.NEntries
	cache := ""
	if syncDir != "" {
		cache = filepath.Join(syncDir, "hashes", hex.EncodeToString(la.Lay.ID[:]))
		if b, err := os.ReadFile(cache); err == nil && len(b) == 32*n {
			out := make([][32]byte, n)
			for i := range out {
				copy(out[i][:], b[32*i:])
			}
			return out, nil
		}
	}
	out, err := computeHashes(la)
	if err != nil {
		return nil, err
	}
	if cache != "" {
		b := make([]byte, 0, 32*n)
		for _, h := range out {
			b = append(b, h[:]...)
		}
		if err := os.MkdirAll(filepath.Dir(cache), 0o700); err == nil {
			_ = writeQuick(cache, b) // a cache: losing it costs only time
		}
	}
	return out, nil
}

func computeHashes(la *localArchive) ([][32]byte, error) {
	lay := la.Lay
	out := make([][32]byte, lay.NEntries)
	f, err := openRead(la.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	byCluster := map[uint32][]entryRec{}
	var chunked []entryRec
	for _, e := range lay.Entries {
		if e.Chunked {
			chunked = append(chunked, e)
		} else {
			byCluster[e.Cluster] = append(byCluster[e.Cluster], e)
		}
	}
	jobs := make(chan uint32)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ci := range jobs {
				raw, err := la.readCluster(f, int(ci), true)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
				if err != nil {
					continue
				}
				for _, e := range byCluster[ci] {
					out[e.Index] = sha256.Sum256(raw[e.Offset : int64(e.Offset)+e.Size])
				}
			}
		}()
	}
	for ci := range byCluster {
		jobs <- ci
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	done := map[uint32][32]byte{}
	for _, e := range chunked {
		if h, ok := done[e.Cluster]; ok {
			out[e.Index] = h
			continue
		}
		h := sha256.New()
		k := max(1, (e.Size+int64(lay.M.ChunkSize)-1)/int64(lay.M.ChunkSize))
		var total int64
		for j := int64(0); j < k; j++ {
			raw, err := la.readCluster(f, int(e.Cluster)+int(j), true)
			if err != nil {
				return nil, err
			}
			h.Write(raw)
			total += int64(len(raw))
		}
		if total != e.Size {
			return nil, fmt.Errorf("%s: %w: chunked entry %q is %d bytes, its chunks %d", la.Path, archive.ErrCorrupt, e.Path, e.Size, total)
		}
		var s [32]byte
		h.Sum(s[:0])
		done[e.Cluster] = s
		out[e.Index] = s
	}
	return out, nil
}

// entryItem is what entry reconciliation compares: the first 16 bytes of
// SHA-256 of the path, then the first 16 of the content's SHA-256. Two
// sides share an item when they hold the same content at the same path.
func entryItem(path string, content [32]byte) [32]byte {
	var it [32]byte
	p := sha256.Sum256([]byte(path))
	copy(it[:16], p[:16])
	copy(it[16:], content[:16])
	return it
}

func pathKey(path string) [16]byte {
	p := sha256.Sum256([]byte(path))
	var k [16]byte
	copy(k[:], p[:16])
	return k
}

// openRead opens a regular file for reading.
func openRead(path string) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	return os.Open(path)
}
