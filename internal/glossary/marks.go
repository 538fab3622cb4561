package glossary

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Marks have a binary form so that a server or an export can keep them
// (in a cache, beside an archive entry) and skip finding them again:
//
//	magic "fg2" | fingerprint (8 bytes, big-endian) | uvarint count
//	| uvarint HeadAt+1 | uvarint ListAt+1
//	| count × (uvarint Start-previous End | uvarint End-Start | uvarint Entry)
//
// The fingerprint ties the marks to the glossary data that found them;
// ParseMarks rejects marks of another glossary, and AppendMarked checks
// each mark against the page, so stale marks give an error, not a wrong page.

// marksMagic starts the binary form of Marks.
const marksMagic = "fg2"

// Fingerprint identifies the glossary's data: the first 8 bytes of the
// SHA-256 of its entries as parsed.
func (g *Glossary) Fingerprint() uint64 {
	g.fpOnce.Do(func() {
		h := sha256.New()
		for _, e := range g.entries {
			fmt.Fprintf(h, "%s\t%d\t%s\t%s\t%s\t%s\t%d\n", e.Headword, e.Kind, e.Domain, e.Origin, e.Explanation, e.NK, e.NKConf)
		}
		g.fp = binary.BigEndian.Uint64(h.Sum(nil))
	})
	return g.fp
}

// AppendMarks appends the binary form of m, for glossary g, to dst.
func (g *Glossary) AppendMarks(dst []byte, m Marks) []byte {
	dst = append(dst, marksMagic...)
	dst = binary.BigEndian.AppendUint64(dst, g.Fingerprint())
	dst = binary.AppendUvarint(dst, uint64(len(m.Words)))
	dst = binary.AppendUvarint(dst, uint64(m.HeadAt+1))
	dst = binary.AppendUvarint(dst, uint64(m.ListAt+1))
	prev := int32(0)
	for _, w := range m.Words {
		dst = binary.AppendUvarint(dst, uint64(w.Start-prev))
		dst = binary.AppendUvarint(dst, uint64(w.End-w.Start))
		dst = binary.AppendUvarint(dst, uint64(w.Entry))
		prev = w.End
	}
	return dst
}

// ParseMarks reads marks that AppendMarks wrote for this glossary. Errors
// wrap ErrMarks. It checks the form, not the page: AppendMarked does that.
func (g *Glossary) ParseMarks(b []byte) (Marks, error) {
	var m Marks
	if len(b) < len(marksMagic)+8 || string(b[:len(marksMagic)]) != marksMagic {
		return m, fmt.Errorf("not marks (no %q header): %w", marksMagic, ErrMarks)
	}
	b = b[len(marksMagic):]
	if fp := binary.BigEndian.Uint64(b); fp != g.Fingerprint() {
		return m, fmt.Errorf("marks of another glossary (%016x, this is %016x): %w", fp, g.Fingerprint(), ErrMarks)
	}
	b = b[8:]
	next := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	count, ok := next()
	// Each mark takes at least 3 bytes: never allocate more than the input holds.
	if !ok || count > uint64(len(b))/3+1 {
		return m, fmt.Errorf("bad mark count: %w", ErrMarks)
	}
	head, ok1 := next()
	list, ok2 := next()
	if !ok1 || !ok2 || head > maxPage+1 || list > maxPage+1 {
		return m, fmt.Errorf("bad insertion offset: %w", ErrMarks)
	}
	m.HeadAt, m.ListAt = int(head)-1, int(list)-1
	m.Words = make([]Mark, 0, count)
	prev := uint64(0)
	for range count {
		gap, ok1 := next()
		size, ok2 := next()
		entry, ok3 := next()
		if !ok1 || !ok2 || !ok3 || gap > maxPage || size == 0 || size > maxPage || entry >= uint64(len(g.entries)) {
			return Marks{}, fmt.Errorf("bad mark: %w", ErrMarks)
		}
		start := prev + gap
		end := start + size
		if end > maxPage {
			return Marks{}, fmt.Errorf("mark beyond the largest page: %w", ErrMarks)
		}
		m.Words = append(m.Words, Mark{int32(start), int32(end), int32(entry)})
		prev = end
	}
	if len(b) != 0 {
		return Marks{}, fmt.Errorf("%d bytes after the marks: %w", len(b), ErrMarks)
	}
	return m, nil
}
