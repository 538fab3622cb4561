package peer

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"

	"ferry/internal/archive"
	"ferry/internal/key"
)

// This file reads an archive's layout the way docs/format.md writes it
// down: where each cluster and section lies, what hashes cover them, and
// what the directory says about entries. The taker builds a file from
// these pieces and checks each against its hash before writing it.

const (
	headerSize        = 16
	trailerSize       = 32
	clusterRecordSize = 48
	entryRecordSize   = 32
	maxClusterRaw     = 64 << 20
	maxBlockSize      = 1 << 20
	// maxArchiveSize bounds the archives a session deals with (1 TiB).
	maxArchiveSize = 1 << 40
	headerMagic    = "FERRYAR1"
	trailerMagic   = "FERRYEND"
	sigPrefix      = "ferry archive manifest v1\x00"

	codecNone       = 0
	codecZstd       = 1
	codecZstdHangul = 3 // zstd over Hangul-packed text (docs/format.md)
)

// signedHead is a manifest with its signature block, checked.
type signedHead struct {
	ID       [32]byte
	Manifest []byte
	Sigs     []byte
	Signers  []key.Public
	M        *archive.Manifest
}

// checkHead verifies a HEAD: the manifest is the archive id's, a signature
// over it verifies, and it parses as a manifest of this format version for
// a file of size bytes.
func checkHead(id [32]byte, size uint64, manifest, sigs []byte) (*signedHead, error) {
	if sha256.Sum256(manifest) != id {
		return nil, protoErr("HEAD manifest is not the one of the archive asked for")
	}
	if len(sigs) < 1+96 || sigs[0] == 0 || len(sigs) != 1+96*int(sigs[0]) {
		return nil, protoErr("HEAD signature block malformed")
	}
	h := &signedHead{ID: id, Manifest: manifest, Sigs: sigs}
	msg := append([]byte(sigPrefix), manifest...)
	for i := 0; i < int(sigs[0]); i++ {
		var p key.Public
		rec := sigs[1+96*i:]
		copy(p[:], rec[:32])
		if p.Verify(msg, rec[32:96]) {
			h.Signers = append(h.Signers, p)
		}
	}
	if len(h.Signers) == 0 {
		return nil, fmt.Errorf("%w: no signature over the manifest of archive %s verifies (forged)", archive.ErrSignature, short(id))
	}
	var m archive.Manifest
	if err := json.Unmarshal(manifest, &m); err != nil {
		return nil, fmt.Errorf("%w: manifest of archive %s: %v", archive.ErrCorrupt, short(id), err)
	}
	if m.Format != archive.FormatVersion {
		return nil, fmt.Errorf("%w: archive %s has format %d (this ferry reads %d): get a newer ferry", archive.ErrVersion, short(id), m.Format, archive.FormatVersion)
	}
	if m.FileSize <= 0 || uint64(m.FileSize) != size {
		return nil, protoErr("HEAD says %d bytes, the manifest %d", size, m.FileSize)
	}
	h.M = &m
	return h, nil
}

func short(id [32]byte) string { return hex.EncodeToString(id[:8]) }

// span is a byte range of the file.
type span struct{ off, n int64 }

// clusterRec is one record of the cluster table.
type clusterRec struct {
	Off    int64
	Stored int64
	Raw    int64
	Hash   [32]byte
}

// codec guesses a stored cluster's codec from its sizes: a writer stores
// raw bytes (codec 0, one byte longer) only when zstd does not make them
// smaller (docs/format.md). The guess is checked by the cluster's hash.
func (c clusterRec) codec() byte {
	if c.Stored == c.Raw+1 {
		return codecNone
	}
	return codecZstd
}

// entryRec is one content entry of the directory (redirects are left out).
type entryRec struct {
	Index   int
	Path    string
	Cluster uint32
	Offset  uint32
	Size    int64
	Chunked bool
}

// layout is where everything of one archive lies.
type layout struct {
	ID       [32]byte
	Size     int64
	M        *archive.Manifest
	Names    []string // section names, sorted: the index on the wire
	Secs     []archive.Section
	TailOff  int64 // manifest offset
	Clusters []clusterRec
	Entries  []entryRec // content entries, in directory order
	NEntries int        // all entries, redirects included

	memOnce        sync.Once
	byCluster      map[uint32][]entryRec
	chunkedCluster map[uint32]bool
}

// newLayout checks that the manifest describes a file that tiles exactly
// (header, data, sections and their hash lists, manifest, signatures,
// trailer), before anything is written for it.
func newLayout(id [32]byte, m *archive.Manifest, mLen, sLen int) (*layout, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: archive %s: %s", archive.ErrCorrupt, short(id), fmt.Sprintf(format, args...))
	}
	size := m.FileSize
	if size <= 0 || size > maxArchiveSize {
		return nil, bad("size %d", size)
	}
	l := &layout{ID: id, Size: size, M: m}
	l.TailOff = size - trailerSize - int64(sLen) - int64(mLen)
	if l.TailOff < headerSize {
		return nil, bad("too small")
	}
	if m.Data.Offset != headerSize || m.Data.Length < 0 || m.Data.Length > l.TailOff-headerSize {
		return nil, bad("data range")
	}
	if m.ChunkSize == 0 || m.ChunkSize > maxClusterRaw {
		return nil, bad("chunk size %d", m.ChunkSize)
	}
	spans := []span{{0, headerSize}, {m.Data.Offset, m.Data.Length}, {l.TailOff, size - l.TailOff}}
	for name := range m.Sections {
		l.Names = append(l.Names, name)
	}
	sort.Strings(l.Names)
	for _, name := range l.Names {
		s := m.Sections[name]
		if s.BlockSize <= 0 || s.BlockSize > maxBlockSize || s.Length < 0 || len(s.Root) != 64 {
			return nil, bad("section %s descriptor", name)
		}
		if _, err := hex.DecodeString(s.Root); err != nil {
			return nil, bad("section %s root", name)
		}
		spans = append(spans, span{s.Offset, s.Length}, span{s.HashesOffset, 32 * blocks(s)})
		l.Secs = append(l.Secs, s)
	}
	for _, need := range []string{"clusters", "entries", "strings", "titles", "docs"} {
		if _, ok := m.Sections[need]; !ok {
			return nil, bad("no section %s", need)
		}
	}
	cs, es := m.Sections["clusters"], m.Sections["entries"]
	if cs.Length%clusterRecordSize != 0 || cs.Length/clusterRecordSize != int64(m.Counts.Clusters) ||
		es.Length%entryRecordSize != 0 || es.Length/entryRecordSize != int64(m.Counts.Entries) {
		return nil, bad("table sizes do not match the counts")
	}
	l.NEntries = m.Counts.Entries
	// Tile: sorted by offset, each span starts where the previous ended.
	sort.Slice(spans, func(i, j int) bool { return spans[i].off < spans[j].off })
	at := int64(0)
	for _, s := range spans {
		if s.n == 0 {
			if s.off < 0 || s.off > size {
				return nil, bad("empty part outside the file")
			}
			continue
		}
		if s.off != at || s.n < 0 || s.n > size-at {
			return nil, bad("parts do not tile the file (at byte %d)", at)
		}
		at += s.n
	}
	if at != size {
		return nil, bad("parts do not tile the file (end at %d of %d)", at, size)
	}
	return l, nil
}

func blocks(s archive.Section) int64 {
	if s.Length == 0 {
		return 0
	}
	return (s.Length + int64(s.BlockSize) - 1) / int64(s.BlockSize)
}

// root returns a section's root hash.
func root(s archive.Section) [32]byte {
	var r [32]byte
	hex.Decode(r[:], []byte(s.Root))
	return r
}

// section returns the index of a section by name, or -1.
func (l *layout) section(name string) int {
	i := sort.SearchStrings(l.Names, name)
	if i < len(l.Names) && l.Names[i] == name {
		return i
	}
	return -1
}

// sectionChunk is the raw length of a section chunk starting at off: at
// most limit, and whole blocks unless it ends the section.
func sectionChunk(s archive.Section, off, limit int64) int64 {
	per := max(1, limit/int64(s.BlockSize)) * int64(s.BlockSize)
	return min(per, s.Length-off)
}

// setClusters parses the (verified) cluster table and checks that the
// clusters lie back to back over the data region.
func (l *layout) setClusters(table []byte) error {
	n := len(table) / clusterRecordSize
	l.Clusters = make([]clusterRec, n)
	at := l.M.Data.Offset
	for i := range l.Clusters {
		r := table[i*clusterRecordSize:]
		c := clusterRec{Off: int64(binary.LittleEndian.Uint64(r)), Stored: int64(binary.LittleEndian.Uint32(r[8:])),
			Raw: int64(binary.LittleEndian.Uint32(r[12:]))}
		copy(c.Hash[:], r[16:48])
		if c.Off != at || c.Stored < 1 || c.Raw > maxClusterRaw {
			return fmt.Errorf("%w: archive %s: cluster %d record", archive.ErrCorrupt, short(l.ID), i)
		}
		at += c.Stored
		l.Clusters[i] = c
	}
	if at != l.M.Data.Offset+l.M.Data.Length {
		return fmt.Errorf("%w: archive %s: clusters do not fill the data region", archive.ErrCorrupt, short(l.ID))
	}
	return nil
}

// setEntries parses the (verified) directory and strings, keeping content
// entries; it checks that each lies inside its cluster(s).
func (l *layout) setEntries(entries, strs []byte) error {
	bad := func(i int, what string) error {
		return fmt.Errorf("%w: archive %s: entry %d: %s", archive.ErrCorrupt, short(l.ID), i, what)
	}
	n := len(entries) / entryRecordSize
	l.Entries = l.Entries[:0]
	for i := 0; i < n; i++ {
		r := entries[i*entryRecordSize:]
		kind, flags := r[0], r[1]
		if kind > 1 || flags&^3 != 0 {
			return bad(i, "record")
		}
		if kind == 1 {
			continue // a redirect: no content
		}
		e := entryRec{Index: i, Cluster: binary.LittleEndian.Uint32(r[4:]), Offset: binary.LittleEndian.Uint32(r[8:]),
			Size: int64(binary.LittleEndian.Uint64(r[16:])), Chunked: flags&2 != 0}
		soff := binary.LittleEndian.Uint64(r[24:])
		if e.Size < 0 || e.Size > maxArchiveSize || int(e.Cluster) >= len(l.Clusters) {
			return bad(i, "outside the tables")
		}
		c := l.Clusters[e.Cluster]
		if e.Chunked {
			k := max(1, (e.Size+int64(l.M.ChunkSize)-1)/int64(l.M.ChunkSize))
			if int64(e.Cluster)+k > int64(len(l.Clusters)) || e.Offset != 0 {
				return bad(i, "chunks outside the table")
			}
		} else if int64(e.Offset)+e.Size > c.Raw {
			return bad(i, "content outside its cluster")
		}
		if soff >= uint64(len(strs)) {
			return bad(i, "strings outside the section")
		}
		p, ok := readString(strs[soff:])
		if !ok || !archive.ValidPath(p) {
			return bad(i, "path")
		}
		e.Path = p
		l.Entries = append(l.Entries, e)
	}
	return nil
}

func readString(b []byte) (string, bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > 1024 || uint64(len(b)-k) < n {
		return "", false
	}
	return string(b[k : k+int(n)]), true
}

// readSection reads a section of a local archive file and checks every
// block against the hash list and the hash list against the root.
func readSection(ra io.ReaderAt, s archive.Section) ([]byte, error) {
	nb := blocks(s)
	if s.Length < 0 || s.Length > maxArchiveSize || nb > 1<<30 {
		return nil, fmt.Errorf("%w: section size", archive.ErrCorrupt)
	}
	hl := make([]byte, 32*nb)
	if _, err := ra.ReadAt(hl, s.HashesOffset); err != nil && !(err == io.EOF && len(hl) == 0) {
		return nil, fmt.Errorf("reading a hash list: %w", err)
	}
	if sha256.Sum256(hl) != root(s) {
		return nil, fmt.Errorf("%w: a section's hash list does not match its root", archive.ErrCorrupt)
	}
	b := make([]byte, s.Length)
	if _, err := ra.ReadAt(b, s.Offset); err != nil && !(err == io.EOF && len(b) == 0) {
		return nil, fmt.Errorf("reading a section: %w", err)
	}
	for i := int64(0); i < nb; i++ {
		blk := b[i*int64(s.BlockSize) : min(s.Length, (i+1)*int64(s.BlockSize))]
		if h := sha256.Sum256(blk); !bytes.Equal(h[:], hl[32*i:32*i+32]) {
			return nil, fmt.Errorf("%w: a section block does not match its hash", archive.ErrCorrupt)
		}
	}
	return b, nil
}

// localArchive is an archive file of this device's library, opened with
// its layout (clusters and, when asked for, entries).
type localArchive struct {
	Path string
	Lay  *layout
	Head *signedHead
}

// openLocal reads a library archive's manifest (signatures checked by
// package archive) and its verified cluster table; withEntries also reads
// the directory.
func openLocal(path string, withEntries bool) (*localArchive, error) {
	r, err := archive.OpenFile(path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	mb := r.ManifestBytes()
	var id [32]byte
	copy(id[:], mustHex(r.ID()))
	f, err := openRead(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var tr [trailerSize]byte
	if _, err := f.ReadAt(tr[:], r.Size()-trailerSize); err != nil {
		return nil, err
	}
	sLen := int(binary.LittleEndian.Uint32(tr[12:]))
	sigs := make([]byte, sLen)
	if _, err := f.ReadAt(sigs, r.Size()-trailerSize-int64(sLen)); err != nil {
		return nil, err
	}
	lay, err := newLayout(id, r.Manifest(), len(mb), sLen)
	if err != nil {
		return nil, err
	}
	cs, err := readSection(f, r.Manifest().Sections["clusters"])
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := lay.setClusters(cs); err != nil {
		return nil, err
	}
	if withEntries {
		es, err := readSection(f, r.Manifest().Sections["entries"])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		ss, err := readSection(f, r.Manifest().Sections["strings"])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := lay.setEntries(es, ss); err != nil {
			return nil, err
		}
	}
	return &localArchive{Path: path, Lay: lay, Head: &signedHead{ID: id, Manifest: append([]byte(nil), mb...), Sigs: sigs, Signers: r.Signers(), M: r.Manifest()}}, nil
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic("peer: internal error: bad archive id " + s)
	}
	return b
}
