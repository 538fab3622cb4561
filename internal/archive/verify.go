package archive

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"runtime"
	"sort"
	"sync"
)

// Verify reads and checks every byte of the archive: the layout leaves no
// byte uncovered by a hash, every signature verifies, every section block
// and cluster matches its hash, and every directory record is consistent.
// The search index is checked as bytes; edition.Verify also checks that it
// opens as an index.
// progress, if not nil, is called with bytes checked so far and the total.
func (r *Reader) Verify(ctx context.Context, progress func(done, total int64)) error {
	if r.badSigs > 0 {
		return fmt.Errorf("%w: %d of %d signatures do not verify", ErrSignature, r.badSigs, r.badSigs+len(r.signers))
	}
	if err := r.checkLayout(); err != nil {
		return err
	}
	var done int64
	report := func(n int64) {
		done += n
		if progress != nil {
			progress(done, r.size)
		}
	}
	names := make([]string, 0, len(r.secs))
	for n := range r.secs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		sec := r.secs[name]
		if err := sec.loadHashes(); err != nil {
			return err
		}
		for i := int64(0); i < sec.s.blocks(); i++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			b, err := sec.block(i)
			if err != nil {
				return err
			}
			report(int64(len(b)))
		}
		report(sec.s.blocks() * 32)
	}
	// Clusters must tile the data range in order.
	rawLens := make([]uint32, r.nCluster)
	storedLens := make([]int64, r.nCluster)
	next := r.m.Data.Offset
	for i := int64(0); i < r.nCluster; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var rec [clusterRecordSize]byte
		if err := r.secs[secClusters].readFull(rec[:], i*clusterRecordSize); err != nil {
			return err
		}
		off := int64(binary.LittleEndian.Uint64(rec[0:]))
		sl := int64(binary.LittleEndian.Uint32(rec[8:]))
		if off != next {
			return fmt.Errorf("%w: cluster %d starts at %d, expected %d", ErrCorrupt, i, off, next)
		}
		next += sl
		storedLens[i] = sl
		rawLens[i] = binary.LittleEndian.Uint32(rec[12:])
	}
	if next != r.m.Data.Offset+r.m.Data.Length {
		return fmt.Errorf("%w: clusters end at %d, data range ends at %d", ErrCorrupt, next, r.m.Data.Offset+r.m.Data.Length)
	}
	// The directory checks need only the raw lengths: they run beside the
	// cluster checks, on the processor the hashing leaves. A cluster's
	// error is the one reported when both fail, whichever came first.
	dirDone := make(chan error, 1)
	go func() { dirDone <- r.checkDirectory(ctx, rawLens) }()
	cerr := r.checkClusters(ctx, storedLens, report)
	derr := <-dirDone
	if cerr != nil {
		return cerr
	}
	if derr != nil {
		return derr
	}
	if progress != nil {
		progress(r.size, r.size) // header, manifest and trailer were checked at Open
	}
	return nil
}

// checkDirectory checks every directory record against the cluster table's
// raw lengths and the manifest's counts, the title and document sections'
// pointers, the title order and the removed list.
func (r *Reader) checkDirectory(ctx context.Context, rawLens []uint32) error {
	prev := ""
	titled := 0
	counts := Counts{Entries: int(r.nEntries), Clusters: int(r.nCluster)}
	for i := 0; i < int(r.nEntries); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, err := r.EntryAt(i)
		if err != nil {
			return err
		}
		if i > 0 && e.Path <= prev {
			return fmt.Errorf("%w: directory not sorted at entry %d %q", ErrCorrupt, i, e.Path)
		}
		prev = e.Path
		switch {
		case e.Redirect:
			counts.Redirects++
			if _, err := r.Resolve(e); err != nil {
				return err
			}
		case e.chunked:
			cs := int64(r.m.ChunkSize)
			n := max((e.Size+cs-1)/cs, 1)
			if int64(e.cluster)+n > r.nCluster || e.offset != 0 {
				return fmt.Errorf("%w: entry %q runs past the last cluster", ErrCorrupt, e.Path)
			}
			for k := int64(0); k < n; k++ {
				want := min(cs, e.Size-k*cs)
				if int64(rawLens[int64(e.cluster)+k]) != want {
					return fmt.Errorf("%w: entry %q chunk %d has the wrong size", ErrCorrupt, e.Path, k)
				}
			}
		default:
			if int64(e.offset)+e.Size > int64(rawLens[e.cluster]) {
				return fmt.Errorf("%w: entry %q lies outside cluster %d", ErrCorrupt, e.Path, e.cluster)
			}
		}
		if e.Article && !e.Redirect {
			counts.Articles++
		}
		if e.Title != "" {
			titled++
		}
	}
	c := r.m.Counts
	if counts.Articles != c.Articles || counts.Redirects != c.Redirects {
		return fmt.Errorf("%w: manifest counts (%d articles, %d redirects) do not match the directory (%d, %d)",
			ErrCorrupt, c.Articles, c.Redirects, counts.Articles, counts.Redirects)
	}
	for _, name := range []string{secTitles, secDocs} {
		sec := r.secs[name]
		if sec.s.Length%4 != 0 {
			return fmt.Errorf("%w: section %s length", ErrCorrupt, name)
		}
		var b [4]byte
		for off := int64(0); off < sec.s.Length; off += 4 {
			if err := sec.readFull(b[:], off); err != nil {
				return err
			}
			v := binary.LittleEndian.Uint32(b[:])
			if int64(v) >= r.nEntries && !(name == secDocs && v == noEntry) {
				return fmt.Errorf("%w: section %s points outside the directory", ErrCorrupt, name)
			}
		}
	}
	if err := r.checkTitles(ctx, titled); err != nil {
		return err
	}
	_, err := r.Removed()
	return err
}

// checkClusters reads, hash-checks and decompresses every cluster, on as
// many processors as there are (at most 4): the stored bytes of a whole
// archive dominate Verify's time. stored holds each cluster's stored
// length, for progress. The error reported is the one of the lowest
// cluster that failed, whatever the order the workers met them in.
func (r *Reader) checkClusters(ctx context.Context, stored []int64, report func(int64)) error {
	workers := int(min(int64(min(runtime.GOMAXPROCS(0), 4)), max(r.nCluster, 1)))
	var (
		mu      sync.Mutex
		next    int64
		failed  = r.nCluster // lowest failed cluster, r.nCluster if none
		failure error
		wg      sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var bufs verifyBufs
			for {
				mu.Lock()
				i := next
				next++
				stop := i >= r.nCluster || i > failed
				mu.Unlock()
				if stop {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = r.checkCluster(uint32(i), &bufs)
				}
				mu.Lock()
				if err != nil && i < failed {
					failed, failure = i, err
				}
				if err == nil {
					report(stored[i])
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return failure
}

// verifyBufs are one Verify worker's buffers, reused from cluster to
// cluster: a whole archive's clusters would otherwise each be allocated
// (and zeroed) twice, and pushed through the cache, which Verify does not
// need.
type verifyBufs struct{ stored, raw []byte }

// checkCluster does for cluster i what decodeCluster does (the record's
// bounds, the stored bytes' hash, decoding to exactly the raw length the
// record gives) into b's buffers, without caching the result.
func (r *Reader) checkCluster(i uint32, b *verifyBufs) error {
	rec, off, sl, rl, err := r.clusterRecord(i)
	if err != nil {
		return err
	}
	taken := decodeBudget.Acquire(sl + rl)
	defer decodeBudget.Release(taken)
	if int64(cap(b.stored)) < sl {
		b.stored = make([]byte, sl)
	}
	stored := b.stored[:sl]
	if _, err := r.ra.ReadAt(stored, off); err != nil {
		return fmt.Errorf("reading cluster %d: %w", i, readErr(err))
	}
	if sha256.Sum256(stored) != [32]byte(rec[16:48]) {
		return fmt.Errorf("%w: cluster %d (file offset %d) does not match its hash", ErrCorrupt, i, off)
	}
	switch stored[0] {
	case codecNone:
		if int64(len(stored)-1) != rl {
			return fmt.Errorf("%w: cluster %d is %d bytes, record says %d", ErrCorrupt, i, len(stored)-1, rl)
		}
		return nil
	case codecZstd, codecZstdHangul:
		var raw []byte
		raw, err = decodeZstdInto(b.raw, stored[1:], rl, true, stored[0] == codecZstdHangul)
		if err == nil {
			b.raw = raw
		}
	case codecBrotli:
		_, err = brotliDecode(stored[1:], rl, true)
	default:
		return fmt.Errorf("%w: cluster %d has unknown codec %d", ErrCorrupt, i, stored[0])
	}
	if err != nil {
		return fmt.Errorf("%w: cluster %d: %v (record says %d raw bytes)", ErrCorrupt, i, err, rl)
	}
	r.decoded.Add(rl)
	return nil
}

// checkLayout checks that header, data, sections with their hash lists,
// manifest, signatures and trailer tile the file exactly, so that no byte
// escapes verification.
func (r *Reader) checkLayout() error {
	type span struct {
		what     string
		off, len int64
	}
	mLen := int64(len(r.raw))
	sLen := 1 + 96*int64(len(r.signers)+r.badSigs)
	spans := []span{
		{"header", 0, headerSize},
		{"data", r.m.Data.Offset, r.m.Data.Length},
		{"manifest", r.size - trailerSize - sLen - mLen, mLen},
		{"signatures", r.size - trailerSize - sLen, sLen},
		{"trailer", r.size - trailerSize, trailerSize},
	}
	for name, sec := range r.secs {
		spans = append(spans, span{"section " + name, sec.s.Offset, sec.s.Length},
			span{"hash list of " + name, sec.s.HashesOffset, sec.s.blocks() * 32})
	}
	// Empty parts (an empty section, its empty hash list) share an offset
	// with the next part: order them first so the walk is deterministic.
	sort.Slice(spans, func(a, b int) bool {
		if spans[a].off != spans[b].off {
			return spans[a].off < spans[b].off
		}
		return spans[a].len < spans[b].len
	})
	var at int64
	for _, s := range spans {
		if s.off != at {
			return fmt.Errorf("%w: %s at %d, expected %d (gap or overlap)", ErrCorrupt, s.what, s.off, at)
		}
		at += s.len
	}
	if at != r.size {
		return fmt.Errorf("%w: layout ends at %d, file is %d bytes", ErrCorrupt, at, r.size)
	}
	return nil
}

// checkTitles checks the title index as the format orders it: every entry
// with a title listed once, by folded title, ties by path. A reader's
// binary search for suggestions depends on the order.
func (r *Reader) checkTitles(ctx context.Context, titled int) error {
	sec := r.secs[secTitles]
	if sec.s.Length/4 != int64(titled) {
		return fmt.Errorf("%w: title index lists %d entries, the directory has %d with titles", ErrCorrupt, sec.s.Length/4, titled)
	}
	var prevKey, prevPath string
	var b [4]byte
	for off := int64(0); off < sec.s.Length; off += 4 {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := sec.readFull(b[:], off); err != nil {
			return err
		}
		e, err := r.EntryAt(int(binary.LittleEndian.Uint32(b[:])))
		if err != nil {
			return err
		}
		if e.Title == "" {
			return fmt.Errorf("%w: title index lists %q, which has no title", ErrCorrupt, e.Path)
		}
		k := foldTitle(e.Title)
		if off > 0 && (k < prevKey || k == prevKey && e.Path <= prevPath) {
			return fmt.Errorf("%w: title index out of order at %q", ErrCorrupt, e.Path)
		}
		prevKey, prevPath = k, e.Path
	}
	return nil
}
