package glossary

import (
	"errors"

	"ferry/internal/archive"
)

// ArchiveMarks opens the marks table an archive keeps at MarksPath: nil
// and no error when it has none, an error wrapping ErrMarks (and
// ErrOtherGlossary for another glossary's) when it cannot be used. Pages
// without usable stored marks are glossed with FindMarks, as before.
func (g *Glossary) ArchiveMarks(c archive.Contents) (*StoredMarks, error) {
	e, err := c.Lookup(MarksPath)
	if errors.Is(err, archive.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if e.Redirect || e.MIME != MarksMIME {
		return nil, errors.Join(errors.New("glossary: "+MarksPath+" is not a marks table"), ErrMarks)
	}
	sr, err := c.Open(e)
	if err != nil {
		return nil, err
	}
	return g.OpenStoredMarks(sr, sr.Size())
}

// layered is what an edition made of a full archive and its deltas
// (edition.View) offers: its archives, oldest first, and the one an entry
// comes from.
type layered interface {
	Layers() []*archive.Reader
	Layer(e archive.Entry) (int, archive.Entry, error)
}

// EditionMarks finds a page's stored marks in an edition that may be a
// chain of a full archive and deltas. Each archive of a chain keeps the
// marks of the pages it holds (a delta only those of its own pages), so a
// page's marks are looked up first in the archive its bytes come from,
// then in the others, newest first; every record is checked against the
// page. Safe for concurrent use.
type EditionMarks struct {
	g      *Glossary
	chain  layered
	tables []*StoredMarks // per layer, oldest first; nil where none is usable
}

// EditionMarks opens the marks tables of c: nil and no error when c has
// none (for a chain: when its newest edition has none), an error wrapping
// ErrMarks when the newest one cannot be used and no archive of the chain
// has a usable one.
func (g *Glossary) EditionMarks(c archive.Contents) (*EditionMarks, error) {
	top, err := g.ArchiveMarks(c)
	if top == nil && err == nil {
		return nil, nil
	}
	ch, ok := c.(layered)
	if !ok || len(ch.Layers()) < 2 {
		if top == nil {
			return nil, err
		}
		return &EditionMarks{g: g, tables: []*StoredMarks{top}}, nil
	}
	ls := ch.Layers()
	em := &EditionMarks{g: g, chain: ch, tables: make([]*StoredMarks, len(ls))}
	usable := false
	for i, l := range ls {
		// A layer whose table is another glossary's, or damaged, is
		// skipped: its pages are found again when served.
		if t, _ := g.ArchiveMarks(l); t != nil {
			em.tables[i], usable = t, true
		}
	}
	if !usable {
		return nil, err
	}
	return em, nil
}

// Pages is the number of page records in all the tables.
func (m *EditionMarks) Pages() int {
	n := 0
	for _, t := range m.tables {
		if t != nil {
			n += t.Pages()
		}
	}
	return n
}

// Marks returns the stored marks of page, the bytes of entry e of the
// edition, checked against it (ParsePageMarks). ok is false, with a nil
// error, when no table has marks for it; err wraps ErrMarks when the only
// record found does not fit the page.
func (m *EditionMarks) Marks(e archive.Entry, page []byte) (Marks, bool, error) {
	buf := blockBufs.Get().(*[]byte)
	defer blockBufs.Put(buf)
	_, mk, ok, err := m.find(e, page, buf)
	return mk, ok, err
}

// Record returns the stored record of page (entry e) as AppendPageMarks
// writes it (the current version, whatever the version of the table it
// was found in), once checked against page: what a delta or a compacted
// edition copies into its own table for the pages it holds. ok is false
// when no table has a record that fits the page.
func (m *EditionMarks) Record(e archive.Entry, page []byte) ([]byte, bool) {
	buf := blockBufs.Get().(*[]byte)
	defer blockBufs.Put(buf)
	_, mk, ok, _ := m.find(e, page, buf)
	if !ok {
		return nil, false
	}
	// Written again from the marks: a record of a version 1 table
	// becomes a version 2 one, and any record its one canonical form.
	return appendRecord(nil, len(page), mk), true
}

// find finds a record of e that fits page, and its marks: the layer of e
// first, then the others, newest first. The record is read into buf.
func (m *EditionMarks) find(e archive.Entry, page []byte, buf *[]byte) ([]byte, Marks, bool, error) {
	first := len(m.tables) - 1
	if m.chain != nil {
		if l, _, err := m.chain.Layer(e); err == nil && l >= 0 && l < len(m.tables) {
			first = l
		}
	}
	h := PathHash(e.Path)
	var firstErr error
	try := func(t *StoredMarks) ([]byte, Marks, bool) {
		if t == nil {
			return nil, Marks{}, false
		}
		rec, ok, err := t.record(h, buf)
		if err != nil || !ok {
			if firstErr == nil {
				firstErr = err
			}
			return nil, Marks{}, false
		}
		mk, err := t.parse(rec, page)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			return nil, Marks{}, false
		}
		return rec, mk, true
	}
	if rec, mk, ok := try(m.tables[first]); ok {
		return rec, mk, true, nil
	}
	for i := len(m.tables) - 1; i >= 0; i-- {
		if i == first {
			continue
		}
		if rec, mk, ok := try(m.tables[i]); ok {
			return rec, mk, true, nil
		}
	}
	return nil, Marks{}, false, firstErr
}

// PageRecord finds the marks of an HTML page (FindMarks with the default
// options) and returns them in stored form, as `ferry pack` keeps them;
// ok is false for a page without Hangul (it keeps no record) and when the
// marks cannot be stored.
func (g *Glossary) PageRecord(page []byte) ([]byte, bool) {
	if !HasHangul(page) {
		return nil, false
	}
	return g.AppendPageMarks(nil, page, g.FindMarks(page, Options{}))
}

// HasHangul reports whether b holds a Hangul syllable (U+AC00–U+D7A3).
func HasHangul(b []byte) bool {
	for i := 0; i+2 < len(b); i++ {
		if c := b[i]; c >= 0xEA && c <= 0xED {
			r := rune(c&0x0F)<<12 | rune(b[i+1]&0x3F)<<6 | rune(b[i+2]&0x3F)
			if r >= 0xAC00 && r <= 0xD7A3 && b[i+1]&0xC0 == 0x80 && b[i+2]&0xC0 == 0x80 {
				return true
			}
		}
	}
	return false
}
