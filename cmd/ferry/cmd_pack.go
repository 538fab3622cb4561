package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"ferry/internal/archive"
	"ferry/internal/delta"
	"ferry/internal/pack"
	"ferry/internal/progress"
	"ferry/internal/trust"
)

func init() {
	register(&command{name: "pack", usage: "-k NAME.key -o OUT [options] SOURCE...",
		summary: "pack folders, ZIM, WARC, feeds and EPUB books into a signed archive",
		about: `
Packs each SOURCE into one signed, compressed, searchable archive OUT.
A SOURCE is a folder of HTML/Markdown pages with their images, styles and
media, a Kiwix ZIM file, a WARC web archive, an RSS/Atom/JSON feed or an
EPUB book, recognised by its content. With several sources, each goes under
a prefix named after it; write PREFIX=SOURCE to choose the prefix
("=SOURCE" for none). The archive's title, description and main page come
from the flags (and the first folder's index.html), a lone ZIM's or book's
own when it is the only source.
Red Star OS watermarks and identifying metadata (EXIF, authors) are removed
from the sources' files (--no-scrub keeps them). OUT is never replaced
unless --force is given.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o packOptions
			o.flags(fs)
			return func(ctx context.Context, t *terminal, args []string) error { return runPack(ctx, t, o, args) }
		}})
}

// packOptions are the flags of 'ferry pack'.
type packOptions struct {
	Keys, Include, Exclude, Certs          stringList
	Out, Channel, Title, Description, Lang string
	Main, Publisher, Base, Images, Profile string
	Memory                                 string
	Edition                                uint64
	ImageMax, ImageQuality                 int
	NoIndex, NoScrub, Force, NoMarks       bool
}

func (o *packOptions) flags(fs *flag.FlagSet) {
	keyFlag(fs, &o.Keys)
	fs.StringVar(&o.Out, "o", "", "archive file to write (required)")
	fs.BoolVar(&o.Force, "force", false, "replace OUT if it exists")
	fs.StringVar(&o.Channel, "channel", "", "channel name, e.g. news-ko (default: OUT's base name)")
	fs.Uint64Var(&o.Edition, "edition", 1, "edition number; readers refuse editions older than one they have")
	fs.StringVar(&o.Title, "title", "", "archive title shown to readers")
	fs.StringVar(&o.Description, "description", "", "one-paragraph description")
	fs.StringVar(&o.Lang, "lang", "", "content language(s), comma-separated, e.g. ko or ko,en")
	fs.StringVar(&o.Main, "main", "", "path of the main page inside the archive")
	fs.StringVar(&o.Publisher, "publisher", "", "publisher name shown to readers")
	fs.Var(&o.Include, "include", "pack only paths matching this glob (repeatable; DIR/** for a folder)")
	fs.Var(&o.Exclude, "exclude", "skip paths matching this glob (repeatable)")
	fs.BoolVar(&o.NoIndex, "no-index", false, "do not build the full-text search index")
	fs.BoolVar(&o.NoMarks, "no-glossary-marks", false, "do not store the glossary marks of Korean pages (readers then find the words themselves, at more cost per page)")
	fs.StringVar(&o.Profile, "profile", "", "radio: for an edition sent over the air (pages and text only, no index: the library builds it on arrival, Brotli compression)")
	fs.StringVar(&o.Images, "images", "keep", "keep, shrink (scale down and re-encode large JPEG/PNG) or drop images")
	fs.IntVar(&o.ImageMax, "image-max", 800, "with --images shrink: largest width or height in pixels")
	fs.IntVar(&o.ImageQuality, "image-quality", 75, "with --images shrink: JPEG quality (1-100)")
	fs.BoolVar(&o.NoScrub, "no-scrub", false, "keep Red Star OS watermarks and identifying metadata (EXIF, authors) in source files")
	fs.StringVar(&o.Base, "base", "", "write a delta against this edition: OLD.ferry, or OLD.ferry,DELTA.ferry,... for a chain")
	fs.StringVar(&o.Memory, "memory", "", "keep the packer's memory near SIZE, e.g. 512MiB (default 128MiB, or GOMEMLIMIT when set; off: no limit)")
	fs.Var(&o.Certs, "cert", "key certificate or revocation file ('ferry trust certify/revoke') to carry (repeatable)")
}

// checkOutput refuses to write where a file would be lost or where the
// write cannot succeed, before any work is done.
func checkOutput(out string, force bool) error {
	dir := filepath.Dir(out)
	if st, err := os.Stat(dir); err != nil {
		return fmt.Errorf("cannot write %s: the folder %s does not exist (create it first)", out, dir)
	} else if !st.IsDir() {
		return fmt.Errorf("cannot write %s: %s is not a folder", out, dir)
	}
	st, err := os.Stat(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case st.IsDir():
		return fmt.Errorf("%s is a folder; give the archive file to write", out)
	case !force:
		return fmt.Errorf("%s exists; a published edition is never replaced by accident: choose another name, or give --force to replace it", out)
	}
	return nil
}

func runPack(ctx context.Context, t *terminal, o packOptions, args []string) error {
	if o.Out == "" {
		return usagef("give the archive to write with -o OUT")
	}
	if len(o.Keys) == 0 {
		return usagef("give the publisher's secret key with -k NAME.key (make one with 'ferry keygen -o NAME')")
	}
	if len(args) == 0 {
		return usagef("give at least one SOURCE to pack")
	}
	mode, err := pack.ParseImageMode(o.Images)
	if err != nil {
		return usagef("--images must be keep, shrink or drop")
	}
	profile, err := pack.ParseProfile(o.Profile)
	if err != nil {
		return usagef("--profile must be radio (or left out)")
	}
	if err := checkOutput(o.Out, o.Force); err != nil {
		return err
	}
	limit, err := packMemoryLimit(o.Memory)
	if err != nil {
		return err
	}
	if limit > 0 {
		defer debug.SetMemoryLimit(debug.SetMemoryLimit(limit))
	}
	signers, err := loadSecrets(o.Keys)
	if err != nil {
		return err
	}
	sources, err := pack.OpenSources(ctx, args)
	if errors.Is(err, pack.ErrSources) {
		return usageError{err.Error()}
	}
	if err != nil {
		return err
	}
	if o.Channel == "" {
		o.Channel = strings.TrimSuffix(filepath.Base(o.Out), filepath.Ext(o.Out))
	}
	info := archive.Info{Channel: o.Channel, Edition: o.Edition, Title: o.Title, Description: o.Description,
		MainPage: o.Main, Publisher: o.Publisher, Created: time.Now()}
	if o.Lang != "" {
		info.Languages = strings.Split(o.Lang, ",")
	}
	if len(o.Certs) > 0 {
		if info.Extra, err = trust.ExtraFromFiles(o.Certs...); err != nil {
			return err
		}
	}
	if info.Title == "" && !(len(sources) == 1 && pack.Describes(sources)) {
		info.Title = o.Channel
	}
	bars := &packBars{t: t}
	opts := pack.Options{
		Info: info, Signers: signers, Sources: sources, Include: o.Include, Exclude: o.Exclude, NoIndex: o.NoIndex, NoGlossaryMarks: o.NoMarks,
		NoScrub: o.NoScrub, Images: pack.Images{Mode: mode, MaxDim: o.ImageMax, Quality: o.ImageQuality}, Profile: profile,
		Progress: bars.update,
		Warn:     func(s string) { t.warnf("%s", s) },
	}
	if o.Base != "" {
		bv, closeBase, err := openChain(strings.Split(o.Base, ","))
		if err != nil {
			return err
		}
		defer closeBase()
		ds, err := delta.PackAgainst(ctx, bv, o.Out, opts)
		bars.done()
		if err != nil {
			return err
		}
		t.printf("packed delta %s: edition %d on edition %d: %d added, %d changed, %d removed; %s\n", o.Out,
			ds.Manifest.Edition, ds.Manifest.Base.Edition, ds.Added, ds.Changed, ds.Removed, progress.Bytes(ds.ArchiveBytes))
		return nil
	}
	sum, err := pack.PackFile(ctx, o.Out, opts)
	bars.done()
	if err != nil {
		return err
	}
	if mode == pack.ImagesShrink {
		t.printf("shrank %s, saving %s\n", count(sum.Shrunk, "image"), progress.Bytes(sum.ShrinkSaved))
	}
	if sum.Watermarks > 0 {
		t.printf("removed Red Star OS watermarks from %s (named above)\n", count(sum.Watermarks, "file"))
	}
	ratio := 0.0
	if sum.SourceBytes > 0 {
		ratio = float64(sum.ArchiveBytes) / float64(sum.SourceBytes)
	}
	t.printf("packed %s: %s (%s, %s), sources %s, archive %s (%.3f× the sources, index %s), %s\n",
		o.Out, count(sum.Entries, "entry"), count(sum.Articles, "article"), count(sum.Redirects, "redirect"),
		progress.Bytes(sum.SourceBytes), progress.Bytes(sum.ArchiveBytes), ratio, progress.Bytes(sum.IndexBytes),
		sum.Duration.Round(time.Millisecond))
	return nil
}

// defaultPackMemory is the Go heap's soft limit while packing. What a
// pack holds at once is bounded (sort buffers, clusters being compressed,
// the index builder's postings, spilled before the clusters are
// compressed; about 24 bytes an entry otherwise), but the collector lets
// the heap grow to twice what is live, and what is live peaks for a
// moment (the glossary marks table, tens of MB at 300,000 pages, being
// built and compressed): the limit caps that headroom, so the peak stays
// near it however many entries, and a small pack's heap stays under it
// (docs/benchmarks.md, issue 15, has both). A pack whose live heap needs
// more still runs, collecting more often (the runtime caps that at about
// half the CPU).
const defaultPackMemory = 128 << 20

// packMemoryLimit reads --memory for pack: a size, "off" (0), or nothing
// (defaultPackMemory, unless GOMEMLIMIT is set: the runtime keeps that).
func packMemoryLimit(s string) (int64, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		if os.Getenv("GOMEMLIMIT") != "" {
			return 0, nil
		}
		return defaultPackMemory, nil
	case "off", "0":
		return 0, nil
	}
	n, err := parseSize(s)
	if err != nil {
		return 0, usagef("--memory: %v (give e.g. 512MiB, or off)", err)
	}
	if n < minPackMemory {
		return 0, usagef("--memory %s is too little to pack: give at least %s", s, progress.Bytes(minPackMemory))
	}
	return n, nil
}

// minPackMemory is the least pack --memory accepted: compressing clusters
// and sorting the directory need about this much.
const minPackMemory = 64 << 20

// packBars shows one bar per phase of a pack: entries (with the total and
// time left when the sources can tell), then the index.
type packBars struct {
	t     *terminal
	phase string
	bar   *progress.Bar
}

func (b *packBars) update(p pack.Progress) {
	if p.Phase != b.phase {
		b.done()
		b.phase = p.Phase
		label := "packing entries"
		if p.Phase == "index" {
			label = "writing the search index and signing"
		}
		b.bar = b.t.bar(label, false)
	}
	b.bar.Update(int64(p.Entries), int64(p.Total))
}

func (b *packBars) done() {
	if b.bar != nil {
		b.bar.Done()
		b.bar = nil
	}
}
