package epub

import (
	"archive/zip"
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"ferry/internal/source/sourcetest"
	"ferry/internal/testkit/golden"
)

// Our own books (text of our own), committed under testdata/ and
// rewritten by -update: an EPUB 3 book with a nav document, and an EPUB 2
// book with an NCX and OEBPS 1.2 media types.
const (
	vecEPUB3 = "testdata/book3.epub"
	vecEPUB2 = "testdata/book2.epub"
)

// zipBook writes a deterministic EPUB (fixed times; mimetype first and
// stored) from name → content pairs.
func zipBook(files ...string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	when := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i+1 < len(files); i += 2 {
		method := zip.Deflate
		if files[i] == "mimetype" {
			method = zip.Store
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: files[i], Method: method, Modified: when})
		if err != nil {
			panic(err)
		}
		w.Write([]byte(files[i+1]))
	}
	zw.Close()
	return buf.Bytes()
}

func coverPNG() string {
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for x := 0; x < 8; x++ {
		for y := 0; y < 8; y++ {
			img.Set(x, y, color.RGBA{uint8(30 * x), 120, uint8(30 * y), 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.String()
}

func xhtmlDoc(title, lang, body string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="` + lang + `" xml:lang="` + lang + `">
<head><meta charset="utf-8"/><title>` + title + `</title><link rel="stylesheet" href="../style.css"/></head>
<body>` + body + `</body></html>
`
}

func book3() []byte {
	return zipBook(
		"mimetype", "application/epub+zip",
		"META-INF/container.xml", `<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0"><rootfiles><rootfile full-path="OPS/package.opf" media-type="application/oebps-package+xml"/></rootfiles></container>`,
		"OPS/package.opf", `<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">urn:x-ferry:book3</dc:identifier>
<dc:title>The River Book</dc:title><dc:creator>Ferry Tests</dc:creator><dc:language>en</dc:language><meta property="dcterms:modified">2024-01-01T00:00:00Z</meta></metadata>
<manifest>
<item id="nav" href="toc.xhtml" media-type="application/xhtml+xml" properties="nav"/>
<item id="ch1" href="text/ch1.xhtml" media-type="application/xhtml+xml"/>
<item id="ch2" href="text/ch2.xhtml" media-type="application/xhtml+xml"/>
<item id="css" href="style.css" media-type="text/css"/>
<item id="cover" href="images/cover.png" media-type="image/png" properties="cover-image"/>
</manifest>
<spine><itemref idref="ch1"/><itemref idref="ch2"/></spine>
</package>
`,
		"OPS/toc.xhtml", xhtmlDoc("Contents", "en", `<nav epub:type="toc"><h1>Contents</h1><ol><li><a href="text/ch1.xhtml">The spring</a></li><li><a href="text/ch2.xhtml">강 하구</a><ol><li><a href="text/ch2.xhtml#sea">The sea</a></li></ol></li></ol></nav>`),
		"OPS/text/ch1.xhtml", xhtmlDoc("The spring", "en", `<h1>The spring</h1><p>The river starts as a spring under a rock, cold even in summer.</p><p><img src="../images/cover.png" alt="the river"/></p><p><a href="ch2.xhtml">On to the mouth</a></p>`),
		"OPS/text/ch2.xhtml", xhtmlDoc("강 하구", "ko", `<h1>강 하구</h1><p>강은 넓어지고 느려진다. 갈매기가 모래톱에 앉아 있다.</p><h2 id="sea">The sea</h2><p>Then there is only the sea.</p>`),
		"OPS/style.css", "body{font-family:serif;line-height:1.5}",
		"OPS/images/cover.png", coverPNG(),
	)
}

func book2() []byte {
	return zipBook(
		"mimetype", "application/epub+zip",
		"META-INF/container.xml", containerXML,
		"OEBPS/content.opf", `<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:opf="http://www.idpf.org/2007/opf"><dc:identifier id="id">urn:x-ferry:book2</dc:identifier>
<dc:title>산길 안내</dc:title><dc:creator opf:role="aut">시험 작가</dc:creator><dc:language>ko</dc:language><meta name="cover" content="img"/></metadata>
<manifest>
<item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
<item id="c1" href="c1.html" media-type="text/x-oeb1-document"/>
<item id="c2" href="c2.html" media-type="text/x-oeb1-document"/>
<item id="css" href="s.css" media-type="text/x-oeb1-css"/>
<item id="img" href="img/map.png" media-type="image/png"/>
</manifest>
<spine toc="ncx"><itemref idref="c1"/><itemref idref="c2"/></spine>
</package>
`,
		"OEBPS/toc.ncx", `<?xml version="1.0" encoding="utf-8"?><ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><head/><docTitle><text>산길 안내</text></docTitle><navMap>
<navPoint id="p1" playOrder="1"><navLabel><text>들머리</text></navLabel><content src="c1.html"/></navPoint>
<navPoint id="p2" playOrder="2"><navLabel><text>고갯마루</text></navLabel><content src="c2.html"/></navPoint></navMap></ncx>`,
		"OEBPS/c1.html", `<html><head><title>들머리</title><link rel="stylesheet" href="s.css" type="text/x-oeb1-css"/></head><body><h1>들머리</h1><p>마을 뒤 샘터에서 길이 시작된다. <img src="img/map.png" alt="지도"/></p></body></html>`,
		"OEBPS/c2.html", `<html><head><title>고갯마루</title></head><body><h1>고갯마루</h1><p>고개에 오르면 바다가 보인다.</p></body></html>`,
		"OEBPS/s.css", "h1{font-size:1.4em}",
		"OEBPS/img/map.png", coverPNG(),
	)
}

// TestVectors checks the committed books are what book2 and book3 write,
// and rewrites them with -update.
func TestVectors(t *testing.T) {
	for name, b := range map[string][]byte{vecEPUB3: book3(), vecEPUB2: book2()} {
		golden.Check(t, name, b)
	}
}

// TestVectorBooks reads our two books: metadata, table of contents,
// chapters with navigation, resources, links that resolve.
func TestVectorBooks(t *testing.T) {
	for _, tc := range []struct {
		file, title, lang string
		chapters          map[string]string // path → title
		resources         []string
	}{
		{vecEPUB3, "The River Book", "en", map[string]string{"book/text/ch1.xhtml": "The spring", "book/text/ch2.xhtml": "강 하구"}, []string{"book/style.css", "book/images/cover.png", "book/toc.xhtml"}},
		{vecEPUB2, "산길 안내", "ko", map[string]string{"book/c1.html": "들머리", "book/c2.html": "고갯마루"}, []string{"book/s.css", "book/img/map.png", "book/toc.ncx"}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := Open(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			w := sourcetest.Walk(t, b)
			md := b.Metadata()
			if md.Title != tc.title || md.Language != tc.lang || len(md.Illustration) == 0 {
				t.Errorf("metadata %+v", md)
			}
			for p, title := range tc.chapters {
				e, ok := w.Entries[p]
				if !ok || !e.Article || e.Title != title {
					t.Errorf("%s: %+v", p, e)
					continue
				}
				if page := string(sourcetest.Read(t, e)); !strings.Contains(page, `class="ferry-nav"`) {
					t.Errorf("%s: no navigation", p)
				}
			}
			for _, p := range tc.resources {
				if _, ok := w.Entries[p]; !ok {
					t.Errorf("%s missing: %v", p, w.Order)
				}
			}
			if e := w.Entries["book/s.css"]; tc.file == vecEPUB2 && e.MIME != "text/css" {
				t.Errorf("legacy CSS type mapped to %q", e.MIME)
			}
			toc := string(sourcetest.Read(t, w.Entries[TOCPage]))
			for _, title := range tc.chapters {
				if !strings.Contains(toc, title) {
					t.Errorf("TOC lacks %q", title)
				}
			}
			if len(b.Warnings()) != 0 {
				t.Errorf("warnings %q", b.Warnings())
			}
			checkBookLinks(t, w)
		})
	}
}

// checkBookLinks: every relative link in every page leads to an entry.
func checkBookLinks(t *testing.T, w sourcetest.Walked) {
	t.Helper()
	for _, p := range w.Order {
		e := w.Entries[p]
		if !e.Article {
			continue
		}
		for _, l := range links(sourcetest.Read(t, e)) {
			to, ok := target(p, l.href)
			if !ok {
				continue
			}
			if _, found := w.Entries[to]; !found {
				t.Errorf("%s: link %q → %q is not an entry", p, l.href, to)
			}
		}
	}
}

// TestCompat is the corpus of classes of valid books that ferry refused
// (issue 13, item 20), each made by our own test code: every one packs,
// and what had to be left out is said in a warning naming it.
func TestCompat(t *testing.T) {
	svg := `<svg xmlns="http://www.w3.org/2000/svg" width="60" height="80"><title>Panel</title><rect width="60" height="80" fill="#fc0"/></svg>`
	chapter := xhtmlDoc("A chapter", "en", `<p>Words.</p>`)
	book := func(manifest, spine string, files ...string) []byte {
		return zipBook(append([]string{"mimetype", "application/epub+zip", "META-INF/container.xml", containerXML, "OEBPS/content.opf", opf(manifest, spine)}, files...)...)
	}
	nfd := "content_u\u0308_001.xhtml" // the zip spells ü as u + combining diaeresis (macOS)
	for _, tc := range []struct {
		name    string
		data    []byte
		want    []string // entries that must be there
		article string   // an entry that must be an article
		warn    string   // a warning must contain this
	}{
		{"fixed-layout comic: SVG spine",
			book(`<item id="p1" href="p1.svg" media-type="image/svg+xml"/><item id="p2" href="p2.svg" media-type="image/svg+xml"/>`, `<itemref idref="p1"/><itemref idref="p2"/>`,
				"OEBPS/p1.svg", svg, "OEBPS/p2.svg", svg),
			[]string{"book/p1.svg", "book/p2.svg", TOCPage}, "", ""},
		{"picture book: image spine",
			book(`<item id="i1" href="i/1.png" media-type="image/png"/><item id="i2" href="i/2.png" media-type="image/png"/>`, `<itemref idref="i1"/><itemref idref="i2"/>`,
				"OEBPS/i/1.png", coverPNG(), "OEBPS/i/2.png", coverPNG()),
			[]string{"book/i/1.png", "book/i/2.png"}, "", ""},
		{"foreign spine item with a fallback",
			book(`<item id="pdf" href="a.pdf" media-type="application/pdf" fallback="alt"/><item id="alt" href="a.xhtml" media-type="application/xhtml+xml"/>`, `<itemref idref="pdf"/>`,
				"OEBPS/a.pdf", "%PDF-1.4", "OEBPS/a.xhtml", chapter),
			[]string{"book/a.pdf", "book/a.xhtml"}, "book/a.xhtml", ""},
		{"foreign spine item without a fallback",
			book(`<item id="pdf" href="a.pdf" media-type="application/pdf"/><item id="c" href="c.xhtml" media-type="application/xhtml+xml"/>`, `<itemref idref="pdf"/><itemref idref="c"/>`,
				"OEBPS/a.pdf", "%PDF-1.4", "OEBPS/c.xhtml", chapter),
			[]string{"book/a.pdf", "book/c.xhtml"}, "book/c.xhtml", `spine item "OEBPS/a.pdf" (application/pdf) has no fallback`},
		{"manifest ids with spaces",
			book(`<item id=" chapter one " href="c.xhtml" media-type="application/xhtml+xml"/><item id="chapter two" href="d.xhtml" media-type="application/xhtml+xml"/>`, `<itemref idref="chapter one"/><itemref idref="chapter two"/>`,
				"OEBPS/c.xhtml", chapter, "OEBPS/d.xhtml", chapter),
			[]string{"book/c.xhtml", "book/d.xhtml"}, "book/d.xhtml", ""},
		{"file name in another Unicode normalisation",
			book(`<item id="c" href="content_ü_001.xhtml" media-type="application/xhtml+xml"/>`, `<itemref idref="c"/>`,
				"OEBPS/"+nfd, chapter),
			[]string{"book/content_ü_001.xhtml"}, "book/content_ü_001.xhtml", ""},
		{"OEBPS 1.2 media types",
			book(`<item id="c" href="c.htm" media-type="text/x-oeb1-document"/><item id="s" href="s.css" media-type="text/x-oeb1-css"/>`, `<itemref idref="c"/>`,
				"OEBPS/c.htm", chapter, "OEBPS/s.css", "p{}"),
			[]string{"book/c.htm", "book/s.css"}, "book/c.htm", ""},
		{"DTBook",
			book(`<item id="d" href="d.xml" media-type="application/x-dtbook+xml"/>`, `<itemref idref="d"/>`,
				"OEBPS/d.xml", `<?xml version="1.0"?><dtbook xmlns="http://www.daisy.org/z3986/2005/dtbook/" version="2005-3"><head><meta name="dc:Title" content="x"/></head><book><frontmatter><doctitle>점자 책</doctitle></frontmatter><bodymatter><level1><h1>첫째 마당</h1><p>손끝으로 읽는 <em>글</em>.</p><list type="ol"><li>하나</li></list></level1></bodymatter></book></dtbook>`),
			[]string{"book/d.xml"}, "book/d.xml", ""},
		{"malformed DTBook chapter (found by FuzzPackage)",
			book(`<item id="d" href="d.xml" media-type="application/x-dtbook+xml"/><item id="c" href="c.xhtml" media-type="application/xhtml+xml"/>`, `<itemref idref="d"/><itemref idref="c"/>`,
				"OEBPS/d.xml", `<dtbook><book><p>cut <em>off`, "OEBPS/c.xhtml", chapter),
			[]string{"book/d.xml", "book/c.xhtml"}, "book/c.xhtml", `DTBook chapter "OEBPS/d.xml" cannot be converted`},
		{"one link leaves the book",
			book(`<item id="c" href="c.xhtml" media-type="application/xhtml+xml"/><item id="x" href="../../outside.css" media-type="text/css"/>`, `<itemref idref="c"/>`,
				"OEBPS/c.xhtml", chapter),
			[]string{"book/c.xhtml"}, "book/c.xhtml", `manifest item "x": path "../../outside.css" in "OEBPS/content.opf" leaves the book; left out`},
		{"backslash, control byte and non-UTF-8 names",
			book(`<item id="c" href="c.xhtml" media-type="application/xhtml+xml"/><item id="b" href="img\b.png" media-type="image/png"/>`, `<itemref idref="c"/>`,
				"OEBPS/c.xhtml", chapter, "OEBPS/img\\b.png", coverPNG(), "OEBPS/tab\x01.png", coverPNG(), "OEBPS/bad\xff.png", coverPNG()),
			// Carried: the packer %XX-escapes backslashes and control bytes,
			// with a warning of its own; a name that is not UTF-8 cannot be.
			[]string{"book/c.xhtml", "book/img\\b.png", "book/tab\x01.png"}, "book/c.xhtml", "file name \"OEBPS/bad\uFFFD.png\" is not a clean UTF-8 path; not carried"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := New(bytes.NewReader(tc.data), int64(len(tc.data)))
			if err != nil {
				t.Fatal(err)
			}
			w := sourcetest.Walk(t, b)
			for _, p := range tc.want {
				if _, ok := w.Entries[p]; !ok {
					t.Errorf("%q missing: %q", p, w.Order)
				}
			}
			if tc.article != "" {
				e := w.Entries[tc.article]
				if !e.Article {
					t.Errorf("%s is not an article", tc.article)
				} else if page := string(sourcetest.Read(t, e)); !strings.Contains(page, "ferry-nav") {
					t.Errorf("%s: no navigation:\n%s", tc.article, page)
				}
			}
			warnings := strings.Join(b.Warnings(), "\n")
			if tc.warn != "" && !strings.Contains(warnings, tc.warn) {
				t.Errorf("warnings %q lack %q", warnings, tc.warn)
			}
			if tc.warn == "" && warnings != "" {
				t.Errorf("unexpected warnings %q", warnings)
			}
			toc := string(sourcetest.Read(t, w.Entries[TOCPage]))
			if !strings.Contains(toc, "<a href=") {
				t.Errorf("TOC links nothing:\n%s", toc)
			}
		})
	}
}
