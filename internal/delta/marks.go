package delta

import (
	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/glossary"
	"ferry/internal/htmltext"
)

// Glossary marks (docs/glossary.md, "Marks kept in an archive"): a Korean
// edition keeps the marks of all its pages in one entry,
// glossary.MarksPath. That entry is not compared like the others: a delta
// keeps a table of the marks of the pages it holds only (so a few changed
// pages cost a few records, not the whole table), and a compacted edition
// a table of all its pages, as a fresh pack would write it. Readers look a
// page's marks up in the archive its bytes come from (glossary.EditionMarks).

// marksCarrier builds the table of the pages an archive being written
// holds, from the records of the edition they come from, checked against
// each page, and finds the marks of pages that have none.
type marksCarrier struct {
	g        *glossary.Glossary
	src      *glossary.EditionMarks // nil: every record is found anew
	table    *glossary.MarksTable
	full     bool // stop adding: the table is at its largest size
	computed int  // pages whose marks were found here, not copied
}

// newMarksCarrier returns the carrier for entries of v, nil when v keeps
// no marks table (nothing is written then) or opts say to leave it out.
func newMarksCarrier(v *edition.View, opts Options) *marksCarrier {
	if opts.NoGlossaryMarks {
		return nil
	}
	if _, err := v.Lookup(glossary.MarksPath); err != nil {
		return nil
	}
	g := glossary.Default()
	// A table of another glossary, or a damaged one, gives no records:
	// they are found again with this glossary.
	src, _ := g.EditionMarks(v)
	return &marksCarrier{g: g, src: src, table: g.NewMarksTable()}
}

// add keeps the record of page, entry e of the edition.
func (c *marksCarrier) add(e archive.Entry, page []byte) {
	if c == nil || c.full || !htmltext.IsHTML(e.MIME) {
		return
	}
	rec, ok := []byte(nil), false
	if c.src != nil {
		rec, ok = c.src.Record(e, page)
	}
	if !ok {
		// Found as `ferry pack` finds them (pages without Hangul have
		// no record).
		if rec, ok = c.g.PageRecord(page); !ok {
			return
		}
		c.computed++
	}
	if !c.table.Add(e.Path, rec) {
		c.full = true
	}
}

// entry is the archive entry of the table, nil when it has no page.
func (c *marksCarrier) entry() *archive.Input {
	if c == nil || c.table.Len() == 0 {
		return nil
	}
	b := c.table.Bytes()
	return &archive.Input{Path: glossary.MarksPath, MIME: glossary.MarksMIME, Data: b, Size: int64(len(b))}
}
