package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	w.flush(&w.text)
	w.flush(&w.raw)
	close(w.jobs)
	<-w.loopDone
	if w.loopErr != nil {
		return nil, w.loopErr
	}
	dataEnd := w.off

	// Drop redirects whose target is missing (or itself dropped), if allowed.
	dropped := map[uint32]bool{}
	for changed := true; changed; {
		changed = false
		for seq := range w.entries {
			e := &w.entries[seq]
			if e.kind != entryRedirect || dropped[uint32(seq)] {
				continue
			}
			t, ok := w.paths[e.redirect]
			if !ok || t == uint32(seq) || dropped[t] {
				if !w.opts.DropDanglingRedirects {
					return nil, fmt.Errorf("archive: redirect %q points to missing entry %q", e.path, e.redirect)
				}
				dropped[uint32(seq)] = true
				changed = true
			}
		}
	}
	w.Dropped = len(dropped)

	// Sort entries by path; resolve redirects to entry indexes.
	order := make([]uint32, 0, len(w.entries))
	for i := range w.entries {
		if !dropped[uint32(i)] {
			order = append(order, uint32(i))
		}
	}
	sort.Slice(order, func(a, b int) bool { return w.entries[order[a]].path < w.entries[order[b]].path })
	final := make([]uint32, len(w.entries)) // seq -> sorted index, or noEntry
	for i := range final {
		final[i] = noEntry
	}
	for i, seq := range order {
		final[seq] = uint32(i)
	}
	counts := Counts{Clusters: w.nClusters, InputBytes: w.input}
	for _, seq := range order {
		e := &w.entries[seq]
		if e.kind == entryRedirect {
			e.cluster = final[w.paths[e.redirect]]
		}
	}

	var strs bytes.Buffer
	entries := make([]byte, 0, len(order)*entryRecordSize)
	for _, seq := range order {
		e := &w.entries[seq]
		var rec [entryRecordSize]byte
		rec[0] = e.kind
		rec[1] = e.flags
		binary.LittleEndian.PutUint16(rec[2:], e.mime)
		binary.LittleEndian.PutUint32(rec[4:], e.cluster)
		binary.LittleEndian.PutUint32(rec[8:], e.offset)
		binary.LittleEndian.PutUint64(rec[16:], e.size)
		binary.LittleEndian.PutUint64(rec[24:], uint64(strs.Len()))
		entries = append(entries, rec[:]...)
		strs.Write(binary.AppendUvarint(nil, uint64(len(e.path))))
		strs.WriteString(e.path)
		strs.Write(binary.AppendUvarint(nil, uint64(len(e.title))))
		strs.WriteString(e.title)
		if e.kind == entryRedirect {
			counts.Redirects++
		} else if e.flags&flagArticle != 0 {
			counts.Articles++
		}
	}
	counts.Entries = len(order)

	// Title index: entries with a title, sorted by folded title then path.
	var titled []uint32
	for i, seq := range order {
		if w.entries[seq].title != "" {
			titled = append(titled, uint32(i))
		}
	}
	folded := make(map[uint32]string, len(titled))
	for _, i := range titled {
		folded[i] = foldTitle(w.entries[order[i]].title)
	}
	sort.SliceStable(titled, func(a, b int) bool { return folded[titled[a]] < folded[titled[b]] })
	folded = nil

	secs := map[string]Section{}
	var err error
	put := func(name string, block int, fill func(io.Writer) error) {
		if err != nil {
			return
		}
		secs[name], err = w.writeSection(block, fill)
	}
	w.mu.Lock()
	records := w.records
	w.mu.Unlock()
	put(secClusters, metaBlockSize, func(o io.Writer) error { _, e := o.Write(records); return e })
	put(secEntries, metaBlockSize, func(o io.Writer) error { _, e := o.Write(entries); return e })
	put(secStrings, metaBlockSize, func(o io.Writer) error { _, e := o.Write(strs.Bytes()); return e })
	put(secTitles, metaBlockSize, func(o io.Writer) error { return writeU32s(o, titled) })
	docs := make([]uint32, len(w.docs))
	for i, seq := range w.docs {
		docs[i] = noEntry
		if seq != noEntry {
			docs[i] = final[seq]
		}
	}
	put(secDocs, metaBlockSize, func(o io.Writer) error { return writeU32s(o, docs) })
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

func writeU32s(o io.Writer, v []uint32) error {
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, x)
	}
	_, err := o.Write(b)
	return err
}

func signedMessage(manifest []byte) []byte {
	return append([]byte(sigMessagePrefix), manifest...)
}
