package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"

	"ferry/internal/key"
)

// Reader reads an archive in place. It is safe for concurrent use.
type Reader struct {
	ra       io.ReaderAt
	size     int64
	closer   io.Closer
	m        *Manifest
	raw      []byte // manifest bytes as signed
	id       [32]byte
	signers  []key.Public
	badSigs  int
	secs     map[string]*section
	cache    *cache
	cid      uint64 // this reader's id in the cache
	nEntries int64
	nCluster int64
	decoded  atomic.Int64 // bytes decompressed, for tests of the prefix policy

	fmu     sync.Mutex
	flights map[uint32]*flight // clusters being decoded
}

// ReaderOptions tune a Reader.
type ReaderOptions struct {
	// CacheBytes gives the Reader a cache of its own of verified blocks
	// and decompressed clusters, of this many bytes. By default (0) every
	// Reader of the process shares one cache (16 MiB; SetMemoryLimit
	// sizes it), so a library of many archives holds no more than one.
	CacheBytes int
}

// OpenFile opens the archive file at path. Close releases it.
func OpenFile(path string) (*Reader, error) {
	// Only regular files: opening a FIFO (or a device) named *.ferry on a
	// card would block or read forever.
	if st, err := os.Stat(path); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w: not a regular file", path, ErrNotArchive)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	r, err := Open(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.closer = f
	return r, nil
}

// Open reads the header, trailer and manifest of the archive in ra and
// checks the publisher signatures. It does not decide whom to trust: see
// Signers.
func Open(ra io.ReaderAt, size int64) (*Reader, error) {
	return OpenWith(ra, size, ReaderOptions{})
}

// OpenWith is Open with options.
func OpenWith(ra io.ReaderAt, size int64, opts ReaderOptions) (*Reader, error) {
	if size < headerSize+trailerSize {
		return nil, fmt.Errorf("%w: %d bytes is too small to be an archive", ErrNotArchive, size)
	}
	var hdr [headerSize]byte
	if _, err := ra.ReadAt(hdr[:], 0); err != nil {
		return nil, fmt.Errorf("reading header: %w", readErr(err))
	}
	if string(hdr[:8]) != headerMagic {
		return nil, ErrNotArchive
	}
	if v := binary.LittleEndian.Uint16(hdr[8:]); v != FormatVersion {
		return nil, fmt.Errorf("%w %d (this ferry reads version %d): get a newer ferry", ErrVersion, v, FormatVersion)
	}
	if !allZero(hdr[10:]) {
		return nil, fmt.Errorf("%w: header flags set", ErrCorrupt)
	}
	// One read of the tail usually holds trailer, signatures and manifest.
	tailLen := min(size-headerSize, 64<<10)
	tail := make([]byte, tailLen)
	if _, err := ra.ReadAt(tail, size-tailLen); err != nil {
		return nil, fmt.Errorf("reading trailer: %w", readErr(err))
	}
	tr := tail[len(tail)-trailerSize:]
	if string(tr[24:]) != trailerMagic {
		return nil, fmt.Errorf("%w: no trailer at the end of the file (the copy may be incomplete: copy it again)", ErrTruncated)
	}
	mOff := int64(binary.LittleEndian.Uint64(tr[0:]))
	mLen := int64(binary.LittleEndian.Uint32(tr[8:]))
	sLen := int64(binary.LittleEndian.Uint32(tr[12:]))
	if !allZero(tr[16:24]) || mLen == 0 || mLen > maxManifestSize || sLen < 1+96 || sLen > 1+96*255 ||
		mOff < headerSize || mOff+mLen+sLen+trailerSize != size {
		return nil, fmt.Errorf("%w: trailer does not describe this file (bad manifest position)", ErrCorrupt)
	}
	meta := make([]byte, mLen+sLen)
	if start := size - trailerSize - mLen - sLen; start >= size-tailLen {
		copy(meta, tail[start-(size-tailLen):])
	} else if _, err := ra.ReadAt(meta, mOff); err != nil {
		return nil, fmt.Errorf("reading manifest: %w", readErr(err))
	}
	r := &Reader{ra: ra, size: size, raw: meta[:mLen], cache: sharedCache, cid: readerIDs.Add(1)}
	if opts.CacheBytes > 0 {
		r.cache = newCache(opts.CacheBytes)
	}
	r.id = sha256.Sum256(r.raw)
	if err := r.checkSignatures(meta[mLen:]); err != nil {
		return nil, err
	}
	mp, err := ParseManifest(r.raw)
	if err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrCorrupt, err)
	}
	m := *mp
	if m.Format != FormatVersion {
		return nil, fmt.Errorf("%w: manifest format %d", ErrVersion, m.Format)
	}
	if m.FileSize != size {
		if m.FileSize > size {
			return nil, fmt.Errorf("%w: file is %d bytes, the manifest says %d (copy it again)", ErrTruncated, size, m.FileSize)
		}
		return nil, fmt.Errorf("%w: file is %d bytes, the manifest says %d", ErrCorrupt, size, m.FileSize)
	}
	if m.Data.Offset != headerSize || m.Data.Length < 0 || m.Data.Length > size-headerSize {
		return nil, fmt.Errorf("%w: data range", ErrCorrupt)
	}
	if m.ChunkSize == 0 || m.ChunkSize > maxClusterRaw {
		return nil, fmt.Errorf("%w: chunk size %d", ErrCorrupt, m.ChunkSize)
	}
	r.m = &m
	r.secs = map[string]*section{}
	names := make([]string, 0, len(m.Sections))
	for name := range m.Sections {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		s := m.Sections[name]
		if err := s.check(name, size); err != nil {
			return nil, err
		}
		r.secs[name] = &section{r: r, name: name, id: i + 1, s: s}
	}
	for _, need := range []string{secClusters, secEntries, secStrings, secTitles, secDocs} {
		if r.secs[need] == nil {
			return nil, fmt.Errorf("%w: manifest lacks section %s", ErrCorrupt, need)
		}
	}
	if r.secs[secClusters].s.Length%clusterRecordSize != 0 || r.secs[secEntries].s.Length%entryRecordSize != 0 {
		return nil, fmt.Errorf("%w: table sizes", ErrCorrupt)
	}
	r.nEntries = r.secs[secEntries].s.Length / entryRecordSize
	r.nCluster = r.secs[secClusters].s.Length / clusterRecordSize
	if r.nEntries != int64(m.Counts.Entries) || r.nCluster != int64(m.Counts.Clusters) {
		return nil, fmt.Errorf("%w: counts do not match tables", ErrCorrupt)
	}
	return r, nil
}

func (r *Reader) checkSignatures(b []byte) error {
	n := int(b[0])
	if n == 0 || len(b) != 1+96*n {
		return fmt.Errorf("%w: malformed signature block", ErrCorrupt)
	}
	msg := signedMessage(r.raw)
	for i := 0; i < n; i++ {
		var p key.Public
		copy(p[:], b[1+96*i:])
		if p.Verify(msg, b[1+96*i+32:1+96*i+96]) {
			r.signers = append(r.signers, p)
		} else {
			r.badSigs++
		}
	}
	if len(r.signers) == 0 {
		return fmt.Errorf("%w: the manifest signature does not verify (tampered or damaged archive)", ErrSignature)
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Close releases the file opened by OpenFile and what the Reader holds in
// the shared cache.
func (r *Reader) Close() error {
	if r.cache == sharedCache {
		r.cache.drop(r.cid)
	}
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// Manifest returns the signed manifest. Callers must not modify it.
func (r *Reader) Manifest() *Manifest { return r.m }

// ManifestBytes returns the manifest exactly as signed.
func (r *Reader) ManifestBytes() []byte { return r.raw }

// ID identifies the archive: the hex SHA-256 of its signed manifest.
func (r *Reader) ID() string { return hex.EncodeToString(r.id[:]) }

// Signers returns the keys whose signature over the manifest verified.
func (r *Reader) Signers() []key.Public { return r.signers }

// SignedBy reports whether p signed this archive.
func (r *Reader) SignedBy(p key.Public) bool {
	for _, s := range r.signers {
		if s == p {
			return true
		}
	}
	return false
}

// Size returns the archive file size.
func (r *Reader) Size() int64 { return r.size }

// NumEntries returns the number of entries.
func (r *Reader) NumEntries() int { return int(r.nEntries) }

// Entry describes one entry of an archive.
type Entry struct {
	Index    int
	Path     string
	Title    string
	MIME     string
	Size     int64
	Redirect bool
	Article  bool

	target  uint32 // redirect target index
	cluster uint32
	offset  uint32
	chunked bool
}

// EntryAt returns entry i in path order.
func (r *Reader) EntryAt(i int) (Entry, error) {
	if i < 0 || int64(i) >= r.nEntries {
		return Entry{}, fmt.Errorf("%w: entry index %d", ErrNotFound, i)
	}
	var rec [entryRecordSize]byte
	if err := r.secs[secEntries].readFull(rec[:], int64(i)*entryRecordSize); err != nil {
		return Entry{}, err
	}
	e := Entry{Index: i}
	kind, flags := rec[0], rec[1]
	mime := binary.LittleEndian.Uint16(rec[2:])
	e.cluster = binary.LittleEndian.Uint32(rec[4:])
	e.offset = binary.LittleEndian.Uint32(rec[8:])
	size := binary.LittleEndian.Uint64(rec[16:])
	soff := int64(binary.LittleEndian.Uint64(rec[24:]))
	if kind > entryRedirect || flags&^(flagArticle|flagChunked) != 0 || !allZero(rec[12:16]) || size > 1<<50 {
		return Entry{}, fmt.Errorf("%w: entry %d record", ErrCorrupt, i)
	}
	e.Size = int64(size)
	e.Article = flags&flagArticle != 0
	e.chunked = flags&flagChunked != 0
	if kind == entryRedirect {
		e.Redirect = true
		e.target = e.cluster
		if int64(e.target) >= r.nEntries {
			return Entry{}, fmt.Errorf("%w: entry %d redirects outside the directory", ErrCorrupt, i)
		}
	} else {
		if int(mime) >= len(r.m.MIMETypes) || int64(e.cluster) >= r.nCluster {
			return Entry{}, fmt.Errorf("%w: entry %d points outside the tables", ErrCorrupt, i)
		}
		e.MIME = r.m.MIMETypes[mime]
	}
	var err error
	if e.Path, e.Title, err = r.readStrings(soff); err != nil {
		return Entry{}, fmt.Errorf("entry %d: %w", i, err)
	}
	return e, nil
}

func (r *Reader) readStrings(off int64) (string, string, error) {
	sec := r.secs[secStrings]
	var buf [2 * (binary.MaxVarintLen64 + 1024)]byte
	n, err := sec.ReadAt(buf[:], off)
	if err != nil && err != io.EOF {
		return "", "", err
	}
	b := buf[:n]
	pl, k := uvarint(b)
	if k <= 0 || pl == 0 || pl > 1024 || uint64(len(b)-k) < pl {
		return "", "", fmt.Errorf("%w: path string at %d", ErrCorrupt, off)
	}
	path := string(b[k : k+int(pl)])
	b = b[k+int(pl):]
	tl, k := uvarint(b)
	if k <= 0 || tl > maxStringLen {
		return "", "", fmt.Errorf("%w: title string at %d", ErrCorrupt, off)
	}
	var title string
	if uint64(len(b)-k) >= tl {
		title = string(b[k : k+int(tl)])
	} else {
		t := make([]byte, tl)
		if err := sec.readFull(t, off+int64(n-len(b)+k)); err != nil {
			return "", "", err
		}
		title = string(t)
	}
	if !utf8.ValidString(path) || !utf8.ValidString(title) {
		return "", "", fmt.Errorf("%w: string at %d is not UTF-8", ErrCorrupt, off)
	}
	if !ValidPath(path) {
		// Readers apply the rules writers obey: a hostile archive's
		// "../../x" or "/etc/x" never reaches code that names files.
		return "", "", fmt.Errorf("%w: entry path %q breaks the path rules", ErrCorrupt, path)
	}
	return path, title, nil
}

// Lookup finds the entry with exactly this path.
func (r *Reader) Lookup(path string) (Entry, error) {
	var ferr error
	i := sort.Search(int(r.nEntries), func(i int) bool {
		if ferr != nil {
			return true
		}
		e, err := r.EntryAt(i)
		if err != nil {
			ferr = err
			return true
		}
		return e.Path >= path
	})
	if ferr != nil {
		return Entry{}, ferr
	}
	if int64(i) < r.nEntries {
		e, err := r.EntryAt(i)
		if err != nil {
			return Entry{}, err
		}
		if e.Path == path {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("%w: %q", ErrNotFound, path)
}

// Resolve follows redirects from e to a content entry.
func (r *Reader) Resolve(e Entry) (Entry, error) {
	for i := 0; e.Redirect; i++ {
		if i >= maxRedirects {
			return Entry{}, fmt.Errorf("%w: redirect loop at %q", ErrCorrupt, e.Path)
		}
		var err error
		if e, err = r.EntryAt(int(e.target)); err != nil {
			return Entry{}, err
		}
	}
	return e, nil
}

// Target returns the entry a redirect points to (one step).
func (r *Reader) Target(e Entry) (Entry, error) {
	if !e.Redirect {
		return e, nil
	}
	return r.EntryAt(int(e.target))
}

// cluster returns the verified, decompressed bytes of cluster i.
func (r *Reader) cluster(i uint32) ([]byte, error) { return r.clusterTo(i, -1, nil) }

// clusterRecord reads cluster i's record: its file offset, stored and raw
// lengths, checked against the data range and the size limits before
// anything is allocated for the cluster (a record may claim up to 4 GiB).
func (r *Reader) clusterRecord(i uint32) (rec [clusterRecordSize]byte, off, sl, rl int64, err error) {
	if err := r.secs[secClusters].readFull(rec[:], int64(i)*clusterRecordSize); err != nil {
		return rec, 0, 0, 0, err
	}
	off = int64(binary.LittleEndian.Uint64(rec[0:]))
	sl = int64(binary.LittleEndian.Uint32(rec[8:]))
	rl = int64(binary.LittleEndian.Uint32(rec[12:]))
	d := r.m.Data
	if sl > maxClusterStored {
		return rec, 0, 0, 0, fmt.Errorf("%w: cluster %d record claims a stored length of %d bytes, more than the %d a cluster may have", ErrCorrupt, i, sl, maxClusterStored)
	}
	if sl < 1 || rl > maxClusterRaw || off < d.Offset || off > d.Offset+d.Length || sl > d.Offset+d.Length-off {
		return rec, 0, 0, 0, fmt.Errorf("%w: cluster %d record", ErrCorrupt, i)
	}
	return rec, off, sl, rl, nil
}

// clusterTo returns at least the first need bytes of cluster i (all of it if
// need < 0), verified and decompressed. A compressed cluster is decompressed
// only as far as asked (and a little further, for the next entries), so an
// article near the start of a cluster does not cost decompressing all
// of it; the cache keeps the longest prefix decompressed so far. have is a
// prefix of the same cluster the caller kept from an earlier call (or nil):
// a cluster too big for the cache is then still decompressed a few times,
// not once per read.
func (r *Reader) clusterTo(i uint32, need int64, have []byte) ([]byte, error) {
	key := cacheKey{owner: r.cid, kind: 0, n: int64(i)}
	held, ok := r.cache.get(key)
	if len(have) > len(held) {
		held, ok = have, true
	}
	if ok && need >= 0 && int64(len(held)) >= need {
		return held, nil
	}
	rec, off, sl, rl, err := r.clusterRecord(i)
	if err != nil {
		return nil, err
	}
	if ok && int64(len(held)) == rl {
		return held, nil // all of it; the caller's range is past the end
	}
	// One decode of a cluster at a time: callers wanting the same cluster
	// wait for it and share the bytes (fifty requests for one page must not
	// decompress it fifty times, nor hold fifty copies).
	r.fmu.Lock()
	if f := r.flights[i]; f != nil {
		r.fmu.Unlock()
		<-f.done
		if f.err != nil {
			return nil, f.err
		}
		if need >= 0 && int64(len(f.raw)) >= need || int64(len(f.raw)) == rl {
			return f.raw, nil
		}
		return r.clusterTo(i, need, f.raw) // it decoded less than this caller needs
	}
	f := &flight{done: make(chan struct{})}
	if r.flights == nil {
		r.flights = map[uint32]*flight{}
	}
	r.flights[i] = f
	r.fmu.Unlock()
	f.raw, f.err = r.decodeCluster(i, key, rec, off, sl, rl, need, held)
	r.fmu.Lock()
	delete(r.flights, i)
	r.fmu.Unlock()
	close(f.done)
	return f.raw, f.err
}

// flight is a cluster being decoded, which other callers wait for.
type flight struct {
	done chan struct{}
	raw  []byte
	err  error
}

// decodeCluster reads, verifies and decompresses (a prefix of) cluster i,
// within the process's decode budget: the memory it allocates is taken
// from the budget first, so concurrent requests cannot together allocate
// more than it, and a cluster is never decompressed past the raw length its
// record claims (docs/format.md: readers MUST cap there).
func (r *Reader) decodeCluster(i uint32, key cacheKey, rec [clusterRecordSize]byte, off, sl, rl, need int64, held []byte) ([]byte, error) {
	want := rl
	if need >= 0 {
		want = min(rl, max(need+prefixStep, 2*int64(len(held))))
	}
	cost := sl + want
	taken := decodeBudget.Acquire(cost)
	defer decodeBudget.Release(taken)
	stored := make([]byte, sl)
	if _, err := r.ra.ReadAt(stored, off); err != nil {
		return nil, fmt.Errorf("reading cluster %d: %w", i, readErr(err))
	}
	h := sha256.Sum256(stored)
	if !bytes.Equal(h[:], rec[16:48]) {
		return nil, fmt.Errorf("%w: cluster %d (file offset %d) does not match its hash", ErrCorrupt, i, off)
	}
	var raw []byte
	switch stored[0] {
	case codecNone:
		if int64(len(stored)-1) != rl {
			return nil, fmt.Errorf("%w: cluster %d is %d bytes, record says %d", ErrCorrupt, i, len(stored)-1, rl)
		}
		raw = stored[1:]
		want = rl
	case codecZstd:
		// Decompress to what is asked plus prefixStep, or at least twice
		// the prefix held, so a cluster read entry by entry is
		// decompressed a few times, not once per entry.
		var err error
		raw, err = decodeZstd(stored[1:], want, want == rl)
		if err != nil {
			return nil, fmt.Errorf("%w: cluster %d: %v (record says %d raw bytes)", ErrCorrupt, i, err, rl)
		}
		r.decoded.Add(int64(len(raw)))
	case codecZstdHangul:
		var err error
		raw, err = decodeZstdHangul(stored[1:], want, want == rl)
		if err != nil {
			return nil, fmt.Errorf("%w: cluster %d: %v (record says %d raw bytes)", ErrCorrupt, i, err, rl)
		}
		r.decoded.Add(int64(len(raw)))
	case codecBrotli:
		var err error
		raw, err = brotliDecode(stored[1:], want, want == rl)
		if err != nil {
			return nil, fmt.Errorf("%w: cluster %d: %v (record says %d raw bytes)", ErrCorrupt, i, err, rl)
		}
		r.decoded.Add(int64(len(raw)))
	default:
		return nil, fmt.Errorf("%w: cluster %d has unknown codec %d", ErrCorrupt, i, stored[0])
	}
	r.cache.put(key, raw)
	return raw, nil
}

// prefixStep is how far past the asked-for end a cluster is decompressed.
const prefixStep = 64 << 10

// prefixDecoders holds one streaming zstd decoder per CPU, for
// decompressing the start of a cluster (a zstd.Decoder streams for one
// caller at a time, and each keeps a window of up to a cluster). Waiting
// for one bounds that memory; the work is CPU-bound anyway.
var prefixDecoders = func() chan *zstd.Decoder {
	n := runtime.GOMAXPROCS(0)
	c := make(chan *zstd.Decoder, n)
	for range n {
		c <- nil // made on first use
	}
	return c
}()

// decodeZstd decompresses the first n bytes of the zstd frame in src; with
// all, n is the whole raw length and a frame that holds more is refused
// after reading one byte past it (a cluster claiming 200 bytes that expands
// to 1 GiB costs 201 bytes, not the decoder's limit).
func decodeZstd(src []byte, n int64, all bool) ([]byte, error) {
	return decodeZstdVia(src, n, all, false)
}

// decodeZstdHangul is decodeZstd for a frame of Hangul-packed bytes
// (codec 3): n and all count the bytes after unpacking.
func decodeZstdHangul(src []byte, n int64, all bool) ([]byte, error) {
	return decodeZstdVia(src, n, all, true)
}

func decodeZstdVia(src []byte, n int64, all, hangul bool) ([]byte, error) {
	return decodeZstdInto(nil, src, n, all, hangul)
}

// decodeZstdInto is decodeZstdVia decoding into dst's memory when it is
// big enough (Verify reuses one buffer per worker for every cluster).
func decodeZstdInto(dst, src []byte, n int64, all, hangul bool) ([]byte, error) {
	d := <-prefixDecoders
	defer func() { prefixDecoders <- d }()
	if d == nil {
		var err error
		d, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxMemory(maxClusterRaw*2), zstd.WithDecoderMaxWindow(maxClusterRaw))
		if err != nil {
			return nil, err
		}
	}
	if err := d.Reset(bytes.NewReader(src)); err != nil {
		return nil, err
	}
	var rd io.Reader = d
	if hangul {
		rd = newHangulReader(d)
	}
	out, err := readUpToInto(dst, rd, n, len(src))
	if err != nil {
		return nil, err
	}
	if all {
		var one [1]byte
		if k, err := rd.Read(one[:]); k > 0 || err != io.EOF {
			if err == nil || err == io.EOF {
				err = fmt.Errorf("frame holds more than %d bytes", n)
			}
			return nil, err
		}
	}
	return out, nil
}

// readUpTo reads exactly n bytes of decompressed data from r. The buffer
// grows with what actually arrives (from a few times the stored size),
// not from the length the file claims: a cluster record claiming 64 MiB
// for a stream that ends after a kilobyte costs a kilobyte.
func readUpTo(r io.Reader, n int64, stored int) ([]byte, error) {
	return readUpToInto(nil, r, n, stored)
}

// readUpToInto is readUpTo starting in dst's memory when it holds at least
// as much as readUpTo would allocate first; it grows the same way from there.
func readUpToInto(dst []byte, r io.Reader, n int64, stored int) ([]byte, error) {
	first := min(n, int64(4*stored)+64<<10)
	buf := dst[:0]
	if int64(cap(dst)) < first {
		buf = make([]byte, 0, first)
	}
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			buf = append(buf[:cap(buf)], make([]byte, min(int64(cap(buf)), n-int64(cap(buf))))...)[:len(buf)]
		}
		k, err := r.Read(buf[len(buf):min(int64(cap(buf)), n)])
		buf = buf[:len(buf)+k]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if int64(len(buf)) < n {
		return nil, fmt.Errorf("stream ends before %d bytes", n)
	}
	return buf, nil
}

// entryReader reads a content entry's bytes through verified clusters. It
// keeps the last cluster (prefix) it read, for entries read piece by piece
// whose cluster is too big for the cache.
type entryReader struct {
	r *Reader
	e Entry

	mu      sync.Mutex
	last    []byte
	lastIdx uint32
}

func (er *entryReader) ReadAt(p []byte, off int64) (int, error) {
	e := er.e
	if off < 0 {
		return 0, fmt.Errorf("archive: negative offset")
	}
	if off >= e.Size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && off < e.Size {
		var ci uint32
		var start int64
		if e.chunked {
			cs := int64(er.r.m.ChunkSize)
			idx := int64(e.cluster) + off/cs
			if idx >= er.r.nCluster {
				return n, fmt.Errorf("%w: entry %q runs past the last cluster", ErrCorrupt, e.Path)
			}
			ci, start = uint32(idx), off%cs
		} else {
			ci, start = e.cluster, int64(e.offset)+off
		}
		var upto int64 = -1 // chunks are read whole
		if !e.chunked {
			upto = start + min(int64(len(p)-n), e.Size-off)
		}
		er.mu.Lock()
		var have []byte
		if er.last != nil && er.lastIdx == ci {
			have = er.last
		}
		er.mu.Unlock()
		c, err := er.r.clusterTo(ci, upto, have)
		if err != nil {
			return n, err
		}
		er.mu.Lock()
		er.last, er.lastIdx = c, ci
		er.mu.Unlock()
		if start >= int64(len(c)) {
			return n, fmt.Errorf("%w: entry %q lies outside cluster %d", ErrCorrupt, e.Path, ci)
		}
		want := min(int64(len(p)-n), e.Size-off)
		if !e.chunked && start+want > int64(len(c)) {
			return n, fmt.Errorf("%w: entry %q lies outside cluster %d", ErrCorrupt, e.Path, ci)
		}
		k := copy(p[n:n+int(min(want, int64(len(c))-start))], c[start:])
		if k == 0 {
			return n, fmt.Errorf("%w: entry %q: empty chunk", ErrCorrupt, e.Path)
		}
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Open returns a reader of the entry's verified content (redirects are
// followed). The SectionReader supports Seek and ReadAt, so it can feed
// http.ServeContent; a range read touches only the clusters it needs.
func (r *Reader) Open(e Entry) (*io.SectionReader, error) {
	e, err := r.Resolve(e)
	if err != nil {
		return nil, err
	}
	return io.NewSectionReader(&entryReader{r: r, e: e}, 0, e.Size), nil
}

// ReadAll returns the entry's verified content (redirects are followed).
func (r *Reader) ReadAll(e Entry) ([]byte, error) {
	sr, err := r.Open(e)
	if err != nil {
		return nil, err
	}
	if sr.Size() > maxReadAll {
		return nil, fmt.Errorf("archive: entry %q is too large to read at once (%d bytes; it is read in pieces through Open)", e.Path, sr.Size())
	}
	b := make([]byte, sr.Size())
	if _, err := sr.ReadAt(b, 0); err != nil && !(err == io.EOF && len(b) == 0) {
		return nil, err
	}
	return b, nil
}

// Cat returns the verified content of the entry at path.
func (r *Reader) Cat(path string) ([]byte, error) {
	e, err := r.Lookup(path)
	if err != nil {
		return nil, err
	}
	return r.ReadAll(e)
}

// NumDocs is the number of document ids the packer used (DocEntry takes
// 0..NumDocs()-1).
func (r *Reader) NumDocs() int { return int(r.secs[secDocs].s.Length / 4) }

// DocEntry maps a document id (the order in which the packer added
// entries, as used by the search index) to the entry index.
func (r *Reader) DocEntry(doc uint32) (int, error) {
	sec := r.secs[secDocs]
	var b [4]byte
	if int64(doc)*4+4 > sec.s.Length {
		return 0, fmt.Errorf("%w: document %d", ErrNotFound, doc)
	}
	if err := sec.readFull(b[:], int64(doc)*4); err != nil {
		return 0, err
	}
	i := binary.LittleEndian.Uint32(b[:])
	if i == noEntry {
		return 0, fmt.Errorf("%w: document %d was dropped", ErrNotFound, doc)
	}
	if int64(i) >= r.nEntries {
		return 0, fmt.Errorf("%w: document %d maps outside the directory", ErrCorrupt, doc)
	}
	return int(i), nil
}

// SuggestTitles returns up to n entries whose folded title starts with the
// folded prefix, in title order. Redirect entries are included (they are
// alternative titles); callers resolve them.
func (r *Reader) SuggestTitles(prefix string, n int) ([]Entry, error) {
	p := foldTitle(prefix)
	if p == "" || n <= 0 {
		return nil, nil
	}
	sec := r.secs[secTitles]
	count := int(sec.s.Length / 4)
	var ferr error
	at := func(i int) (Entry, error) {
		var b [4]byte
		if err := sec.readFull(b[:], int64(i)*4); err != nil {
			return Entry{}, err
		}
		return r.EntryAt(int(binary.LittleEndian.Uint32(b[:])))
	}
	i := sort.Search(count, func(i int) bool {
		if ferr != nil {
			return true
		}
		e, err := at(i)
		if err != nil {
			ferr = err
			return true
		}
		return foldTitle(e.Title) >= p
	})
	if ferr != nil {
		return nil, ferr
	}
	var out []Entry
	for ; i < count && len(out) < n; i++ {
		e, err := at(i)
		if err != nil {
			return out, err
		}
		if !strings.HasPrefix(foldTitle(e.Title), p) {
			break
		}
		out = append(out, e)
	}
	return out, nil
}

// RandomArticle returns an article chosen at random.
func (r *Reader) RandomArticle() (Entry, error) {
	if r.m.Counts.Articles == 0 {
		return Entry{}, fmt.Errorf("%w: the archive has no articles", ErrNotFound)
	}
	start := rand.Int64N(r.nEntries)
	for k := int64(0); k < r.nEntries; k++ {
		e, err := r.EntryAt(int((start + k) % r.nEntries)) // int64: start+k may pass 2³¹ on 32-bit
		if err != nil {
			return Entry{}, err
		}
		if e.Article && !e.Redirect {
			return e, nil
		}
	}
	return Entry{}, fmt.Errorf("%w: no article found", ErrNotFound)
}

// Removed lists the paths a delta archive removes from its base.
func (r *Reader) Removed() ([]string, error) {
	sec := r.secs[secRemoved]
	if sec == nil {
		return nil, nil
	}
	if sec.s.Length > maxRemoved {
		return nil, fmt.Errorf("%w: removed list of %d bytes (at most %d)", ErrCorrupt, sec.s.Length, maxRemoved)
	}
	b := make([]byte, sec.s.Length)
	if err := sec.readFull(b, 0); err != nil {
		return nil, err
	}
	var out []string
	for len(b) > 0 {
		l, k := uvarint(b)
		if k <= 0 || l == 0 || l > 1024 || uint64(len(b)-k) < l {
			return nil, fmt.Errorf("%w: removed list", ErrCorrupt)
		}
		p := string(b[k : k+int(l)])
		if !ValidPath(p) || (len(out) > 0 && p <= out[len(out)-1]) {
			return nil, fmt.Errorf("%w: removed list: path %q out of order or breaking the path rules", ErrCorrupt, p)
		}
		out = append(out, p)
		b = b[k+int(l):]
	}
	return out, nil
}

// DecodeCluster returns the raw bytes of a stored cluster (codec byte
// included) whose cluster-table record says raw bytes, for code that reads
// clusters itself (peer sync's content hashes); any codec of
// docs/format.md, capped at raw. The caller checks the stored hash first.
func DecodeCluster(stored []byte, raw int64) ([]byte, error) {
	if len(stored) < 1 || raw < 0 || raw > maxClusterRaw {
		return nil, fmt.Errorf("%w: cluster of %d stored bytes, %d raw", ErrCorrupt, len(stored), raw)
	}
	var out []byte
	var err error
	switch stored[0] {
	case codecNone:
		if int64(len(stored)-1) != raw {
			return nil, fmt.Errorf("%w: cluster is %d bytes, record says %d", ErrCorrupt, len(stored)-1, raw)
		}
		return stored[1:], nil
	case codecZstd:
		out, err = decodeZstd(stored[1:], raw, true)
	case codecZstdHangul:
		out, err = decodeZstdHangul(stored[1:], raw, true)
	case codecBrotli:
		out, err = brotliDecode(stored[1:], raw, true)
	default:
		return nil, fmt.Errorf("%w: unknown cluster codec %d", ErrCorrupt, stored[0])
	}
	if err != nil {
		return nil, fmt.Errorf("%w: cluster: %v (record says %d raw bytes)", ErrCorrupt, err, raw)
	}
	return out, nil
}
