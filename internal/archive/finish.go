package archive

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"ferry/internal/key"
)

const (
	metaBlockSize   = 4096
	searchBlockSize = 16384
)

// sectionWriter writes a section and collects its block hashes.
type sectionWriter struct {
	w      *Writer
	start  int64
	block  int
	cur    []byte
	hashes []byte
}

func (w *Writer) newSection(block int) *sectionWriter {
	return &sectionWriter{w: w, start: w.off, block: block}
}

func (s *sectionWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(s.block-len(s.cur), len(p))
		s.cur = append(s.cur, p[:k]...)
		p = p[k:]
		if len(s.cur) == s.block {
			if err := s.flushBlock(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (s *sectionWriter) flushBlock() error {
	if len(s.cur) == 0 {
		return nil
	}
	h := sha256.Sum256(s.cur)
	s.hashes = append(s.hashes, h[:]...)
	err := s.w.write(s.cur)
	s.cur = s.cur[:0]
	return err
}

// close writes the hash list after the section and returns its description.
func (s *sectionWriter) close() (Section, error) {
	if err := s.flushBlock(); err != nil {
		return Section{}, err
	}
	sec := Section{Offset: s.start, Length: s.w.off - s.start, BlockSize: s.block, HashesOffset: s.w.off}
	root := sha256.Sum256(s.hashes)
	sec.Root = hex.EncodeToString(root[:])
	return sec, s.w.write(s.hashes)
}

func (w *Writer) writeSection(block int, fill func(io.Writer) error) (Section, error) {
	s := w.newSection(block)
	if err := fill(s); err != nil {
		return Section{}, err
	}
	return s.close()
}

// Finish writes the directory, the indexes, the manifest and the publisher
// signatures. search, if not nil, writes the full-text index section.
// At least one signer is required.
func (w *Writer) Finish(info Info, search io.WriterTo, signers ...*key.Secret) (*Manifest, error) {
	if w.err != nil {
		return nil, w.err
	}
	if len(signers) == 0 {
		return nil, errors.New("archive: an archive must be signed by at least one key")
	}
	if len(signers) > 255 {
		return nil, errors.New("archive: too many signers")
	}
	defer w.close()
	// No more entries: the duplicate checks can go before the clusters
	// are compressed.
	w.dedup, w.paths = keyIndex{}, recentPaths{}
	w.flush(&w.raw)
	if err := w.placeGrouped(); err != nil {
		return nil, err
	}
	close(w.jobs)
	<-w.loopDone
	// Every cluster is written: the encoder's tables (34 MB at the best
	// level) can go before the directory and the search index are.
	w.enc.Close()
	w.enc = nil
	if w.loopErr != nil {
		return nil, w.loopErr
	}
	dataEnd := w.off
	// Duplicates take the place of the content they repeat, now known.
	for seq, l := range w.locs {
		if l.cluster == sameAs {
			w.locs[seq] = w.locs[l.offset]
		}
	}

	meta, err := w.meta.sorted()
	if err != nil {
		return nil, err
	}
	defer meta.close()
	redirs, err := w.redirs.sorted()
	if err != nil {
		return nil, err
	}
	defer redirs.close()
	// Resolve redirect targets, dropping those whose target is missing (or
	// itself dropped) if allowed, until nothing changes.
	dropped := make([]uint64, (int(w.n)+63)/64)
	isDropped := func(seq uint32) bool { return dropped[seq/64]&(1<<(seq%64)) != 0 }
	for {
		changed, err := w.resolveRedirects(meta, redirs, isDropped, func(seq uint32) { dropped[seq/64] |= 1 << (seq % 64) })
		if err != nil {
			return nil, err
		}
		if !changed {
			break
		}
	}
	// Final (path-sorted) indexes.
	final := make([]uint32, w.n) // seq -> sorted index, or noEntry
	for i := range final {
		final[i] = noEntry
	}
	counts := Counts{Clusters: w.nClusters, InputBytes: w.input}
	var prev []byte
	nEntries := uint32(0)
	err = meta.each(func(rec []byte) error {
		path := rec[:bytes.IndexByte(rec, 0)]
		seq := binary.BigEndian.Uint32(rec[len(path)+1:])
		if isDropped(seq) {
			return nil
		}
		if prev != nil && bytes.Equal(prev, path) {
			return fmt.Errorf("archive: duplicate entry path %q: %s", path, duplicateAdvice)
		}
		prev = append(prev[:0], path...)
		final[seq] = nEntries
		nEntries++
		return nil
	})
	if err != nil {
		return nil, err
	}
	w.Dropped = int(w.n - nEntries)
	counts.Entries = int(nEntries)

	// The directory and its strings, in path order; the titles to sort.
	entries, err := newSpool(w.opts.TempDir, "ferry-entries-*.tmp")
	if err != nil {
		return nil, err
	}
	defer entries.Close()
	strs, err := newSpool(w.opts.TempDir, "ferry-strings-*.tmp")
	if err != nil {
		return nil, err
	}
	defer strs.Close()
	titles := newSorter(w.opts.TempDir, w.opts.SortBytes)
	defer titles.close()
	var rec [entryRecordSize]byte
	var tkey []byte
	err = meta.each(func(raw []byte) error {
		m, err := parseMeta(raw)
		if err != nil {
			return err
		}
		if isDropped(m.seq) {
			return nil
		}
		l := w.locs[m.seq]
		clear(rec[:])
		rec[0] = m.kind
		rec[1] = m.flags
		if m.kind == entryRedirect {
			counts.Redirects++
			binary.LittleEndian.PutUint32(rec[4:], final[l.cluster])
		} else {
			if m.flags&flagArticle != 0 {
				counts.Articles++
			}
			off := l.offset
			if off == chunkedOffset {
				rec[1] |= flagChunked
				off = 0
			}
			binary.LittleEndian.PutUint16(rec[2:], m.mime)
			binary.LittleEndian.PutUint32(rec[4:], l.cluster)
			binary.LittleEndian.PutUint32(rec[8:], off)
			binary.LittleEndian.PutUint64(rec[16:], m.size)
		}
		binary.LittleEndian.PutUint64(rec[24:], uint64(strs.size))
		if _, err := entries.Write(rec[:]); err != nil {
			return err
		}
		sb := binary.AppendUvarint(nil, uint64(len(m.path)))
		sb = append(sb, m.path...)
		sb = binary.AppendUvarint(sb, uint64(len(m.title)))
		sb = append(sb, m.title...)
		if _, err := strs.Write(sb); err != nil {
			return err
		}
		if m.title != "" {
			// Sorted by folded title, ties in path order: the folded
			// title with 0x00 escaped as 0x00 0xFF and ended by 0x00 0x00
			// sorts as the string does, then the index.
			tkey = tkey[:0]
			for _, c := range []byte(foldTitle(m.title)) {
				tkey = append(tkey, c)
				if c == 0 {
					tkey = append(tkey, 0xff)
				}
			}
			tkey = append(tkey, 0, 0)
			tkey = binary.BigEndian.AppendUint32(tkey, final[m.seq])
			return titles.add(tkey)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	titled, err := titles.sorted()
	if err != nil {
		return nil, err
	}
	defer titled.close()

	secs := map[string]Section{}
	put := func(name string, block int, fill func(io.Writer) error) {
		if err != nil {
			return
		}
		secs[name], err = w.writeSection(block, fill)
	}
	copySpool := func(sp *spool) func(io.Writer) error {
		return func(o io.Writer) error {
			rd, e := sp.reader()
			if e != nil {
				return e
			}
			_, e = io.Copy(o, rd)
			return e
		}
	}
	w.mu.Lock()
	records := w.records
	w.mu.Unlock()
	put(secClusters, metaBlockSize, func(o io.Writer) error { _, e := o.Write(records); return e })
	put(secEntries, metaBlockSize, copySpool(entries))
	put(secStrings, metaBlockSize, copySpool(strs))
	put(secTitles, metaBlockSize, func(o io.Writer) error {
		bw := bufio.NewWriterSize(o, 64<<10)
		e := titled.each(func(k []byte) error {
			_, e := bw.Write(binary.LittleEndian.AppendUint32(nil, binary.BigEndian.Uint32(k[len(k)-4:])))
			return e
		})
		if e != nil {
			return e
		}
		return bw.Flush()
	})
	put(secDocs, metaBlockSize, func(o io.Writer) error {
		bw := bufio.NewWriterSize(o, 64<<10)
		var b [4]byte
		skips := w.skips
		for id := range w.nDocs {
			d := noEntry
			if len(skips) > 0 && skips[0] == id {
				skips = skips[1:]
			} else {
				d = final[id-uint32(len(w.skips)-len(skips))]
			}
			binary.LittleEndian.PutUint32(b[:], d)
			if _, e := bw.Write(b[:]); e != nil {
				return e
			}
		}
		return bw.Flush()
	})
	if search != nil {
		put(secSearch, searchBlockSize, func(o io.Writer) error { _, e := search.WriteTo(o); return e })
	}
	if len(w.removed) > 0 {
		sort.Strings(w.removed)
		counts.Removed = len(w.removed)
		put(secRemoved, metaBlockSize, func(o io.Writer) error {
			var b []byte
			for _, p := range w.removed {
				b = binary.AppendUvarint(b, uint64(len(p)))
				b = append(b, p...)
			}
			_, e := o.Write(b)
			return e
		})
	}
	if err != nil {
		return nil, err
	}

	created := info.Created
	if created.IsZero() {
		created = time.Now()
	}
	m := &Manifest{
		Format: FormatVersion, Channel: info.Channel, Edition: info.Edition, Title: info.Title,
		Description: info.Description, Languages: info.Languages, Created: created.UTC().Truncate(time.Second),
		Publisher: info.Publisher, MainPage: info.MainPage, Base: info.Base, Extra: info.Extra,
		Counts: counts, MIMETypes: w.mimeList, ChunkSize: uint32(w.opts.ChunkSize),
		Data: Range{Offset: headerSize, Length: dataEnd - headerSize}, Sections: secs,
	}
	if m.MIMETypes == nil {
		m.MIMETypes = []string{}
	}
	manifestOff := w.off
	sigLen := int64(1 + 96*len(signers))
	var mb []byte
	// file_size depends on the manifest's own length: iterate to a fixed point.
	for guess := int64(0); ; {
		m.FileSize = manifestOff + guess + sigLen + trailerSize
		mb, err = json.Marshal(m) // compact: the manifest travels in every announcement
		if err != nil {
			return nil, err
		}
		if int64(len(mb)) == guess {
			break
		}
		guess = int64(len(mb))
	}
	if len(mb) > maxManifestSize {
		return nil, fmt.Errorf("archive: manifest too large (%d bytes)", len(mb))
	}
	if err := w.write(mb); err != nil {
		return nil, err
	}
	sigs := []byte{byte(len(signers))}
	msg := signedMessage(mb)
	for _, s := range signers {
		p := s.Public()
		sigs = append(sigs, p[:]...)
		sigs = append(sigs, s.Sign(msg)...)
	}
	if err := w.write(sigs); err != nil {
		return nil, err
	}
	var tr [trailerSize]byte
	binary.LittleEndian.PutUint64(tr[0:], uint64(manifestOff))
	binary.LittleEndian.PutUint32(tr[8:], uint32(len(mb)))
	binary.LittleEndian.PutUint32(tr[12:], uint32(len(sigs)))
	copy(tr[24:], trailerMagic)
	if err := w.write(tr[:]); err != nil {
		return nil, err
	}
	if w.off != m.FileSize {
		return nil, fmt.Errorf("archive: internal error: wrote %d bytes, manifest says %d", w.off, m.FileSize)
	}
	return m, nil
}

// placeGrouped writes the grouped (compressible) entries into clusters in
// the order of their similarity keys (ties in the order of Add), reading
// their content back from the spool.
func (w *Writer) placeGrouped() error {
	g, err := w.groups.sorted()
	if err != nil {
		return err
	}
	defer g.close()
	cb := clusterBuilder{codec: codecZstd}
	err = g.each(func(rec []byte) error {
		if len(rec) != 24 {
			return errors.New("archive: temporary file damaged (group record)")
		}
		seq := binary.BigEndian.Uint32(rec[8:])
		off := int64(binary.BigEndian.Uint64(rec[12:]))
		size := int(binary.BigEndian.Uint32(rec[20:]))
		if len(cb.buf) > 0 && len(cb.buf)+size > w.opts.ClusterSize {
			w.flush(&cb)
		}
		start := len(cb.buf)
		cb.buf = slices.Grow(cb.buf, size)[:start+size]
		if _, err := w.content.ReadAt(cb.buf[start:], off); err != nil {
			return fmt.Errorf("archive: reading a temporary file: %w", err)
		}
		w.locs[seq] = loc{cluster: groupedCluster, offset: uint32(start)}
		cb.members = append(cb.members, seq)
		if len(cb.buf) >= w.opts.ClusterSize {
			w.flush(&cb)
		}
		return nil
	})
	if err != nil {
		return err
	}
	w.flush(&cb)
	return nil
}

// resolveRedirects joins the redirects (sorted by target path) with the
// entries (sorted by path): each redirect's target sequence number goes
// into its loc. A redirect whose target is missing, dropped or itself is
// dropped when the options allow it (changed reports that), an error
// otherwise.
func (w *Writer) resolveRedirects(meta, redirs *sortedRecords, isDropped func(uint32) bool, drop func(uint32)) (changed bool, err error) {
	next, err := meta.iter()
	if err != nil {
		return false, err
	}
	cur, err := next()
	if err != nil {
		return false, err
	}
	err = redirs.each(func(rec []byte) error {
		i := bytes.IndexByte(rec, 0)
		if i <= 0 || len(rec) != i+5 {
			return errors.New("archive: temporary file damaged (redirect record)")
		}
		target, rseq := rec[:i], binary.BigEndian.Uint32(rec[i+1:])
		if isDropped(rseq) {
			return nil
		}
		found := noEntry
		for cur != nil {
			p := cur[:bytes.IndexByte(cur, 0)]
			c := bytes.Compare(p, target)
			if c > 0 {
				break
			}
			if c == 0 {
				if s := binary.BigEndian.Uint32(cur[len(p)+1:]); !isDropped(s) {
					found = s
					break
				}
			}
			if cur, err = next(); err != nil {
				return err
			}
		}
		if found == noEntry || found == rseq {
			if !w.opts.DropDanglingRedirects {
				return fmt.Errorf("archive: redirect %q points to missing entry %q", w.pathOf(meta, rseq), target)
			}
			drop(rseq)
			changed = true
			return nil
		}
		w.locs[rseq].cluster = found
		return nil
	})
	return changed, err
}

// pathOf finds the path of the entry with this sequence number (for an
// error message: it reads all the metadata).
func (w *Writer) pathOf(meta *sortedRecords, seq uint32) string {
	var path string
	meta.each(func(rec []byte) error {
		p := rec[:bytes.IndexByte(rec, 0)]
		if binary.BigEndian.Uint32(rec[len(p)+1:]) == seq {
			path = string(p)
		}
		return nil
	})
	return path
}

func signedMessage(manifest []byte) []byte {
	return append([]byte(sigMessagePrefix), manifest...)
}
