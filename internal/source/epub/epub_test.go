package epub

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"image/png"
	"io"
	"net/url"
	"os"
	"path"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"ferry/internal/source"
	"ferry/internal/source/sourcetest"
	"ferry/internal/testkit/shared"
)

type link struct{ rel, href, text string }

func links(b []byte) []link {
	doc, err := html.Parse(bytes.NewReader(b))
	if err != nil {
		return nil
	}
	var out []link
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			var l link
			for _, a := range n.Attr {
				switch a.Key {
				case "href", "src":
					l.href = a.Val
				case "rel":
					l.rel = a.Val
				}
			}
			if l.href != "" {
				if n.FirstChild != nil {
					l.text = n.FirstChild.Data
				}
				out = append(out, l)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// target resolves a relative link found in the entry at from.
func target(from, href string) (string, bool) {
	u, err := url.Parse(href)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Path == "" {
		return "", false
	}
	return path.Join(path.Dir(from), u.Path), true
}

// TestRealFiles runs the checks on other people's real book (the shared
// test data: Alice's Adventures in Wonderland, EPUB 3); our own books
// (TestVectorBooks, TestCompat) cover the formats in a plain clone.
func TestRealFiles(t *testing.T) {
	if st, err := os.Stat(shared.Root()); shared.Root() == "" || err != nil || !st.IsDir() {
		t.Skip("shared test data not found (../shared/testdata or FERRY_TESTDATA): the real EPUB (Alice) was not checked; our own books were")
	}
	t.Run("Alice", realAlice)
}

func realAlice(t *testing.T) {
	b, err := Open(shared.Path(t, "epub/alice.epub"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	w := sourcetest.Walk(t, b)
	md := b.Metadata()
	if md.Title != "Alice's Adventures in Wonderland" || md.Creator != "Lewis Carroll" || md.Language != "en-US" || md.MainPage != TOCPage {
		t.Errorf("metadata %+v", md)
	}
	if il := md.Illustration; len(il) < 100 || !bytes.HasPrefix(il, []byte("\x89PNG")) {
		t.Errorf("no PNG illustration from the cover (%d bytes)", len(il))
	} else if cfg, err := png.DecodeConfig(bytes.NewReader(il)); err != nil || cfg.Width != IllustrationSize || cfg.Height != IllustrationSize {
		t.Errorf("illustration %+v, %v", cfg, err)
	}
	toc, ok := w.Entries[TOCPage]
	if !ok || !toc.Article {
		t.Fatalf("no TOC page: %v", w.Order)
	}
	// The TOC lists the chapters by their nav labels, in order.
	var chapters []string
	for _, l := range links(sourcetest.Read(t, toc)) {
		p, ok := target(TOCPage, l.href)
		if !ok {
			continue
		}
		if _, ok := w.Entries[p]; !ok {
			t.Errorf("TOC link %q → %q missing", l.href, p)
		}
		if l.text != "Start reading" { // an English book gets English words
			chapters = append(chapters, l.text)
		}
	}
	if len(chapters) != 11 || chapters[1] != "Down The Rabbit-Hole" || chapters[10] != "Alice's Evidence" {
		t.Errorf("TOC entries %q", chapters)
	}
	// Follow "next" from the first chapter: every chapter is reached in
	// reading order, and "prev" leads back.
	cur, seen := "book/titlepage.xhtml", 0
	for cur != "" {
		e, ok := w.Entries[cur]
		if !ok {
			t.Fatalf("chapter %q missing", cur)
		}
		if !e.Article || e.Title == "" {
			t.Errorf("%s: article=%v title=%q", cur, e.Article, e.Title)
		}
		seen++
		page := sourcetest.Read(t, e)
		next := ""
		for _, l := range links(page) {
			p, ok := target(cur, l.href)
			if !ok {
				continue
			}
			if _, exists := w.Entries[p]; !exists {
				t.Errorf("%s: link %q → %q is not an entry", cur, l.href, p)
			}
			if l.rel == "next" {
				next = p
			}
			if l.rel == "prev" && seen == 1 {
				t.Errorf("first chapter has a prev link")
			}
		}
		if seen > 1 && !bytes.Contains(page, []byte(`rel="prev"`)) {
			t.Errorf("%s has no prev link", cur)
		}
		cur = next
	}
	if seen != 11 {
		t.Errorf("followed %d chapters by next links, want 11 (title page + 10)", seen)
	}
	if e := w.Entries["book/chapter_001.xhtml"]; e.Title != "Down The Rabbit-Hole" {
		t.Errorf("chapter 1 title %q", e.Title)
	}
	// All 28 illustrations.
	jpegs := 0
	for p, e := range w.Entries {
		if strings.HasPrefix(p, "book/images/") && e.MIME == "image/jpeg" {
			if b := sourcetest.Read(t, e); len(b) < 1000 || b[0] != 0xff || b[1] != 0xd8 {
				t.Errorf("%s is not a JPEG", p)
			}
			jpegs++
		}
	}
	if jpegs != 28 {
		t.Errorf("%d illustrations, want 28", jpegs)
	}
	if _, ok := w.Entries["book/css/stylesheet.css"]; !ok {
		t.Error("stylesheet missing")
	}
	// The injected chapters stay well-formed XML.
	for _, p := range w.Order {
		if strings.HasSuffix(p, ".xhtml") {
			if err := wellFormed(sourcetest.Read(t, w.Entries[p])); err != nil {
				t.Errorf("%s is no longer well-formed: %v", p, err)
			}
		}
	}
}

func wellFormed(b []byte) error {
	d := newStrictDecoder(b)
	for {
		_, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// mkEPUB builds an EPUB from name → content pairs (mimetype first).
func mkEPUB(t testing.TB, files ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: files[i], Method: zip.Deflate})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[i+1]))
	}
	zw.Close()
	return buf.Bytes()
}

const containerXML = `<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>`

func opf(manifest, spine string) string {
	return `<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="2.0"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>조선말 책</dc:title><dc:language>ko</dc:language></metadata><manifest>` + manifest + `</manifest><spine toc="ncx">` + spine + `</spine></package>`
}

func TestEPUB2NCXAndKorean(t *testing.T) {
	ncx := `<?xml version="1.0"?><ncx xmlns="http://www.daisy.org/z3986/2005/ncx/"><navMap><navPoint><navLabel><text>제1장 머리말</text></navLabel><content src="Text/c1.xhtml"/><navPoint><navLabel><text>1절</text></navLabel><content src="Text/c1.xhtml#s1"/></navPoint></navPoint><navPoint><navLabel><text>제2장</text></navLabel><content src="Text/c2.xhtml"/></navPoint></navMap></ncx>`
	doc := func(body string) string {
		return `<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head><BODY class="x">` + body + `</BODY></html>`
	}
	data := mkEPUB(t,
		"mimetype", "application/epub+zip",
		"META-INF/container.xml", containerXML,
		"OEBPS/content.opf", opf(`<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/><item id="c1" href="Text/c1.xhtml" media-type="application/xhtml+xml"/><item id="c2" href="Text/c2.xhtml" media-type="application/xhtml+xml"/><item id="img" href="Images/%ED%95%9C.png" media-type="image/png"/>`, `<itemref idref="c1"/><itemref idref="c2"/>`),
		"OEBPS/toc.ncx", ncx,
		"OEBPS/Text/c1.xhtml", doc(`<p id="s1">안녕 <img src="../Images/%ED%95%9C.png"/></p>`),
		"OEBPS/Text/c2.xhtml", doc(`<p>끝</p>`),
		"OEBPS/Images/한.png", "\x89PNG\r\n\x1a\n",
	)
	b, err := New(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	w := sourcetest.Walk(t, b)
	if b.Metadata().Title != "조선말 책" || b.Metadata().Language != "ko" {
		t.Errorf("metadata %+v", b.Metadata())
	}
	if e := w.Entries["book/Text/c1.xhtml"]; e.Title != "제1장 머리말" {
		t.Errorf("c1 title %q", e.Title)
	}
	if _, ok := w.Entries["book/Images/한.png"]; !ok {
		t.Errorf("image missing: %v", w.Order)
	}
	toc := string(sourcetest.Read(t, w.Entries[TOCPage]))
	for _, want := range []string{"제1장 머리말", `href="book/Text/c1.xhtml#s1"`, "margin-left:2em", `lang="ko"`} {
		if !strings.Contains(toc, want) {
			t.Errorf("TOC lacks %q:\n%s", want, toc)
		}
	}
	c1 := string(sourcetest.Read(t, w.Entries["book/Text/c1.xhtml"]))
	if !strings.Contains(c1, `<BODY class="x"><div class="ferry-nav"`) || !strings.Contains(c1, `href="c2.xhtml">다음 →</a></div></BODY>`) {
		t.Errorf("nav not injected:\n%s", c1)
	}
}

// TestInjectNavUnicode: case-folding that changes byte lengths (İ → i̇)
// must not shift where the navigation goes.
func TestInjectNavUnicode(t *testing.T) {
	doc := []byte(strings.Repeat("İ", 50) + `<body a="x>y">` + strings.Repeat("İ", 50) + "</BODY>")
	out := string(injectNav(doc, "<nav/>"))
	want := strings.Repeat("İ", 50) + `<body a="x>y"><nav/>` + strings.Repeat("İ", 50) + "<nav/></BODY>"
	if out != want {
		t.Errorf("got %q", out)
	}
}

func TestBadBooks(t *testing.T) {
	good := func(extra ...string) []string {
		return append([]string{"mimetype", "application/epub+zip", "META-INF/container.xml", containerXML}, extra...)
	}
	cases := []struct {
		name  string
		files []string
		want  error
	}{
		{"missing file", good("OEBPS/content.opf", opf(`<item id="c" href="c.xhtml" media-type="application/xhtml+xml"/>`, `<itemref idref="c"/>`)), ErrMissing},
		// A path leaving the book spoils only its own item (left out with
		// a warning); a book with nothing else to read is refused.
		{"escaping path", good("OEBPS/content.opf", opf(`<item id="c" href="../../etc/passwd" media-type="application/xhtml+xml"/>`, `<itemref idref="c"/>`)), ErrInvalid},
		{"absolute path", good("OEBPS/content.opf", opf(`<item id="c" href="/etc/passwd" media-type="application/xhtml+xml"/>`, `<itemref idref="c"/>`)), ErrInvalid},
		{"spine idref unknown", good("OEBPS/content.opf", opf(``, `<itemref idref="nope"/>`)), ErrInvalid},
		{"no container", []string{"mimetype", "application/epub+zip"}, ErrInvalid},
		{"no package", good(), ErrMissing},
		{"broken opf", good("OEBPS/content.opf", "<package><manifest><item"), ErrInvalid},
		{"empty spine", good("OEBPS/content.opf", opf(``, ``)), ErrInvalid},
		{"wrong mimetype", []string{"mimetype", "application/zip"}, ErrInvalid},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := mkEPUB(t, tc.files...)
			_, err := New(bytes.NewReader(data), int64(len(data)))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
	if _, err := New(bytes.NewReader([]byte("not a zip")), 9); !errors.Is(err, ErrInvalid) {
		t.Errorf("not a zip: %v", err)
	}
}

func TestZipBomb(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.Create("mimetype")
	w, _ := zw.Create("OEBPS/bomb.xhtml")
	zero := make([]byte, 1<<20)
	for i := 0; i < 20; i++ { // 20 MiB of zeros compress to ~20 KiB
		w.Write(zero)
	}
	zw.Close()
	_, err := New(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if !errors.Is(err, ErrUnsafe) || !strings.Contains(err.Error(), "zip bomb") {
		t.Fatalf("err = %v", err)
	}
	t.Log(err)
}

// FuzzPackage fuzzes container/OPF/nav parsing and the whole import,
// seeded with our own EPUB 3 book (a few KiB): the fuzzed container.xml,
// package document and nav document replace the book's own inside a copy
// of it, so the rest of the import runs on its chapters and image. Work
// per input is bounded: at most 64 KiB is read from each entry.
func FuzzPackage(f *testing.F) {
	data, err := os.ReadFile(vecEPUB3)
	if err != nil {
		f.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		f.Fatal(err)
	}
	get := func(name string) []byte {
		rc, err := zr.Open(name)
		if err != nil {
			f.Fatal(err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return b
	}
	f.Add(get("META-INF/container.xml"), get("OPS/package.opf"), get("OPS/toc.xhtml"))
	f.Add(get("META-INF/container.xml"), []byte(strings.ReplaceAll(string(get("OPS/package.opf")), "application/xhtml+xml", "application/x-dtbook+xml")), get("OPS/toc.xhtml"))
	f.Add([]byte(containerXML), []byte(opf(`<item id="c" href="../x" media-type="application/xhtml+xml"/>`, `<itemref idref="c"/>`)), []byte("<nav epub:type=toc><ol><li><a href=c.xhtml>x</a></li></ol></nav>"))
	f.Fuzz(func(t *testing.T, cx, opfData, nav []byte) {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		add := func(name string, b []byte) {
			w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
			if err == nil {
				w.Write(b)
			}
		}
		add("META-INF/container.xml", cx)
		opfName, _, _ := ParsePackage(cx, nil)
		if opfName != "" {
			add(opfName, opfData)
			add(path.Join(path.Dir(opfName), "toc.xhtml"), nav)
		}
		for _, zf := range zr.File {
			switch zf.Name {
			case "META-INF/container.xml", "OPS/package.opf", "OPS/toc.xhtml", opfName:
				continue
			}
			zw.Copy(zf) // raw copy, no recompression
		}
		zw.Close()
		bk, err := New(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			return
		}
		w := sourcetest.Walk(t, bk)
		for _, e := range w.Entries {
			if rc, err := e.Open(); err == nil {
				io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
				rc.Close()
			}
		}
	})
}

// BenchmarkImportAlice measures import throughput in MB/s of .epub file.
func BenchmarkImportAlice(b *testing.B) {
	p := shared.Path(b, "epub/alice.epub")
	st, _ := os.Stat(p)
	b.SetBytes(st.Size())
	for i := 0; i < b.N; i++ {
		bk, err := Open(p)
		if err != nil {
			b.Fatal(err)
		}
		err = bk.Walk(context.Background(), func(e source.Entry) error {
			rc, err := e.Open()
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		bk.Close()
	}
}

// TestNavWordsFollowTheBook: the words ferry adds to a book's pages are
// in the book's language (English here), not always Korean.
func TestNavWordsFollowTheBook(t *testing.T) {
	doc := func(body string) string {
		return `<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>t</title></head><body>` + body + `</body></html>`
	}
	english := strings.Replace(strings.Replace(opf(`<item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/><item id="c2" href="c2.xhtml" media-type="application/xhtml+xml"/>`, `<itemref idref="c1"/><itemref idref="c2"/>`),
		"<dc:language>ko</dc:language>", "<dc:language>en-GB</dc:language>", 1), "조선말 책", "An English book", 1)
	data := mkEPUB(t,
		"mimetype", "application/epub+zip",
		"META-INF/container.xml", containerXML,
		"OEBPS/content.opf", english,
		"OEBPS/c1.xhtml", doc(`<p>One</p>`),
		"OEBPS/c2.xhtml", doc(`<p>Two</p>`),
	)
	b, err := New(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	w := sourcetest.Walk(t, b)
	c1 := string(sourcetest.Read(t, w.Entries["book/c1.xhtml"]))
	toc := string(sourcetest.Read(t, w.Entries[TOCPage]))
	for page, want := range map[string][]string{c1: {">Contents</a>", ">Next →</a>"}, toc: {">Start reading</a>", "<h2>Contents</h2>"}} {
		for _, s := range want {
			if !strings.Contains(page, s) {
				t.Errorf("page lacks %q:\n%s", s, page)
			}
		}
		if strings.ContainsAny(page, "차례다음처음") {
			t.Errorf("Korean words in an English book:\n%s", page)
		}
	}
}
