package edition

import (
	"context"
	"errors"
	"fmt"
	"io"

	"ferry/internal/archive"
	"ferry/internal/search"
)

// BuildIndex writes a full-text index for an archive packed without one
// (a radio edition, where every byte costs airtime): the same index the
// packer would have built, from the archive's verified pages, by its
// document ids. The library builds it when such an archive arrives and
// keeps it beside the archive (docs/library.md); it is derived from signed
// content, so it needs no signature of its own.
func BuildIndex(ctx context.Context, r *archive.Reader, w io.Writer) error {
	b := search.NewBuilder()
	defer b.Close()
	for doc := 0; doc < r.NumDocs(); doc++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		i, err := r.DocEntry(uint32(doc))
		if errors.Is(err, archive.ErrNotFound) {
			continue // an id the packer dropped
		}
		if err != nil {
			return err
		}
		e, err := r.EntryAt(i)
		if err != nil {
			return err
		}
		if !e.Article || e.Redirect {
			continue
		}
		data, err := r.ReadAll(e)
		if err != nil {
			return fmt.Errorf("indexing %q: %w", e.Path, err)
		}
		title, text := Text(e.MIME, data)
		if e.Title != "" {
			title = e.Title
		}
		b.AddAnalyzed(search.Analyze(uint32(doc), title, text))
	}
	_, err := b.WriteTo(w)
	return err
}

// UseIndex gives layer i (an archive packed without an index) the index
// BuildIndex made for it, read in place from ra. Call it before the first
// search; a layer with an index of its own keeps that one.
func (v *View) UseIndex(i int, ra io.ReaderAt, size int64) error {
	if _, _, err := v.layers[i].SearchIndex(); !errors.Is(err, archive.ErrNoIndex) {
		return fmt.Errorf("edition: layer %d has an index of its own", i)
	}
	ix, err := search.Open(ra, size)
	if err != nil {
		return fmt.Errorf("%w: the library's index of %s: %w", archive.ErrCorrupt, short(v.layers[i].ID()), err)
	}
	li := &v.idx[i]
	li.once.Do(func() { li.ix = ix })
	if li.ix != ix {
		return fmt.Errorf("edition: layer %d was searched before its index was given", i)
	}
	return nil
}
