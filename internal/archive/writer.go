package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math/bits"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
)

// Input is one entry handed to a Writer.
type Input struct {
	Path    string
	MIME    string
	Title   string
	Article bool
	// Redirect makes the entry a redirect to the entry at this path.
	Redirect string
	// Data is the content of a small entry. When Data is nil and Open is set,
	// the content is read from Open (twice: once to hash, once to store).
	Data []byte
	Size int64
	Open func() (io.ReadCloser, error)
}

// WriterOptions tune a Writer; the zero value gives good defaults.
type WriterOptions struct {
	// ClusterSize is the raw size a compressed cluster is filled to
	// (default 512 KiB). 2 MiB (zimwriterfs's default) makes bare Korean
	// pages' data 4-6% smaller, and a reader decompresses a cluster only
	// up to the entry it reads; it stays the default only because peer
	// sync rebuilds clusters with a 512 KiB window of its own
	// (docs/benchmarks.md, issue 15).
	ClusterSize int
	// ChunkSize is the raw size of each cluster of a large entry (default 256 KiB).
	ChunkSize int
	// Level is the zstd level (default zstd.SpeedBestCompression).
	Level zstd.EncoderLevel
	// Brotli compresses text clusters with Brotli at quality 11 instead of
	// zstd: about 10% smaller on Korean text (smaller than xz -9e of the
	// text alone), far slower to write. For editions where every byte
	// costs airtime (the radio profile); docs/format.md codec 2.
	Brotli bool
	// Workers compress clusters in parallel (default GOMAXPROCS).
	Workers int
	// DropDanglingRedirects drops redirects whose target is missing instead of failing.
	DropDanglingRedirects bool
	// TempDir holds the Writer's temporary files (default os.TempDir()):
	// the content of compressible entries until Finish groups them into
	// clusters (about their size, less what is deduplicated), and the
	// entry metadata while it is sorted by path. Nothing is left behind:
	// the files are unlinked as soon as they are made (on Unix).
	TempDir string
	// SortBytes bounds the memory that holds entry metadata (paths, titles)
	// before it is sorted on disk (default 4 MiB; the similarity keys get
	// half, redirect targets a quarter). It was 16 MiB, which a pack of
	// 50,000 pages never filled and one of 500,000 did: 30 MB more at the
	// larger size (docs/benchmarks.md, issue 15); more runs to merge cost
	// little.
	SortBytes int
	// NoHangulPacking compresses Korean text clusters with plain zstd
	// (codec 1) instead of zstd over their Hangul-packed form (codec 3,
	// about 10% smaller on Korean text; docs/format.md), for archives that
	// ferry programs older than codec 3 must open.
	NoHangulPacking bool
	// PathOrder stores compressible entries in clusters in the order they
	// were added instead of grouping similar content together (see
	// docs/format.md, "Clusters"): for tests of the layout, and callers
	// that add entries in an order they chose.
	PathOrder bool
}

// defaultClusterSize is WriterOptions.ClusterSize's default.
const defaultClusterSize = 512 << 10

// Info is what the publisher says about an archive; the Writer adds counts,
// hashes and layout to make the Manifest.
type Info struct {
	Channel     string
	Edition     uint64
	Title       string
	Description string
	Languages   []string
	Created     time.Time
	Publisher   string
	MainPage    string
	Base        *BaseRef
	Extra       map[string]json.RawMessage
}

// loc is where an entry's content is, by entry sequence number (the
// order of Add). Until Finish places them, grouped entries (and entries in
// the open raw cluster) have cluster groupedCluster; a duplicate of
// content stored by an earlier entry that is not placed yet has cluster
// sameAs and that entry's sequence number in offset; a redirect has its
// target's sequence number in cluster once Finish resolves it. A chunked
// entry has chunkedOffset in offset (its content starts its first
// cluster): 8 bytes an entry.
type loc struct {
	cluster uint32
	offset  uint32
}

// chunkedOffset marks a chunked entry's loc; an offset in a cluster is
// below maxClusterRaw and a sequence number below 1<<31.
const chunkedOffset = ^uint32(0)

const (
	groupedCluster = ^uint32(0) - 1
	sameAs         = ^uint32(0) - 2
	noEntry        = ^uint32(0)
)

type clusterBuilder struct {
	codec   byte
	buf     []byte
	members []uint32 // entry sequence numbers waiting for this cluster's index
}

type clusterJob struct {
	index int
	done  chan []byte // stored bytes (codec byte + payload)
}

// Writer writes an archive to an io.Writer in one pass. Add entries, then
// call Finish. A Writer is not safe for concurrent use; it compresses
// clusters on several goroutines itself.
//
// Memory: a Writer keeps about 22 bytes per entry in compact arrays
// (where its content is, 8 bytes; the first 8 bytes of its content hash
// with a 4-byte entry number, see keyIndex), checked by
// TestWriterHeapPerEntry, and a table of recent path hashes of at most
// 1 MiB (see recentPaths); paths, titles
// and the content of compressible entries wait in temporary files
// (WriterOptions.TempDir) until Finish, which groups similar content into
// clusters and sorts the directory on disk.
type Writer struct {
	w    io.Writer
	off  int64
	opts WriterOptions
	enc  *zstd.Encoder
	err  error

	n         uint32 // entries added (sequence numbers handed out)
	locs      []loc
	mimes     map[string]uint16
	mimeList  []string
	dedup     keyIndex // first 8 bytes of H(content) → sequence number of the entry storing it
	paths     recentPaths
	seed      [2]maphash.Seed
	hashes    *spool  // H(content) of every entry, 32 bytes at 32 × sequence number
	meta      *sorter // entry metadata, sorted by path at Finish
	redirs    *sorter // redirect target path → redirect sequence number
	content   *spool  // bytes of compressible entries, grouped at Finish
	groups    *sorter // (similarity key, sequence number, content offset, size)
	removed   []string
	input     int64
	nClusters int

	raw      clusterBuilder
	records  []byte // cluster table, 48 bytes per cluster, filled by the write loop
	jobs     chan *clusterJob
	sem      chan struct{}
	loopDone chan struct{}
	loopErr  error
	mu       sync.Mutex

	// Document ids: every Add and Skip takes the next one; skips lists
	// the ids Skip took (in order), so the entry of any other id is the id
	// less the skips before it.
	nDocs uint32
	skips []uint32

	// Dropped counts redirects dropped by Finish for a missing target.
	Dropped int
}

// NewWriter starts an archive on w.
func NewWriter(w io.Writer, opts WriterOptions) (*Writer, error) {
	if opts.ClusterSize <= 0 {
		opts.ClusterSize = defaultClusterSize
	}
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = 256 << 10
	}
	if opts.ClusterSize > maxClusterRaw || opts.ChunkSize > maxClusterRaw {
		return nil, fmt.Errorf("archive: cluster size above %d", maxClusterRaw)
	}
	if opts.Level == 0 {
		opts.Level = zstd.SpeedBestCompression
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(opts.Level), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(zstdWindow(opts.ClusterSize)), zstd.WithEncoderCRC(false))
	if err != nil {
		return nil, err
	}
	if opts.SortBytes <= 0 {
		opts.SortBytes = 4 << 20
	}
	wr := &Writer{
		w: w, opts: opts, enc: enc,
		mimes: map[string]uint16{},
		seed:  [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		raw:   clusterBuilder{codec: codecNone},
		jobs:  make(chan *clusterJob, 2*opts.Workers), sem: make(chan struct{}, opts.Workers),
		loopDone: make(chan struct{}),
		meta:     newSorter(opts.TempDir, opts.SortBytes),
		redirs:   newSorter(opts.TempDir, opts.SortBytes/4),
		groups:   newSorter(opts.TempDir, opts.SortBytes/2),
	}
	if wr.hashes, err = newSpool(opts.TempDir, "ferry-hashes-*.tmp"); err != nil {
		return nil, err
	}
	if wr.content, err = newSpool(opts.TempDir, "ferry-content-*.tmp"); err != nil {
		wr.hashes.Close()
		return nil, err
	}
	var hdr [headerSize]byte
	copy(hdr[:], headerMagic)
	binary.LittleEndian.PutUint16(hdr[8:], FormatVersion)
	if err := wr.write(hdr[:]); err != nil {
		return nil, err
	}
	go wr.loop()
	return wr, nil
}

func zstdWindow(clusterSize int) int {
	w := zstd.MinWindowSize
	for w < clusterSize && w < zstd.MaxWindowSize {
		w <<= 1
	}
	return w
}

// Size returns the bytes of the archive written: after Finish, its size.
// (Before Finish, clusters are still being written by another goroutine.)
func (w *Writer) Size() int64 { return w.off }

func (w *Writer) write(b []byte) error {
	n, err := w.w.Write(b)
	w.off += int64(n)
	return err
}

// loop writes finished clusters in index order and records them.
func (w *Writer) loop() {
	defer close(w.loopDone)
	for job := range w.jobs {
		stored := <-job.done
		if w.loopErr != nil {
			continue
		}
		var rec [clusterRecordSize]byte
		binary.LittleEndian.PutUint64(rec[0:], uint64(w.off))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(stored)))
		// raw length was stashed in the last 4 bytes of stored by compress
		rawLen := binary.LittleEndian.Uint32(stored[len(stored)-4:])
		stored = stored[:len(stored)-4]
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(stored)))
		binary.LittleEndian.PutUint32(rec[12:], rawLen)
		h := sha256.Sum256(stored)
		copy(rec[16:], h[:])
		if err := w.write(stored); err != nil {
			w.loopErr = err
			continue
		}
		w.mu.Lock()
		w.records = append(w.records, rec[:]...)
		w.mu.Unlock()
		if rawLen >= largeCluster {
			// The collector sets its next goal at twice the heap it
			// finds live; found holding a cluster of tens of MB (one
			// large page, the glossary marks table) and its compressed
			// form, it would let the heap grow by as much again. A
			// collection now, with them gone, keeps the goal where the
			// rest of the pack puts it.
			stored = nil
			runtime.GC()
		}
	}
}

// largeCluster is the raw size from which the loop collects after
// writing a cluster (see loop): 16 MiB, 32 default clusters, which only
// an entry of that size makes.
const largeCluster = 16 << 20

// queue hands a cluster's raw bytes to a compression worker and returns its index.
func (w *Writer) queue(codec byte, raw []byte) uint32 {
	idx := w.nClusters
	w.nClusters++
	job := &clusterJob{index: idx, done: make(chan []byte, 1)}
	w.jobs <- job
	w.sem <- struct{}{}
	go func() {
		defer func() { <-w.sem }()
		var out []byte
		if codec == codecZstd {
			out = compressRaw(w.enc, raw, w.opts.Brotli, !w.opts.NoHangulPacking, w.opts.ClusterSize)
		} else {
			out = append(make([]byte, 0, len(raw)+5), codecNone)
			out = append(out, raw...)
		}
		out = binary.LittleEndian.AppendUint32(out, uint32(len(raw)))
		job.done <- out
	}()
	return uint32(idx)
}

func (w *Writer) flush(cb *clusterBuilder) {
	if len(cb.members) == 0 && len(cb.buf) == 0 {
		return
	}
	idx := w.queue(cb.codec, cb.buf)
	for _, m := range cb.members {
		w.locs[m].cluster = idx
	}
	cb.buf, cb.members = nil, nil
}

func (w *Writer) mimeIndex(m string) (uint16, error) {
	if i, ok := w.mimes[m]; ok {
		return i, nil
	}
	if len(w.mimeList) >= 0xffff {
		return 0, errors.New("archive: too many MIME types")
	}
	i := uint16(len(w.mimeList))
	w.mimes[m] = i
	w.mimeList = append(w.mimeList, m)
	return i, nil
}

// ValidPath reports whether p is acceptable as an entry path: non-empty,
// valid UTF-8, relative, clean, at most 1024 bytes, no backslash and no
// control byte (U+0000–U+001F, U+007F). Writers and readers apply it.
func ValidPath(p string) bool {
	if p == "" || len(p) > 1024 || !utf8.ValidString(p) || strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return false
	}
	if p[0] == '/' || strings.HasSuffix(p, "/") {
		return false
	}
	for _, el := range strings.Split(p, "/") {
		if el == "" || el == "." || el == ".." {
			return false
		}
	}
	return true
}

// compressible says whether content of this MIME type is worth zstd.
func compressible(mime string) bool {
	m := strings.ToLower(mime)
	if i := strings.IndexByte(m, ';'); i >= 0 {
		m = strings.TrimSpace(m[:i])
	}
	switch {
	case strings.HasPrefix(m, "text/"), strings.HasSuffix(m, "+xml"), strings.HasSuffix(m, "/xml"),
		strings.HasSuffix(m, "json"), strings.HasSuffix(m, "javascript"), m == "image/svg+xml",
		m == "application/x-subrip", m == "image/bmp", m == "audio/wav", m == "audio/x-wav", m == "font/ttf", m == "application/font-sfnt":
		return true
	}
	return false
}

// Add adds one entry. Paths must be unique and valid (see ValidPath).
func (w *Writer) Add(in Input) error {
	if w.err != nil {
		return w.err
	}
	if err := w.add(in); err != nil {
		return err
	}
	return nil
}

func (w *Writer) add(in Input) error {
	if !ValidPath(in.Path) {
		return fmt.Errorf("archive: invalid entry path %q", in.Path)
	}
	if len(in.Title) > maxStringLen || !utf8.ValidString(in.Title) {
		return fmt.Errorf("archive: entry %q: title too long or not UTF-8", in.Path)
	}
	if int64(w.n) >= 1<<31 {
		return errors.New("archive: too many entries")
	}
	// Every duplicate path is refused by Finish, which sees the paths
	// sorted; one that comes soon after its twin (x.md and x.html in one
	// folder; the first entries of two sources packed under one prefix)
	// is refused here, at once. Two independent hashes of the path, 64
	// and 32 bits (random seeds, so no input can be made to collide):
	// equal in both means the same path.
	h1, h2 := maphash.String(w.seed[0], in.Path), uint32(maphash.String(w.seed[1], in.Path))
	if w.paths.seen(h1, h2, w.n) {
		return fmt.Errorf("archive: duplicate entry path %q: %s", in.Path, duplicateAdvice)
	}
	seq := w.n
	var flags uint8
	if in.Article {
		flags |= flagArticle
	}
	if in.Redirect != "" {
		if !ValidPath(in.Redirect) {
			return fmt.Errorf("archive: entry %q: invalid redirect target %q", in.Path, in.Redirect)
		}
		if err := w.addMeta(seq, entryRedirect, flags, 0, 0, in); err != nil {
			return err
		}
		rec := append([]byte(in.Redirect), 0)
		rec = binary.BigEndian.AppendUint32(rec, seq)
		if err := w.redirs.add(rec); err != nil {
			return err
		}
		return w.added(loc{cluster: noEntry}, [32]byte{})
	}
	mi, err := w.mimeIndex(in.MIME)
	if err != nil {
		return err
	}
	data := in.Data
	large := false
	var sum [32]byte
	if data == nil && in.Open != nil {
		if in.Size >= 0 && in.Size < int64(w.opts.ChunkSize) {
			b, err := readAll(in.Open, in.Size)
			if err != nil {
				return fmt.Errorf("archive: reading %q: %w", in.Path, err)
			}
			data = b
		} else {
			large = true
			h := sha256.New()
			n, err := copyFrom(h, in.Open)
			if err != nil {
				return fmt.Errorf("archive: reading %q: %w", in.Path, err)
			}
			in.Size = n
			h.Sum(sum[:0])
		}
	}
	if !large {
		if data == nil {
			data = []byte{}
		}
		in.Size = int64(len(data))
		sum = sha256.Sum256(data)
	}
	if err := w.addMeta(seq, entryContent, flags, mi, uint64(in.Size), in); err != nil {
		return err
	}
	w.input += in.Size
	// Identical content is stored once; the hash includes the chunking
	// decision because it depends only on the bytes.
	prefix := binary.LittleEndian.Uint64(sum[:8])
	if first, ok := w.dedup.get(prefix); ok {
		var theirs [32]byte
		if _, err := w.hashes.ReadAt(theirs[:], int64(first)*32); err != nil {
			return fmt.Errorf("archive: reading a temporary file: %w", err)
		}
		if theirs == sum {
			l := w.locs[first]
			if l.cluster == groupedCluster {
				l = loc{cluster: sameAs, offset: first}
			}
			return w.added(l, sum)
		}
		// Another content with the same first 8 bytes of hash: stored
		// again, without deduplication.
	} else {
		w.dedup.add(prefix, seq)
	}
	switch {
	case large && !compressible(in.MIME) || in.Size > int64(maxClusterRaw):
		first, err := w.addChunked(in)
		if err != nil {
			return err
		}
		return w.added(loc{cluster: first, offset: chunkedOffset}, sum)
	case !compressible(in.MIME):
		cb, limit := &w.raw, w.opts.ChunkSize
		if len(cb.buf) > 0 && len(cb.buf)+len(data) > limit {
			w.flush(cb)
		}
		l := loc{cluster: groupedCluster, offset: uint32(len(cb.buf))}
		cb.buf = append(cb.buf, data...)
		cb.members = append(cb.members, seq)
		if err := w.added(l, sum); err != nil {
			return err
		}
		if len(cb.buf) >= limit {
			w.flush(cb)
		}
		return nil
	default:
		if large {
			b, err := readAll(in.Open, in.Size)
			if err != nil {
				return fmt.Errorf("archive: reading %q: %w", in.Path, err)
			}
			data = b
		}
		return w.group(seq, data, sum)
	}
}

// duplicateAdvice ends the error for a duplicate entry path.
const duplicateAdvice = "two inputs map to it (for example x.md and x.html in one folder, or two sources packed under one prefix); rename or exclude one"

// recentPaths remembers the hashes of recent paths in a direct-mapped
// table, each path in the slot its first hash picks, overwriting what was
// there: it grows with the entries to recentPathsMax slots (1 MiB) and no
// further. An index of every path (12 bytes an entry) grew a pack's
// memory with its size (docs/benchmarks.md, issue 15); Finish refuses the
// duplicates this table has forgotten.
type recentPaths struct {
	slots []pathSlot
}

type pathSlot struct {
	h1  uint64
	h2  uint32
	set bool
}

const recentPathsMax = 1 << 16

// seen reports whether the path with hashes h1, h2 is in the table, and
// puts it there; n is the number of entries added so far.
func (r *recentPaths) seen(h1 uint64, h2 uint32, n uint32) bool {
	if want := min(recentPathsMax, max(1024, 2*int(n))); len(r.slots) < want && int(n) >= len(r.slots) {
		old := r.slots
		r.slots = make([]pathSlot, 1<<bits.Len(uint(want-1)))
		for _, sl := range old {
			if sl.set {
				r.slots[sl.h1&uint64(len(r.slots)-1)] = sl
			}
		}
	}
	sl := &r.slots[h1&uint64(len(r.slots)-1)]
	if sl.set && sl.h1 == h1 && sl.h2 == h2 {
		return true
	}
	*sl = pathSlot{h1, h2, true}
	return false
}

// added records the new entry's location and content hash and hands out
// its sequence number and document id.
func (w *Writer) added(l loc, sum [32]byte) error {
	if _, err := w.hashes.Write(sum[:]); err != nil {
		return err
	}
	w.locs = append(w.locs, l)
	w.nDocs++
	w.n++
	return nil
}

// group puts a compressible entry's content aside, with a similarity key,
// for Finish to place in a cluster next to similar content.
func (w *Writer) group(seq uint32, data []byte, sum [32]byte) error {
	var key uint64
	if !w.opts.PathOrder {
		key = similarityKey(data)
	}
	var rec [24]byte
	binary.BigEndian.PutUint64(rec[0:], key)
	binary.BigEndian.PutUint32(rec[8:], seq)
	binary.BigEndian.PutUint64(rec[12:], uint64(w.content.size))
	binary.BigEndian.PutUint32(rec[20:], uint32(len(data)))
	if _, err := w.content.Write(data); err != nil {
		return err
	}
	if err := w.groups.add(rec[:]); err != nil {
		return err
	}
	return w.added(loc{cluster: groupedCluster}, sum)
}

// addMeta records an entry's path, title and fixed fields for Finish, which
// sorts them by path. The record is path, 0x00, then the fields: it sorts
// by path (a path holds no 0x00), and equal paths by sequence number.
func (w *Writer) addMeta(seq uint32, kind, flags uint8, mime uint16, size uint64, in Input) error {
	rec := make([]byte, 0, len(in.Path)+len(in.Title)+32)
	rec = append(rec, in.Path...)
	rec = append(rec, 0)
	rec = binary.BigEndian.AppendUint32(rec, seq)
	rec = append(rec, kind, flags)
	rec = binary.LittleEndian.AppendUint16(rec, mime)
	rec = binary.LittleEndian.AppendUint64(rec, size)
	rec = binary.AppendUvarint(rec, uint64(len(in.Title)))
	rec = append(rec, in.Title...)
	return w.meta.add(rec)
}

// metaRecord is a parsed metadata record.
type metaRecord struct {
	path, title string
	seq         uint32
	kind, flags uint8
	mime        uint16
	size        uint64
}

func parseMeta(rec []byte) (metaRecord, error) {
	var m metaRecord
	i := bytes.IndexByte(rec, 0)
	if i <= 0 || len(rec) < i+17 {
		return m, errors.New("archive: temporary file damaged (metadata record)")
	}
	m.path = string(rec[:i])
	r := rec[i+1:]
	m.seq = binary.BigEndian.Uint32(r)
	m.kind, m.flags = r[4], r[5]
	m.mime = binary.LittleEndian.Uint16(r[6:])
	m.size = binary.LittleEndian.Uint64(r[8:])
	tl, k := binary.Uvarint(r[16:])
	if k <= 0 || uint64(len(r)-16-k) != tl {
		return m, errors.New("archive: temporary file damaged (metadata record)")
	}
	m.title = string(r[16+k:])
	return m, nil
}

func readAll(open func() (io.ReadCloser, error), size int64) ([]byte, error) {
	rc, err := open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var buf bytes.Buffer
	if size > 0 && size < maxClusterRaw {
		buf.Grow(int(size))
	}
	_, err = buf.ReadFrom(io.LimitReader(rc, maxClusterRaw+1))
	if err != nil {
		return nil, err
	}
	if buf.Len() > maxClusterRaw {
		return nil, fmt.Errorf("content changed while packing or larger than %d bytes", maxClusterRaw)
	}
	return buf.Bytes(), nil
}

func copyFrom(dst io.Writer, open func() (io.ReadCloser, error)) (int64, error) {
	rc, err := open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	return io.Copy(dst, rc)
}

// addChunked stores a large entry as consecutive raw clusters of ChunkSize.
func (w *Writer) addChunked(in Input) (uint32, error) {
	rc, err := in.Open()
	if err != nil {
		return 0, fmt.Errorf("archive: reading %q: %w", in.Path, err)
	}
	defer rc.Close()
	first := uint32(w.nClusters)
	var total int64
	for {
		buf := make([]byte, w.opts.ChunkSize)
		n, err := io.ReadFull(rc, buf)
		if n > 0 {
			w.queue(codecNone, buf[:n])
			total += int64(n)
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("archive: reading %q: %w", in.Path, err)
		}
	}
	if total != in.Size {
		return 0, fmt.Errorf("archive: %q changed while packing (%d bytes, then %d)", in.Path, in.Size, total)
	}
	if total == 0 {
		// an empty "large" entry still needs a cluster to point at
		w.queue(codecNone, nil)
	}
	return first, nil
}

// Remove records that a delta archive removes path from its base.
func (w *Writer) Remove(path string) error {
	if !ValidPath(path) {
		return fmt.Errorf("archive: invalid removed path %q", path)
	}
	w.removed = append(w.removed, path)
	return nil
}

// Docs returns the number of document ids handed out so far: every Add and
// Skip takes the next one. The search index refers to entries by these ids
// (see Reader.DocEntry).
func (w *Writer) Docs() int { return int(w.nDocs) }

// Skip uses up a document id without adding an entry, for a packer that
// numbered its documents before deciding to drop one.
func (w *Writer) Skip() {
	w.skips = append(w.skips, w.nDocs)
	w.nDocs++
}

// close releases the temporary files.
func (w *Writer) close() {
	w.hashes.Close()
	w.content.Close()
	w.meta.close()
	w.redirs.close()
	w.groups.close()
}

// InputBytes returns the content bytes added so far.
func (w *Writer) InputBytes() int64 { return w.input }

var (
	defaultEncOnce sync.Once
	defaultEnc     *zstd.Encoder
)

// CompressCluster returns the stored bytes (codec byte included) a Writer
// with default options makes of a compressible cluster's raw bytes, for
// code that rebuilds clusters and must match them byte for byte (peer
// sync): codec 1 (codec 3 for Korean text with hangul), or codec 0 when
// compressing does not make it smaller.
func CompressCluster(raw []byte, hangul bool) []byte {
	defaultEncOnce.Do(func() {
		var err error
		defaultEnc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression),
			zstd.WithEncoderConcurrency(max(1, runtime.GOMAXPROCS(0))),
			zstd.WithWindowSize(zstdWindow(defaultClusterSize)), zstd.WithEncoderCRC(false))
		if err != nil {
			panic("archive: internal error: zstd encoder: " + err.Error())
		}
	})
	return compressRaw(defaultEnc, raw, false, hangul, defaultClusterSize)
}

// compressRaw compresses a cluster as the Writer does: Brotli when asked,
// else zstd of the Hangul-packed form when asked and it applies, else
// zstd; raw when none is smaller.
func compressRaw(enc *zstd.Encoder, raw []byte, useBrotli, hangul bool, clusterSize int) []byte {
	var out []byte
	var packed []byte
	ok := false
	if !useBrotli && hangul {
		packed, ok = hangulPack(raw)
	}
	switch {
	case useBrotli:
		out = brotliEncode(raw, clusterSize)
	case ok:
		// The codec byte first, then zstd appends: no second copy of a
		// large cluster (the glossary marks table is one of tens of MB).
		out = enc.EncodeAll(packed, append(make([]byte, 0, len(packed)/3+64), codecZstdHangul))
	default:
		out = enc.EncodeAll(raw, append(make([]byte, 0, len(raw)/3+64), codecZstd))
	}
	if len(out) >= len(raw)+1 { // incompressible: store raw instead
		out = append([]byte{codecNone}, raw...)
	}
	return out
}
