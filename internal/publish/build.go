package publish

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"ferry/internal/archive"
	"ferry/internal/atomicfile"
	"ferry/internal/delta"
	"ferry/internal/edition"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/progress"
	"ferry/internal/publish/index"
	"ferry/internal/store"
)

// built is what a run made, in the channel's work folder.
type built struct {
	edition    uint64
	full       string // local files
	delta      string // "" for a first edition
	fullRef    index.Archive
	deltaRef   *index.Archive
	warcs      []warcFile
	newChain   bool
	tip        string // id of the archive the next delta builds on
	entries    int
	articles   int
	created    time.Time
	baseLatest uint64 // the index's latest edition this was built on (0: none)
	baseTip    string
}

type warcFile struct {
	path string
	ref  index.Object
}

func (b *built) remove() {
	os.Remove(b.full)
	if b.delta != "" {
		os.Remove(b.delta)
	}
}

// nextNumber is one more than the highest edition the store has, in the
// index or not: a number left by a worker that failed before its index
// update is never reused, because it may still be on someone's disk.
func (p *run) nextNumber(cur *index.Signed) (uint64, error) {
	var n uint64
	if cur != nil {
		n = cur.Latest
	}
	err := p.st.List(p.ctx, index.EditionsPrefix(p.ch.Name), func(i store.Info) error {
		if e, ok := index.ParseEditionKey(p.ch.Name, i.Key); ok && e > n {
			n = e
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("listing the store's editions: %w", err)
	}
	return n + 1, nil
}

// build packs the full edition, checks the budget, and makes the delta from
// the archive the index's tip names (with its chain).
func (p *run) build(cur *index.Signed, next uint64, srcs []pack.Source, info archive.Info) (*built, error) {
	ch := p.ch
	work := filepath.Join(p.dir, "work")
	if err := os.RemoveAll(work); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, err
	}
	b := &built{edition: next, full: filepath.Join(work, "full.ferry")}
	if cur != nil {
		b.baseLatest, b.baseTip = cur.Latest, cur.Tip
	}
	mode, err := pack.ParseImageMode(ch.Images)
	if err != nil {
		return nil, err
	}
	info.Edition = next
	psum, err := pack.PackFile(p.ctx, b.full, pack.Options{
		Info: info, Signers: []*key.Secret{p.secret}, Sources: srcs,
		Images: pack.Images{Mode: mode, MaxDim: ch.ImageMax, Quality: ch.ImageQuality},
		Progress: func(pr pack.Progress) {
			p.progress(Progress{Phase: "pack", Label: pr.Phase, Done: int64(pr.Entries), Total: int64(pr.Total)})
		},
		Warn: func(s string) { p.warn("%s", s) },
	})
	if err != nil {
		return b, fmt.Errorf("packing edition %d: %w", next, err)
	}
	p.res.Pack = psum
	p.res.FullBytes = psum.ArchiveBytes
	if ch.Budget > 0 && psum.ArchiveBytes > ch.Budget {
		return b, fmt.Errorf("%w: edition %d would be %s, over the budget of %s: shrink or drop images (images = \"shrink\"), lower max_pages, or remove a source; nothing was published",
			ErrBudget, next, progress.Bytes(psum.ArchiveBytes), progress.Bytes(ch.Budget))
	}
	fr, err := archive.OpenFile(b.full)
	if err != nil {
		return b, err
	}
	defer fr.Close()
	m := fr.Manifest()
	b.entries, b.articles, b.created = m.Counts.Entries, m.Counts.Articles, m.Created
	if b.fullRef, err = ref(b.full, index.EditionKey(ch.Name, next)); err != nil {
		return b, err
	}
	if cur == nil {
		b.newChain, b.tip = true, b.fullRef.ID
	} else {
		chain := cur.Chain(cur.Tip)
		if chain == nil {
			return b, fmt.Errorf("the store's index of %s names a tip whose chain it does not list (damaged index?)", ch.Name)
		}
		var rs []*archive.Reader
		defer func() {
			for _, r := range rs {
				r.Close()
			}
		}()
		var chainDeltas int64
		for i, a := range chain {
			path, err := p.local(a)
			if err != nil {
				return b, err
			}
			r, err := archive.OpenFile(path)
			if err != nil {
				return b, err
			}
			rs = append(rs, r)
			if i > 0 {
				chainDeltas += a.Size
			}
		}
		base, err := edition.Open(rs...)
		if err != nil {
			return b, fmt.Errorf("opening edition %d from the local copies: %w", cur.Latest, err)
		}
		nextView, err := edition.Of(fr)
		if err != nil {
			return b, err
		}
		p.progress(Progress{Phase: "delta", Label: fmt.Sprintf("edition %d to %d", cur.Latest, next)})
		b.delta = filepath.Join(work, "delta.ferry")
		dsum, err := delta.MakeFile(p.ctx, base, nextView, b.delta, delta.Options{Signers: []*key.Secret{p.secret}})
		if err != nil {
			return b, fmt.Errorf("making the delta from edition %d: %w", cur.Latest, err)
		}
		p.res.Delta = dsum
		p.res.DeltaBytes = dsum.ArchiveBytes
		if dsum.Added+dsum.Changed+dsum.Removed == 0 && sameInfo(base.Manifest(), m) {
			p.res.Unchanged = true
			return b, nil
		}
		dr, err := ref(b.delta, index.DeltaKey(ch.Name, next, cur.Latest))
		if err != nil {
			return b, err
		}
		dr.Base, dr.BaseEdition = base.Top().ID(), cur.Latest
		b.deltaRef = &dr
		// A new chain starts when following this one would cost readers
		// more than a fresh full edition is worth (docs/publish.md).
		b.newChain = len(chain) > ch.MaxChain ||
			float64(chainDeltas+dr.Size) > ch.ChainLimit*float64(b.fullRef.Size)
		b.tip = dr.ID
		if b.newChain {
			b.tip = b.fullRef.ID
		}
	}
	p.res.NewChain = b.newChain
	if b.warcs, err = p.warcFiles(next); err != nil {
		return b, err
	}
	for _, w := range b.warcs {
		p.res.WARCBytes += w.ref.Size
	}
	return b, nil
}

// sameInfo reports whether two manifests say the same to readers.
func sameInfo(a, b *archive.Manifest) bool {
	return a.Title == b.Title && a.Description == b.Description && a.Publisher == b.Publisher &&
		a.MainPage == b.MainPage && slices.Equal(a.Languages, b.Languages)
}

// ref describes an archive file for the index.
func ref(path, k string) (index.Archive, error) {
	f, err := os.Open(path)
	if err != nil {
		return index.Archive{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return index.Archive{}, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return index.Archive{}, err
	}
	m, s, err := index.Head(f, st.Size())
	if err != nil {
		return index.Archive{}, err
	}
	id := sha256.Sum256(m)
	return index.Archive{
		Object: index.Object{Key: k, Size: st.Size(), SHA256: hex.EncodeToString(h.Sum(nil))},
		ID:     hex.EncodeToString(id[:]), Manifest: m, Signatures: s,
	}, nil
}

// warcFiles lists the finished WARCs of the channel's harvests that are not
// yet in the store (this run's and those of runs that published nothing).
func (p *run) warcFiles(next uint64) ([]warcFile, error) {
	dir := filepath.Join(p.dir, "harvest", "warc")
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []warcFile
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, ".warc.gz") {
			continue // .open: a run that crashed or is running
		}
		if !index.ValidWARCName(name) {
			p.warn("WARC file %s has a name the store cannot keep; it stays in %s", name, dir)
			continue
		}
		path := filepath.Join(dir, name)
		sum, size, err := store.HashFile(path)
		if err != nil {
			return nil, err
		}
		out = append(out, warcFile{path: path, ref: index.Object{Key: index.WARCKey(p.ch.Name, next, name), Size: size, SHA256: sum}})
	}
	return out, nil
}

// local returns the path of a local copy of a stored archive, fetching it
// from the store (checked against the index's SHA-256) when missing.
func (p *run) local(a *index.Archive) (string, error) {
	dir := filepath.Join(p.dir, "archives")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, a.ID+".ferry")
	if r, err := archive.OpenFile(path); err == nil {
		ok := r.ID() == a.ID && r.Size() == a.Size
		r.Close()
		if ok {
			return path, nil
		}
	}
	rc, info, err := p.st.Get(p.ctx, a.Key)
	if err != nil {
		return "", fmt.Errorf("fetching %s from the store to build the delta: %w", a.Key, err)
	}
	defer rc.Close()
	if info.Size != a.Size {
		return "", fmt.Errorf("%s in the store is %d bytes, the index says %d", a.Key, info.Size, a.Size)
	}
	err = atomicfile.Write(path, 0o644, func(w io.Writer) error {
		h := sha256.New()
		cr := &progress.Reader{R: io.LimitReader(rc, a.Size), Report: func(n int64) {
			p.progress(Progress{Phase: "download", Label: a.Key, Done: n, Total: a.Size})
		}}
		n, err := io.Copy(io.MultiWriter(w, h), cr)
		if err != nil {
			return err
		}
		if n != a.Size || hex.EncodeToString(h.Sum(nil)) != a.SHA256 {
			return fmt.Errorf("%s from the store does not match the index's SHA-256 (damaged in the store?)", a.Key)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return path, nil
}
