package zim

import (
	"bytes"
	"compress/bzip2"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Cluster compression types (low 4 bits of a cluster's first byte).
const (
	compDefault = 0 // uncompressed (inherited from Zeno)
	compNone    = 1
	compZlib    = 2 // deprecated
	compBzip2   = 3 // deprecated
	compXZ      = 4
	compZstd    = 5
	// extendedFlag marks 64-bit blob offsets.
	extendedFlag = 0x10
)

// cluster is a decompressed cluster (its offset table followed by blobs),
// or for an uncompressed cluster only its offset table.
type cluster struct {
	data  []byte
	width uint64 // 4, or 8 for extended clusters
	n     uint64 // number of offsets (blobs + 1)
	// Uncompressed clusters: the blobs stay in the file.
	plain     bool
	dataStart int64 // file offset of the offset table
	size      int64 // bytes from dataStart to the cluster's end bound
}

func (c *cluster) offset(i uint64) uint64 {
	if c.width == 8 {
		return binary.LittleEndian.Uint64(c.data[i*8:])
	}
	return uint64(binary.LittleEndian.Uint32(c.data[i*4:]))
}

// blobs returns the number of blobs in the cluster.
func (c *cluster) blobs() uint64 { return c.n - 1 }

func (c *cluster) blob(b uint32) ([]byte, error) {
	if uint64(b) >= c.blobs() {
		return nil, fmt.Errorf("blob %d beyond the cluster's %d blobs: %w", b, c.blobs(), ErrCorrupt)
	}
	return c.data[c.offset(uint64(b)):c.offset(uint64(b)+1)], nil
}

// readOffsets reads a cluster's decompressed stream: the offset table, then
// exactly the bytes it covers. Memory grows with the bytes actually
// decoded, never with what the table claims, and nothing past the last
// blob is read (a compressed stream may be followed by anything).
//
// hint bounds the buffer reserved up front (from the compressed size), so
// a claimed size costs memory only in proportion to the input.
func readOffsets(dec io.Reader, width uint64, limit, hint int64) (*cluster, error) {
	c, buf, err := readTable(dec, width, limit)
	if err != nil {
		return nil, err
	}
	first, total := c.offset(0), c.offset(c.n-1)
	if grow := min(total, uint64(max(hint, 0))); grow > uint64(buf.Len()) {
		buf.Grow(int(grow) - buf.Len())
	}
	if err := copyN(buf, dec, total-first, "blob data"); err != nil {
		return nil, err
	}
	c.data = buf.Bytes()
	return c, nil
}

func copyN(buf *bytes.Buffer, dec io.Reader, n uint64, what string) error {
	var dst io.Writer = io.Discard
	if buf != nil {
		dst = buf
	}
	got, err := io.CopyN(dst, dec, int64(n))
	if err != nil {
		if err == io.EOF {
			return fmt.Errorf("data ends after %d of %d bytes of the %s: %w", got, n, what, ErrCorrupt)
		}
		if errors.Is(err, ErrUnsupported) {
			return err
		}
		return fmt.Errorf("decompressing the %s: %v: %w", what, err, ErrCorrupt)
	}
	return nil
}

// readTable reads and checks a cluster's offset table: the first offset
// gives the table size, offsets never decrease, and the last one (the
// decompressed size) is within limit.
func readTable(dec io.Reader, width uint64, limit int64) (*cluster, *bytes.Buffer, error) {
	buf := new(bytes.Buffer)
	if err := copyN(buf, dec, width, "first blob offset"); err != nil {
		return nil, nil, err
	}
	c := &cluster{width: width, data: buf.Bytes()}
	first := c.offset(0)
	if first < width || first%width != 0 {
		return nil, nil, fmt.Errorf("first blob offset %d is not a positive multiple of %d: %w", first, width, ErrCorrupt)
	}
	if first > uint64(limit) {
		return nil, nil, fmt.Errorf("offset table of %d bytes exceeds the %d-byte cluster limit: %w", first, limit, ErrTooLarge)
	}
	if err := copyN(buf, dec, first-width, "offset table"); err != nil {
		return nil, nil, err
	}
	c.data = buf.Bytes()
	c.n = first / width
	prev := first
	for i := uint64(1); i < c.n; i++ {
		o := c.offset(i)
		if o < prev {
			return nil, nil, fmt.Errorf("blob offset %d (%d) is below the previous one (%d): %w", i, o, prev, ErrCorrupt)
		}
		prev = o
	}
	if prev > uint64(limit) {
		return nil, nil, fmt.Errorf("cluster claims %d decompressed bytes, over the %d-byte limit: %w", prev, limit, ErrTooLarge)
	}
	return c, buf, nil
}

// A compressed cluster may expand to at most maxRatio times its stored size
// (or ratioFloor, whichever is more). HTML compresses 3-10 times and even a
// cluster of identical stub pages a few hundred times; the bound makes the
// decompression work of a hostile file proportional to its size.
const (
	maxRatio   = 1024
	ratioFloor = 1 << 20
)

// firstWindow is the LZMA2 dictionary / zstd window used on the first
// attempt at a compressed cluster, whatever its header claims: libzim's
// writers claim 64 MiB (xz) and up to 128 MiB (zstd) even for 1-2 MiB
// clusters, and a decoder allocates what is claimed. A cluster never refers
// back further than its own size, so clusters bigger than this are decoded
// again with a window of their real size (capped by MaxClusterSize).
const firstWindow = 8 << 20

// opener starts a decompressor over a cluster's compressed bytes with at
// most the given window; done releases it.
type opener func(window int64) (r io.Reader, done func(), err error)

func (a *Archive) decodeWindowed(open opener, width uint64, limit, hint int64) (*cluster, error) {
	// A cluster never needs a window larger than it may be.
	first := min(firstWindow, limit)
	r, done, err := open(first)
	if err != nil {
		return nil, err
	}
	c, err := readOffsets(r, width, limit, hint)
	done()
	if err == nil || errors.Is(err, ErrTooLarge) || errors.Is(err, ErrUnsupported) {
		return c, err
	}
	// Maybe the cluster needs a bigger window: read its size and retry.
	r, done, err2 := open(first)
	if err2 != nil {
		return nil, err
	}
	t, _, err2 := readTable(r, width, limit)
	done()
	if err2 != nil || t.offset(t.n-1) <= uint64(first) {
		return nil, err
	}
	if r, done, err2 = open(int64(t.offset(t.n - 1))); err2 != nil {
		return nil, err
	}
	defer done()
	return readOffsets(r, width, limit, hint)
}

// decodeCluster decodes the cluster stored in src between start and end
// (the first byte is the compression/flags byte) into memory.
func (a *Archive) decodeCluster(src io.ReaderAt, start, end int64) (*cluster, error) {
	a.decodes.Add(1)
	var info [1]byte
	if n, _ := src.ReadAt(info[:], start); n != 1 {
		return nil, fmt.Errorf("cluster info byte at offset %d: %w", start, ErrTruncated)
	}
	width := uint64(4)
	if info[0]&extendedFlag != 0 {
		width = 8
	}
	if info[0]&^(extendedFlag|0x0f) != 0 {
		return nil, fmt.Errorf("cluster info byte %#x has unknown flags: %w", info[0], ErrCorrupt)
	}
	body := func() *io.SectionReader { return io.NewSectionReader(src, start+1, end-start-1) }
	limit := a.opts.MaxClusterSize
	if comp := info[0] & 0x0f; comp > compNone {
		// Bound the work per compressed byte (see maxRatio).
		limit = min(limit, max(ratioFloor, maxRatio*(end-start-1)))
	}
	// Text compresses about 3-10 times; reserve up to 32 times the input.
	hint := 32*(end-start-1) + 64<<10
	switch comp := info[0] & 0x0f; comp {
	case compDefault, compNone:
		return readOffsets(body(), width, limit, end-start)
	case compXZ:
		return a.decodeWindowed(func(window int64) (io.Reader, func(), error) {
			x, err := newXZReader(body(), int(window))
			if err != nil {
				return nil, nil, fmt.Errorf("xz cluster: %v: %w", err, ErrCorrupt)
			}
			return x, func() {}, nil
		}, width, limit, hint)
	case compZstd:
		return a.decodeWindowed(func(window int64) (io.Reader, func(), error) {
			return a.zstdReader(body(), window)
		}, width, limit, hint)
	case compZlib:
		z, err := zlib.NewReader(body())
		if err != nil {
			return nil, fmt.Errorf("zlib cluster: %v: %w", err, ErrCorrupt)
		}
		return readOffsets(z, width, limit, hint)
	case compBzip2:
		return readOffsets(bzip2.NewReader(body()), width, limit, hint)
	default:
		return nil, fmt.Errorf("cluster compression type %d: %w", comp, ErrUnsupported)
	}
}

// zstdReader starts a zstd decoder over body whose window is at most
// window: a larger Window_Descriptor in the frame header (which has no
// checksum) is lowered to it. Decoders for the first window are pooled, so
// their window buffer is reused from cluster to cluster.
func (a *Archive) zstdReader(body *io.SectionReader, window int64) (io.Reader, func(), error) {
	// Pooled decoders all have the first window (zstd, unlike xz, grows
	// its buffers only as data arrives, so a smaller one saves nothing).
	window = max(window, firstWindow)
	var head [6]byte
	n, _ := body.ReadAt(head[:], 0)
	log := uint(10)
	for int64(1)<<log < window && log < 30 {
		log++
	}
	if n == len(head) && binary.LittleEndian.Uint32(head[:]) == 0xFD2FB528 && head[4]&0x20 == 0 {
		wd := head[5]
		claimed := uint64(1) << (10 + wd>>3)
		claimed += claimed / 8 * uint64(wd&7)
		if claimed > uint64(1)<<log {
			head[5] = byte(log-10) << 3
		}
	}
	r := io.MultiReader(bytes.NewReader(head[:n]), io.NewSectionReader(body, int64(n), body.Size()-int64(n)))
	maxWindow := uint64(1) << log
	memory := uint64(a.opts.MaxClusterSize)
	if memory < 2*maxWindow {
		memory = 2 * maxWindow
	}
	if window <= firstWindow {
		if d, ok := a.zstd.Get().(*zstd.Decoder); ok {
			if err := d.Reset(r); err == nil {
				return d, func() { a.putZstd(d) }, nil
			}
			d.Close()
		}
	}
	d, err := zstd.NewReader(r,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(maxWindow),
		zstd.WithDecoderMaxMemory(memory))
	if err != nil {
		return nil, nil, fmt.Errorf("zstd cluster: %v: %w", err, ErrCorrupt)
	}
	if window <= firstWindow {
		return d, func() { a.putZstd(d) }, nil
	}
	return d, d.Close, nil
}

func (a *Archive) putZstd(d *zstd.Decoder) {
	if err := d.Reset(nil); err != nil {
		d.Close()
		return
	}
	a.zstd.Put(d)
}

// clusterBounds returns where cluster i starts and the furthest it may
// extend: the next cluster, or the checksum for the last one. Tables are no bound: libzim
// points titlePtrPos into the blob of X/listing/titleOrdered/v0.
func (a *Archive) clusterBounds(i uint32) (start, end int64, err error) {
	if i >= a.hdr.ClusterCount {
		return 0, 0, fmt.Errorf("cluster %d beyond the cluster count %d: %w", i, a.hdr.ClusterCount, ErrCorrupt)
	}
	n := 16
	if i+1 == a.hdr.ClusterCount {
		n = 8
	}
	var b [16]byte
	if err := a.readAt(b[:n], int64(a.hdr.ClusterPtrPos)+8*int64(i), "cluster pointer"); err != nil {
		return 0, 0, fmt.Errorf("cluster %d: %w", i, err)
	}
	s := binary.LittleEndian.Uint64(b[:])
	e := a.hdr.ChecksumPos
	if s < HeaderSize || s >= e {
		return 0, 0, fmt.Errorf("cluster %d: offset %d is outside the data area (%d..%d): %w", i, s, HeaderSize, e, ErrCorrupt)
	}
	// Clusters lie one after the other and never overlap: otherwise many
	// cluster pointers could share one small compressed stream and make a
	// tiny file cost clusterCount times MaxClusterSize to decompress.
	if n == 16 {
		next := binary.LittleEndian.Uint64(b[8:])
		if next <= s || next > e {
			return 0, 0, fmt.Errorf("cluster %d starts at %d but cluster %d at %d: clusters must follow each other inside the data area: %w", i+1, next, i, s, ErrCorrupt)
		}
		e = next
	}
	return int64(s), int64(e), nil
}

// Content returns a reader over the content of entry e, which must be a
// content entry (resolve redirects first). Compressed clusters are
// decompressed into the cache; uncompressed blobs are read from the file
// in place (only their offset table is cached), so large media are never
// held in memory.
func (a *Archive) Content(e *Entry) (*io.SectionReader, error) {
	if e.Kind != KindContent {
		return nil, fmt.Errorf("entry %q has no content (it is a redirect or obsolete entry): %w", e.Path(), ErrNotFound)
	}
	sr, err := a.blob(e.Cluster, e.Blob)
	if err != nil {
		return nil, fmt.Errorf("entry %q: %w", e.Path(), err)
	}
	return sr, nil
}

func (a *Archive) blob(ci, bi uint32) (*io.SectionReader, error) {
	c, err := a.blobCluster(ci)
	if err != nil {
		return nil, err
	}
	sr, err := a.blobIn(c, bi)
	if err != nil {
		return nil, fmt.Errorf("cluster %d: %w", ci, err)
	}
	return sr, nil
}

// maxPlainTable caps the offset table kept in memory for an uncompressed
// cluster (a quarter million blobs); tables are checked blob by blob.
const maxPlainTable = 1 << 20

// plainTable reads the offset table of the uncompressed cluster at start,
// leaving the blobs in the file.
func (a *Archive) plainTable(start, end int64, extended bool) (*cluster, error) {
	c := &cluster{width: 4, plain: true, dataStart: start + 1, size: end - start - 1}
	if extended {
		c.width = 8
	}
	var b [8]byte
	if err := a.readAt(b[:c.width], c.dataStart, "blob offset"); err != nil {
		return nil, err
	}
	first := binary.LittleEndian.Uint64(b[:])
	if first < c.width || first%c.width != 0 || first > uint64(c.size) {
		return nil, fmt.Errorf("first blob offset %d is not a multiple of %d inside the %d-byte cluster: %w", first, c.width, c.size, ErrCorrupt)
	}
	if first > maxPlainTable {
		return nil, fmt.Errorf("uncompressed cluster has an offset table of %d bytes, over %d: %w", first, maxPlainTable, ErrTooLarge)
	}
	c.n = first / c.width
	c.data = make([]byte, first) // fits in the file: checked above
	if err := a.readAt(c.data, c.dataStart, "blob offsets"); err != nil {
		return nil, err
	}
	return c, nil
}

// blobIn returns a reader over blob bi of c: in memory for decompressed
// clusters, in the file for uncompressed ones (whose offsets are checked
// here, blob by blob, so one bad offset spoils only its own blob).
func (a *Archive) blobIn(c *cluster, bi uint32) (*io.SectionReader, error) {
	if !c.plain {
		data, err := c.blob(bi)
		if err != nil {
			return nil, err
		}
		return io.NewSectionReader(bytes.NewReader(data), 0, int64(len(data))), nil
	}
	if uint64(bi)+1 >= c.n {
		return nil, fmt.Errorf("blob %d beyond the cluster's %d blobs: %w", bi, c.n-1, ErrCorrupt)
	}
	first, o1, o2 := c.offset(0), c.offset(uint64(bi)), c.offset(uint64(bi)+1)
	if o1 < first || o2 < o1 || o2 > uint64(c.size) {
		return nil, fmt.Errorf("blob %d spans %d..%d, outside the %d-byte cluster: %w", bi, o1, o2, c.size, ErrCorrupt)
	}
	return io.NewSectionReader(a.r, c.dataStart+int64(o1), int64(o2-o1)), nil
}

// clusterCache keeps the most recently used decompressed clusters, bounded
// in count and bytes.
type clusterCache struct {
	mu       sync.Mutex
	maxN     int
	maxBytes int64
	bytes    int64
	items    []cacheItem // least recently used first
}

type cacheItem struct {
	idx uint32
	c   *cluster
}

func (cc *clusterCache) init(n int, b int64) { cc.maxN, cc.maxBytes = n, b }

func (cc *clusterCache) get(idx uint32) *cluster {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	for i, it := range cc.items {
		if it.idx == idx {
			copy(cc.items[i:], cc.items[i+1:])
			cc.items[len(cc.items)-1] = it
			return it.c
		}
	}
	return nil
}

func (cc *clusterCache) put(idx uint32, c *cluster) {
	size := int64(len(c.data))
	if size > cc.maxBytes {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	for _, it := range cc.items {
		if it.idx == idx {
			return
		}
	}
	for len(cc.items) > 0 && (len(cc.items) >= cc.maxN || cc.bytes+size > cc.maxBytes) {
		cc.bytes -= int64(len(cc.items[0].c.data))
		cc.items = cc.items[1:]
	}
	cc.items = append(cc.items, cacheItem{idx, c})
	cc.bytes += size
}

func (cc *clusterCache) clear() {
	cc.mu.Lock()
	cc.items, cc.bytes = nil, 0
	cc.mu.Unlock()
}

// streamThreshold is the decompressed size above which Walk never holds a
// compressed cluster whole: it reads its blobs in order from one decoder,
// so memory is the decoder's window whatever the cluster claims. Real
// clusters are 1-2 MiB; a hostile file of many 256 MiB clusters that
// compress to almost nothing would otherwise cost 256 MiB per entry a
// packer holds. Blobs of such a cluster opened out of order decode it from
// its start again (see clusterStream).
const streamThreshold = 16 << 20

// clusterOpener returns how to start a decompressor over the compressed
// cluster stored between start and end (comp is its compression type).
func (a *Archive) clusterOpener(start, end int64, comp byte) (opener, error) {
	body := func() *io.SectionReader { return io.NewSectionReader(a.r, start+1, end-start-1) }
	switch comp {
	case compXZ:
		return func(window int64) (io.Reader, func(), error) {
			x, err := newXZReader(body(), int(window))
			if err != nil {
				return nil, nil, fmt.Errorf("xz cluster: %v: %w", err, ErrCorrupt)
			}
			return x, func() {}, nil
		}, nil
	case compZstd:
		return func(window int64) (io.Reader, func(), error) { return a.zstdReader(body(), window) }, nil
	case compZlib:
		return func(int64) (io.Reader, func(), error) {
			z, err := zlib.NewReader(body())
			if err != nil {
				return nil, nil, fmt.Errorf("zlib cluster: %v: %w", err, ErrCorrupt)
			}
			return z, func() {}, nil
		}, nil
	case compBzip2:
		return func(int64) (io.Reader, func(), error) { return bzip2.NewReader(body()), func() {}, nil }, nil
	}
	return nil, fmt.Errorf("cluster compression type %d: %w", comp, ErrUnsupported)
}

// clusterLimit is the most a compressed cluster of the given stored size
// may expand to (see maxRatio).
func (a *Archive) clusterLimit(start, end int64) int64 {
	return min(a.opts.MaxClusterSize, max(ratioFloor, maxRatio*(end-start-1)))
}

// startCluster prepares cluster ci for reading its blobs in order. Small
// and uncompressed clusters come back as a *cluster (decoded whole and
// cached, or an offset table over the file); compressed clusters over
// streamThreshold come back as a *clusterStream positioned after the
// offset table.
func (a *Archive) startCluster(ci uint32) (*cluster, *clusterStream, error) {
	if c := a.cache.get(ci); c != nil {
		return c, nil, nil
	}
	start, end, err := a.clusterBounds(ci)
	if err != nil {
		return nil, nil, err
	}
	var info [1]byte
	if err := a.readAt(info[:], start, "cluster info byte"); err != nil {
		return nil, nil, fmt.Errorf("cluster %d: %w", ci, err)
	}
	comp := info[0] & 0x0f
	if info[0]&^(extendedFlag|0x0f) != 0 || comp <= compNone {
		c, err := a.blobCluster(ci)
		return c, nil, err
	}
	width := uint64(4)
	if info[0]&extendedFlag != 0 {
		width = 8
	}
	open, err := a.clusterOpener(start, end, comp)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster %d: %w", ci, err)
	}
	limit := a.clusterLimit(start, end)
	r, done, err := open(min(firstWindow, limit))
	if err != nil {
		return nil, nil, fmt.Errorf("cluster %d: %w", ci, err)
	}
	t, buf, err := readTable(r, width, limit)
	if err != nil {
		done()
		return nil, nil, fmt.Errorf("cluster %d: %w", ci, err)
	}
	if total := t.offset(t.n - 1); total <= uint64(a.opts.streamAbove) {
		buf.Grow(int(total) - buf.Len())
		err := copyN(buf, r, total-t.offset(0), "blob data")
		done()
		a.decodes.Add(1)
		if err == nil {
			t.data = buf.Bytes()
			a.cache.put(ci, t)
			return t, nil, nil
		}
		// Perhaps it needs a longer window: the whole-cluster path retries.
		c, err := a.blobCluster(ci)
		return c, nil, err
	}
	return nil, a.startStream(ci, t, open, r, done), nil
}

// blobCluster decodes cluster ci whole (or reads an uncompressed one's
// offset table) and caches it.
func (a *Archive) blobCluster(ci uint32) (*cluster, error) {
	if c := a.cache.get(ci); c != nil {
		return c, nil
	}
	start, end, err := a.clusterBounds(ci)
	if err != nil {
		return nil, err
	}
	var info [1]byte
	if err := a.readAt(info[:], start, "cluster info byte"); err != nil {
		return nil, fmt.Errorf("cluster %d: %w", ci, err)
	}
	var c *cluster
	if comp := info[0] & 0x0f; (comp == compDefault || comp == compNone) && info[0]&^(extendedFlag|0x0f) == 0 {
		c, err = a.plainTable(start, end, info[0]&extendedFlag != 0)
	} else {
		c, err = a.decodeCluster(a.r, start, end)
	}
	if err != nil {
		return nil, fmt.Errorf("cluster %d: %w", ci, err)
	}
	a.cache.put(ci, c)
	return c, nil
}

// clusterStream reads the blobs of one big compressed cluster in order from
// a single decoder. A blob asked for behind the decoder's position, or
// while another reader holds the decoder, or after Walk has moved on, is
// read from a decoder of its own that starts at the cluster's beginning.
type clusterStream struct {
	a     *Archive
	ci    uint32
	table *cluster // offsets only
	open  opener

	mu       sync.Mutex
	dec      *decoder // shared; nil once closed
	busy     bool     // a reader is using dec
	finished bool     // Walk has moved on: close dec when the reader is done
}

// decoder is a decompressor over one cluster that knows its position and
// starts again with a longer window when the data refers back further
// than its window (see firstWindow), continuing where it was.
type decoder struct {
	open   opener
	r      io.Reader
	done   func()
	window int64
	pos    uint64 // bytes decoded so far
	total  uint64 // the cluster's decompressed size
}

func newDecoder(open opener, total uint64) (*decoder, error) {
	d := &decoder{open: open, total: total, window: firstWindow}
	r, done, err := open(firstWindow)
	if err != nil {
		return nil, err
	}
	d.r, d.done = r, done
	return d, nil
}

func (d *decoder) close() {
	if d.done != nil {
		d.done()
		d.done, d.r = nil, nil
	}
}

func (d *decoder) Read(p []byte) (int, error) {
	if d.r == nil {
		return 0, errors.New("zim: cluster decoder used after close")
	}
	n, err := d.r.Read(p)
	d.pos += uint64(n)
	if err != nil && err != io.EOF && d.window < int64(d.total) && !errors.Is(err, ErrUnsupported) {
		// Perhaps a match further back than the window: decode again with
		// a window of the cluster's size and go on from here.
		if rerr := d.reopen(int64(d.total)); rerr == nil {
			if n > 0 {
				return n, nil
			}
			return d.Read(p)
		}
	}
	return n, err
}

func (d *decoder) reopen(window int64) error {
	pos := d.pos
	d.close()
	r, done, err := d.open(window)
	if err != nil {
		return err
	}
	d.r, d.done, d.window, d.pos = r, done, window, 0
	if err := copyN(nil, r, pos, "cluster data"); err != nil {
		d.close()
		return err
	}
	d.pos = pos
	return nil
}

// skipTo reads on to offset to.
func (d *decoder) skipTo(to uint64) error {
	if to > d.pos {
		return copyN(nil, d, to-d.pos, "cluster data")
	}
	return nil
}

// startStream returns the stream of a cluster whose decoder r (opened with
// firstWindow) has just read table t.
func (a *Archive) startStream(ci uint32, t *cluster, open opener, r io.Reader, done func()) *clusterStream {
	d := &decoder{open: open, r: r, done: done, window: firstWindow, pos: t.offset(0), total: t.offset(t.n - 1)}
	return &clusterStream{a: a, ci: ci, table: t, open: open, dec: d}
}

// span returns where blob bi lies in the decompressed cluster.
func (st *clusterStream) span(bi uint32) (o1, o2 uint64, err error) {
	if uint64(bi)+1 >= st.table.n {
		return 0, 0, fmt.Errorf("blob %d beyond the cluster's %d blobs: %w", bi, st.table.n-1, ErrCorrupt)
	}
	return st.table.offset(uint64(bi)), st.table.offset(uint64(bi) + 1), nil
}

// openBlob returns a reader over blob bi.
func (st *clusterStream) openBlob(bi uint32) (io.ReadCloser, error) {
	o1, o2, err := st.span(bi)
	if err != nil {
		return nil, err
	}
	st.mu.Lock()
	if d := st.dec; d != nil && !st.busy && !st.finished && d.pos <= o1 {
		st.busy = true
		st.mu.Unlock()
		if err := d.skipTo(o1); err != nil {
			st.release()
			return nil, fmt.Errorf("cluster %d: %w", st.ci, err)
		}
		return &blobReader{ci: st.ci, dec: d, left: int64(o2 - o1), release: st.release}, nil
	}
	st.mu.Unlock()
	// A decoder of its own, from the cluster's start.
	d, err := newDecoder(st.open, st.table.offset(st.table.n-1))
	if err != nil {
		return nil, fmt.Errorf("cluster %d: %w", st.ci, err)
	}
	if err := d.skipTo(o1); err != nil {
		d.close()
		return nil, fmt.Errorf("cluster %d: %w", st.ci, err)
	}
	return &blobReader{ci: st.ci, dec: d, left: int64(o2 - o1), release: d.close}, nil
}

func (st *clusterStream) release() {
	st.mu.Lock()
	st.busy = false
	if st.finished && st.dec != nil {
		st.dec.close()
		st.dec = nil
	}
	st.mu.Unlock()
}

// finish is called by Walk when it leaves the cluster.
func (st *clusterStream) finish() {
	st.mu.Lock()
	st.finished = true
	if !st.busy && st.dec != nil {
		st.dec.close()
		st.dec = nil
	}
	st.mu.Unlock()
}

// blobReader reads one blob from a decoder.
type blobReader struct {
	ci      uint32
	dec     *decoder
	left    int64
	release func()
}

func (b *blobReader) Read(p []byte) (int, error) {
	if b.release == nil {
		return 0, errors.New("zim: read after close")
	}
	if b.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.dec.Read(p)
	b.left -= int64(n)
	switch {
	case err == io.EOF && b.left > 0:
		err = fmt.Errorf("cluster %d ends %d bytes before the blob does: %w", b.ci, b.left, ErrCorrupt)
	case err == io.EOF:
		err = nil
	case err != nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported):
		err = fmt.Errorf("decompressing cluster %d: %v: %w", b.ci, err, ErrCorrupt)
	}
	return n, err
}

func (b *blobReader) Close() error {
	if b.release != nil {
		b.release()
		b.release = nil
	}
	return nil
}
