// Package epub turns EPUB 2 and 3 books into ferry ingest entries, as
// specified in docs/source.md: a generated table-of-contents page
// ("index.html", from the nav document or NCX, else the spine) plus every
// file of the book under "book/" at its path relative to the package
// directory, so the book's own relative links keep working. Chapters get
// previous/next links injected in reading order.
//
// EPUBs arrive from anywhere, so the reader guards against zip bombs (the
// total uncompressed size and the entry count are capped relative to the
// file size), paths that escape the book with "..", and package documents
// that reference files the zip does not hold.
package epub

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/unicode/norm"

	"ferry/internal/source"
)

// Errors returned for bad books; wrapped with what exactly was wrong.
var (
	ErrInvalid = errors.New("epub: not a valid EPUB")
	ErrUnsafe  = errors.New("epub: unsafe EPUB refused")
	ErrMissing = errors.New("epub: file referenced by the package document is missing")
)

// Limits. A real book's text compresses perhaps 5×, images not at all; a
// ratio of 100× over the whole file is far beyond any book and typical of
// zip bombs.
const (
	maxRatio      = 100
	minBudget     = 16 << 20 // small files may always expand this far
	maxTotal      = 4 << 30  // no book is larger uncompressed
	maxEntries    = 20000
	maxXMLFile    = 8 << 20  // container.xml, OPF, NCX, nav
	maxXHTMLFile  = 32 << 20 // a chapter read into memory to inject links
	maxEntryBytes = 1 << 30  // any one file
)

// Prefix is the folder under which the book's files are placed; the
// generated table of contents sits beside it as TOCPage.
const (
	Prefix  = "book/"
	TOCPage = "index.html"
)

// Book is an opened EPUB. It implements source.Source and source.Describer.
type Book struct {
	closer io.Closer
	files  map[string]*zip.File // zip name → file
	root   string               // zip folder that maps to Prefix
	meta   source.Metadata
	items  []item   // every file yielded, in output path order
	order  []string // reading order: zip names of linear spine documents
	toc    []tocItem
	titles map[string]string // zip name → chapter title
	// warnings says what was left out or changed (see Warnings)
	warnings []string
	// nfc maps the NFC form of zip names that are not in NFC to the name
	nfc map[string]string
}

// Warnings returns what New left out of the book or changed, one sentence
// each naming the file: manifest items whose path leaves the book, files
// whose names cannot be archive paths, spine items with nothing readable.
// A packer shows them to the publisher.
func (b *Book) Warnings() []string { return b.warnings }

func (b *Book) warn(format string, args ...any) {
	if len(b.warnings) < 1000 {
		b.warnings = append(b.warnings, fmt.Sprintf(format, args...))
	}
}

var (
	_ source.Source    = (*Book)(nil)
	_ source.Describer = (*Book)(nil)
	_ source.Warner    = (*Book)(nil)
)

type item struct {
	zipName string
	mime    string
	doc     bool // an (X)HTML document from the spine
	dtbook  bool // a DTBook document, converted to XHTML
}

type tocItem struct {
	depth  int
	title  string
	target string // zip name + optional "#fragment", "" when not linkable
}

// Open opens the EPUB file at path.
func Open(path string) (*Book, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("epub: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("epub: %w", err)
	}
	b, err := New(f, st.Size())
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b.closer = f
	return b, nil
}

// New reads the EPUB held by r (size bytes). r must stay readable while the
// Book is used.
func New(r io.ReaderAt, size int64) (*Book, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the zip container: %v", ErrInvalid, err)
	}
	// Each entry needs at least a 30-byte local and a 46-byte central
	// header; more entries than that fit in the file are a forgery.
	if n := int64(len(zr.File)); n > maxEntries || n*76 > size {
		return nil, fmt.Errorf("%w: %d zip entries in a %d-byte file (at most %d, and no more than fit); refusing a possible zip bomb", ErrUnsafe, n, size, maxEntries)
	}
	budget := uint64(size) * maxRatio
	if budget < minBudget {
		budget = minBudget
	}
	if budget > maxTotal {
		budget = maxTotal
	}
	var total uint64
	b := &Book{files: map[string]*zip.File{}, titles: map[string]string{}}
	for _, f := range zr.File {
		if total += f.UncompressedSize64; total > budget || f.UncompressedSize64 > maxEntryBytes {
			return nil, fmt.Errorf("%w: the zip entries claim more than %d bytes uncompressed from a %d-byte file; refusing a possible zip bomb", ErrUnsafe, budget, size)
		}
		if strings.HasSuffix(f.Name, "/") {
			continue
		}
		if _, dup := b.files[f.Name]; !dup {
			b.files[f.Name] = f
		}
	}
	b.nfc = map[string]string{}
	for name := range b.files {
		if n := norm.NFC.String(name); n != name {
			b.nfc[n] = name
		}
	}
	if err := b.load(); err != nil {
		return nil, err
	}
	return b, nil
}

// Close closes the file opened by Open.
func (b *Book) Close() error {
	if b.closer != nil {
		return b.closer.Close()
	}
	return nil
}

// Metadata returns the book's title, creator, language, publisher, date and
// description from the package document; MainPage is the TOC page.
func (b *Book) Metadata() source.Metadata { return b.meta }

// readFile reads a whole zip entry of at most max bytes.
func (b *Book) readFile(name string, max int64) ([]byte, error) {
	f := b.files[name]
	if f == nil {
		return nil, fmt.Errorf("%w: %q", ErrMissing, name)
	}
	if f.UncompressedSize64 > uint64(max) {
		return nil, fmt.Errorf("%w: %q is %d bytes, more than the %d allowed", ErrUnsafe, name, f.UncompressedSize64, max)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: opening %q: %v", ErrInvalid, name, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, max+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading %q: %v", ErrInvalid, name, err)
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w: %q is larger than the %d bytes allowed", ErrUnsafe, name, max)
	}
	return data, nil
}

func decodeXML(data []byte, v any) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	d.CharsetReader = charset.NewReaderLabel
	return d.Decode(v)
}

type container struct {
	Rootfiles []struct {
		FullPath  string `xml:"full-path,attr"`
		MediaType string `xml:"media-type,attr"`
	} `xml:"rootfiles>rootfile"`
}

type opfPackage struct {
	Version  string `xml:"version,attr"`
	Metadata struct {
		Titles      []string `xml:"title"`
		Creators    []string `xml:"creator"`
		Languages   []string `xml:"language"`
		Publishers  []string `xml:"publisher"`
		Dates       []string `xml:"date"`
		Description []string `xml:"description"`
		Metas       []struct {
			Name    string `xml:"name,attr"`
			Content string `xml:"content,attr"`
		} `xml:"meta"`
	} `xml:"metadata"`
	Items []struct {
		ID         string `xml:"id,attr"`
		Href       string `xml:"href,attr"`
		MediaType  string `xml:"media-type,attr"`
		Properties string `xml:"properties,attr"`
		Fallback   string `xml:"fallback,attr"`
	} `xml:"manifest>item"`
	Spine struct {
		Toc      string `xml:"toc,attr"`
		Itemrefs []struct {
			IDRef  string `xml:"idref,attr"`
			Linear string `xml:"linear,attr"`
		} `xml:"itemref"`
	} `xml:"spine"`
}

// ParsePackage parses a container.xml and the package document (OPF) it
// names, as read by readFile. It is the entry point the fuzz target uses.
func ParsePackage(containerXML, opf []byte) (opfPath string, pkg *opfPackage, err error) {
	var c container
	if err := decodeXML(containerXML, &c); err != nil {
		return "", nil, fmt.Errorf("%w: META-INF/container.xml: %v", ErrInvalid, err)
	}
	for _, rf := range c.Rootfiles {
		if rf.MediaType == "" || rf.MediaType == "application/oebps-package+xml" {
			opfPath = rf.FullPath
			break
		}
	}
	if opfPath == "" {
		return "", nil, fmt.Errorf("%w: META-INF/container.xml names no package document (rootfile)", ErrInvalid)
	}
	pkg = &opfPackage{}
	if opf != nil {
		if err := decodeXML(opf, pkg); err != nil {
			return "", nil, fmt.Errorf("%w: package document %q: %v", ErrInvalid, opfPath, err)
		}
	}
	return opfPath, pkg, nil
}

// resolve turns a reference found in the zip entry at from into a zip
// name and fragment. ok is false for remote references (http:, data:...).
// A reference leaving the zip's root is an error.
func resolve(from, ref string) (name, frag string, ok bool, err error) {
	ref = strings.TrimSpace(ref)
	u, perr := url.Parse(ref)
	if perr != nil {
		return "", "", false, fmt.Errorf("%w: bad reference %q in %q", ErrInvalid, clip(ref), from)
	}
	if u.Scheme != "" || u.Host != "" || u.Opaque != "" {
		return "", "", false, nil
	}
	if u.Path == "" {
		return from, u.Fragment, true, nil
	}
	if strings.HasPrefix(u.Path, "/") {
		return "", "", false, fmt.Errorf("%w: absolute path %q in %q", ErrUnsafe, clip(ref), from)
	}
	joined := path.Join(path.Dir(from), u.Path)
	if joined == ".." || strings.HasPrefix(joined, "../") {
		return "", "", false, fmt.Errorf("%w: path %q in %q leaves the book", ErrUnsafe, clip(ref), from)
	}
	return joined, u.Fragment, true, nil
}

func (b *Book) load() error {
	if f := b.files["mimetype"]; f != nil {
		if m, err := b.readFile("mimetype", 128); err != nil || strings.TrimSpace(string(m)) != "application/epub+zip" {
			return fmt.Errorf("%w: the mimetype file does not say application/epub+zip", ErrInvalid)
		}
	}
	cx, err := b.readFile("META-INF/container.xml", maxXMLFile)
	if err != nil {
		if errors.Is(err, ErrMissing) {
			return fmt.Errorf("%w: no META-INF/container.xml (is this an EPUB?)", ErrInvalid)
		}
		return err
	}
	opfPath, _, err := ParsePackage(cx, nil)
	if err != nil {
		return err
	}
	opfName, _, _, err := resolve("", opfPath)
	if err != nil {
		return err
	}
	opf, err := b.readFile(opfName, maxXMLFile)
	if err != nil {
		return fmt.Errorf("package document: %w", err)
	}
	_, pkg, err := ParsePackage(cx, opf)
	if err != nil {
		return err
	}
	md := pkg.Metadata
	b.meta = source.Metadata{
		Title:       first(md.Titles),
		Creator:     first(md.Creators),
		Language:    first(md.Languages),
		Publisher:   first(md.Publishers),
		Date:        first(md.Dates),
		Description: stripTags(first(md.Description)),
		MainPage:    TOCPage,
	}

	// Manifest: every item must exist and stay inside the zip.
	byID := map[string]*item{}
	fallback := map[string]string{} // manifest id → fallback id
	zipToItem := map[string]*item{}
	var missing []string
	var navName, ncxName, coverName string
	coverID := ""
	for _, m := range md.Metas {
		if m.Name == "cover" {
			coverID = m.Content
		}
	}
	for _, it := range pkg.Items {
		name, _, ok, err := resolve(opfName, it.Href)
		if err != nil {
			// One bad reference spoils only its own item.
			b.warn("manifest item %q: %s; left out", it.ID, strings.TrimPrefix(err.Error(), ErrUnsafe.Error()+": "))
			continue
		}
		if !ok {
			continue // remote resource: not carried
		}
		if b.files[name] == nil {
			// The zip may spell the name in another Unicode normalisation
			// (NFD from macOS) than the manifest: carry it under the
			// manifest's spelling, which the book's links use.
			if real, ok := b.nfc[norm.NFC.String(name)]; ok && b.files[real] != nil {
				b.files[name] = b.files[real]
				delete(b.files, real)
			} else if real := b.files[norm.NFC.String(name)]; real != nil && norm.NFC.String(name) != name {
				b.files[name] = real
				delete(b.files, norm.NFC.String(name))
			} else {
				missing = append(missing, name)
				continue
			}
		}
		if err := checkName(name); err != nil {
			b.warn("manifest item %q: %v; left out", it.ID, err)
			continue
		}
		x := &item{zipName: name, mime: coreType(strings.TrimSpace(it.MediaType))}
		x.dtbook = x.mime == "application/x-dtbook+xml"
		id := strings.TrimSpace(it.ID)
		byID[id] = x
		fallback[id] = strings.TrimSpace(it.Fallback)
		zipToItem[name] = x
		if hasWord(it.Properties, "nav") {
			navName = name
		}
		if hasWord(it.Properties, "cover-image") || (coverName == "" && id == coverID && strings.HasPrefix(x.mime, "image/")) {
			coverName = name
		}
		if x.mime == "application/x-dtbncx+xml" && (id == pkg.Spine.Toc || ncxName == "") {
			ncxName = name
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		more := ""
		if len(missing) > 5 {
			more = fmt.Sprintf(" and %d more", len(missing)-5)
			missing = missing[:5]
		}
		return fmt.Errorf("%w: %s%s (the book is incomplete; get a complete copy)", ErrMissing, strings.Join(missing, ", "), more)
	}
	for _, ref := range pkg.Spine.Itemrefs {
		id := strings.TrimSpace(ref.IDRef)
		x := byID[id]
		if x == nil {
			b.warn("the spine refers to %q, which is not in the manifest (or was left out); skipped", clip(ref.IDRef))
			continue
		}
		// A foreign resource in the spine must name a fallback a reading
		// system can show; follow the chain (bounded: it may loop).
		for hops := 0; !readable(x) && hops < 16; hops++ {
			next := byID[fallback[id]]
			if next == nil {
				break
			}
			id, x = fallback[id], next
		}
		if !readable(x) {
			b.warn("spine item %q (%s) has no fallback a browser can show; not in the reading order", x.zipName, x.mime)
			continue
		}
		if x.dtbook && !x.doc {
			// Convert once now, so a malformed chapter is left out of the
			// reading order with a warning rather than failing Walk.
			data, err := b.readFile(x.zipName, maxXHTMLFile)
			if err == nil {
				_, err = dtbookToXHTML(data)
			}
			if err != nil {
				b.warn("DTBook chapter %q cannot be converted (%v); carried as it is, not in the reading order", x.zipName, err)
				x.dtbook = false
				continue
			}
		}
		x.doc = isDoc(x.mime) || x.dtbook
		if ref.Linear != "no" && !contains(b.order, x.zipName) {
			b.order = append(b.order, x.zipName)
		}
	}
	if len(b.order) == 0 {
		why := ""
		if len(b.warnings) > 0 {
			why = " (" + strings.Join(b.warnings[:min(len(b.warnings), 3)], "; ") + ")"
		}
		return fmt.Errorf("%w: the spine lists no readable documents%s", ErrInvalid, why)
	}

	// The output root is the deepest folder holding the package document
	// and every manifest item, so relative links between them survive.
	b.root = path.Dir(opfName)
	for name := range zipToItem {
		for b.root != "." && !strings.HasPrefix(name, b.root+"/") {
			b.root = path.Dir(b.root)
		}
	}
	// Files under the root that the manifest forgot are carried too
	// (sloppy books link to them); META-INF, mimetype and the package
	// files are not.
	for name := range b.files {
		if zipToItem[name] != nil || name == opfName || name == "mimetype" || strings.HasPrefix(name, "META-INF/") {
			continue
		}
		if b.root != "." && !strings.HasPrefix(name, b.root+"/") {
			continue
		}
		if err := checkName(name); err != nil {
			b.warn("%v; not carried", err)
			continue
		}
		mt := mime.TypeByExtension(path.Ext(name))
		zipToItem[name] = &item{zipName: name, mime: mt}
	}
	for _, x := range zipToItem {
		if x.zipName == opfName {
			continue
		}
		b.items = append(b.items, *x)
	}
	sort.Slice(b.items, func(i, j int) bool { return b.items[i].zipName < b.items[j].zipName })

	// Table of contents: nav document, else NCX, else the spine.
	if navName != "" {
		if data, err := b.readFile(navName, maxXMLFile); err == nil {
			b.toc = parseNav(data, navName)
		}
	}
	if len(b.toc) == 0 && ncxName != "" {
		if data, err := b.readFile(ncxName, maxXMLFile); err == nil {
			b.toc = parseNCX(data, ncxName)
		}
	}
	for i := range b.toc { // drop links to files the book lacks
		name, _, _ := strings.Cut(b.toc[i].target, "#")
		if zipToItem[name] == nil {
			b.toc[i].target = ""
		} else if t := b.toc[i].title; t != "" && b.titles[name] == "" && !strings.Contains(b.toc[i].target, "#") {
			b.titles[name] = t
		}
	}
	if len(b.toc) == 0 {
		for _, name := range b.order {
			b.toc = append(b.toc, tocItem{title: b.docTitle(name), target: name})
		}
	}
	if b.meta.Title == "" {
		b.meta.Title = path.Base(b.order[0])
	}
	if coverName != "" {
		b.meta.Illustration = b.illustration(coverName)
	}
	// Settle every document title now, so Walk only reads shared state.
	for _, x := range b.items {
		if x.doc {
			b.docTitle(x.zipName)
		}
	}
	return nil
}

// checkName refuses zip names that cannot be archive paths: not UTF-8,
// not clean, absolute, or with a NUL. A backslash or another control byte
// is allowed: the packer stores such a name %XX-escaped and says so.
func checkName(name string) error {
	if !utf8.ValidString(name) || strings.ContainsRune(name, 0) || path.Clean(name) != name || strings.HasPrefix(name, "/") || name == ".." || strings.HasPrefix(name, "../") {
		return fmt.Errorf("file name %q is not a clean UTF-8 path", clip(strings.ToValidUTF8(name, "\uFFFD")))
	}
	return nil
}

// outPath maps a zip name to its entry path.
func (b *Book) outPath(zipName string) string {
	if b.root == "." {
		return Prefix + zipName
	}
	return Prefix + strings.TrimPrefix(zipName, b.root+"/")
}

// docTitle is a chapter's title: its TOC label, else its <title>, else its
// file name. It caches into b.titles, and is called for every document
// while loading, before the Book is shared.
func (b *Book) docTitle(name string) string {
	if t := b.titles[name]; t != "" {
		return t
	}
	if data, err := b.readFile(name, maxXHTMLFile); err == nil {
		if t := htmlTitle(data); t != "" {
			b.titles[name] = t
			return t
		}
	}
	b.titles[name] = path.Base(name)
	return b.titles[name]
}

func parseNav(data []byte, navName string) []tocItem {
	if source.Unclosed(data) > maxUnclosed {
		return nil // the parser is superlinear on such markup; use the NCX or spine
	}
	doc, err := xhtml.Parse(bytes.NewReader(data))
	if err != nil {
		return nil
	}
	var nav *xhtml.Node
	var find func(n *xhtml.Node)
	find = func(n *xhtml.Node) {
		if nav != nil {
			return
		}
		if n.Type == xhtml.ElementNode && n.DataAtom == atom.Nav {
			for _, a := range n.Attr {
				if strings.HasSuffix(a.Key, "type") && hasWord(a.Val, "toc") {
					nav = n
					return
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			find(c)
		}
	}
	find(doc)
	if nav == nil {
		return nil
	}
	var out []tocItem
	var walk func(n *xhtml.Node, depth int)
	walk = func(n *xhtml.Node, depth int) {
		for c := n.FirstChild; c != nil && len(out) < 10000; c = c.NextSibling {
			if c.Type != xhtml.ElementNode {
				continue
			}
			if c.DataAtom != atom.Li {
				walk(c, depth)
				continue
			}
			ti := tocItem{depth: depth}
			for e := c.FirstChild; e != nil; e = e.NextSibling {
				if e.Type != xhtml.ElementNode {
					continue
				}
				switch e.DataAtom {
				case atom.A, atom.Span:
					ti.title = nodeText(e)
					for _, a := range e.Attr {
						if a.Key == "href" {
							if name, frag, ok, err := resolve(navName, a.Val); err == nil && ok {
								ti.target = joinFrag(name, frag)
							}
						}
					}
				}
			}
			if ti.title != "" {
				out = append(out, ti)
			}
			for e := c.FirstChild; e != nil; e = e.NextSibling {
				if e.Type == xhtml.ElementNode && e.DataAtom == atom.Ol {
					walk(e, depth+1)
				}
			}
		}
	}
	walk(nav, 0)
	return out
}

type navPoint struct {
	Label   string `xml:"navLabel>text"`
	Content struct {
		Src string `xml:"src,attr"`
	} `xml:"content"`
	Children []navPoint `xml:"navPoint"`
}

// maxUnclosed is how many elements a nav document may leave open before
// it is not parsed (see unclosed).
const maxUnclosed = 2000

func parseNCX(data []byte, ncxName string) []tocItem {
	var ncx struct {
		Points []navPoint `xml:"navMap>navPoint"`
	}
	if err := decodeXML(data, &ncx); err != nil {
		return nil
	}
	var out []tocItem
	var walk func(ps []navPoint, depth int)
	walk = func(ps []navPoint, depth int) {
		for _, p := range ps {
			if len(out) >= 10000 || depth > 32 {
				return
			}
			ti := tocItem{depth: depth, title: strings.Join(strings.Fields(p.Label), " ")}
			if name, frag, ok, err := resolve(ncxName, p.Content.Src); err == nil && ok && p.Content.Src != "" {
				ti.target = joinFrag(name, frag)
			}
			if ti.title != "" {
				out = append(out, ti)
			}
			walk(p.Children, depth+1)
		}
	}
	walk(ncx.Points, 0)
	return out
}

func joinFrag(name, frag string) string {
	if frag != "" {
		return name + "#" + frag
	}
	return name
}

func nodeText(n *xhtml.Node) string {
	var sb strings.Builder
	var walk func(*xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.TextNode {
			sb.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(sb.String()), " ")
}

// htmlTitle returns the text of a document's <title>.
func htmlTitle(data []byte) string {
	z := xhtml.NewTokenizer(bytes.NewReader(data))
	in := false
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return ""
		case xhtml.StartTagToken:
			if n, _ := z.TagName(); string(n) == "title" {
				in = true
			}
		case xhtml.TextToken:
			if in {
				return strings.Join(strings.Fields(string(z.Text())), " ")
			}
		case xhtml.EndTagToken:
			in = false
		}
	}
}

// Walk yields the TOC page and every file of the book.
func (b *Book) Walk(ctx context.Context, fn func(source.Entry) error) error {
	toc := b.tocPage()
	if err := fn(source.Entry{
		Path: TOCPage, MIME: "text/html; charset=utf-8", Title: b.meta.Title, Article: true,
		Size: int64(len(toc)), Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(toc)), nil },
	}); err != nil {
		return err
	}
	for _, x := range b.items {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, err := b.entry(x)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func (b *Book) entry(x item) (source.Entry, error) {
	f := b.files[x.zipName]
	e := source.Entry{Path: b.outPath(x.zipName), MIME: x.mime, Size: int64(f.UncompressedSize64)}
	if x.doc {
		page, err := b.chapter(x.zipName, x.dtbook)
		if err != nil {
			return e, err
		}
		if x.dtbook {
			e.MIME = "application/xhtml+xml"
		}
		e.Article = true
		e.Title = b.docTitle(x.zipName)
		e.Size = int64(len(page))
		e.Open = func() (io.ReadCloser, error) {
			page, err := b.chapter(x.zipName, x.dtbook)
			if err != nil {
				return nil, err
			}
			return io.NopCloser(bytes.NewReader(page)), nil
		}
		return e, nil
	}
	if e.MIME == "" {
		rc, err := f.Open()
		if err != nil {
			return e, fmt.Errorf("%w: opening %q: %v", ErrInvalid, x.zipName, err)
		}
		head, _ := io.ReadAll(io.LimitReader(rc, 512))
		rc.Close()
		e.MIME = http.DetectContentType(head)
	}
	e.Open = func() (io.ReadCloser, error) {
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%w: opening %q: %v", ErrInvalid, x.zipName, err)
		}
		return rc, nil
	}
	return e, nil
}

// chapter returns a spine document with previous / contents / next links
// injected after <body> and before </body>.
func (b *Book) chapter(name string, dtbook bool) ([]byte, error) {
	data, err := b.readFile(name, maxXHTMLFile)
	if err != nil {
		return nil, err
	}
	if dtbook {
		if data, err = dtbookToXHTML(data); err != nil {
			return nil, fmt.Errorf("%q: %w", name, err)
		}
	}
	self := b.outPath(name)
	i := -1
	for k, n := range b.order {
		if n == name {
			i = k
		}
	}
	w := source.WordsFor(b.meta.Language)
	var nav strings.Builder
	nav.WriteString(`<div class="ferry-nav" style="margin:1em 0;font-family:sans-serif">`)
	if i > 0 {
		fmt.Fprintf(&nav, `<a rel="prev" href="%s">← %s</a> · `, html.EscapeString(source.RelLink(self, b.outPath(b.order[i-1]))), w.Prev)
	}
	fmt.Fprintf(&nav, `<a rel="contents" href="%s">%s</a>`, html.EscapeString(source.RelLink(self, TOCPage)), w.Contents)
	if i >= 0 && i+1 < len(b.order) {
		fmt.Fprintf(&nav, ` · <a rel="next" href="%s">%s →</a>`, html.EscapeString(source.RelLink(self, b.outPath(b.order[i+1]))), w.Next)
	}
	nav.WriteString(`</div>`)
	return injectNav(data, nav.String()), nil
}

// injectNav puts nav right after the <body> start tag and right before
// </body>. Documents without a body get it at the start and the end.
func injectNav(data []byte, nav string) []byte {
	// ASCII-only lowering keeps byte offsets equal to data's (Unicode
	// case mapping can change lengths).
	lower := make([]byte, len(data))
	for i, c := range data {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	start := -1
	for off := 0; ; {
		k := bytes.Index(lower[off:], []byte("<body"))
		if k < 0 {
			break
		}
		k += off
		if e := k + 5; e < len(lower) && (lower[e] == '>' || lower[e] == ' ' || lower[e] == '\t' || lower[e] == '\n' || lower[e] == '\r' || lower[e] == '/') {
			if end := tagEnd(data, e); end > 0 {
				start = end
			}
			break
		}
		off = k + 5
	}
	endBody := bytes.LastIndex(lower, []byte("</body"))
	var out bytes.Buffer
	out.Grow(len(data) + 2*len(nav))
	switch {
	case start > 0 && endBody >= start:
		out.Write(data[:start])
		out.WriteString(nav)
		out.Write(data[start:endBody])
		out.WriteString(nav)
		out.Write(data[endBody:])
	default:
		out.Write(data)
		out.WriteString(nav)
	}
	return out.Bytes()
}

// tagEnd returns the index just past the '>' closing the tag whose
// attributes start at i, skipping quoted values; -1 if none.
func tagEnd(b []byte, i int) int {
	var q byte
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '>':
			if b[i-1] == '/' {
				return -1 // <body/>: nothing to put inside
			}
			return i + 1
		}
	}
	return -1
}

// tocPage renders the generated table of contents.
func (b *Book) tocPage() []byte {
	var s strings.Builder
	lang := b.meta.Language
	if lang == "" {
		lang = "und"
	}
	fmt.Fprintf(&s, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n", html.EscapeString(lang), html.EscapeString(b.meta.Title))
	s.WriteString("<style>body{max-width:40em;margin:1em auto;padding:0 1em;font-family:sans-serif;line-height:1.5}li{margin:.2em 0}</style>\n</head>\n<body>\n")
	fmt.Fprintf(&s, "<h1>%s</h1>\n", html.EscapeString(b.meta.Title))
	if b.meta.Creator != "" {
		fmt.Fprintf(&s, "<p>%s</p>\n", html.EscapeString(b.meta.Creator))
	}
	w := source.WordsFor(b.meta.Language)
	fmt.Fprintf(&s, "<p><a href=\"%s\">%s</a></p>\n<nav>\n<h2>%s</h2>\n<ul>\n", html.EscapeString(source.RelLink(TOCPage, b.outPath(b.order[0]))), w.FromStart, w.Contents)
	for _, t := range b.toc {
		indent := t.depth
		if indent > 6 {
			indent = 6
		}
		fmt.Fprintf(&s, "<li style=\"margin-left:%dem\">", 2*indent)
		if t.target != "" {
			name, frag, _ := strings.Cut(t.target, "#")
			href := source.RelLink(TOCPage, b.outPath(name))
			if frag != "" {
				href += "#" + url.PathEscape(frag)
			}
			fmt.Fprintf(&s, "<a href=\"%s\">%s</a>", html.EscapeString(href), html.EscapeString(t.title))
		} else {
			s.WriteString(html.EscapeString(t.title))
		}
		s.WriteString("</li>\n")
	}
	s.WriteString("</ul>\n</nav>\n</body>\n</html>\n")
	return []byte(s.String())
}

func isDoc(mt string) bool {
	base, _, _ := mime.ParseMediaType(mt)
	return base == "application/xhtml+xml" || base == "text/html"
}

// readable reports whether a spine item can be shown by a browser: an
// (X)HTML or DTBook document (DTBook is converted), an SVG document or an
// image (fixed-layout comics and picture books).
func readable(x *item) bool {
	base, _, _ := mime.ParseMediaType(x.mime)
	switch base {
	case "image/svg+xml", "image/png", "image/jpeg", "image/gif", "image/webp":
		return true
	}
	return isDoc(x.mime) || x.dtbook
}

// coreType maps the media types of OEBPS 1.2 (EPUB 2's legacy types) to
// the ones a browser knows.
func coreType(mt string) string {
	base, _, _ := mime.ParseMediaType(mt)
	switch strings.ToLower(base) {
	case "text/x-oeb1-document":
		return "application/xhtml+xml"
	case "text/x-oeb1-css":
		return "text/css"
	}
	return mt
}

func hasWord(list, w string) bool {
	for _, f := range strings.Fields(list) {
		if f == w {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func first(v []string) string {
	for _, s := range v {
		if s = strings.Join(strings.Fields(s), " "); s != "" {
			return strings.ToValidUTF8(s, "")
		}
	}
	return ""
}

// stripTags turns a description that may hold HTML into plain text.
func stripTags(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	// The tokenizer is linear; the full parser is not on hostile markup.
	z := xhtml.NewTokenizer(strings.NewReader(s))
	var sb strings.Builder
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return strings.Join(strings.Fields(sb.String()), " ")
		case xhtml.TextToken:
			sb.Write(z.Text())
			sb.WriteByte(' ')
		}
	}
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
