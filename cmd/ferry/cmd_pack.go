package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"ferry/internal/archive"
	"ferry/internal/delta"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/pack/images"
	"ferry/internal/progress"
	"ferry/internal/scrub"
	"ferry/internal/source"
	"ferry/internal/trust"
)

func init() {
	register(&command{name: "pack", summary: "pack folders, ZIM, WARC, feeds and EPUB books into a signed archive", run: runPack})
}

func runPack(ctx context.Context, args []string) error {
	fs := newFlags("pack", "-k NAME.key -o OUT [options] SOURCE...", `
Packs each SOURCE into one signed, compressed, searchable archive OUT.
A SOURCE is a folder of HTML/Markdown pages with their images, styles and
media. With several sources, each goes under a prefix named after it;
write PREFIX=SOURCE to choose the prefix ("=SOURCE" for none).`)
	var keys, include, exclude stringList
	fs.Var(&keys, "k", "secret key file made by 'ferry keygen' (repeat to add signatures)")
	out := fs.String("o", "", "archive file to write (required)")
	channel := fs.String("channel", "", "channel name, e.g. news-ko (default: OUT's base name)")
	edition := fs.Uint64("edition", 1, "edition number; readers refuse editions older than one they have")
	title := fs.String("title", "", "archive title shown to readers")
	desc := fs.String("description", "", "one-paragraph description")
	lang := fs.String("lang", "", "content language(s), comma-separated, e.g. ko or ko,en")
	mainPage := fs.String("main", "", "path of the main page inside the archive")
	publisher := fs.String("publisher", "", "publisher name shown to readers")
	fs.Var(&include, "include", "pack only paths matching this glob (repeatable; DIR/** for a folder)")
	fs.Var(&exclude, "exclude", "skip paths matching this glob (repeatable)")
	noIndex := fs.Bool("no-index", false, "do not build the full-text search index")
	imgMode := fs.String("images", "keep", "keep, shrink (scale down and re-encode large JPEG/PNG) or drop images")
	imgMax := fs.Int("image-max", 800, "with --images shrink: largest width or height in pixels")
	imgQuality := fs.Int("image-quality", 75, "with --images shrink: JPEG quality (1-100)")
	noScrub := fs.Bool("no-scrub", false, "keep Red Star OS watermarks and identifying metadata (EXIF, authors) in source files")
	base := fs.String("base", "", "write a delta against this edition: OLD.ferry, or OLD.ferry,DELTA.ferry,... for a chain")
	var certs stringList
	fs.Var(&certs, "cert", "key certificate or revocation file ('ferry trust certify/revoke') to carry (repeatable)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *out == "" {
		return usagef("give the archive to write with -o OUT")
	}
	if len(keys) == 0 {
		return usagef("give the publisher's secret key with -k NAME.key (make one with 'ferry keygen -o NAME')")
	}
	if len(pos) == 0 {
		return usagef("give at least one SOURCE to pack")
	}
	if *imgMode != "keep" && *imgMode != "shrink" && *imgMode != "drop" {
		return usagef("--images must be keep, shrink or drop")
	}
	var signers []*key.Secret
	for _, k := range keys {
		s, err := key.LoadSecret(k)
		if err != nil {
			return err
		}
		signers = append(signers, s)
	}
	sources, err := openSources(pos)
	if err != nil {
		return err
	}
	if *channel == "" {
		*channel = strings.TrimSuffix(filepath.Base(*out), filepath.Ext(*out))
	}
	info := archive.Info{Channel: *channel, Edition: *edition, Title: *title, Description: *desc,
		MainPage: *mainPage, Publisher: *publisher, Created: time.Now()}
	if *lang != "" {
		info.Languages = strings.Split(*lang, ",")
	}
	if len(certs) > 0 {
		if info.Extra, err = trust.ExtraFromFiles(certs...); err != nil {
			return err
		}
	}
	bar := progress.New("packing", false)
	opts := pack.Options{
		Info: info, Signers: signers, Sources: sources, Include: include, Exclude: exclude, NoIndex: *noIndex,
		Progress: func(n int, in int64) { bar.Update(int64(n), 0) },
		Warn:     func(s string) { fmt.Fprintln(os.Stderr, "warning:", s) },
	}
	if info.Title == "" && !describes(sources) {
		info.Title = *channel
	}
	var saved, shrunk int64
	switch *imgMode {
	case "shrink":
		opts.Transform = func(e *source.Entry, data []byte) ([]byte, error) {
			out, err := images.Shrink(data, e.MIME, images.Options{MaxDim: *imgMax, Quality: *imgQuality})
			if err != nil {
				return nil, err
			}
			if len(out) < len(data) {
				atomic.AddInt64(&saved, int64(len(data)-len(out)))
				atomic.AddInt64(&shrunk, 1)
			}
			return out, nil
		}
	case "drop":
		opts.Transform = func(e *source.Entry, data []byte) ([]byte, error) {
			if strings.HasPrefix(strings.ToLower(e.MIME), "image/") {
				return nil, nil
			}
			return data, nil
		}
	}
	if !*noScrub {
		opts.Transform = withScrub(opts.Transform, opts.Warn)
	}
	if *base != "" {
		bv, closeBase, err := openChain(strings.Split(*base, ","))
		if err != nil {
			return err
		}
		defer closeBase()
		ds, err := delta.PackAgainst(ctx, bv, *out, opts)
		bar.Done()
		if err != nil {
			return err
		}
		fmt.Printf("packed delta %s: edition %d on edition %d: %d added, %d changed, %d removed; %s\n", *out,
			ds.Manifest.Edition, ds.Manifest.Base.Edition, ds.Added, ds.Changed, ds.Removed, progress.Bytes(ds.ArchiveBytes))
		return nil
	}
	sum, err := pack.PackFile(ctx, *out, opts)
	bar.Done()
	if err != nil {
		return err
	}
	if *imgMode == "shrink" {
		fmt.Printf("shrank %d images, saving %s\n", shrunk, progress.Bytes(saved))
	}
	ratio := 0.0
	if sum.InputBytes > 0 {
		ratio = float64(sum.ArchiveBytes) / float64(sum.InputBytes)
	}
	fmt.Printf("packed %s: %d entries (%d articles, %d redirects), input %s, archive %s (%.3f× input, index %s), %s\n",
		*out, sum.Entries, sum.Articles, sum.Redirects, progress.Bytes(sum.InputBytes), progress.Bytes(sum.ArchiveBytes),
		ratio, progress.Bytes(sum.IndexBytes), sum.Duration.Round(time.Millisecond))
	return nil
}

// withScrub removes Red Star OS watermarks and identifying metadata from
// each entry before next sees it, warning about every watermark found:
// a watermark in a source file means it passed through a marked machine.
func withScrub(next func(*source.Entry, []byte) ([]byte, error), warn func(string)) func(*source.Entry, []byte) ([]byte, error) {
	return func(e *source.Entry, data []byte) ([]byte, error) {
		clean, findings, err := scrub.Scrub(e.Path, data)
		if err == nil {
			if scrub.HasWatermark(findings) {
				warn(fmt.Sprintf("%s carries a Red Star OS watermark: %v", e.Path, findings))
			}
			data = clean
		} else {
			warn(fmt.Sprintf("%s: not scrubbed (%v); packed as it is", e.Path, err))
		}
		if next == nil {
			return data, nil
		}
		return next(e, data)
	}
}
