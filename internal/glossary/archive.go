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
