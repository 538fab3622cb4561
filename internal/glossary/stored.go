package glossary

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"sync"
)

// Stored marks: a packer finds the marks of every Korean page once and
// keeps them in the archive, in one entry at MarksPath, so that a server
// or an export applies them (AppendMarked) without tokenizing the page.
// The layout is in docs/glossary.md, "Marks kept in an archive".

// MarksPath is the archive path of the marks table; MarksMIME its type.
// The leading dot keeps it out of folder sources (they skip dot files).
const (
	MarksPath = ".ferry/glossary-marks"
	MarksMIME = "application/x-ferry-glossary-marks"
)

// tableMagic starts a marks table whose records give each mark's byte
// offset (version 2, what MarksTable writes); tableMagicV1 one whose
// records give the mark's place as a headword search (version 1, still
// read). blockPages is how many pages share one directory record.
const (
	tableMagic   = "fgt2"
	tableMagicV1 = "fgt1"
	blockPages   = 64
	headerSize   = len(tableMagic) + 8 + 4 + 4
	maxTable     = 1 << 31 // offsets are u32
	// maxBlock bounds what one lookup reads: 64 records of at most 300
	// marks are far smaller (about 100 KB at most).
	maxBlock = 1 << 20
	// maxPages bounds the directory a reader holds (8 MiB).
	maxPages = 1 << 26
)

// PathHash is the 32-bit key of a page in a marks table: FNV-1a of its
// archive path.
func PathHash(path string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(path))
	return h.Sum32()
}

// AppendPageMarks appends the compact form of marks m of page (as
// FindMarks found them with the default PerWord and MaxPerPage) to dst,
// as a version 2 table (MarksTable) keeps it:
//
//	uvarint count | uvarint HeadAt+1 | uvarint (ListAt<0 ? 0 : len(page)-ListAt+1)
//	| count × (uvarint Entry | uvarint Start − previous mark's End (the first: Start))
//
// A mark's end is its start plus the length of its entry's headword. ok is
// false when m does not fit page (it then cannot be stored).
func (g *Glossary) AppendPageMarks(dst, page []byte, m Marks) (out []byte, ok bool) {
	if g.checkMarks(page, m) != nil || checkInText(page, m) != nil {
		return dst, false
	}
	return appendRecord(dst, len(page), m), true
}

// appendRecord writes the version 2 record of marks m (which fit a page
// of n bytes).
func appendRecord(dst []byte, n int, m Marks) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(m.Words)))
	dst = binary.AppendUvarint(dst, uint64(m.HeadAt+1))
	if m.ListAt < 0 {
		dst = append(dst, 0)
	} else {
		dst = binary.AppendUvarint(dst, uint64(n-m.ListAt+1))
	}
	prev := 0
	for _, w := range m.Words {
		dst = binary.AppendUvarint(dst, uint64(w.Entry))
		dst = binary.AppendUvarint(dst, uint64(int(w.Start)-prev))
		prev = int(w.End)
	}
	return dst
}

// indexWord is bytes.Index(s, w) for a headword w, faster on Korean
// text: it looks for w's byte at k, the byte of w that is rarest in
// Korean prose (probes), rather than its first (in Hangul, one of four
// values).
func indexWord[W string | []byte](s []byte, w W, k int) int {
	c := w[k]
	for i := k; i < len(s); {
		j := bytes.IndexByte(s[i:], c)
		if j < 0 {
			return -1
		}
		i += j
		// The last byte first: most places that share the probe byte
		// differ there (a cheap test before the comparison).
		if st := i - k; st+len(w) <= len(s) && s[st+len(w)-1] == w[len(w)-1] && string(s[st:st+len(w)]) == string(w) {
			return st
		}
		i++
	}
	return -1
}

// headword returns entry i's headword from the packed copy (probes makes
// it).
func (g *Glossary) headword(i int) []byte { return g.heads[g.headAt[i]:g.headAt[i+1]] }

// probes returns (and makes on first use, with the packed headwords that
// headword reads), for each entry, the offset in its headword of the byte
// that is rarest in the glossary's own explanations (plain Korean prose,
// a stand-in for the pages' text): indexWord looks for that byte, so it
// stops at fewer places that are not the word. (Looking for the third
// byte of 스 stops at every 다, whose UTF-8 ends in the same byte.)
func (g *Glossary) probes() []uint8 {
	g.probeOnce.Do(func() {
		var freq [256]int
		for i := range g.entries {
			for _, c := range []byte(g.entries[i].Explanation) {
				freq[c]++
			}
		}
		g.probe = make([]uint8, len(g.entries))
		for i := range g.entries {
			hw := g.entries[i].Headword
			if hw == "" {
				continue // Parse refuses these; 0 is safe anyway
			}
			best := min(2, len(hw)-1)
			for k := 0; k < len(hw) && k < 256; k++ {
				if freq[hw[k]] < freq[hw[best]] {
					best = k
				}
			}
			g.probe[i] = uint8(best)
		}
		g.headAt = make([]uint32, len(g.entries)+1)
		for i := range g.entries {
			g.heads = append(g.heads, g.entries[i].Headword...)
			g.headAt[i+1] = uint32(len(g.heads))
		}
	})
	return g.probe
}

// ParsePageMarks reads marks that AppendPageMarks wrote for page. Marks
// that do not fit the page, or that would put markup anywhere but in its
// text (inside a tag, comment, script or other raw-text element, or a
// character reference), give an error wrapping ErrMarks.
func (g *Glossary) ParsePageMarks(rec, page []byte) (Marks, error) {
	return g.parsePageMarks(rec, page, 2)
}

// parsePageMarks is ParsePageMarks for a record of a table of the given
// version (1: marks found by a headword search, appendPageMarksV1; 2:
// marks at byte offsets, AppendPageMarks), with the same checks.
func (g *Glossary) parsePageMarks(rec, page []byte, version int) (Marks, error) {
	var m Marks
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(rec)
		if n <= 0 {
			return 0, false
		}
		rec = rec[n:]
		return v, true
	}
	count, ok := next()
	if !ok || count > uint64(len(rec)) || count > DefaultMaxPerPage {
		return m, fmt.Errorf("bad mark count: %w", ErrMarks)
	}
	head, ok1 := next()
	list, ok2 := next()
	if len(page) > maxPage {
		return m, fmt.Errorf("a page of %d bytes: %w", len(page), ErrMarks)
	}
	if !ok1 || !ok2 || head > uint64(len(page))+1 || list > uint64(len(page))+1 {
		return m, fmt.Errorf("bad insertion offset: %w", ErrMarks)
	}
	m.HeadAt = int(head) - 1
	m.ListAt = -1
	if list > 0 {
		m.ListAt = len(page) - int(list-1)
	}
	m.Words = make([]Mark, 0, count)
	// Each mark is checked to be in the page's text as it is found (one
	// forward pass); a record without marks inserts nothing.
	var c textCheck
	if count > 0 {
		if err := c.begin(page, m.HeadAt, m.ListAt); err != nil {
			return Marks{}, err
		}
	}
	prev := 0
	probe := g.probes()
	for range count {
		v, ok := next()
		var entry uint64
		p := prev
		if version == 1 {
			entry = v >> 1
		} else {
			entry = v
		}
		if !ok || entry >= uint64(len(g.entries)) {
			return Marks{}, fmt.Errorf("bad mark: %w", ErrMarks)
		}
		hw := g.headword(int(entry))
		if len(hw) == 0 {
			return Marks{}, fmt.Errorf("bad mark: %w", ErrMarks) // Parse refuses empty headwords
		}
		if version == 1 {
			skipped := uint64(0)
			if v&1 != 0 {
				if skipped, ok = next(); !ok || skipped == 0 || skipped > uint64(len(page)) {
					return Marks{}, fmt.Errorf("bad mark: %w", ErrMarks)
				}
			}
			k := int(probe[entry])
			for {
				i := indexWord(page[p:], hw, k)
				if i < 0 {
					return Marks{}, fmt.Errorf("a mark's word %q is not in the page: %w", hw, ErrMarks)
				}
				if skipped == 0 {
					p += i
					break
				}
				skipped--
				p += i + 1
			}
		} else {
			gap, ok := next()
			if !ok || gap > uint64(len(page)-p) || len(hw) > len(page)-p-int(gap) {
				return Marks{}, fmt.Errorf("bad mark: %w", ErrMarks)
			}
			p += int(gap)
			if string(page[p:p+len(hw)]) != string(hw) {
				return Marks{}, fmt.Errorf("a mark's word %q is not at byte %d: %w", hw, p, ErrMarks)
			}
		}
		end := p + len(hw)
		if m.HeadAt > p && m.HeadAt < end {
			return Marks{}, fmt.Errorf("the style's place inside mark %d-%d: %w", p, end, ErrMarks)
		}
		if err := c.mark(p, end); err != nil {
			return Marks{}, err
		}
		m.Words = append(m.Words, Mark{int32(p), int32(end), int32(entry)})
		prev = end
	}
	if len(rec) != 0 {
		return Marks{}, fmt.Errorf("%d bytes after the marks: %w", len(rec), ErrMarks)
	}
	// Found in order, each at its headword: what checkMarks would check
	// but for the list's place.
	if count > 0 && m.ListAt >= 0 && m.ListAt < prev {
		return Marks{}, fmt.Errorf("the list's place before a mark: %w", ErrMarks)
	}
	if count > 0 {
		if err := c.finish(); err != nil {
			return Marks{}, err
		}
	}
	return m, nil
}

// checkInText reports an error unless every mark, and the places of the
// style and the list, are in the page's text as an HTML tokenizer reads
// it: not inside a tag, a comment or doctype, a raw-text element (script,
// style, title, textarea and the like) or a character reference. It is a
// small scanner, far cheaper than tokenizing, and stricter where in doubt.
// ParsePageMarks makes the same checks (a textCheck) as it finds each mark.
func checkInText(page []byte, m Marks) error {
	if len(m.Words) > DefaultMaxPerPage {
		return fmt.Errorf("%d marks on one page: %w", len(m.Words), ErrMarks)
	}
	var c textCheck
	if err := c.begin(page, m.HeadAt, m.ListAt); err != nil {
		return err
	}
	for _, w := range m.Words {
		if err := c.mark(int(w.Start), int(w.End)); err != nil {
			return err
		}
	}
	return c.finish()
}

// textCheck checks that marks, given in page order, and the places of the
// style and the list are in a page's text (see checkInText), in one
// forward pass over the page.
type textCheck struct {
	s       textScanner
	places  [2]int // the style's and the list's places to check, in order
	nplaces int
}

// begin starts checking page, whose style goes at headAt and list at
// listAt (-1: none).
func (c *textCheck) begin(page []byte, headAt, listAt int) error {
	c.s = textScanner{page: page, lt: -1}
	c.nplaces = 0
	if headAt >= 0 {
		if !hasPrefixFold(page[headAt:], "</head") {
			return fmt.Errorf("the style's place is not a </head> tag: %w", ErrMarks)
		}
		c.places[c.nplaces] = headAt
		c.nplaces++
	}
	if listAt >= 0 && listAt < len(page) {
		if page[listAt] != '<' {
			return fmt.Errorf("the list's place is not before a tag: %w", ErrMarks)
		}
		c.places[c.nplaces] = listAt
		c.nplaces++
	}
	if c.nplaces == 2 && c.places[1] < c.places[0] {
		c.places[0], c.places[1] = c.places[1], c.places[0]
	}
	return nil
}

// at checks offset p, after the places before it; offsets must come in
// increasing order.
func (c *textCheck) at(p int) error {
	for c.nplaces > 0 && c.places[0] <= p {
		if err := c.in(c.places[0]); err != nil {
			return err
		}
		c.places[0] = c.places[1]
		c.nplaces--
	}
	return c.in(p)
}

func (c *textCheck) in(p int) error {
	if !c.s.inText(p) {
		return fmt.Errorf("a mark or insertion at byte %d is not in the page's text: %w", p, ErrMarks)
	}
	return nil
}

// mark checks the mark page[start:end], which starts at or after the
// previous one's end.
func (c *textCheck) mark(start, end int) error {
	if err := c.at(start); err != nil {
		return err
	}
	if err := c.at(end); err != nil {
		return err
	}
	// Inside a character reference (&amp; holds "amp")?
	page := c.s.page
	i := start
	for i > 0 && isRefByte(page[i-1]) {
		i--
	}
	if i > 0 && page[i-1] == '&' {
		return fmt.Errorf("mark at byte %d inside a character reference: %w", start, ErrMarks)
	}
	return nil
}

// finish checks the places after the last mark.
func (c *textCheck) finish() error {
	for k := range c.nplaces {
		if err := c.in(c.places[k]); err != nil {
			return err
		}
	}
	c.nplaces = 0
	return nil
}

func isRefByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '#'
}

func hasPrefixFold(b []byte, s string) bool {
	return len(b) >= len(s) && bytes.EqualFold(b[:len(s)], []byte(s))
}

// textScanner walks a page once, forward, telling whether a byte offset is
// in text. Offsets must be asked in increasing order.
type textScanner struct {
	page []byte
	pos  int  // scanned up to here; pos is in text
	lt   int  // the first '<' at or after pos (len(page) if none), once lt ≥ pos
	dead bool // a construct never ends: nothing after it is text
}

// rawTextElems are read as raw text up to their end tag (or, for
// plaintext, to the end of the page).
var rawTextElems = []string{"script", "style", "title", "textarea", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext"}

// inText reports whether p is in text: outside every construct that
// starts before p, and not inside one starting at p except at its '<'
// (a place before a tag is text).
func (s *textScanner) inText(p int) bool {
	for !s.dead {
		if s.lt < s.pos {
			i := bytes.IndexByte(s.page[s.pos:], '<')
			if i < 0 {
				s.lt = len(s.page) // none: the rest is text
			} else {
				s.lt = s.pos + i
			}
		}
		start := s.lt
		if start >= p || start == len(s.page) {
			return true
		}
		end := s.skipMarkup(start)
		if end < 0 {
			s.dead = true
			break
		}
		if end > p {
			return false // p is inside the construct
		}
		s.pos = end
	}
	return false
}

// skipMarkup returns the offset just after the construct starting with '<'
// at i (i+1 when '<' starts none, as a tokenizer reads "a < b"), or -1
// when it never ends.
func (s *textScanner) skipMarkup(i int) int {
	b := s.page
	n := len(b)
	if i+1 >= n {
		return -1 // a '<' at the very end: treat as unfinished
	}
	c := b[i+1]
	switch {
	case c == '!':
		if bytes.HasPrefix(b[i:], []byte("<!--")) {
			// Comments end at "-->", also "<!-->" and "<!--->".
			if bytes.HasPrefix(b[i+4:], []byte(">")) {
				return i + 5
			}
			if bytes.HasPrefix(b[i+4:], []byte("->")) {
				return i + 6
			}
			j := bytes.Index(b[i+4:], []byte("--"))
			for j >= 0 {
				k := i + 4 + j + 2
				if k < n && b[k] == '>' {
					return k + 1
				}
				if k+1 < n && b[k] == '!' && b[k+1] == '>' {
					return k + 2
				}
				nj := bytes.Index(b[i+4+j+1:], []byte("--"))
				if nj < 0 {
					break
				}
				j += 1 + nj
			}
			return -1
		}
		return s.toGT(i + 2)
	case c == '?':
		return s.toGT(i + 2)
	case c == '/':
		if i+2 < n && isLetter(b[i+2]) {
			return s.tagEnd(i + 2)
		}
		if i+2 < n && b[i+2] == '>' {
			return i + 3
		}
		return s.toGT(i + 2) // a bogus comment
	case isLetter(c):
		j := i + 1
		quoted := false // a quote in the name (tagEnd must see it)
		for j < n && tagClass[b[j]]&nameEnd == 0 {
			quoted = quoted || tagClass[b[j]]&quote != 0
			j++
		}
		name := b[i+1 : j]
		from := j
		if quoted {
			from = i + 1
		}
		end := s.tagEndFrom(i+1, from)
		if end < 0 {
			return -1
		}
		if len(name) < 3 || len(name) > 9 || !isRawTextLead(name[0]) {
			return end // the common case: not a raw-text element
		}
		for _, r := range rawTextElems {
			if len(name) == len(r) && bytes.EqualFold(name, []byte(r)) {
				if r == "plaintext" {
					return -1
				}
				// A self-closing flag is ignored here: raw text follows.
				return s.rawEnd(end, r)
			}
		}
		return end
	}
	return i + 1
}

// isRawTextLead reports whether c may start the name of one of
// rawTextElems (any case).
func isRawTextLead(c byte) bool {
	switch c | 0x20 {
	case 's', 't', 'x', 'i', 'n', 'p':
		return true
	}
	return false
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isSpaceOrEnd(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == '/' || c == '>'
}

// toGT returns the offset after the next '>' from i, or -1.
func (s *textScanner) toGT(i int) int {
	j := bytes.IndexByte(s.page[i:], '>')
	if j < 0 {
		return -1
	}
	return i + j + 1
}

// tagEnd returns the offset after the '>' that ends the tag whose name
// starts at i, minding quoted attribute values (a quote right after '=',
// spaces between allowed), or -1. Tags are short: it reads them byte by
// byte, and jumps over a quoted value to its closing quote.
func (s *textScanner) tagEnd(i int) int { return s.tagEndFrom(i, i) }

// Classes of bytes in a tag (tagClass).
const (
	gt      = 1 << iota // '>'
	quote               // '"' or '\''
	nameEnd             // ends a tag name: white space, '/', '>'
)

// tagClass classifies bytes for the tag scan, one look-up a byte.
var tagClass = func() (t [256]uint8) {
	t['>'] = gt | nameEnd
	t['"'], t['\''] = quote, quote
	for _, c := range []byte(" \t\n\f\r/") {
		t[c] = nameEnd
	}
	return t
}()

// tagEndFrom is tagEnd for the tag whose name starts at start, reading
// from from (after a name without quotes, which tagEnd would pass over).
func (s *textScanner) tagEndFrom(start, i int) int {
	b := s.page
	for ; i < len(b); i++ {
		c := b[i]
		if tagClass[c]&(gt|quote) == 0 {
			continue
		}
		if c == '>' {
			return i + 1
		}
		k := i - 1
		for k >= start && (b[k] == ' ' || b[k] == '\t' || b[k] == '\n' || b[k] == '\f' || b[k] == '\r') {
			k--
		}
		if k < start || b[k] != '=' {
			continue // a quote outside a value: an ordinary character
		}
		e := bytes.IndexByte(b[i+1:], c)
		if e < 0 {
			return -1
		}
		i += 1 + e // the closing quote; the loop steps past it
	}
	return -1
}

// rawEnd returns the offset after the end tag of raw-text element name
// whose content starts at i, or -1.
func (s *textScanner) rawEnd(i int, name string) int {
	b := s.page
	for {
		j := bytes.Index(b[i:], []byte("</"))
		if j < 0 {
			return -1
		}
		k := i + j + 2
		if hasPrefixFold(b[k:], name) && (k+len(name) >= len(b) || isSpaceOrEnd(b[k+len(name)])) {
			return s.tagEnd(k)
		}
		i = k
	}
}

// MarksTable collects the marks of an archive's pages, keyed by path, and
// writes them as one table (docs/glossary.md, "Marks kept in an archive").
// Pages whose path hashes collide are left out (they are glossed when
// served, as without a table). Not safe for concurrent use.
type MarksTable struct {
	g    *Glossary
	data []byte
	recs []tableRec
}

type tableRec struct {
	hash     uint32
	off, len uint32
}

// NewMarksTable starts an empty table for glossary g.
func (g *Glossary) NewMarksTable() *MarksTable { return &MarksTable{g: g} }

// Add keeps rec, the marks of the page at path as AppendPageMarks wrote
// them. It reports false, keeping nothing, once the table would exceed
// the largest size the format allows.
func (t *MarksTable) Add(path string, rec []byte) bool {
	if len(t.data)+len(rec) > maxTable/2 {
		return false
	}
	t.recs = append(t.recs, tableRec{PathHash(path), uint32(len(t.data)), uint32(len(rec))})
	t.data = append(t.data, rec...)
	return true
}

// Len is the number of pages added.
func (t *MarksTable) Len() int { return len(t.recs) }

// Bytes returns the table:
//
//	"fgt1" | fingerprint u64 | u32 pages | u32 blocks
//	| blocks × (u32 first hash, u32 offset of the block from the table's start)
//	| blocks, each of up to 64 pages in hash order:
//	  pages × (uvarint hash − previous hash in the block (the first: 0) | uvarint length | record)
//
// all integers big-endian, hashes strictly increasing.
func (t *MarksTable) Bytes() []byte {
	recs := slices.Clone(t.recs)
	slices.SortStableFunc(recs, func(a, b tableRec) int {
		switch {
		case a.hash < b.hash:
			return -1
		case a.hash > b.hash:
			return 1
		}
		return 0
	})
	// Colliding hashes: leave all of them out.
	kept := recs[:0]
	for i := 0; i < len(recs); {
		j := i + 1
		for j < len(recs) && recs[j].hash == recs[i].hash {
			j++
		}
		if j == i+1 {
			kept = append(kept, recs[i])
		}
		i = j
	}
	recs = kept
	blocks := (len(recs) + blockPages - 1) / blockPages
	out := make([]byte, 0, headerSize+8*blocks+len(t.data)+3*len(recs))
	out = append(out, tableMagic...)
	out = binary.BigEndian.AppendUint64(out, t.g.Fingerprint())
	out = binary.BigEndian.AppendUint32(out, uint32(len(recs)))
	out = binary.BigEndian.AppendUint32(out, uint32(blocks))
	dirAt := len(out)
	out = append(out, make([]byte, 8*blocks)...)
	for b := range blocks {
		part := recs[b*blockPages : min((b+1)*blockPages, len(recs))]
		binary.BigEndian.PutUint32(out[dirAt+8*b:], part[0].hash)
		binary.BigEndian.PutUint32(out[dirAt+8*b+4:], uint32(len(out)))
		prev := part[0].hash
		for _, r := range part {
			out = binary.AppendUvarint(out, uint64(r.hash-prev))
			out = binary.AppendUvarint(out, uint64(r.len))
			out = append(out, t.data[r.off:r.off+r.len]...)
			prev = r.hash
		}
	}
	return out
}

// StoredMarks reads a marks table kept in an archive. Safe for concurrent
// use if its io.ReaderAt is.
type StoredMarks struct {
	g     *Glossary
	ra    io.ReaderAt
	size  int64
	pages int
	dir   []uint32 // per block: first hash, offset
	// version is the table's: 1 ("fgt1") or 2 ("fgt2"), which says how
	// its records give the marks' places.
	version int
}

// ErrOtherGlossary is wrapped by OpenStoredMarks's error when the table
// was made with other glossary data (the pages are then glossed as if
// there were no table).
var ErrOtherGlossary = errors.New("glossary: marks of another glossary version")

// OpenStoredMarks reads the header and directory of a marks table of size
// bytes (about 8 bytes per 64 pages; the rest is read per lookup). Errors
// wrap ErrMarks, and also ErrOtherGlossary for a table of another
// glossary.
func (g *Glossary) OpenStoredMarks(ra io.ReaderAt, size int64) (*StoredMarks, error) {
	if size < int64(headerSize) || size > maxTable {
		return nil, fmt.Errorf("marks table of %d bytes: %w", size, ErrMarks)
	}
	var h [headerSize]byte
	if _, err := ra.ReadAt(h[:], 0); err != nil {
		return nil, fmt.Errorf("marks table: %v: %w", err, ErrMarks)
	}
	version := 0
	switch string(h[:4]) {
	case tableMagic:
		version = 2
	case tableMagicV1:
		version = 1
	default:
		return nil, fmt.Errorf("not a marks table (or one of a newer version): %w", ErrMarks)
	}
	if fp := binary.BigEndian.Uint64(h[4:]); fp != g.Fingerprint() {
		return nil, fmt.Errorf("%w (%016x, this is %016x): %w", ErrOtherGlossary, fp, g.Fingerprint(), ErrMarks)
	}
	pages := int64(binary.BigEndian.Uint32(h[12:]))
	blocks := int64(binary.BigEndian.Uint32(h[16:]))
	if pages > maxPages || blocks != (pages+blockPages-1)/blockPages || int64(headerSize)+8*blocks+3*pages > size {
		return nil, fmt.Errorf("marks table: %d pages in %d blocks do not fit %d bytes: %w", pages, blocks, size, ErrMarks)
	}
	raw := make([]byte, 8*blocks)
	if _, err := ra.ReadAt(raw, int64(headerSize)); err != nil {
		return nil, fmt.Errorf("marks table: %v: %w", err, ErrMarks)
	}
	dir := make([]uint32, 2*blocks)
	end := int64(headerSize) + 8*blocks
	for i := range blocks {
		dir[2*i] = binary.BigEndian.Uint32(raw[8*i:])
		dir[2*i+1] = binary.BigEndian.Uint32(raw[8*i+4:])
		if i > 0 && dir[2*i] <= dir[2*i-2] || int64(dir[2*i+1]) < end || int64(dir[2*i+1]) > size {
			return nil, fmt.Errorf("marks table: bad directory record %d: %w", i, ErrMarks)
		}
		end = int64(dir[2*i+1])
	}
	return &StoredMarks{g: g, ra: ra, size: size, pages: int(pages), dir: dir, version: version}, nil
}

// Pages is the number of pages the table holds marks for.
func (s *StoredMarks) Pages() int { return s.pages }

// Marks returns the kept marks of the page at path whose bytes are page,
// checked against it (see ParsePageMarks). ok is false, with a nil error,
// when the table has none for path; a damaged or wrong record gives an
// error wrapping ErrMarks.
func (s *StoredMarks) Marks(path string, page []byte) (m Marks, ok bool, err error) {
	buf := blockBufs.Get().(*[]byte)
	defer blockBufs.Put(buf)
	rec, ok, err := s.record(PathHash(path), buf)
	if !ok || err != nil {
		return Marks{}, ok, err
	}
	m, err = s.parse(rec, page)
	return m, err == nil, err
}

// parse reads record rec of this table for page (ParsePageMarks, for the
// table's version).
func (s *StoredMarks) parse(rec, page []byte) (Marks, error) {
	return s.g.parsePageMarks(rec, page, s.version)
}

// blockBufs pools the buffers a lookup reads a block into.
var blockBufs = sync.Pool{New: func() any { return new([]byte) }}

// record finds the record of hash h, reading its block into a buffer of
// blockBufs (*buf, grown as needed): the record is valid until the caller
// puts it back.
func (s *StoredMarks) record(h uint32, buf *[]byte) ([]byte, bool, error) {
	blocks := len(s.dir) / 2
	// The last block whose first hash is ≤ h.
	lo, hi := 0, blocks
	for lo < hi {
		mid := (lo + hi) / 2
		if s.dir[2*mid] <= h {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	blk := lo - 1
	if blk < 0 {
		return nil, false, nil
	}
	start := int64(s.dir[2*blk+1])
	end := s.size
	if blk+1 < blocks {
		end = int64(s.dir[2*blk+3])
	}
	if end < start || end-start > maxBlock {
		return nil, false, fmt.Errorf("marks table: block %d of %d bytes: %w", blk, end-start, ErrMarks)
	}
	if int64(cap(*buf)) < end-start {
		*buf = make([]byte, end-start, max(end-start, 4<<10))
	}
	data := (*buf)[:end-start]
	if _, err := s.ra.ReadAt(data, start); err != nil && !(errors.Is(err, io.EOF) && end == s.size) {
		return nil, false, fmt.Errorf("marks table: %v: %w", err, ErrMarks)
	}
	hash := s.dir[2*blk]
	n := blockPages
	if blk == blocks-1 {
		n = s.pages - blk*blockPages
	}
	for k := range n {
		d, m := binary.Uvarint(data)
		if m <= 0 || (k > 0 && d == 0) || (k == 0 && d != 0) || uint64(hash)+d > 1<<32-1 {
			return nil, false, fmt.Errorf("marks table: bad record in block %d: %w", blk, ErrMarks)
		}
		data = data[m:]
		hash += uint32(d)
		l, m := binary.Uvarint(data)
		if m <= 0 || l > uint64(len(data)-m) {
			return nil, false, fmt.Errorf("marks table: bad record in block %d: %w", blk, ErrMarks)
		}
		data = data[m:]
		if hash == h {
			return data[:l:l], true, nil
		}
		if hash > h {
			return nil, false, nil
		}
		data = data[l:]
	}
	return nil, false, nil
}
