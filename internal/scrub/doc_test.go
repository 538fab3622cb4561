package scrub

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

type zipPart struct {
	name   string
	body   string
	extra  []byte
	stored bool
}

func buildZip(t testing.TB, parts []zipPart) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, p := range parts {
		h := &zip.FileHeader{Name: p.name, Method: zip.Deflate, Modified: time.Date(2015, 12, 27, 12, 0, 0, 0, time.UTC), Extra: p.extra}
		if p.stored {
			h.Method = zip.Store
		}
		f, err := w.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(f, p.body)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// redStarExtra is a 0xA220 field whose growth-hint padding carries marks.
func redStarExtra(t testing.TB, serials ...string) []byte {
	marks := mustWatermark(t, nil, serials...)
	marks = marks[:len(marks)-7]
	body := append([]byte{0x28, 0xA0, 0x00, 0x02}, marks...)
	b := binary.LittleEndian.AppendUint16(nil, idGrowthHint)
	b = binary.LittleEndian.AppendUint16(b, uint16(len(body)))
	return append(b, body...)
}

func growthHint(pad int) []byte {
	b := []byte{0x20, 0xA2, 0, 0, 0x28, 0xA0, 0x00, 0x02}
	binary.LittleEndian.PutUint16(b[2:], uint16(4+pad))
	return append(b, make([]byte, pad)...)
}

const (
	docContentTypes = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>`
	docBody         = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>조선 뉴스</w:t></w:r></w:p></w:body></w:document>`
	coreXML         = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>News</dc:title><dc:creator>%s</dc:creator><cp:lastModifiedBy>%s</cp:lastModifiedBy><cp:revision>3</cp:revision></cp:coreProperties>`
	appXML          = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>Microsoft Office Word</Application><Company>%s</Company><Manager>%s</Manager></Properties>`
)

func docx(t testing.TB, wmExtra []byte, creator, modifier, company, manager string) []byte {
	return buildZip(t, []zipPart{
		{name: "[Content_Types].xml", body: docContentTypes, extra: growthHint(40)},
		{name: "word/document.xml", body: docBody, extra: wmExtra},
		{name: "docProps/core.xml", body: fmt.Sprintf(coreXML, creator, modifier)},
		{name: "docProps/app.xml", body: fmt.Sprintf(appXML, company, manager)},
	})
}

func readZip(t testing.TB, b []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("zip does not open: %v", err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		body, err := io.ReadAll(rc) // checks the CRC at EOF
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		out[f.Name] = string(body)
	}
	return out
}

// The watermark field goes and every other byte of the archive is what
// the same writer makes without it.
func TestDOCXWatermarkFieldRemoved(t *testing.T) {
	want := docx(t, nil, "", "", "", "")
	dirty := docx(t, redStarExtra(t, "8295FF513293A", "77AA01"), "", "", "", "")
	fs, err := Check("a.docx", bytes.NewReader(dirty), int64(len(dirty)))
	if err != nil {
		t.Fatal(err)
	}
	w := kinds(fs, KindWatermark)
	if len(w) != 2 || !strings.Contains(w[0].Detail, "8295FF513293A, 77AA01") { // local and central copies
		t.Fatalf("Check findings %v", fs)
	}
	clean, _, err := Scrub("a.docx", dirty)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(clean, want) {
		t.Fatalf("scrubbed DOCX (%d bytes) is not the archive without the field (%d bytes)", len(clean), len(want))
	}
	readZip(t, clean)
	unzipTest(t, clean)
	// The standard, zero-filled growth hint on [Content_Types].xml stays.
	if !bytes.Contains(clean, growthHint(40)) {
		t.Fatal("zero growth hint removed")
	}
}

func TestDOCXAuthorsBlanked(t *testing.T) {
	dirty := docx(t, redStarExtra(t, "SN1"), "Kim Chol", "Pak Yong", "Korea Computer Center", "Ri")
	dirty = mustWatermark(t, dirty, "TRAILER1") // and a trailer after the archive
	clean, fs, err := Scrub("b.docx", dirty)
	if err != nil {
		t.Fatal(err)
	}
	got := readZip(t, clean)
	unzipTest(t, clean)
	orig := readZip(t, docx(t, nil, "Kim Chol", "Pak Yong", "Korea Computer Center", "Ri"))
	if got["docProps/core.xml"] != fmt.Sprintf(coreXML, "", "") || got["docProps/app.xml"] != fmt.Sprintf(appXML, "", "") {
		t.Fatalf("author fields left:\n%s\n%s", got["docProps/core.xml"], got["docProps/app.xml"])
	}
	for _, n := range []string{"[Content_Types].xml", "word/document.xml"} {
		if got[n] != orig[n] {
			t.Errorf("%s changed", n)
		}
	}
	all := fmtFindings(fs)
	for _, want := range []string{`dc:creator "Kim Chol"`, `cp:lastModifiedBy "Pak Yong"`, `Company "Korea Computer Center"`, `Manager "Ri"`, "TRAILER1", "SN1"} {
		if !strings.Contains(all, want) {
			t.Errorf("report lacks %q:\n%s", want, all)
		}
	}
	// Scrubbing again finds nothing and changes nothing.
	again, fs, _ := Scrub("b.docx", clean)
	if !bytes.Equal(again, clean) || len(fs) != 0 {
		t.Fatalf("second scrub: changed=%v findings %v", !bytes.Equal(again, clean), fs)
	}
}

func TestCleanDOCXUntouched(t *testing.T) {
	clean := docx(t, nil, "", "", "", "")
	out, fs, err := Scrub("c.docx", clean)
	if err != nil || !bytes.Equal(out, clean) || len(fs) != 0 {
		t.Fatalf("err %v changed %v findings %v", err, !bytes.Equal(out, clean), fs)
	}
}

func TestODTAuthorsBlanked(t *testing.T) {
	meta := `<?xml version="1.0" encoding="UTF-8"?><office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta><meta:initial-creator>Kim Chol</meta:initial-creator><dc:creator>Pak</dc:creator><meta:generator>LibreOffice</meta:generator></office:meta></office:document-meta>`
	dirty := buildZip(t, []zipPart{
		{name: "mimetype", body: "application/vnd.oasis.opendocument.text", stored: true},
		{name: "content.xml", body: "<office:document-content/>"},
		{name: "meta.xml", body: meta},
	})
	clean, fs, err := Scrub("d.odt", dirty)
	if err != nil {
		t.Fatal(err)
	}
	unzipTest(t, clean)
	got := readZip(t, clean)
	if strings.Contains(got["meta.xml"], "Kim") || strings.Contains(got["meta.xml"], "Pak") || !strings.Contains(got["meta.xml"], "<meta:generator>LibreOffice</meta:generator>") {
		t.Fatalf("meta.xml: %s", got["meta.xml"])
	}
	zr, _ := zip.NewReader(bytes.NewReader(clean), int64(len(clean)))
	if f := zr.File[0]; f.Name != "mimetype" || f.Method != zip.Store || !bytes.HasPrefix(clean[30:], []byte("mimetype")) {
		t.Fatal("mimetype is no longer the first, stored entry")
	}
	if len(kinds(fs, KindMetadata)) != 2 {
		t.Fatalf("findings %v", fs)
	}
}

func TestZIPMalformedLeftAlone(t *testing.T) {
	good := docx(t, redStarExtra(t, "X"), "Kim", "", "", "")
	for name, b := range map[string][]byte{
		"truncated":   good[:len(good)-30],
		"bad cd size": func() []byte { c := append([]byte(nil), good...); c[len(c)-10]++; return c }(),
		"no eocd":     good[:len(good)/2],
	} {
		out, fs, err := Scrub(name, b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out, b) || len(kinds(fs, KindWarning)) != 1 {
			t.Errorf("%s: changed=%v findings %v", name, !bytes.Equal(out, b), fs)
		}
	}
}

// unzipTest has Info-ZIP's unzip (an independent implementation) test the
// archive, when it is installed.
func unzipTest(t *testing.T, b []byte) {
	t.Helper()
	bin, err := exec.LookPath("unzip")
	if err != nil {
		t.Log("unzip not installed; independent check skipped")
		return
	}
	p := filepath.Join(t.TempDir(), "t.zip")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-tq", p).CombinedOutput(); err != nil {
		t.Fatalf("unzip -t: %v\n%s", err, out)
	}
}

// buildPDF makes a small PDF with a correct xref table.
func buildPDF(info string) []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [] /Count 0 >>",
		info,
		"<< /Length 30 >>\nstream\n/Author (inside a stream) Tj\nendstream",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	var offs []int
	for i, o := range objs {
		offs = append(offs, b.Len())
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	return b.Bytes()
}

func TestPDFInfoBlanked(t *testing.T) {
	dirty := buildPDF(`<< /Title (News) /Author (Kim \(Chol\) \\) /Creator <FEFF004B0069006D> /Producer(Red Star Office) /CreatorInfo (keep) >>`)
	clean, fs, err := Scrub("e.pdf", dirty)
	if err != nil {
		t.Fatal(err)
	}
	if len(clean) != len(dirty) {
		t.Fatal("PDF length changed")
	}
	s := string(clean)
	for _, gone := range []string{"Kim", "FEFF", "Red Star"} {
		if strings.Contains(s, gone) {
			t.Errorf("%q still in the PDF", gone)
		}
	}
	for _, kept := range []string{"/Title (News)", "/CreatorInfo (keep)", "/Author (inside a stream) Tj", "/Author ()", "/Creator <>", "/Producer()"} {
		if !strings.Contains(s, kept) {
			t.Errorf("%q missing:\n%s", kept, s)
		}
	}
	// Every xref offset still points at its object.
	x, _ := strconv.Atoi(regexp.MustCompile(`startxref\n(\d+)`).FindStringSubmatch(s)[1])
	for i, m := range regexp.MustCompile(`(\d{10}) 00000 n`).FindAllStringSubmatch(s[x:], -1) {
		o, _ := strconv.Atoi(m[1])
		if !strings.HasPrefix(s[o:], fmt.Sprintf("%d 0 obj", i+1)) {
			t.Errorf("xref entry %d no longer points at its object", i+1)
		}
	}
	if len(kinds(fs, KindMetadata)) != 3 {
		t.Errorf("findings %v", fs)
	}
}

// Pictures inside a document or EPUB lose their EXIF and any trailer too;
// the other entries are untouched.
func TestZIPEmbeddedImagesScrubbed(t *testing.T) {
	jpg := ownJPEG(t)
	png := ownPNG(t)
	tiff := buildTIFF([]tiffEntry{{tag: 0x013B, typ: 2, ascii: "Kim Chol"}}, nil, true)
	dirtyJPG := mustWatermark(t, insertAfterSOI(jpg, exifSegment(tiff)), "INNER1")
	dirtyPNG := insertAfterIHDR(png, pngChunkBytes("tEXt", []byte("Author\x00Kim")))
	dirty := buildZip(t, []zipPart{
		{name: "mimetype", body: "application/epub+zip", stored: true},
		{name: "OEBPS/images/photo.jpg", body: string(dirtyJPG), stored: true},
		{name: "OEBPS/images/logo.PNG", body: string(dirtyPNG)},
		{name: "OEBPS/text.xhtml", body: "<html><body>글</body></html>"},
	})
	clean, fs, err := Scrub("book.epub", dirty)
	if err != nil {
		t.Fatal(err)
	}
	unzipTest(t, clean)
	got := readZip(t, clean)
	if got["OEBPS/images/photo.jpg"] != string(jpg) || got["OEBPS/images/logo.PNG"] != string(png) {
		t.Fatal("embedded images not restored to the originals")
	}
	if got["OEBPS/text.xhtml"] != "<html><body>글</body></html>" || got["mimetype"] != "application/epub+zip" {
		t.Fatal("other entries changed")
	}
	all := fmtFindings(fs)
	for _, want := range []string{"INNER1", "GPS position", `"Author"`, "(in OEBPS/images/photo.jpg)"} {
		if !strings.Contains(all, want) {
			t.Errorf("report lacks %q:\n%s", want, all)
		}
	}
}

// TestPDFXMPAttributesBlanked: XMP written as attributes, and the document
// and history IDs, lose their values; lengths stay.
func TestPDFXMPAttributesBlanked(t *testing.T) {
	xmp := `<rdf:Description rdf:about="" xmp:CreatorTool="Kim's PC" pdf:Producer='Red Star Office'
 xmpMM:DocumentID="uuid:1111" xmpMM:OriginalDocumentID="uuid:2222" myxmp:CreatorTool="keep">
<xmpMM:History><rdf:Seq><rdf:li stEvt:softwareAgent="Red Star Writer" stEvt:instanceID="uuid:3333"/></rdf:Seq></xmpMM:History>
<xmpMM:DerivedFrom stRef:documentID="uuid:4444"/></rdf:Description>`
	dirty := buildPDF("<< /Type /Metadata /Subtype /XML /Length " + strconv.Itoa(len(xmp)) + " >>\nstream\n" + xmp + "\nendstream")
	clean, fs, err := Scrub("x.pdf", dirty)
	if err != nil {
		t.Fatal(err)
	}
	if len(clean) != len(dirty) {
		t.Fatal("PDF length changed")
	}
	s := string(clean)
	for _, gone := range []string{"Kim's PC", "Red Star", "1111", "2222", "3333", "4444"} {
		if strings.Contains(s, gone) {
			t.Errorf("%q still in the PDF", gone)
		}
	}
	if !strings.Contains(s, `myxmp:CreatorTool="keep"`) {
		t.Error("an attribute of another name was changed")
	}
	if n := len(kinds(fs, KindMetadata)); n != 7 {
		t.Errorf("%d findings: %v", n, fs)
	}
}

// TestSignedJARLeftWhole: in a signed JAR the pictures are not rewritten
// (that would break the signature) and a warning says so; the watermark
// extra field Red Star added is still removed.
func TestSignedJARLeftWhole(t *testing.T) {
	png := ownPNG(t)
	dirtyPNG := insertAfterIHDR(png, pngChunkBytes("tEXt", []byte("Author\x00Kim")))
	dirty := buildZip(t, []zipPart{
		{name: "META-INF/MANIFEST.MF", body: "Manifest-Version: 1.0\n"},
		{name: "META-INF/CERT.SF", body: "Signature-Version: 1.0\n"},
		{name: "META-INF/CERT.RSA", body: "sig"},
		{name: "res/logo.png", body: string(dirtyPNG), extra: redStarExtra(t, "JARMARK")},
	})
	clean, fs, err := Scrub("app.jar", dirty)
	if err != nil {
		t.Fatal(err)
	}
	if got := readZip(t, clean); got["res/logo.png"] != string(dirtyPNG) {
		t.Error("a picture inside a signed JAR was rewritten")
	}
	all := fmtFindings(fs)
	if !strings.Contains(all, "signed ZIP") || !strings.Contains(all, "JARMARK") {
		t.Errorf("findings:\n%s", all)
	}
	if again, err := Check("app.jar", bytes.NewReader(clean), int64(len(clean))); err != nil || strings.Contains(fmtFindings(again), "JARMARK") {
		t.Errorf("watermark left in: %v %s", err, fmtFindings(again))
	}
}
