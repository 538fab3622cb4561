// Package delta makes delta archives — only what changed since a base
// edition, plus the paths removed — and folds a chain back into one full
// edition (Compact). A delta is an ordinary archive with a manifest "base"
// and a "removed" section (docs/format.md); edition.View reads a base with
// its deltas as one edition, and docs/library.md gives the semantics.
package delta

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"ferry/internal/archive"
	"ferry/internal/atomicfile"
	"ferry/internal/edition"
	"ferry/internal/glossary"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/search"
)

// Options say how to sign and write a delta or compacted edition.
type Options struct {
	Signers []*key.Secret
	// Extra replaces the manifest's extra members (key certificates); nil
	// copies those of the newest edition.
	Extra map[string]json.RawMessage
	// NoIndex skips the full-text index of the written entries.
	NoIndex bool
	// NoGlossaryMarks writes no table of glossary marks (marks.go): a
	// delta then leaves its base's table in place, whose records are
	// checked against each page, and pages they do not fit are glossed
	// by finding their words when served.
	NoGlossaryMarks bool
	Writer          archive.WriterOptions
}

// Summary reports what Make or Compact wrote.
type Summary struct {
	Manifest          *archive.Manifest
	Added, Changed    int // entries new in, and changed since, the base
	Removed           int
	Unchanged         int
	Entries           int // entries written
	ArchiveBytes      int64
	ChangedInputBytes int64
	// MarksPages is the number of pages in the written table of glossary
	// marks, MarksBytes its size (0 when none was written), and
	// MarksFound how many of those pages had no stored record to copy,
	// so their marks were found again.
	MarksPages, MarksBytes, MarksFound int
}

// Make writes to out a delta archive that turns base (the newest edition of
// a chain) into next: it holds the entries of next that are new or differ
// from base in content, kind, MIME type, title, article flag or redirect
// target, the targets of any such redirects, and the list of paths of base
// that next lacks. The delta's manifest is next's, with base set to
// {channel, edition, id} of base's newest archive.
func Make(ctx context.Context, base, next *edition.View, out io.Writer, opts Options) (*Summary, error) {
	bm, nm := base.Manifest(), next.Manifest()
	if bm.Channel != nm.Channel {
		return nil, fmt.Errorf("delta: base is channel %q, new edition is channel %q", bm.Channel, nm.Channel)
	}
	if nm.Edition <= bm.Edition {
		return nil, fmt.Errorf("delta: new edition %d is not newer than base edition %d", nm.Edition, bm.Edition)
	}
	// The glossary marks table is not compared: the delta gets one of its
	// own pages' marks (marks.go).
	marks := newMarksCarrier(next, opts)
	nextMarks := false
	var nextEntries []archive.Entry
	if err := next.Each(func(e archive.Entry) error {
		if e.Path == glossary.MarksPath {
			nextMarks = true
			return nil
		}
		nextEntries = append(nextEntries, e)
		return ctx.Err()
	}); err != nil {
		return nil, err
	}
	sum := &Summary{}
	// Removed: base paths next lacks (both lists are in path order).
	var removed []string
	k := 0
	err := base.Each(func(e archive.Entry) error {
		if e.Path == glossary.MarksPath && (nextMarks || opts.NoGlossaryMarks) {
			return nil // replaced by the delta's own table, or kept
		}
		for k < len(nextEntries) && nextEntries[k].Path < e.Path {
			k++
		}
		if k >= len(nextEntries) || nextEntries[k].Path != e.Path {
			removed = append(removed, e.Path)
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, err
	}
	// Which entries of next go into the delta.
	include := make([]bool, len(nextEntries))
	index := make(map[string]int, len(nextEntries))
	for i, e := range nextEntries {
		index[e.Path] = i
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		be, err := base.Lookup(e.Path)
		if errors.Is(err, archive.ErrNotFound) {
			include[i] = true
			sum.Added++
			continue
		}
		if err != nil {
			return nil, err
		}
		same, err := sameEntry(base, be, next, e)
		if err != nil {
			return nil, err
		}
		if !same {
			include[i] = true
			sum.Changed++
		} else {
			sum.Unchanged++
		}
	}
	// A redirect in the delta needs its target in the same archive.
	for changed := true; changed; {
		changed = false
		for i, e := range nextEntries {
			if !include[i] || !e.Redirect {
				continue
			}
			t, err := layerTarget(next, e)
			if err != nil {
				return nil, err
			}
			if j, ok := index[t]; ok && !include[j] {
				include[j] = true
				changed = true
			}
		}
	}
	info := infoOf(nm, opts)
	top := base.Top()
	info.Base = &archive.BaseRef{Channel: bm.Channel, Edition: bm.Edition, ID: top.ID()}
	var sel []archive.Entry
	for i, e := range nextEntries {
		if include[i] {
			sel = append(sel, e)
		}
	}
	sum.Removed = len(removed)
	return write(ctx, next, sel, removed, marks, info, out, opts, sum)
}

// Compact writes the newest edition of v as one full archive. When v
// keeps glossary marks, the archive gets a table of all its pages, the
// one `ferry pack` would write for them (records copied from the layer
// each page comes from, checked, or found again where none fits).
func Compact(ctx context.Context, v *edition.View, out io.Writer, opts Options) (*Summary, error) {
	var all []archive.Entry
	if err := v.Each(func(e archive.Entry) error {
		if e.Path != glossary.MarksPath {
			all = append(all, e)
		}
		return ctx.Err()
	}); err != nil {
		return nil, err
	}
	info := infoOf(v.Manifest(), opts)
	return write(ctx, v, all, nil, newMarksCarrier(v, opts), info, out, opts, &Summary{})
}

func infoOf(m *archive.Manifest, opts Options) archive.Info {
	info := archive.Info{Channel: m.Channel, Edition: m.Edition, Title: m.Title, Description: m.Description,
		Languages: m.Languages, Created: m.Created, Publisher: m.Publisher, MainPage: m.MainPage, Extra: m.Extra}
	if opts.Extra != nil {
		info.Extra = opts.Extra
	}
	return info
}

// write stores entries of v (in path order), the table of their glossary
// marks when marks is not nil, and removed paths in a new archive.
func write(ctx context.Context, v *edition.View, entries []archive.Entry, removed []string, marks *marksCarrier, info archive.Info, out io.Writer, opts Options, sum *Summary) (*Summary, error) {
	w, err := archive.NewWriter(out, opts.Writer)
	if err != nil {
		return nil, err
	}
	var idx *search.Builder
	if !opts.NoIndex {
		idx = search.NewBuilder()
		defer idx.Close()
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		in := archive.Input{Path: e.Path, MIME: e.MIME, Title: e.Title, Article: e.Article}
		if e.Redirect {
			t, err := layerTarget(v, e)
			if err != nil {
				return nil, err
			}
			in.Redirect = t
			if err := w.Add(in); err != nil {
				return nil, err
			}
			continue
		}
		doc := uint32(w.Docs())
		if e.Size > 8<<20 {
			ent := e
			in.Size = e.Size
			in.Open = func() (io.ReadCloser, error) {
				sr, err := v.Open(ent)
				if err != nil {
					return nil, err
				}
				return io.NopCloser(sr), nil
			}
		} else {
			data, err := v.ReadAll(e)
			if err != nil {
				return nil, err
			}
			in.Data = data
			marks.add(e, data)
			if idx != nil && e.Article {
				title, text := edition.Text(e.MIME, data)
				if e.Title != "" {
					title = e.Title
				}
				idx.AddAnalyzed(search.Analyze(doc, title, text))
			}
		}
		sum.ChangedInputBytes += e.Size
		if err := w.Add(in); err != nil {
			return nil, err
		}
	}
	if in := marks.entry(); in != nil {
		if err := w.Add(*in); err != nil {
			return nil, err
		}
		sum.MarksPages, sum.MarksBytes, sum.MarksFound = marks.table.Len(), len(in.Data), marks.computed
	}
	for _, p := range removed {
		if err := w.Remove(p); err != nil {
			return nil, err
		}
	}
	var iw io.WriterTo
	if idx != nil {
		iw = idx
	}
	m, err := w.Finish(info, iw, opts.Signers...)
	if err != nil {
		return nil, err
	}
	sum.Manifest = m
	sum.Entries = m.Counts.Entries
	sum.ArchiveBytes = w.Size()
	return sum, nil
}

// sameEntry reports whether two entries are the same to a reader.
func sameEntry(av *edition.View, a archive.Entry, bv *edition.View, b archive.Entry) (bool, error) {
	if a.Redirect != b.Redirect || a.Article != b.Article || a.Title != b.Title || a.MIME != b.MIME {
		return false, nil
	}
	if a.Redirect {
		ta, err := layerTarget(av, a)
		if err != nil {
			return false, err
		}
		tb, err := layerTarget(bv, b)
		if err != nil {
			return false, err
		}
		return ta == tb, nil
	}
	if a.Size != b.Size {
		return false, nil
	}
	ha, err := contentHash(av, a)
	if err != nil {
		return false, err
	}
	hb, err := contentHash(bv, b)
	if err != nil {
		return false, err
	}
	return ha == hb, nil
}

// layerTarget is the path a redirect names in its own archive: what a
// delta stores (the view resolves it across layers when read).
func layerTarget(v *edition.View, e archive.Entry) (string, error) {
	l, le, err := v.Layer(e)
	if err != nil {
		return "", err
	}
	t, err := v.Layers()[l].Target(le)
	if err != nil {
		return "", err
	}
	return t.Path, nil
}

func contentHash(v *edition.View, e archive.Entry) ([32]byte, error) {
	sr, err := v.Open(e)
	if err != nil {
		return [32]byte{}, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, sr); err != nil {
		return [32]byte{}, err
	}
	var out [32]byte
	h.Sum(out[:0])
	return out, nil
}

// PackAgainst packs opts.Sources as the next edition and writes, to the file
// name (atomically), the delta from base to it instead of the full edition:
// what `ferry pack --base OLD` does. The full edition is packed to a
// temporary file beside name and removed afterwards.
func PackAgainst(ctx context.Context, base *edition.View, name string, opts pack.Options) (*Summary, error) {
	if opts.Info.Channel == "" {
		opts.Info.Channel = base.Manifest().Channel
	}
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".full-*")
	if err != nil {
		return nil, err
	}
	full := f.Name()
	f.Close()
	defer os.Remove(full)
	if _, err := pack.PackFile(ctx, full, opts); err != nil {
		return nil, err
	}
	nr, err := archive.OpenFile(full)
	if err != nil {
		return nil, err
	}
	defer nr.Close()
	next, err := edition.Of(nr)
	if err != nil {
		return nil, err
	}
	return MakeFile(ctx, base, next, name, Options{Signers: opts.Signers, Extra: opts.Info.Extra, NoIndex: opts.NoIndex, Writer: opts.Writer})
}

// MakeFile is Make into the file at name, written atomically (temporary
// file, sync, rename): a failure never leaves a half file.
func MakeFile(ctx context.Context, base, next *edition.View, name string, opts Options) (*Summary, error) {
	return toFile(name, func(w io.Writer) (*Summary, error) { return Make(ctx, base, next, w, opts) })
}

// CompactFile is Compact into the file at name, written atomically.
func CompactFile(ctx context.Context, v *edition.View, name string, opts Options) (*Summary, error) {
	return toFile(name, func(w io.Writer) (*Summary, error) { return Compact(ctx, v, w, opts) })
}

func toFile(name string, fn func(io.Writer) (*Summary, error)) (*Summary, error) {
	var sum *Summary
	err := atomicfile.Write(name, 0o644, func(w io.Writer) error {
		var err error
		sum, err = fn(w)
		return err
	})
	return sum, err
}
