package source

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/unicode"
)

// ownFile is a file of each kind Detect knows (and some it must not take
// for one), written by our own code with our own words.
type ownFile struct {
	name string // with its usual extension
	data []byte
	want Format // FormatUnknown: Detect must refuse it
	dir  bool   // a folder holding data as index.html
}

// ownFiles makes the detection vectors.
func ownFiles(tb testing.TB) []ownFile {
	tb.Helper()
	rss := `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>시험 소식</title><link>http://example.org/</link>
<description>ferry의 시험을 위해 만든 소식입니다.</description>
<item><title>새 판이 나왔습니다</title><link>http://example.org/1</link><description>기억카드로 건너온 새 판.</description></item>
</channel></rss>`
	atom := `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Test news</title><id>urn:ferry:test</id><updated>2026-01-01T00:00:00Z</updated>
<entry><title>A new edition</title><id>urn:ferry:test:1</id><updated>2026-01-01T00:00:00Z</updated><content type="html">&lt;p&gt;Carried on a card.&lt;/p&gt;</content></entry>
</feed>`
	rdf := `<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/">
<channel rdf:about="http://example.org/"><title>시험</title></channel></rdf:RDF>`
	jsonFeed := `{"version": "https://jsonfeed.org/version/1.1", "title": "시험 소식",
"items": [{"id": "1", "content_text": "라지오로 건너온 새 판."}]}`
	// A long comment before the root element: still inside the 64 KiB
	// Detect reads.
	commented := `<?xml version="1.0"?>` + "\n<!-- " + strings.Repeat("주석 comment ", 2000) + "-->\n" + rss[strings.Index(rss, "<rss"):]
	utf16le, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(atom))
	if err != nil {
		tb.Fatal(err)
	}
	utf16be, err := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewEncoder().Bytes([]byte(strings.Replace(rss, `encoding="UTF-8"`, `encoding="UTF-16"`, 1)))
	if err != nil {
		tb.Fatal(err)
	}
	page := "<!DOCTYPE html>\n<html lang=\"ko\"><head><meta charset=\"utf-8\"><title>시험 페지</title></head><body><p>시험으로 만든 페지입니다.</p></body></html>\n"
	return []ownFile{
		{"tiny.zim", tinyZIM(), FormatZIM, false},
		{"plain.warc", warcRecords(tb, false), FormatWARC, false},
		{"members.warc.gz", warcRecords(tb, true), FormatWARC, false},
		{"book.epub", epubBook(tb, "stored"), FormatEPUB, false},
		{"streamed.epub", epubBook(tb, "streamed"), FormatEPUB, false},
		{"sloppy.epub", epubBook(tb, "deflated"), FormatEPUB, false},
		{"news.rss", []byte(rss), FormatFeed, false},
		{"news.atom", []byte(atom), FormatFeed, false},
		{"news.rdf", []byte(rdf), FormatFeed, false},
		{"news.json", []byte(jsonFeed), FormatFeed, false},
		{"commented.rss", []byte(commented), FormatFeed, false},
		{"utf16le-bom.atom", utf16le, FormatFeed, false},
		{"utf16be.rss", utf16be, FormatFeed, false},
		{"site", []byte(page), FormatFolder, true},
		// Not sources: a page alone, a compressed page, a zip that is not
		// a book, plain JSON, an SVG, a ZIM magic cut short, nothing.
		{"page.html", []byte(page), FormatUnknown, false},
		{"page.html.gz", gzipped(tb, []byte(page)), FormatUnknown, false},
		{"notabook.epub", epubBook(tb, "none"), FormatUnknown, false},
		{"data.json", []byte(`{"version": "1.1", "title": "not a feed"}`), FormatUnknown, false},
		{"picture.svg", []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`), FormatUnknown, false},
		{"cut.zim", tinyZIM()[:3], FormatUnknown, false},
		{"empty.rss", nil, FormatUnknown, false},
	}
}

// tinyZIM returns a complete ZIM file with no entries: the 80-byte header
// (openZIM layout, version 6.1), a MIME list of one type, empty pointer
// lists and the MD5 checksum of what precedes it.
func tinyZIM() []byte {
	mimes := []byte("text/html\x00\x00")
	h := make([]byte, 80)
	binary.LittleEndian.PutUint32(h[0:], zimMagic)
	binary.LittleEndian.PutUint16(h[4:], 6) // major version
	binary.LittleEndian.PutUint16(h[6:], 1) // minor version
	copy(h[8:24], "ferry-test-uuid!")
	// Entry and cluster counts stay 0.
	end := uint64(80 + len(mimes))
	binary.LittleEndian.PutUint64(h[32:], end) // URL pointers
	binary.LittleEndian.PutUint64(h[40:], end) // title pointers
	binary.LittleEndian.PutUint64(h[48:], end) // cluster pointers
	binary.LittleEndian.PutUint64(h[56:], 80)  // MIME list
	binary.LittleEndian.PutUint32(h[64:], 0xffffffff)
	binary.LittleEndian.PutUint32(h[68:], 0xffffffff)
	binary.LittleEndian.PutUint64(h[72:], end) // checksum
	b := append(h, mimes...)
	sum := md5.Sum(b)
	return append(b, sum[:]...)
}

// warcRecords returns a warcinfo record and a response record holding a
// Korean page, as one plain WARC or as one gzip member per record.
func warcRecords(tb testing.TB, gz bool) []byte {
	tb.Helper()
	record := func(typ, target, ctype, body string) []byte {
		var b bytes.Buffer
		fmt.Fprintf(&b, "WARC/1.1\r\nWARC-Type: %s\r\nWARC-Date: 2026-01-01T00:00:00Z\r\nWARC-Record-ID: <urn:uuid:%s>\r\n", typ,
			map[string]string{"warcinfo": "00000000-0000-4000-8000-000000000001", "response": "00000000-0000-4000-8000-000000000002"}[typ])
		if target != "" {
			fmt.Fprintf(&b, "WARC-Target-URI: %s\r\n", target)
		}
		fmt.Fprintf(&b, "Content-Type: %s\r\nContent-Length: %d\r\n\r\n%s\r\n\r\n", ctype, len(body), body)
		return b.Bytes()
	}
	html := "<html><head><title>시험</title></head><body><p>바깥에서 온 페지.</p></body></html>"
	recs := [][]byte{
		record("warcinfo", "", "application/warc-fields", "software: ferry tests\r\nformat: WARC File Format 1.1\r\n"),
		record("response", "http://example.org/", "application/http; msgtype=response",
			fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s", len(html), html)),
	}
	var out bytes.Buffer
	for _, r := range recs {
		if gz {
			out.Write(gzipped(tb, r))
		} else {
			out.Write(r)
		}
	}
	return out.Bytes()
}

func gzipped(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var out bytes.Buffer
	z := gzip.NewWriter(&out)
	if _, err := z.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := z.Close(); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

// epubBook returns a small EPUB 3 book whose first entry is "mimetype":
// "stored" as OCF asks (sizes in the local header), "streamed" (stored,
// sizes in a data descriptor after the data, as Go's zip.Writer and other
// streaming writers make it), "deflated" (as sloppy writers do), or
// "none": a zip of the same files without that entry.
func epubBook(tb testing.TB, mimetype string) []byte {
	tb.Helper()
	var out bytes.Buffer
	z := zip.NewWriter(&out)
	add := func(name string, m uint16, data string) {
		w, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: m})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(data)); err != nil {
			tb.Fatal(err)
		}
	}
	const mt = "application/epub+zip"
	switch mimetype {
	case "stored":
		w, err := z.CreateRaw(&zip.FileHeader{Name: "mimetype", Method: zip.Store, CRC32: crc32.ChecksumIEEE([]byte(mt)),
			CompressedSize64: uint64(len(mt)), UncompressedSize64: uint64(len(mt))})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write([]byte(mt)); err != nil {
			tb.Fatal(err)
		}
	case "streamed":
		add("mimetype", zip.Store, mt)
	case "deflated":
		add("mimetype", zip.Deflate, mt)
	}
	add("META-INF/container.xml", zip.Deflate, `<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/book.opf" media-type="application/oebps-package+xml"/></rootfiles></container>`)
	add("OEBPS/book.opf", zip.Deflate, `<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:identifier id="id">urn:ferry:book</dc:identifier><dc:title>시험 책</dc:title><dc:language>ko</dc:language></metadata>
<manifest><item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/></manifest><spine><itemref idref="c1"/></spine></package>`)
	add("OEBPS/c1.xhtml", zip.Deflate, `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>첫 장</title></head><body><p>책의 첫 장입니다.</p></body></html>`)
	if err := z.Close(); err != nil {
		tb.Fatal(err)
	}
	return out.Bytes()
}

// TestDetectOwnFiles detects a file of each kind written by our own code,
// under its usual name, without an extension and under a wrong one, and
// refuses files that are not sources.
func TestDetectOwnFiles(t *testing.T) {
	for _, v := range ownFiles(t) {
		t.Run(v.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), v.name)
			if v.dir {
				if err := os.Mkdir(p, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(p, "index.html"), v.data, 0o600); err != nil {
					t.Fatal(err)
				}
				if got, err := Detect(p); err != nil || got != v.want {
					t.Fatalf("Detect = %v, %v; want %v", got, err, v.want)
				}
				return
			}
			if err := os.WriteFile(p, v.data, 0o600); err != nil {
				t.Fatal(err)
			}
			if v.want == FormatUnknown {
				if got, err := Detect(p); !errors.Is(err, ErrUnknownFormat) || got != FormatUnknown {
					t.Fatalf("Detect = %v, %v; want ErrUnknownFormat", got, err)
				} else if !strings.Contains(err.Error(), p) {
					t.Errorf("error does not name the file: %v", err)
				}
				return
			}
			detectFile(t, p, v.data, v.want)
			if got := DetectBytes(v.data); got != v.want {
				t.Errorf("DetectBytes = %v, want %v", got, v.want)
			}
		})
	}
}
