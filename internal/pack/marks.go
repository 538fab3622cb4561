package pack

import (
	"fmt"
	"strings"

	"ferry/internal/archive"
	"ferry/internal/glossary"
	"ferry/internal/htmltext"
)

// Glossary marks: each Korean page's glossed words are found once here,
// while the page is in memory for its search text, and kept in the
// archive at glossary.MarksPath (signed with everything else), so that
// `ferry serve` and `ferry static` mark pages without tokenizing them
// (docs/glossary.md, "Marks kept in an archive").

// pageMarks returns the stored form of the glossary marks of page, or nil
// when it is not an HTML page with Hangul or g is nil.
func pageMarks(g *glossary.Glossary, mime string, page []byte) []byte {
	if g == nil || !htmltext.IsHTML(mime) {
		return nil
	}
	rec, ok := g.PageRecord(page)
	if !ok {
		return nil // the page is marked when served, as without a table
	}
	return rec
}

// declaredKorean reports whether the archive is declared Korean: a
// language tag "ko…" in Info.Languages, or, when that is empty, in a lone
// source's metadata (a ZIM's "kor").
func declaredKorean(opts Options) bool {
	langs := opts.Info.Languages
	if len(langs) == 0 && len(opts.Sources) == 1 {
		langs = withMetadata(archive.Info{}, opts.Sources[0]).Languages
	}
	for _, l := range langs {
		if l == "ko" || strings.HasPrefix(l, "ko-") {
			return true
		}
	}
	return false
}

// marksEntry is the archive entry holding table, nil when it is empty.
func marksEntry(t *glossary.MarksTable) *archive.Input {
	if t == nil || t.Len() == 0 {
		return nil
	}
	b := t.Bytes()
	return &archive.Input{Path: glossary.MarksPath, MIME: glossary.MarksMIME, Data: b, Size: int64(len(b))}
}

// marksTaken is the warning when a source holds an entry at the table's
// path (only sources other than folders can: folders skip dot files).
func marksTaken() string {
	return fmt.Sprintf("%s is an entry of the sources: glossary marks not stored (pages are marked when served)", glossary.MarksPath)
}
