package scrub

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"sort"
	"strings"
	"sync"
)

// ZIP layout constants (PKWARE APPNOTE.TXT, sections 4.3.7, 4.3.12, 4.3.16).
const (
	sigLocal      = 0x04034b50
	sigCentral    = 0x02014b50
	sigEOCD       = 0x06054b50
	sigDescriptor = 0x08074b50
	sigZip64Loc   = 0x07064b50
	localLen      = 30
	centralLen    = 46
	eocdLen       = 22
	// idGrowthHint is the extra-field ID of the Open Packaging Conventions
	// growth hint (ECMA-376 Part 2, §9.2.7); the issue reports Red Star
	// writing its DOCX watermark there.
	idGrowthHint  = 0xA220
	sigGrowthHint = 0xA028
	// maxPartSize caps a metadata part (core.xml...) we inflate to edit.
	maxPartSize = 8 << 20
	// inflateBase and inflateRatio bound the bytes inflated from one ZIP,
	// all entries together, to inflateBase + inflateRatio × its size.
	// Pictures inside a ZIP are already compressed (their ZIP ratio is
	// about 1) and the metadata parts are small, so real files stay far
	// below; without a total cap a ZIP of many small deflate bombs would
	// take minutes and gigabytes to scrub.
	inflateBase  = 1 << 20
	inflateRatio = 4
)

// zipEntry is one central-directory record and the local record it names.
type zipEntry struct {
	cd        []byte // whole central record: fixed part, name, extra, comment
	name      string
	flags     uint16
	method    uint16
	crc       uint32
	csize     uint64
	usize     uint64
	localOff  int
	localEnd  int    // end of data and data descriptor
	local     []byte // fixed local header, name and extra
	dataStart int
	newLocal  []byte // replacement local record (header+data), or nil
	newCD     []byte // replacement central record, or nil
	newOffset int
}

// zipParts lists the metadata parts whose author fields are blanked, and
// the XML elements (by qualified name, as the producers write them) that are.
var zipParts = map[string][]string{
	"docProps/core.xml": {"dc:creator", "cp:lastModifiedBy"},
	"docProps/app.xml":  {"Company", "Manager"},
	"meta.xml":          {"meta:initial-creator", "dc:creator", "meta:printed-by"},
}

// parseZIP reads the central directory and the local headers it points at.
func parseZIP(data []byte) (entries []*zipEntry, cdStart, eocd int, err error) {
	eocd = -1
	for i := len(data) - eocdLen; i >= 0 && i >= len(data)-eocdLen-65535; i-- {
		if binary.LittleEndian.Uint32(data[i:]) == sigEOCD && i+eocdLen+int(binary.LittleEndian.Uint16(data[i+20:])) == len(data) {
			eocd = i
			break
		}
	}
	if eocd < 0 {
		return nil, 0, 0, fmt.Errorf("%w: ZIP end-of-central-directory record not found at the end of the file", errMalformed)
	}
	e := data[eocd:]
	disk, cdDisk := binary.LittleEndian.Uint16(e[4:]), binary.LittleEndian.Uint16(e[6:])
	nDisk, n := binary.LittleEndian.Uint16(e[8:]), binary.LittleEndian.Uint16(e[10:])
	cdSize, cdOff := binary.LittleEndian.Uint32(e[12:]), binary.LittleEndian.Uint32(e[16:])
	if n == 0xFFFF || cdSize == 0xFFFFFFFF || cdOff == 0xFFFFFFFF || (eocd >= 20 && binary.LittleEndian.Uint32(data[eocd-20:]) == sigZip64Loc) {
		return nil, 0, 0, fmt.Errorf("%w: ZIP64 archives are not rewritten", errMalformed)
	}
	if disk != 0 || cdDisk != 0 || nDisk != n {
		return nil, 0, 0, fmt.Errorf("%w: multi-disk ZIP", errMalformed)
	}
	if int64(cdOff)+int64(cdSize) != int64(eocd) {
		return nil, 0, 0, fmt.Errorf("%w: ZIP central directory (offset %d, %d bytes) does not end at the end record (%d)", errMalformed, cdOff, cdSize, eocd)
	}
	if int(n) > int(cdSize)/centralLen {
		return nil, 0, 0, fmt.Errorf("%w: ZIP claims %d entries in a %d-byte central directory", errMalformed, n, cdSize)
	}
	cdStart = int(cdOff)
	pos := cdStart
	for i := 0; i < int(n); i++ {
		if eocd-pos < centralLen || binary.LittleEndian.Uint32(data[pos:]) != sigCentral {
			return nil, 0, 0, fmt.Errorf("%w: ZIP central record %d missing at offset %d", errMalformed, i, pos)
		}
		h := data[pos:]
		nl, xl, cl := int(binary.LittleEndian.Uint16(h[28:])), int(binary.LittleEndian.Uint16(h[30:])), int(binary.LittleEndian.Uint16(h[32:]))
		end := pos + centralLen + nl + xl + cl
		if end > eocd {
			return nil, 0, 0, fmt.Errorf("%w: ZIP central record %d overruns the directory", errMalformed, i)
		}
		en := &zipEntry{
			cd:       data[pos:end],
			name:     string(h[centralLen : centralLen+nl]),
			flags:    binary.LittleEndian.Uint16(h[8:]),
			method:   binary.LittleEndian.Uint16(h[10:]),
			crc:      binary.LittleEndian.Uint32(h[16:]),
			csize:    uint64(binary.LittleEndian.Uint32(h[20:])),
			usize:    uint64(binary.LittleEndian.Uint32(h[24:])),
			localOff: int(binary.LittleEndian.Uint32(h[42:])),
		}
		if err := en.readLocal(data, cdStart); err != nil {
			return nil, 0, 0, fmt.Errorf("%w: ZIP entry %q: %v", errMalformed, en.name, err)
		}
		entries = append(entries, en)
		pos = end
	}
	if pos != eocd {
		return nil, 0, 0, fmt.Errorf("%w: %d unexplained bytes in the ZIP central directory", errMalformed, eocd-pos)
	}
	// Local records must not overlap: overlapping records (a "zip bomb"
	// trick) cannot be rewritten one by one.
	sorted := append([]*zipEntry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].localOff < sorted[j].localOff })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].localOff < sorted[i-1].localEnd {
			return nil, 0, 0, fmt.Errorf("%w: ZIP entries %q and %q overlap", errMalformed, sorted[i-1].name, sorted[i].name)
		}
	}
	return entries, cdStart, eocd, nil
}

func (en *zipEntry) readLocal(data []byte, limit int) error {
	p := en.localOff
	if p < 0 || limit-p < localLen || binary.LittleEndian.Uint32(data[p:]) != sigLocal {
		return fmt.Errorf("local header missing at offset %d", p)
	}
	nl, xl := int(binary.LittleEndian.Uint16(data[p+26:])), int(binary.LittleEndian.Uint16(data[p+28:]))
	en.dataStart = p + localLen + nl + xl
	if int64(en.dataStart)+int64(en.csize) > int64(limit) {
		return fmt.Errorf("data overruns the archive")
	}
	en.local = data[p:en.dataStart]
	end := en.dataStart + int(en.csize)
	if en.flags&8 != 0 {
		switch {
		case limit-end >= 16 && binary.LittleEndian.Uint32(data[end:]) == sigDescriptor && binary.LittleEndian.Uint32(data[end+4:]) == en.crc:
			end += 16
		case limit-end >= 12 && binary.LittleEndian.Uint32(data[end:]) == en.crc:
			end += 12
		default:
			return fmt.Errorf("data descriptor not found")
		}
	}
	en.localEnd = end
	return nil
}

// filterExtra removes 0xA220 fields that carry anything but a zero-filled
// growth hint. ok is false (and extra returned as is) when the extra field
// is not a well-formed list of (id, size, data) blocks.
func filterExtra(extra []byte) (out []byte, fs []Finding, ok bool) {
	out = make([]byte, 0, len(extra))
	for p := 0; p < len(extra); {
		if len(extra)-p < 4 {
			return extra, nil, false
		}
		id, n := binary.LittleEndian.Uint16(extra[p:]), int(binary.LittleEndian.Uint16(extra[p+2:]))
		if n > len(extra)-p-4 {
			return extra, nil, false
		}
		block := extra[p : p+4+n]
		p += 4 + n
		if id != idGrowthHint || pristineGrowthHint(block[4:]) {
			out = append(out, block...)
			continue
		}
		fs = append(fs, growthHintFinding(block[4:]))
	}
	return out, fs, true
}

// pristineGrowthHint reports whether a 0xA220 body is the standard OPC
// growth hint: signature 0xA028, a 2-byte initial value, zero padding.
func pristineGrowthHint(b []byte) bool {
	if len(b) < 4 || binary.LittleEndian.Uint16(b) != sigGrowthHint {
		return false
	}
	for _, c := range b[4:] {
		if c != 0 {
			return false
		}
	}
	return true
}

// growthHintFinding searches a non-standard 0xA220 body for Red Star marks.
func growthHintFinding(b []byte) Finding {
	var serials []string
	for i := 0; i+markSize <= len(b); i++ {
		// Only where the first DES block opens with "WM" is the whole
		// mark decrypted: one block per offset instead of three.
		if !markStarts(b[i:]) {
			continue
		}
		if s, ok := markSerial(decryptMark(b[i : i+markSize])); ok && plausibleSerial(s) {
			serials = append(serials, s)
			i += markSize - 1
		}
	}
	if len(serials) > 0 {
		return Finding{Kind: KindWatermark, Removed: true, Detail: fmt.Sprintf(
			"Red Star OS watermark in ZIP extra field 0xA220: %d mark(s), disk serials %s", len(serials), joinFound(serials))}
	}
	return Finding{Kind: KindSuspicious, Removed: true, Detail: fmt.Sprintf(
		"ZIP extra field 0xA220 (%d bytes) holding data other than zero growth-hint padding; possibly a Red Star OS watermark, no DES mark verified", len(b))}
}

// plausibleSerial accepts a decrypted serial found by scanning (not by
// structure): printable, not quoted, and not empty.
func plausibleSerial(s string) bool {
	return s != "" && s[0] != '"'
}

// scrubZIP removes suspicious 0xA220 extra fields and blanks author fields
// in OOXML (DOCX, XLSX, PPTX) and ODF metadata parts. Everything else,
// including entry order, compressed data and bytes between records, is
// copied as it is; only the offsets that move are rewritten.
// signedZIP reports a signed JAR or APK: a META-INF signature file, or an
// APK signing block before the central directory. Rewriting an entry
// breaks such a signature (the watermark fields, which Red Star added after
// signing, are still removed).
func signedZIP(data []byte, entries []*zipEntry, cdStart int) bool {
	for _, en := range entries {
		n := strings.ToUpper(en.name)
		if strings.HasPrefix(n, "META-INF/") && (strings.HasSuffix(n, ".SF") || strings.HasSuffix(n, ".RSA") ||
			strings.HasSuffix(n, ".DSA") || strings.HasSuffix(n, ".EC")) {
			return true
		}
	}
	return cdStart >= 24 && bytes.Contains(data[max(0, cdStart-64<<10):cdStart], []byte("APK Sig Block 42"))
}

func scrubZIP(data []byte) ([]byte, []Finding) {
	entries, cdStart, eocd, err := parseZIP(data)
	if err != nil {
		return data, []Finding{{Kind: KindWarning, Detail: "ZIP structure not understood, watermark fields and author metadata left in place: " + err.Error()}}
	}
	var fs []Finding
	changed := false
	budget := int64(inflateBase) + inflateRatio*int64(len(data))
	signed := signedZIP(data, entries, cdStart)
	if signed {
		fs = append(fs, Finding{Kind: KindWarning, Detail: "signed ZIP (JAR or APK): its pictures and documents are left as they are, so that its signature still holds"})
	}
	for _, en := range entries {
		// The local header has its own name length: it need not agree with
		// the central record's (a ZIP made to confuse readers), so the
		// local extra field is found by the local one.
		lx := en.local[localLen+int(binary.LittleEndian.Uint16(en.local[26:])):]
		newLX, lfs, ok := filterExtra(lx)
		if !ok {
			fs = append(fs, Finding{Kind: KindWarning, Detail: fmt.Sprintf("ZIP entry %q: malformed local extra field left in place", en.name)})
		}
		nl, xl := int(binary.LittleEndian.Uint16(en.cd[28:])), int(binary.LittleEndian.Uint16(en.cd[30:]))
		cx := en.cd[centralLen+nl : centralLen+nl+xl]
		newCX, cfs, ok := filterExtra(cx)
		if !ok {
			fs = append(fs, Finding{Kind: KindWarning, Detail: fmt.Sprintf("ZIP entry %q: malformed central extra field left in place", en.name)})
		}
		for _, f := range append(lfs, cfs...) {
			f.Detail = fmt.Sprintf("%s (entry %q)", f.Detail, en.name)
			fs = append(fs, f)
		}
		var newBody []byte
		var pfs []Finding
		if fields, ok := zipParts[en.name]; ok && !signed {
			newBody, pfs = editPart(data, en, fields, &budget)
		} else if isImageName(en.name) && !signed {
			newBody, pfs = editImage(data, en, &budget)
		}
		fs = append(fs, pfs...)
		if len(lfs) == 0 && len(cfs) == 0 && newBody == nil {
			continue
		}
		changed = true
		en.newLocal, en.newCD = rebuildEntry(data, en, newLX, newCX, newBody)
	}
	sorted := append([]*zipEntry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].localOff < sorted[j].localOff })
	gaps, prev := 0, 0
	for _, en := range sorted {
		gaps += en.localOff - prev
		prev = en.localEnd
	}
	if gaps += cdStart - prev; gaps > 0 {
		fs = append(fs, Finding{Kind: KindWarning, Detail: fmt.Sprintf(
			"%d bytes in the ZIP that no directory entry points at (e.g. deleted entries) were kept as they are", gaps)})
	}
	if !changed {
		return data, fs
	}
	out := make([]byte, 0, len(data))
	prev = 0
	for _, en := range sorted {
		out = append(out, data[prev:en.localOff]...)
		en.newOffset = len(out)
		if en.newLocal != nil {
			out = append(out, en.newLocal...)
		} else {
			out = append(out, data[en.localOff:en.localEnd]...)
		}
		prev = en.localEnd
	}
	out = append(out, data[prev:cdStart]...)
	newCDStart := len(out)
	for _, en := range entries {
		cd := en.newCD
		if cd == nil {
			cd = append([]byte(nil), en.cd...)
		}
		binary.LittleEndian.PutUint32(cd[42:], uint32(en.newOffset))
		out = append(out, cd...)
	}
	e := append([]byte(nil), data[eocd:]...)
	binary.LittleEndian.PutUint32(e[12:], uint32(len(out)-newCDStart))
	binary.LittleEndian.PutUint32(e[16:], uint32(newCDStart))
	out = append(out, e...)
	if int64(len(out)) > 0xFFFFFFFF {
		return data, append(fs, Finding{Kind: KindWarning, Detail: "rewritten ZIP would need ZIP64; left in place"})
	}
	return out, fs
}

// rebuildEntry makes the new local record and central record of an entry
// with filtered extra fields and, when body != nil, a new deflated body.
func rebuildEntry(data []byte, en *zipEntry, lx, cx, body []byte) (local, cd []byte) {
	nl := int(binary.LittleEndian.Uint16(en.local[26:]))
	h := append([]byte(nil), en.local[:localLen+nl]...)
	binary.LittleEndian.PutUint16(h[28:], uint16(len(lx)))
	h = append(h, lx...)
	cnl, cxl := int(binary.LittleEndian.Uint16(en.cd[28:])), int(binary.LittleEndian.Uint16(en.cd[30:]))
	c := append([]byte(nil), en.cd[:centralLen+cnl]...)
	binary.LittleEndian.PutUint16(c[30:], uint16(len(cx)))
	c = append(c, cx...)
	c = append(c, en.cd[centralLen+cnl+cxl:]...)
	if body == nil {
		local = append(h, data[en.dataStart:en.localEnd]...)
		return local, c
	}
	// New body: deflate (or store, as before), sizes in the local header,
	// no data descriptor.
	var comp []byte
	if en.method == 8 {
		comp = deflate(body)
	} else {
		comp = body
	}
	crc := crc32.ChecksumIEEE(body)
	flags := en.flags &^ 8
	for _, b := range [][]byte{h, c} {
		off := 0
		if b[0] == 'P' && binary.LittleEndian.Uint32(b) == sigCentral {
			off = 2 // central records have "version made by" first
		}
		binary.LittleEndian.PutUint16(b[6+off:], flags)
		binary.LittleEndian.PutUint32(b[14+off:], crc)
		binary.LittleEndian.PutUint32(b[18+off:], uint32(len(comp)))
		binary.LittleEndian.PutUint32(b[22+off:], uint32(len(body)))
	}
	return append(h, comp...), c
}

// deflaters keeps flate writers for reuse: each holds about a megabyte
// of tables, which would otherwise be allocated and cleared per entry.
var deflaters = sync.Pool{New: func() any {
	w, err := flate.NewWriter(nil, flate.BestCompression)
	if err != nil {
		panic("scrub: internal error: " + err.Error())
	}
	return w
}}

// deflate compresses b (raw DEFLATE, as ZIP method 8 stores it).
func deflate(b []byte) []byte {
	var buf bytes.Buffer
	w := deflaters.Get().(*flate.Writer)
	w.Reset(&buf)
	w.Write(b) // a bytes.Buffer does not fail
	w.Close()
	deflaters.Put(w)
	return buf.Bytes()
}

// readPart returns the uncompressed body of an entry, or why it cannot.
// The size the directory claims is taken from *budget (the bytes left to
// inflate from this ZIP) before anything is inflated.
func readPart(data []byte, en *zipEntry, limit uint64, budget *int64) ([]byte, string) {
	if en.flags&1 != 0 {
		return nil, "encrypted"
	}
	if en.usize > limit {
		return nil, fmt.Sprintf("larger than %d MiB", limit>>20)
	}
	if int64(en.usize) > *budget {
		return nil, "over the total this ZIP may inflate to (a deflate bomb?)"
	}
	*budget -= int64(en.usize)
	raw := data[en.dataStart : en.dataStart+int(en.csize)]
	var body []byte
	switch en.method {
	case 0:
		body = raw
	case 8:
		// At most the claimed size plus one byte: more is a mismatch.
		b, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), int64(en.usize)+1))
		if err != nil {
			return nil, "cannot inflate: " + err.Error()
		}
		body = b
	default:
		return nil, fmt.Sprintf("compression method %d not supported", en.method)
	}
	if uint64(len(body)) != en.usize || crc32.ChecksumIEEE(body) != en.crc {
		return nil, "size or CRC does not match the directory"
	}
	return body, ""
}

// editPart inflates a metadata part, blanks the named elements and returns
// the new body (nil when nothing changed or the part cannot be read).
func editPart(data []byte, en *zipEntry, elems []string, budget *int64) ([]byte, []Finding) {
	body, why := readPart(data, en, maxPartSize, budget)
	if why != "" {
		return nil, []Finding{{Kind: KindWarning, Detail: fmt.Sprintf("ZIP entry %q: %s; author fields left in place", en.name, why)}}
	}
	out, found := blankElements(body, elems)
	if len(found) == 0 {
		return nil, nil
	}
	var fs []Finding
	for _, f := range found {
		fs = append(fs, Finding{Kind: KindMetadata, Removed: true, Detail: fmt.Sprintf("%s in %s", f, en.name)})
	}
	return out, fs
}

// maxImagePart caps an embedded image inflated to scrub it.
const maxImagePart = 32 << 20

// isImageName reports whether a ZIP entry is named like a JPEG, PNG or GIF
// (pictures in word/media/, EPUB images...).
func isImageName(name string) bool {
	n := strings.ToLower(name)
	for _, ext := range []string{".jpg", ".jpeg", ".jpe", ".png", ".gif"} {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	return false
}

// editImage scrubs an image stored inside the archive: an appended Red Star
// trailer, and EXIF/XMP/text metadata, exactly as for a file on its own.
func editImage(data []byte, en *zipEntry, budget *int64) ([]byte, []Finding) {
	body, why := readPart(data, en, maxImagePart, budget)
	if why != "" {
		return nil, []Finding{{Kind: KindWarning, Detail: fmt.Sprintf("ZIP entry %q: %s; image not checked", en.name, why)}}
	}
	cut, fs, err := findTrailers(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, []Finding{{Kind: KindWarning, Detail: fmt.Sprintf("ZIP entry %q: %v", en.name, err)}}
	}
	out := body[:cut]
	var more []Finding
	switch sniff(out) {
	case fmtJPEG:
		out, more = scrubJPEG(out)
	case fmtPNG:
		out, more = scrubPNG(out)
	}
	fs = append(fs, more...)
	for i := range fs {
		fs[i].Detail = fmt.Sprintf("%s (in %s)", fs[i].Detail, en.name)
	}
	if bytes.Equal(out, body) {
		return nil, fs
	}
	return out, fs
}

// blankElements empties the text of each element with one of the given
// qualified names (<dc:creator>Kim</dc:creator> → <dc:creator></dc:creator>).
// It works on the bytes, so the rest of the document is kept exactly; each
// name takes one pass over the document (copying as it goes, never
// re-copying what is already done).
func blankElements(doc []byte, names []string) ([]byte, []string) {
	var found []string
	for _, name := range names {
		open, closeTag := []byte("<"+name), []byte("</"+name+">")
		var out []byte // nil until the first change
		done := 0      // doc[:done] is already in out
		for from := 0; ; {
			i := bytes.Index(doc[from:], open)
			if i < 0 {
				break
			}
			i += from
			j := i + len(open)
			if j >= len(doc) {
				break
			}
			if c := doc[j]; c != '>' && c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '/' {
				from = j // a longer name, e.g. <dc:creatorX
				continue
			}
			gt := bytes.IndexByte(doc[j:], '>')
			if gt < 0 {
				break
			}
			gt += j
			if doc[gt-1] == '/' { // <dc:creator/> is already empty
				from = gt + 1
				continue
			}
			k := bytes.Index(doc[gt+1:], closeTag)
			if k < 0 {
				break
			}
			k += gt + 1
			if v := bytes.TrimSpace(doc[gt+1 : k]); len(v) > 0 {
				found = append(found, fmt.Sprintf("%s %q", name, shorten(v)))
				out = append(out, doc[done:gt+1]...)
				done = k
			}
			from = k + len(closeTag)
		}
		if out != nil {
			doc = append(out, doc[done:]...)
		}
	}
	return doc, found
}

func shorten(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}
