// Package folder is the ingest source for a folder of web content: HTML and
// Markdown pages and plain-text documents with their images, styles,
// scripts, audio and video.
// Relative links keep working because every file keeps its relative path;
// Markdown pages become HTML pages (x.md is served as x.html, and links to
// .md files are rewritten to .html).
package folder

import (
	"bytes"
	"context"
	"ferry/internal/htmltext"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
	xhtml "golang.org/x/net/html"

	"ferry/internal/source"
)

// Source walks a folder of files.
type Source struct {
	fsys     fs.FS
	root     string
	dir      string   // the folder on disk, walked by walkSorted ("" for NewFS)
	skipped  []string // links and other non-regular files left out by the last Walk
	warnings []string // names the last Walk changed or left out (see Warnings)
}

// Warnings lists what the last Walk changed or left out besides links and
// special files (Skipped): file names that are not valid UTF-8 are stored
// with each invalid byte %XX-escaped ("caf\xe9.html" → "caf%E9.html"),
// or left out when that escaped name is taken by another file.
func (s *Source) Warnings() []string { return s.warnings }

// Skipped lists what the last Walk left out that a publisher may have
// meant to pack: symbolic links (never followed, so nothing outside the
// folder gets in) and other non-regular files.
func (s *Source) Skipped() []string { return s.skipped }

// Count says how many files Walk will visit (regular files, links left
// out), for progress: one pass over the folder's names, no file opened.
func (s *Source) Count(ctx context.Context) (int, error) {
	if s.dir != "" {
		return countFiles(s.dir, ctx.Err)
	}
	n := 0
	err := fs.WalkDir(s.fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			n++
		}
		return nil
	})
	return n, err
}

var (
	_ source.Source  = (*Source)(nil)
	_ source.Counter = (*Source)(nil)
	_ source.Warner  = (*Source)(nil)
)

// New returns the source for the folder at dir.
func New(dir string) (*Source, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a folder", dir)
	}
	return &Source{fsys: rawDirFS(dir), root: dir, dir: dir}, nil
}

// rawDirFS is os.DirFS without its UTF-8 rule: a folder may hold names in
// another encoding (a Latin-1 or EUC-KR name copied from an old disk),
// which Walk stores escaped instead of failing on. Names are still clean
// and relative, so nothing outside dir is opened.
type rawDirFS string

func (d rawDirFS) Open(name string) (fs.File, error) {
	if name != "." && (name == "" || strings.HasPrefix(name, "/") || path.Clean(name) != name || name == ".." || strings.HasPrefix(name, "../") || strings.ContainsRune(name, 0) || strings.Contains(name, "\\") && os.PathSeparator == '\\') {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	return os.Open(filepath.Join(string(d), filepath.FromSlash(name)))
}

// NewFS returns the source for a file system (e.g. an embedded one).
func NewFS(fsys fs.FS) *Source { return &Source{fsys: fsys, root: "."} }

// Walk yields every regular file except hidden ones (names starting with ".").
func (s *Source) Walk(ctx context.Context, fn func(source.Entry) error) error {
	s.skipped, s.warnings = nil, nil
	// Escaped names yielded (not every path: a folder of a million files
	// would hold them all); a name that needs no escaping cannot clash
	// with one that does unless that file exists, which fileExists sees.
	escaped := map[string]bool{}
	mdPaths := map[string]bool{}
	_ = s.walkDir(func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && isMarkdown(p) {
			mdPaths[p] = true
		}
		return nil
	})
	return s.walkDir(func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		name := d.Name()
		if p != "." && strings.HasPrefix(name, ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			s.skipped = append(s.skipped, p)
			return nil
		}
		out := p
		if isMarkdown(p) {
			out = strings.TrimSuffix(p, path.Ext(p)) + ".html"
		}
		if !utf8.ValidString(out) {
			// The archive holds UTF-8 paths: escape the bytes that are not.
			esc := escapeInvalid(out)
			if escaped[esc] || fileExists(s.fsys, esc) {
				s.warnings = append(s.warnings, fmt.Sprintf("%q: the name is not valid UTF-8 and its escaped form %q is taken; not packed", out, esc))
				return nil
			}
			s.warnings = append(s.warnings, fmt.Sprintf("%q: the name is not valid UTF-8; stored as %q", out, esc))
			out = esc
			escaped[esc] = true
		}
		if isMarkdown(p) {
			return s.markdown(p, out, fn)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fp := p
		e := source.Entry{
			Path: out,
			Size: info.Size(),
			Open: func() (io.ReadCloser, error) { return s.fsys.Open(fp) },
		}
		e.MIME, err = s.mimeOf(p)
		if err != nil {
			return err
		}
		// A plain-text file (.txt: a law, a book, a notice) is a document a
		// reader looks for, as a page is: listed and searchable.
		e.Article = htmltext.IsHTML(e.MIME) || strings.EqualFold(path.Ext(p), ".txt")
		if htmltext.IsHTML(e.MIME) && len(mdPaths) > 0 && e.Size <= maxLinkRewrite {
			// Links to Markdown pages must follow them to their .html.
			page, err := fs.ReadFile(s.fsys, p)
			if err != nil {
				return fmt.Errorf("reading %s: %w", p, err)
			}
			if fixed, changed := rewriteMDLinks(page, p, mdPaths); changed {
				e.Size = int64(len(fixed))
				e.Open = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(fixed)), nil }
			}
		}
		return fn(e)
	})
}

// walkDir walks the source in lexical order: a folder on disk with
// walkSorted (a name's bytes held per entry of the directory being
// walked, not an fs.DirEntry), another file system with fs.WalkDir.
func (s *Source) walkDir(fn fs.WalkDirFunc) error {
	if s.dir != "" {
		return walkSorted(s.dir, fn)
	}
	return fs.WalkDir(s.fsys, ".", fn)
}

// maxLinkRewrite is the largest HTML page whose links to Markdown pages
// are rewritten; bigger ones are packed as they are.
const maxLinkRewrite = 32 << 20

// rewriteMDLinks rewrites href attributes of an HTML page at p that lead
// to a Markdown page of the folder (in mdPaths) so they lead to the .html
// it becomes. It works on tokens and writes every other byte unchanged.
func rewriteMDLinks(page []byte, p string, mdPaths map[string]bool) ([]byte, bool) {
	if !bytes.Contains(bytes.ToLower(page), []byte(".md")) && !bytes.Contains(bytes.ToLower(page), []byte(".markdown")) {
		return page, false
	}
	z := xhtml.NewTokenizer(bytes.NewReader(page))
	var out bytes.Buffer
	out.Grow(len(page))
	changed := false
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		// Copy Raw before Token: Token unescapes the tokenizer's buffer
		// in place.
		raw := bytes.Clone(z.Raw())
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			out.Write(raw)
			continue
		}
		t := z.Token()
		hit := false
		for i, a := range t.Attr {
			if a.Namespace != "" || strings.ToLower(a.Key) != "href" {
				continue
			}
			if v := RewriteMarkdownLink(a.Val); v != a.Val && targetsMarkdown(p, a.Val, mdPaths) {
				t.Attr[i].Val, hit = v, true
			}
		}
		if hit {
			out.WriteString(t.String())
			changed = true
		} else {
			out.Write(raw)
		}
	}
	if !changed {
		return page, false
	}
	return out.Bytes(), true
}

// targetsMarkdown reports whether the relative link ref in the page at p
// leads to one of the folder's Markdown pages.
func targetsMarkdown(p, ref string, mdPaths map[string]bool) bool {
	u, err := url.Parse(ref)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Path == "" || strings.HasPrefix(u.Path, "/") {
		return false
	}
	return mdPaths[path.Join(path.Dir(p), u.Path)]
}

// escapeInvalid %XX-escapes the bytes of s that are not valid UTF-8.
func escapeInvalid(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			fmt.Fprintf(&b, "%%%02X", s[i])
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func fileExists(fsys fs.FS, p string) bool {
	_, err := fs.Stat(fsys, p)
	return err == nil
}

func isMarkdown(p string) bool {
	ext := strings.ToLower(path.Ext(p))
	return ext == ".md" || ext == ".markdown"
}

var extraTypes = map[string]string{
	".md": "text/markdown; charset=utf-8", ".webp": "image/webp", ".mp4": "video/mp4", ".m4v": "video/mp4",
	".webm": "video/webm", ".ogv": "video/ogg", ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".opus": "audio/ogg",
	".wav": "audio/wav", ".m4a": "audio/mp4", ".flac": "audio/flac", ".vtt": "text/vtt", ".srt": "application/x-subrip",
	".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf", ".otf": "font/otf", ".epub": "application/epub+zip",
	".pdf": "application/pdf", ".svg": "image/svg+xml", ".ico": "image/x-icon", ".json": "application/json",
	".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".html": "text/html; charset=utf-8",
	".htm": "text/html; charset=utf-8", ".xhtml": "application/xhtml+xml", ".txt": "text/plain; charset=utf-8",
	".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
}

// mimeOf decides the type by extension, else by sniffing the first 512 bytes.
func (s *Source) mimeOf(p string) (string, error) {
	ext := strings.ToLower(path.Ext(p))
	if t, ok := extraTypes[ext]; ok {
		return t, nil
	}
	if ext != "" && ext != ".php" {
		if t := mime.TypeByExtension(ext); t != "" {
			return t, nil
		}
	}
	f, err := s.fsys.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	buf := make([]byte, 512)
	n, _ := io.ReadFull(f, buf)
	return sniff(buf[:n]), nil
}

func sniff(b []byte) string {
	t := http.DetectContentType(b)
	if strings.HasPrefix(t, "text/plain") {
		// CSS bundles saved as load.php, or extension-less pages.
		s := strings.TrimSpace(string(b))
		if strings.HasPrefix(s, "/*") || strings.Contains(s, "{") && strings.Contains(s, "}") && !strings.Contains(s, "<") {
			return "text/css; charset=utf-8"
		}
	}
	return t
}

type frontMatter struct {
	title, lang, description string
}

func splitFrontMatter(src []byte) (frontMatter, []byte) {
	var fm frontMatter
	s := string(src)
	s = strings.TrimPrefix(s, "\ufeff")
	if !strings.HasPrefix(s, "---\n") && !strings.HasPrefix(s, "---\r\n") {
		return fm, []byte(s)
	}
	rest := s[strings.Index(s, "\n")+1:]
	end := strings.Index(rest, "\n---")
	if end < 0 {
		return fm, []byte(s)
	}
	for _, line := range strings.Split(rest[:end], "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.Trim(strings.TrimSpace(v), `"'`)
		switch strings.TrimSpace(strings.ToLower(k)) {
		case "title":
			fm.title = v
		case "lang", "language":
			fm.lang = v
		case "description":
			fm.description = v
		}
	}
	body := rest[end+4:]
	if i := strings.Index(body, "\n"); i >= 0 {
		body = body[i+1:]
	} else {
		body = ""
	}
	return fm, []byte(body)
}

// mdLinks rewrites relative links to Markdown pages so they point at the
// HTML pages they become.
type mdLinks struct{}

func (m mdLinks) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if l, ok := n.(*ast.Link); ok && entering {
			l.Destination = []byte(RewriteMarkdownLink(string(l.Destination)))
		}
		return ast.WalkContinue, nil
	})
}

// RewriteMarkdownLink maps a relative link to x.md (with an optional
// fragment) to x.html; other links are returned unchanged.
func RewriteMarkdownLink(dst string) string {
	if strings.Contains(dst, "://") || strings.HasPrefix(dst, "/") || strings.HasPrefix(dst, "mailto:") {
		return dst
	}
	base, frag, _ := strings.Cut(dst, "#")
	if isMarkdown(base) {
		base = strings.TrimSuffix(base, path.Ext(base)) + ".html"
		if frag != "" {
			return base + "#" + frag
		}
		return base
	}
	return dst
}

var md = goldmark.New(
	goldmark.WithExtensions(extension.GFM, extension.Footnote),
	goldmark.WithParserOptions(parser.WithAutoHeadingID(), parser.WithASTTransformers(util.Prioritized(mdLinks{}, 100))),
	goldmark.WithRendererOptions(html.WithUnsafe()),
)

func (s *Source) markdown(p, out string, fn func(source.Entry) error) error {
	src, err := fs.ReadFile(s.fsys, p)
	if err != nil {
		return err
	}
	page, title, err := MarkdownPage(src)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	return fn(source.Entry{
		Path: out, MIME: "text/html; charset=utf-8", Title: title, Article: true, Size: int64(len(page)),
		Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(page)), nil },
	})
}

// MarkdownPage renders a Markdown document (with optional front matter:
// title, lang, description) as a complete HTML page.
func MarkdownPage(src []byte) (page []byte, title string, err error) {
	fm, body := splitFrontMatter(src)
	var out bytes.Buffer
	if err := md.Convert(body, &out); err != nil {
		return nil, "", err
	}
	title = fm.title
	if title == "" {
		title = firstHeading(body)
	}
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html")
	if fm.lang != "" {
		fmt.Fprintf(&b, ` lang="%s"`, escape(fm.lang))
	}
	b.WriteString(">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	fmt.Fprintf(&b, "<title>%s</title>\n", escape(title))
	if fm.description != "" {
		fmt.Fprintf(&b, "<meta name=\"description\" content=\"%s\">\n", escape(fm.description))
	}
	b.WriteString("</head>\n<body>\n<article>\n")
	b.Write(out.Bytes())
	b.WriteString("</article>\n</body>\n</html>\n")
	return b.Bytes(), title, nil
}

func firstHeading(body []byte) string {
	for _, line := range strings.Split(string(body), "\n") {
		if strings.HasPrefix(line, "# ") {
			return strings.TrimSpace(line[2:])
		}
	}
	return ""
}

func escape(s string) string {
	r := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")
	return r.Replace(s)
}
