// Package pack turns content sources into a signed archive: it walks every
// source, extracts titles and search text from HTML in parallel, stores the
// entries through archive.Writer and builds the full-text index.
package pack

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"golang.org/x/text/language"

	"ferry/internal/archive"
	"ferry/internal/atomicfile"
	"ferry/internal/glossary"
	"ferry/internal/htmltext"
	"ferry/internal/key"
	"ferry/internal/progress"
	"ferry/internal/scratch"
	"ferry/internal/search"
	"ferry/internal/source"
	"ferry/internal/source/folder"
)

// Source is an ingest source placed under a path prefix in the archive.
type Source struct {
	Prefix string // "" or a clean relative path such as "wiki"
	source.Source
}

// Options say what to pack and how.
type Options struct {
	Info    archive.Info
	Signers []*key.Secret
	Sources []Source
	// Include and Exclude are glob patterns (path.Match syntax, plus a
	// trailing "/**" for a whole folder) matched against archive paths;
	// a pattern without "/" also matches the base name. An entry is packed
	// if it matches some Include (or there are none) and no Exclude.
	Include, Exclude []string
	Writer           archive.WriterOptions
	// Workers extract text in parallel (default GOMAXPROCS).
	Workers int
	// NoIndex skips the full-text index.
	NoIndex bool
	// NoScrub keeps Red Star OS watermarks and identifying metadata (EXIF,
	// authors, document ids) in the source files. By default they are
	// removed from every entry small enough to be read whole, and each
	// watermark found is reported to Warn: it means the file passed
	// through a marked machine.
	NoScrub bool
	// Images is what to do with pictures (default: keep them).
	Images Images
	// Profile sets choices for one carrier (ProfileRadio); it overrides
	// NoIndex, Writer.Brotli and drops what the profile leaves out.
	Profile Profile
	// Transform, if set, may rewrite or drop (return nil, nil) the content
	// of small entries before they are stored; it runs after scrubbing and
	// the image policy.
	Transform func(e *source.Entry, data []byte) ([]byte, error)
	// Progress is told how far the pack has come, now and then.
	Progress func(Progress)
	// Warn receives non-fatal problems (dropped redirects...).
	Warn func(string)
	// NoGlossaryMarks leaves out the table of glossary marks that an
	// archive declared Korean (Info.Languages, or a lone source's own
	// language) gets: about 1% of its size, it spares readers finding the
	// glossed words when a page is first shown. The radio profile leaves
	// it out.
	NoGlossaryMarks bool
}

// Profile is a set of packing choices for one way of carrying an edition.
type Profile string

// Profiles. ProfileRadio is for editions that travel over the air, where
// every byte costs airtime (docs/audio.md): pages and text only (pictures,
// media, styles, scripts and fonts left out), no search index (the
// library builds one when the edition arrives), Brotli clusters.
const (
	ProfileDefault Profile = ""
	ProfileRadio   Profile = "radio"
)

// ParseProfile reads a profile name: "" or "default", or "radio".
func ParseProfile(s string) (Profile, error) {
	switch s {
	case "", "default":
		return ProfileDefault, nil
	case "radio":
		return ProfileRadio, nil
	}
	return "", fmt.Errorf("pack: profile %q: use default or radio", s)
}

// apply sets what the profile decides; other options stay as given.
func (p Profile) apply(o *Options) {
	if p != ProfileRadio {
		return
	}
	o.NoIndex = true
	o.NoGlossaryMarks = true
	o.Writer.Brotli = true
	next := o.Transform
	o.Transform = func(e *source.Entry, data []byte) ([]byte, error) {
		if !textLike(e.MIME) {
			return nil, nil
		}
		if next != nil {
			return next(e, data)
		}
		return data, nil
	}
}

// textLike reports whether a MIME type is a page or plain text, what a
// radio edition keeps.
func textLike(mime string) bool {
	m := baseMIME(mime)
	return htmltext.IsHTML(m) || m == "text/plain" || m == "text/markdown"
}

// baseMIME is a MIME type without its parameters, in lower case.
func baseMIME(mime string) string {
	m, _, _ := strings.Cut(strings.ToLower(mime), ";")
	return strings.TrimSpace(m)
}

// plainText reports whether a MIME type is text/plain.
func plainText(mime string) bool { return baseMIME(mime) == "text/plain" }

// textTitle is the title of a plain-text document: its first line with
// letters, trimmed, at most 120 characters (a document's first line is its
// heading by long habit: a law's name, a book's title).
func textTitle(b []byte) string {
	const maxRunes = 120
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		s := strings.TrimSpace(strings.ToValidUTF8(string(line), ""))
		s = strings.TrimPrefix(s, "\ufeff")
		if strings.IndexFunc(s, unicode.IsLetter) < 0 {
			continue
		}
		if r := []rune(s); len(r) > maxRunes {
			s = strings.TrimSpace(string(r[:maxRunes])) + "…"
		}
		return strings.Join(strings.Fields(s), " ")
	}
	return ""
}

// Progress is how far a pack has come.
type Progress struct {
	// Phase is "packing" while entries are read, compressed and indexed,
	// then "index" while the search index is written and "signing".
	Phase string
	// Entries done of Total (0 when the sources cannot tell in advance);
	// SourceBytes read from the sources so far.
	Entries, Total int
	SourceBytes    int64
}

// Images is an image policy.
type Images struct {
	// Mode is ImagesKeep (the zero value), ImagesShrink or ImagesDrop.
	Mode ImageMode
	// MaxDim and Quality tune ImagesShrink (defaults 800 pixels, JPEG 75).
	MaxDim, Quality int
}

// ImageMode says what happens to pictures.
type ImageMode int

// Image modes.
const (
	ImagesKeep   ImageMode = iota // as they are
	ImagesShrink                  // scale large JPEG/PNG down and re-encode
	ImagesDrop                    // leave pictures out
)

// ParseImageMode reads "keep", "shrink" or "drop".
func ParseImageMode(s string) (ImageMode, error) {
	switch s {
	case "keep", "":
		return ImagesKeep, nil
	case "shrink":
		return ImagesShrink, nil
	case "drop":
		return ImagesDrop, nil
	}
	return 0, fmt.Errorf("pack: image mode %q: use keep, shrink or drop", s)
}

// Summary reports what Pack did.
type Summary struct {
	Manifest     *archive.Manifest
	Entries      int
	Articles     int
	Redirects    int
	Skipped      int
	InputBytes   int64
	ArchiveBytes int64
	IndexBytes   int64
	Duration     time.Duration
	// SourceBytes is what was read from the sources (InputBytes is what
	// was stored, after scrubbing, shrinking and dropping).
	SourceBytes int64
	// Shrunk pictures and the bytes that saved; Watermarks found (and
	// removed) in source files.
	Shrunk, Watermarks int
	ShrinkSaved        int64
}

// smallLimit is the size below which content is read into memory and
// handed to the writer directly; larger entries are streamed.
const smallLimit = 8 << 20

// ErrEmpty reports sources that hold nothing to pack: an empty archive is
// never what a publisher meant.
var ErrEmpty = errors.New("pack: nothing to pack")

type job struct {
	seq  uint32
	e    source.Entry
	data []byte
	drop bool   // left out by its MIME type, unread (see dropsType)
	warn string // said by the serial stage (Warn need not be safe for concurrent use)
	out  chan result
}

type result struct {
	in    archive.Input
	an    *search.Analyzed
	marks []byte // glossary marks (see marks.go)
	err   error
}

// Pack writes the archive to out.
func Pack(ctx context.Context, out io.Writer, opts Options) (*Summary, error) {
	start := time.Now()
	if len(opts.Signers) == 0 {
		return nil, errors.New("pack: a signing key is required")
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	if len(opts.Sources) == 0 {
		return nil, fmt.Errorf("%w: nothing to pack", ErrSources)
	}
	sum := &Summary{}
	opts.Profile.apply(&opts)
	opts.Warn = lockedWarn(opts.Warn)
	var pol policy
	opts.Transform = pol.chain(opts, sum)
	for _, p := range append(append([]string{}, opts.Include...), opts.Exclude...) {
		if _, err := path.Match(strings.TrimSuffix(p, "/**"), ""); err != nil {
			return nil, fmt.Errorf("pack: bad pattern %q: %w", p, err)
		}
	}
	w, err := archive.NewWriter(out, opts.Writer)
	if err != nil {
		return nil, err
	}
	var idx *search.Builder
	if !opts.NoIndex {
		idx = search.NewBuilder()
		idx.SpillDir = opts.Writer.TempDir
		defer idx.Close() // spilled runs, if the pack fails before the index is written
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	queue := make(chan *job, 4*opts.Workers)
	work := make(chan *job, 4*opts.Workers)
	walkErr := make(chan error, 1)
	var excluded atomic.Int64 // entries the walker left out by Include/Exclude
	mainPage := opts.Info.MainPage
	if d, ok := opts.Sources[0].Source.(source.Describer); ok && mainPage == "" && len(opts.Sources) == 1 {
		// A lone ZIM (or book) is the archive: its main page is the
		// archive's. With several sources, a ZIM's metadata stays with it.
		mainPage = join(opts.Sources[0].Prefix, d.Metadata().MainPage)
	}
	total := 0
	for _, src := range opts.Sources {
		c, ok := src.Source.(source.Counter)
		if !ok {
			total = 0
			break
		}
		n, err := c.Count(ctx)
		if err != nil {
			total = 0
			break
		}
		total += n
	}
	var read atomic.Int64 // source bytes read
	report := func(phase string, entries int) {
		if opts.Progress != nil {
			opts.Progress(Progress{Phase: phase, Entries: entries, Total: max(total, entries), SourceBytes: read.Load()})
		}
	}
	// Walk sources in order; hand each entry to the workers and, in the
	// same order, to the serial stage below.
	go func() {
		defer close(queue)
		defer close(work)
		var seq uint32
		for _, src := range opts.Sources {
			err := src.Walk(ctx, func(e source.Entry) error {
				e.Path = join(src.Prefix, e.Path)
				if e.Redirect != "" {
					e.Redirect = join(src.Prefix, e.Redirect)
				}
				var warn string
				if fixed, ok := fixPath(e.Path); ok && fixed != e.Path {
					// A backslash or control byte (a MediaWiki title may hold
					// one) is not allowed in archive paths: escape it rather
					// than fail the whole pack.
					warn = fmt.Sprintf("%q is stored as %q (characters not allowed in archive paths escaped)", e.Path, fixed)
					e.Path = fixed
				}
				if e.Redirect != "" {
					if fixed, ok := fixPath(e.Redirect); ok {
						e.Redirect = fixed
					}
				}
				if !selected(e.Path, opts.Include, opts.Exclude) {
					excluded.Add(1) // this goroutine walks; the main one counts the rest
					return nil
				}
				j := &job{seq: seq, e: e, warn: warn, out: make(chan result, 1)}
				// Decided from the type before reading: an entry too large
				// for Transform (streamed) is dropped all the same.
				j.drop = e.Redirect == "" && dropsType(opts, e.MIME)
				if !j.drop && e.Redirect == "" && e.Open != nil && (e.Size < 0 || e.Size < smallLimit) {
					rc, err := e.Open()
					if err != nil {
						return fmt.Errorf("reading %s: %w", e.Path, err)
					}
					j.data, err = io.ReadAll(io.LimitReader(rc, smallLimit+1))
					rc.Close()
					if err != nil {
						return fmt.Errorf("reading %s: %w", e.Path, err)
					}
					if len(j.data) > smallLimit {
						j.data = nil // unknown size turned out large: stream it
					} else {
						read.Add(int64(len(j.data)))
					}
				}
				seq++
				select {
				case queue <- j:
				case <-ctx.Done():
					return ctx.Err()
				}
				select {
				case work <- j:
				case <-ctx.Done():
					return ctx.Err()
				}
				return nil
			})
			if err != nil {
				walkErr <- err
				return
			}
		}
		walkErr <- nil
	}()
	var gl *glossary.Glossary
	var marks *marksSpool
	if !opts.NoGlossaryMarks && declaredKorean(opts) {
		gl = glossary.Default()
		marks = &marksSpool{dir: opts.Writer.TempDir}
		defer marks.close()
	}
	for i := 0; i < opts.Workers; i++ {
		go func() {
			for j := range work {
				j.out <- prepare(j, idx != nil, opts.Transform, gl)
			}
		}()
	}
	var firstArticle string
	// Only the paths that may become the main page are remembered (not
	// every path: a pack of millions of entries would hold them all).
	hasPath := map[string]bool{}
	candidate := map[string]bool{"index.html": true, firstFolderIndex(opts.Sources): true, glossary.MarksPath: true}
	if mainPage != "" {
		candidate[mainPage] = true
	}
	for j := range queue {
		if j.warn != "" && opts.Warn != nil {
			opts.Warn(j.warn)
		}
		var res result
		select {
		case res = <-j.out:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if res.err != nil {
			cancel()
			return nil, res.err
		}
		if res.in.Path == "" { // dropped by Transform
			sum.Skipped++
			w.Skip() // keep document ids in step with the walk order
			continue
		}
		if opts.Transform != nil && res.in.Open != nil && opts.Warn != nil {
			// Streamed, so neither scrubbed nor shrunk (see Transform).
			opts.Warn(fmt.Sprintf("%s: %s is too large to scrub or shrink; packed as it is (check it with 'ferry scrub --check')",
				res.in.Path, progress.Bytes(max(res.in.Size, smallLimit))))
		}
		if err := w.Add(res.in); err != nil {
			cancel()
			return nil, err
		}
		if candidate[res.in.Path] {
			hasPath[res.in.Path] = true
		}
		if res.an != nil {
			idx.AddAnalyzed(res.an)
		}
		if res.marks != nil && marks != nil {
			if err := marks.add(res.in.Path, res.marks); err != nil {
				cancel()
				return nil, err
			}
		}
		if res.in.Article && res.in.Redirect == "" && firstArticle == "" {
			firstArticle = res.in.Path
		}
		sum.Entries++
		if res.in.Open != nil {
			read.Add(max(res.in.Size, 0))
		}
		report("packing", sum.Entries)
	}
	if err := <-walkErr; err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, src := range opts.Sources {
		if opts.Warn == nil {
			break
		}
		// Sources that leave things out (a folder's symbolic links, a ZIM's
		// broken entry) say so.
		if sk, ok := src.Source.(interface{ Skipped() []string }); ok {
			for _, p := range sk.Skipped() {
				opts.Warn(fmt.Sprintf("%s: a link or special file, not packed (links are never followed; copy the file in if it belongs)", join(src.Prefix, p)))
			}
		}
		if w, ok := src.Source.(source.Warner); ok {
			where := src.Prefix
			if where == "" {
				where = "source"
			}
			for _, msg := range w.Warnings() {
				opts.Warn(where + ": " + msg)
			}
		}
	}
	info := opts.Info
	if len(opts.Sources) == 1 {
		info = withMetadata(info, opts.Sources[0])
	}
	if sum.Entries == 0 {
		return nil, fmt.Errorf("%w: the sources hold nothing to pack (%d entries left out by --include/--exclude or dropped)", ErrEmpty, int(excluded.Load())+sum.Skipped)
	}
	switch {
	case mainPage != "" && hasPath[mainPage]:
		info.MainPage = mainPage
	case hasPath[firstFolderIndex(opts.Sources)]:
		info.MainPage = firstFolderIndex(opts.Sources)
	case hasPath["index.html"]:
		info.MainPage = "index.html"
	default:
		if mainPage != "" && opts.Warn != nil {
			opts.Warn(fmt.Sprintf("main page %q is not in the archive; using %q", mainPage, firstArticle))
		}
		info.MainPage = firstArticle
	}
	// The index's postings go to disk before the marks table is built and
	// the clusters are compressed: those need memory in proportion to the
	// pack (the table) or a fixed amount (zstd), the postings up to
	// 2.5 × search.DefaultSpillBytes, and the three at once would make
	// the pack's peak grow with its size (docs/benchmarks.md, issue 15).
	if idx != nil {
		if err := idx.Spill(); err != nil {
			return nil, err
		}
	}
	if hasPath[glossary.MarksPath] {
		if marks.len() > 0 && opts.Warn != nil {
			opts.Warn(marksTaken())
		}
	} else if marks != nil {
		t, err := marks.table(gl)
		if err != nil {
			return nil, err
		}
		if in := marksEntry(t); in != nil {
			if err := w.Add(*in); err != nil {
				return nil, err
			}
			if in.Size >= 16<<20 {
				// The table and its bytes (two copies of tens of MB at
				// 300,000 pages) are gone now; collected at once, they
				// do not set the collector's goal for what follows (it
				// doubles the heap it finds live).
				in, t = nil, nil
				runtime.GC()
			}
		}
	}
	marks.close()
	var iw io.WriterTo
	if idx != nil {
		iw = idx
		report("index", sum.Entries)
	}
	m, err := w.Finish(info, iw, opts.Signers...)
	if err != nil {
		return nil, err
	}
	if w.Dropped > 0 && opts.Warn != nil {
		opts.Warn(fmt.Sprintf("dropped %d redirects whose target is missing", w.Dropped))
	}
	sum.Manifest = m
	sum.Entries = m.Counts.Entries
	sum.Articles = m.Counts.Articles
	sum.Redirects = m.Counts.Redirects
	sum.InputBytes = m.Counts.InputBytes
	sum.SourceBytes = read.Load()
	sum.ArchiveBytes = w.Size()
	if s, ok := m.Sections["search"]; ok {
		sum.IndexBytes = s.Length
	}
	sum.Skipped += int(excluded.Load())
	sum.Duration = time.Since(start)
	return sum, nil
}

// marksSpool keeps the pages' glossary marks in a temporary file (in the
// pack's temporary folder, see package scratch) until the table is built at the end: held in memory, they
// grew the pack by about 116 bytes a page (37 MB at 322,000 pages)
// beside the index builder's postings. Each record is uvarint path
// length, path, uvarint record length, record. Nothing is created before
// the first page with marks.
type marksSpool struct {
	dir string
	f   *scratch.File
	w   *bufio.Writer
	n   int
	buf []byte
}

func (m *marksSpool) len() int {
	if m == nil {
		return 0
	}
	return m.n
}

func (m *marksSpool) add(path string, rec []byte) error {
	if m.f == nil {
		f, err := scratch.New(m.dir, "ferry-marks-*.tmp")
		if err != nil {
			return fmt.Errorf("pack: temporary file for glossary marks: %w", err)
		}
		m.f, m.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	m.buf = binary.AppendUvarint(m.buf[:0], uint64(len(path)))
	m.buf = append(m.buf, path...)
	m.buf = binary.AppendUvarint(m.buf, uint64(len(rec)))
	m.buf = append(m.buf, rec...)
	if _, err := m.w.Write(m.buf); err != nil {
		return fmt.Errorf("pack: writing glossary marks to a temporary file: %w", err)
	}
	m.n++
	return nil
}

// table reads the records back into a table of glossary g, in the order
// they came; pages past a full table are left out (marked when served).
func (m *marksSpool) table(g *glossary.Glossary) (*glossary.MarksTable, error) {
	t := g.NewMarksTable()
	if m.f == nil {
		return t, nil
	}
	bad := func(err error) error {
		return fmt.Errorf("pack: reading glossary marks back from a temporary file: %w", err)
	}
	if err := m.w.Flush(); err != nil {
		return nil, fmt.Errorf("pack: writing glossary marks to a temporary file: %w", err)
	}
	if _, err := m.f.Seek(0, io.SeekStart); err != nil {
		return nil, bad(err)
	}
	r := bufio.NewReaderSize(m.f, 64<<10)
	var path, rec []byte
	field := func(dst []byte) ([]byte, error) {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, err
		}
		if n > 1<<30 {
			return nil, errors.New("record too long")
		}
		dst = slices.Grow(dst[:0], int(n))[:n]
		_, err = io.ReadFull(r, dst)
		return dst, err
	}
	for i := 0; i < m.n; i++ {
		var err error
		if path, err = field(path); err != nil {
			return nil, bad(err)
		}
		if rec, err = field(rec); err != nil {
			return nil, bad(err)
		}
		if !t.Add(string(path), rec) {
			break // the table is full: pages beyond are marked when served
		}
	}
	return t, nil
}

// close removes the temporary file; the spool may not be used after.
func (m *marksSpool) close() {
	if m == nil || m.f == nil {
		return
	}
	m.f.Close()
	m.f, m.w = nil, nil
}

// firstFolderIndex is the path index.html of the first folder source
// would have ("" without a folder source).
func firstFolderIndex(srcs []Source) string {
	for _, s := range srcs {
		if _, ok := s.Source.(*folder.Source); ok {
			return join(s.Prefix, "index.html")
		}
	}
	return ""
}

// withMetadata fills what the publisher left empty from a lone source that
// describes itself (a ZIM's title, description and language).
func withMetadata(info archive.Info, src Source) archive.Info {
	if d, ok := src.Source.(source.Describer); ok {
		m := d.Metadata()
		if info.Title == "" {
			info.Title = m.Title
		}
		if info.Description == "" {
			info.Description = m.Description
		}
		if len(info.Languages) == 0 && m.Language != "" {
			for _, l := range strings.Split(m.Language, ",") {
				info.Languages = append(info.Languages, bcp47(strings.TrimSpace(l)))
			}
		}
		if info.Publisher == "" {
			info.Publisher = m.Publisher
		}
	}
	return info
}

// bcp47 turns a ZIM's ISO 639-3 code ("eng", "kor") into a BCP 47 tag ("en", "ko").
func bcp47(code string) string {
	t, err := language.Parse(code)
	if err != nil {
		return code
	}
	return t.String()
}

// fixPath escapes, as %XX, the bytes archive paths may not hold (backslash,
// NUL and other control bytes); ok is false if the path is still not valid.
func fixPath(p string) (string, bool) {
	if archive.ValidPath(p) {
		return p, true
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if c := p[i]; c == '\\' || c < 0x20 || c == 0x7f {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String(), archive.ValidPath(b.String())
}

// prepare reads titles and search text of one entry (runs in parallel).
func prepare(j *job, index bool, transform func(*source.Entry, []byte) ([]byte, error), g *glossary.Glossary) result {
	e := j.e
	in := archive.Input{Path: e.Path, MIME: e.MIME, Title: e.Title, Article: e.Article, Redirect: e.Redirect}
	if e.Redirect != "" {
		return result{in: in}
	}
	if j.drop {
		return result{}
	}
	if j.data == nil {
		in.Size, in.Open = e.Size, e.Open
		return result{in: in}
	}
	data := j.data
	if transform != nil {
		var err error
		data, err = transform(&e, data)
		if err != nil {
			return result{err: fmt.Errorf("%s: %w", e.Path, err)}
		}
		if data == nil {
			return result{}
		}
		in.MIME = e.MIME
	}
	in.Data = data
	if in.MIME == "" {
		in.MIME = "application/octet-stream"
	}
	var an *search.Analyzed
	if htmltext.IsHTML(in.MIME) {
		title, text := htmltext.Extract(data)
		if in.Title == "" {
			in.Title = title
		}
		if in.Title == "" && e.Article {
			in.Title = strings.ReplaceAll(path.Base(e.Path), "_", " ")
		}
		if index && e.Article {
			an = search.Analyze(j.seq, in.Title, text)
		}
	} else if e.Article {
		if in.Title == "" && plainText(in.MIME) {
			in.Title = textTitle(data)
		}
		if in.Title == "" {
			in.Title = strings.ReplaceAll(path.Base(e.Path), "_", " ")
		}
		if index {
			an = search.Analyze(j.seq, in.Title, string(data))
		}
	}
	return result{in: in, an: an, marks: pageMarks(g, in.MIME, data)}
}

func join(prefix, p string) string {
	if prefix == "" {
		return p
	}
	return prefix + "/" + p
}

// selected applies the include and exclude patterns.
func selected(p string, include, exclude []string) bool {
	if len(include) > 0 {
		ok := false
		for _, pat := range include {
			if match(pat, p) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, pat := range exclude {
		if match(pat, p) {
			return false
		}
	}
	return true
}

func match(pat, p string) bool {
	if dir, ok := strings.CutSuffix(pat, "/**"); ok {
		return p == dir || strings.HasPrefix(p, dir+"/")
	}
	if ok, _ := path.Match(pat, p); ok {
		return true
	}
	if !strings.Contains(pat, "/") {
		ok, _ := path.Match(pat, path.Base(p))
		return ok
	}
	return false
}

// PackFile packs into the file at name, atomically (package atomicfile): a
// failed pack leaves no half file and never replaces an existing archive
// with a broken one.
func PackFile(ctx context.Context, name string, opts Options) (*Summary, error) {
	var sum *Summary
	err := atomicfile.Write(name, 0o644, func(w io.Writer) error {
		var err error
		sum, err = Pack(ctx, w, opts)
		return err
	})
	return sum, err
}
