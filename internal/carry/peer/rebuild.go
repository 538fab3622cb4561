package peer

import (
	"crypto/sha256"
	"errors"
	"ferry/internal/archive"
	"fmt"
	"os"
	"time"
)

// The taker's workers: local copies of clusters and sections this library
// already holds, and clusters rebuilt from its own entries and the gaps
// (docs/sync.md §4.5, §4.6). Each checks its result against the archive's
// hashes before it writes a byte.

// result takes a worker's report.
func (t *tArchive) result(r jobResult) error {
	t.running--
	switch r.kind {
	case jobSection:
		t.secJob[r.index] = false
		if r.err != nil {
			if r.written {
				return r.err
			}
			t.secNoLocal[r.index] = true // fetched from the peer instead
			return nil
		}
		t.part.st.Sections[r.index] = secProgress{Done: true}
		t.part.dirty = true
		t.s.sum.Local += r.bytes
		return nil
	case jobLocal, jobRebuild:
		t.cBusy[r.index] = false
		if r.kind == jobRebuild {
			c := t.lay.Clusters[r.index]
			t.queued -= c.Raw
			if c.codec() == codecZstd {
				t.queuedZ -= c.Raw
			}
			t.rate.compressed(r.raw, r.took)
		}
		if r.err != nil {
			if r.written { // a local write failed
				return r.err
			}
			if r.kind == jobRebuild {
				t.failed++
				if t.lay.Clusters[r.index].codec() == codecZstd && t.failed >= 2 {
					t.noZstd = true // this archive was packed with other parameters
				}
			}
			t.retry = append(t.retry, r.index)
			return nil
		}
		if r.kind == jobLocal {
			t.s.sum.Local += r.bytes
		} else {
			t.s.sum.Rebuilt += r.bytes
		}
		t.part.setClusterDone(r.index, true)
		return nil
	}
	if r.err != nil {
		return r.err
	}
	return nil
}

// copyLocal copies cluster i from an archive this library holds. The
// library checked every byte of that archive when it was added, and
// checks the assembled one again, so the copy is not hashed here (nor
// read into memory); once a final check has failed on this device
// (checkLocal), local copies are hashed, so that a damaged archive in the
// library costs one failed attempt, not every later one.
func (t *tArchive) copyLocal(i int, l loc) jobResult {
	res := jobResult{kind: jobLocal, index: i}
	c := t.lay.Clusters[i]
	if !t.s.hold.checkLocal() {
		if l.n != c.Stored {
			res.err = fmt.Errorf("local copy of cluster %d of another size", i)
			return res
		}
		f, err := openRead(l.path)
		if err != nil {
			res.err = err
			return res
		}
		defer f.Close()
		if err := copyRange(f, l.off, t.part.f, c.Off, c.Stored); err != nil {
			res.err, res.written = err, true
			return res
		}
		t.part.unsynced.Add(c.Stored)
		res.bytes = c.Stored
		return res
	}
	b, err := readLocal(l, c.Stored)
	if err != nil || sha256.Sum256(b) != c.Hash {
		res.err = fmt.Errorf("local copy of cluster %d does not verify", i)
		return res
	}
	if err := t.writeJob(b, c.Off); err != nil {
		res.err, res.written = err, true
		return res
	}
	res.bytes = c.Stored
	return res
}

// copySection copies section i from an archive this library holds.
func (t *tArchive) copySection(i int, l loc) jobResult {
	res := jobResult{kind: jobSection, index: i}
	s := t.lay.Secs[i]
	b, err := readLocal(l, s.Length)
	if err != nil {
		res.err = err
		return res
	}
	var hl []byte
	for o := int64(0); o < s.Length; o += int64(s.BlockSize) {
		h := sha256.Sum256(b[o:min(s.Length, o+int64(s.BlockSize))])
		hl = append(hl, h[:]...)
	}
	if sha256.Sum256(hl) != root(s) {
		res.err = errors.New("local copy of a section does not verify")
		return res
	}
	if err := t.writeJob(b, s.Offset); err != nil {
		res.err, res.written = err, true
		return res
	}
	if err := t.writeJob(hl, s.HashesOffset); err != nil {
		res.err, res.written = err, true
		return res
	}
	res.bytes = s.Length
	return res
}

// writeJob writes a worker's verified bytes; the partial's state stays
// the loop's.
func (t *tArchive) writeJob(b []byte, off int64) error {
	if _, err := t.part.f.WriteAt(b, off); err != nil {
		return err
	}
	t.part.unsynced.Add(int64(len(b)))
	return nil
}

// copyThrough copies n bytes at off in src to dst at at through memory.
func copyThrough(src *os.File, off int64, dst *os.File, at, n int64) error {
	buf := make([]byte, min(n, 1<<20))
	for n > 0 {
		k := min(n, int64(len(buf)))
		if _, err := src.ReadAt(buf[:k], off); err != nil {
			return err
		}
		if _, err := dst.WriteAt(buf[:k], at); err != nil {
			return err
		}
		off, at, n = off+k, at+k, n-k
	}
	return nil
}

func readLocal(l loc, n int64) ([]byte, error) {
	if l.n != n {
		return nil, errors.New("local piece of another size")
	}
	f, err := openRead(l.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, l.off); err != nil {
		return nil, err
	}
	return b, nil
}

// rebuild puts cluster i together from entries of this library's edition
// and the gap bytes, stores it as the packer would, and keeps it only if
// it has the cluster's hash.
func (t *tArchive) rebuild(i int, rs []crange, gaps []span, gapData []byte) jobResult {
	start := time.Now()
	res := jobResult{kind: jobRebuild, index: i}
	c := t.lay.Clusters[i]
	if c.codec() == codecNone && len(gapData) == 0 && !t.s.hold.checkLocal() {
		if res, ok := t.rebuildByCopy(i, rs); ok {
			return res
		}
	}
	// An uncompressed cluster is stored as its codec byte and the raw
	// bytes: assemble it in place, with no copy after.
	var buf []byte
	uncompressed := c.codec() == codecNone
	if uncompressed {
		buf = append(make([]byte, 0, 1+c.Raw), codecNone)
	} else {
		buf = make([]byte, 0, c.Raw)
	}
	raw := buf[len(buf):]
	for _, r := range rs {
		path, key, byKey, known := t.plan.source(r)
		if !known {
			if int64(len(gapData)) < r.n {
				res.err = errors.New("gaps too short")
				return res
			}
			raw = append(raw, gapData[:r.n]...)
			gapData = gapData[r.n:]
			continue
		}
		ve, ok := t.heldEntry(path, key, byKey)
		if !ok || ve.e.Size != r.n {
			res.err = errors.New("an entry to rebuild from is not here")
			return res
		}
		b, err := t.view.read(ve)
		if err != nil || int64(len(b)) != r.n {
			res.err = fmt.Errorf("reading an entry to rebuild from: %v", err)
			return res
		}
		raw = append(raw, b...)
	}
	if len(gapData) != 0 || int64(len(raw)) != c.Raw {
		res.err = errors.New("rebuilt cluster of the wrong length")
		return res
	}
	var stored []byte
	if uncompressed {
		stored = buf[:1+len(raw)]
	} else {
		stored = archive.CompressCluster(raw, t.plan.flags&planRebuildHangul != 0)
		res.raw = c.Raw
	}
	res.took = time.Since(start)
	if int64(len(stored)) != c.Stored || sha256.Sum256(stored) != c.Hash {
		res.err = errors.New("rebuilt cluster does not match its hash")
		return res
	}
	if err := t.writeJob(stored, c.Off); err != nil {
		res.err, res.written = err, true
		return res
	}
	res.bytes = c.Stored
	return res
}

// heldEntry finds the held entry a known range is read from, by path or
// by path key.
func (t *tArchive) heldEntry(path string, key [16]byte, byKey bool) (viewEntry, bool) {
	if byKey {
		ve, ok := t.view.byKey[key]
		return ve, ok
	}
	ve, ok := t.view.byKey[pathKey(path)]
	return ve, ok && ve.path == path
}

// rebuildByCopy rebuilds uncompressed cluster i, all of whose ranges are
// known, when each lies in an uncompressed cluster of the held edition:
// the codec byte is written and the ranges are copied file to file
// (Linux: copy_file_range), neither read into memory nor hashed, as a
// local cluster copy is (§4.5 of docs/sync.md): the library checks every
// byte of the assembled archive, and once that check has failed on this
// device local pieces are hashed (the caller then takes the other path).
// ok is false, with nothing written, when a range cannot be copied so.
func (t *tArchive) rebuildByCopy(i int, rs []crange) (res jobResult, ok bool) {
	res = jobResult{kind: jobRebuild, index: i}
	c := t.lay.Clusters[i]
	type run struct {
		f      *os.File
		off, n int64
	}
	var runs []run
	var total int64
	checked := map[[2]int64]bool{}
	for _, r := range rs {
		path, key, byKey, known := t.plan.source(r)
		if !known {
			return res, false
		}
		ve, found := t.heldEntry(path, key, byKey)
		if !found || ve.e.Size != r.n || ve.e.Chunked || ve.layer >= len(t.view.layers) {
			return res, false
		}
		la, f := t.view.layers[ve.layer], t.view.files[ve.layer]
		if int(ve.e.Cluster) >= len(la.Lay.Clusters) {
			return res, false
		}
		hc := la.Lay.Clusters[ve.e.Cluster]
		if hc.codec() != codecNone || int64(ve.e.Offset)+r.n > hc.Raw {
			return res, false
		}
		// The sizes say codec 0; the held cluster's first byte must too.
		if k := [2]int64{int64(ve.layer), int64(ve.e.Cluster)}; !checked[k] {
			var b [1]byte
			if _, err := f.ReadAt(b[:], hc.Off); err != nil || b[0] != codecNone {
				return res, false
			}
			checked[k] = true
		}
		off := hc.Off + 1 + int64(ve.e.Offset)
		if n := len(runs); n > 0 && runs[n-1].f == f && runs[n-1].off+runs[n-1].n == off {
			runs[n-1].n += r.n
		} else {
			runs = append(runs, run{f: f, off: off, n: r.n})
		}
		total += r.n
	}
	if total != c.Raw {
		return res, false
	}
	start := time.Now()
	if err := t.writeJob([]byte{codecNone}, c.Off); err != nil {
		res.err, res.written = err, true
		return res, true
	}
	at := c.Off + 1
	for _, r := range runs {
		if err := copyRange(r.f, r.off, t.part.f, at, r.n); err != nil {
			res.err, res.written = err, true
			return res, true
		}
		t.part.unsynced.Add(r.n)
		at += r.n
	}
	res.took = time.Since(start)
	res.bytes = c.Stored
	return res, true
}
