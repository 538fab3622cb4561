package scrub

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the committed test vectors in testdata/")

// rawEntry is one stored entry of a ZIP built byte by byte, so that tests
// can make the local header disagree with the central record.
type rawEntry struct {
	name, localName string // localName "" means name
	body            []byte
	localExtra      []byte
	centralExtra    []byte
}

// rawZIP writes entries as stored (method 0) records without data
// descriptors, then the central directory and the end record.
func rawZIP(entries []rawEntry) []byte {
	le := binary.LittleEndian
	var out, cd []byte
	for _, e := range entries {
		ln := e.localName
		if ln == "" {
			ln = e.name
		}
		crc := crc32.ChecksumIEEE(e.body)
		off := len(out)
		out = le.AppendUint32(out, sigLocal)
		out = le.AppendUint16(out, 20) // version needed
		out = le.AppendUint16(out, 0)  // flags
		out = le.AppendUint16(out, 0)  // stored
		out = le.AppendUint32(out, 0)  // time, date
		out = le.AppendUint32(out, crc)
		out = le.AppendUint32(out, uint32(len(e.body)))
		out = le.AppendUint32(out, uint32(len(e.body)))
		out = le.AppendUint16(out, uint16(len(ln)))
		out = le.AppendUint16(out, uint16(len(e.localExtra)))
		out = append(append(append(out, ln...), e.localExtra...), e.body...)

		cd = le.AppendUint32(cd, sigCentral)
		cd = le.AppendUint16(cd, 20) // made by
		cd = le.AppendUint16(cd, 20) // needed
		cd = le.AppendUint16(cd, 0)
		cd = le.AppendUint16(cd, 0)
		cd = le.AppendUint32(cd, 0)
		cd = le.AppendUint32(cd, crc)
		cd = le.AppendUint32(cd, uint32(len(e.body)))
		cd = le.AppendUint32(cd, uint32(len(e.body)))
		cd = le.AppendUint16(cd, uint16(len(e.name)))
		cd = le.AppendUint16(cd, uint16(len(e.centralExtra)))
		cd = le.AppendUint16(cd, 0) // comment
		cd = le.AppendUint16(cd, 0) // disk
		cd = le.AppendUint16(cd, 0) // internal attributes
		cd = le.AppendUint32(cd, 0) // external attributes
		cd = le.AppendUint32(cd, uint32(off))
		cd = append(append(cd, e.name...), e.centralExtra...)
	}
	cdOff := len(out)
	out = append(out, cd...)
	out = le.AppendUint32(out, sigEOCD)
	out = le.AppendUint32(out, 0) // disks
	out = le.AppendUint16(out, uint16(len(entries)))
	out = le.AppendUint16(out, uint16(len(entries)))
	out = le.AppendUint32(out, uint32(len(cd)))
	out = le.AppendUint32(out, uint32(cdOff))
	return le.AppendUint16(out, 0)
}

// shortLocalNameZIP is a 471-byte DOCX-like ZIP whose first local header
// names "a" where the central record names "[Content_Types].xml": the old
// code sliced the local extra field by the central name's length and
// panicked (slice bounds out of range in scrubZIP), which stopped `ferry
// scrub`, pack and export at that file, leaving the files after it
// unscrubbed.
func shortLocalNameZIP() []byte {
	return rawZIP([]rawEntry{
		{name: "[Content_Types].xml", localName: "a", body: []byte(`<?xml version="1.0"?><Types/>`)},
		{name: "word/document.xml", body: []byte(`<w:document>news week 42</w:document>`)},
		{name: "docProps/core.xml", body: []byte(`<cp:coreProperties><dc:creator>Kim</dc:creator></cp:coreProperties>`)},
	})
}

// TestMalformedZIPReported (issue 14 item 1): the malformed ZIP gets a
// finding (never a panic); the trailer on it is still removed, its author
// field still blanked, and a walk goes on to the files after it.
func TestMalformedZIPReported(t *testing.T) {
	bad := shortLocalNameZIP()
	if len(bad) != 471 {
		t.Fatalf("the vector is %d bytes, want 471", len(bad))
	}
	vector := filepath.Join("testdata", "short-local-name.docx")
	if *update {
		if err := os.WriteFile(vector, bad, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := os.ReadFile(vector)
	if err != nil || !bytes.Equal(committed, bad) {
		t.Fatalf("%s is not the vector (%v); run go test -run TestMalformedZIPReported -update", vector, err)
	}
	clean, fs, err := Scrub("bad.docx", mustWatermark(t, bad, "CARD0001"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(clean), "Kim") || len(clean) == 0 {
		t.Errorf("author field left in place: %v", fs)
	}
	if w := kinds(fs, KindWatermark); len(w) != 1 || !w[0].Removed {
		t.Errorf("findings %v", fs)
	}
	if _, err := Check("bad.docx", bytes.NewReader(bad), int64(len(bad))); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.docx"), bad, 0o600)
	os.WriteFile(filepath.Join(dir, "b.jpg"), mustWatermark(t, ownJPEG(t), "CARD0002"), 0o600)
	seen := map[string]bool{}
	err = Walk(dir, false, func(p string, fs []Finding, err error) error {
		if err != nil {
			t.Errorf("%s: %v", p, err)
		}
		seen[filepath.Base(p)] = true
		return nil
	})
	if err != nil || !seen["a.docx"] || !seen["b.jpg"] {
		t.Fatalf("walk: %v, saw %v", err, seen)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "b.jpg")); !bytes.Equal(b, ownJPEG(t)) {
		t.Error("the file after the malformed ZIP was not scrubbed")
	}
}

// TestZIPHeaderDisagreements: local and central records that disagree in
// other ways are reported or handled, never a panic.
func TestZIPHeaderDisagreements(t *testing.T) {
	hint := growthHint(8)
	cases := map[string][]byte{
		"long local name":         rawZIP([]rawEntry{{name: "a", localName: "a-much-longer-local-name.xml", body: []byte("x")}}),
		"local extra only":        rawZIP([]rawEntry{{name: "a.xml", body: []byte("x"), localExtra: hint}}),
		"central extra only":      rawZIP([]rawEntry{{name: "a.xml", body: []byte("x"), centralExtra: hint}}),
		"empty names":             rawZIP([]rawEntry{{name: "", body: []byte("x")}}),
		"truncated local extra":   rawZIP([]rawEntry{{name: "a.xml", body: []byte("x"), localExtra: hint[:3]}}),
		"watermark, short name":   rawZIP([]rawEntry{{name: "docProps/core.xml", localName: "d", body: []byte("<dc:creator>K</dc:creator>"), localExtra: redStarExtra(t, "Z1")}}),
		"image entry, short name": rawZIP([]rawEntry{{name: "word/media/image1.png", localName: "i", body: ownTextPNG(t)}}),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			clean, fs, err := Scrub(name+".docx", b)
			if err != nil {
				t.Fatal(err)
			}
			again, _, err := Scrub(name+".docx", clean)
			if err != nil || !bytes.Equal(again, clean) {
				t.Fatalf("a second scrub changed the result again: %v", err)
			}
			_ = fs
		})
	}
}

// TestZIPInflateBudget: a ZIP of many small deflate bombs named like
// pictures is not inflated without end: past the budget the entries are
// left as they are, with a warning.
func TestZIPInflateBudget(t *testing.T) {
	var parts []zipPart
	bomb := strings.Repeat("\x00", 3<<20) // deflates to a few KiB
	for i := 0; i < 8; i++ {
		parts = append(parts, zipPart{name: "p/" + string(rune('a'+i)) + ".png", body: bomb})
	}
	b := buildZip(t, parts)
	if len(b) > 200<<10 {
		t.Fatalf("test ZIP is %d bytes", len(b))
	}
	_, fs, err := Scrub("bombs.epub", b)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fmtFindings(fs), "over the total this ZIP may inflate to") {
		t.Fatalf("no budget warning: %v", fs)
	}
}

// TestPanicBecomesError: should a parser still have a bug, Scrub, Check and
// ScrubFile return an error naming the file instead of panicking, so a walk
// over a card goes on.
func TestPanicBecomesError(t *testing.T) {
	defer func(f func([]byte) ([]byte, []Finding)) { scrubbers[fmtZIP] = f }(scrubbers[fmtZIP])
	scrubbers[fmtZIP] = func([]byte) ([]byte, []Finding) { panic("boom") }
	b := docx(t, nil, "", "", "", "")
	if _, _, err := Scrub("x.docx", b); !errors.Is(err, ErrInternal) || !strings.Contains(err.Error(), "x.docx") {
		t.Fatalf("Scrub: %v", err)
	}
	if _, err := Check("x.docx", bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrInternal) {
		t.Fatalf("Check: %v", err)
	}
	p := filepath.Join(t.TempDir(), "x.docx")
	os.WriteFile(p, b, 0o600)
	if _, err := ScrubFile(p, false); !errors.Is(err, ErrInternal) || !strings.Contains(err.Error(), p) {
		t.Fatalf("ScrubFile: %v", err)
	}
	if got, _ := os.ReadFile(p); !bytes.Equal(got, b) {
		t.Fatal("file changed")
	}
}

// TestPDFScanBounded: a PDF full of "/Author (" with no closing bracket
// made the old code look from every key to the end of the file (quadratic:
// minutes for a few MB); now each look stops after 64 KiB, all looks
// together read at most a few times the file, and warnings say what was
// left. A real author field after a long unclosed one is still blanked.
func TestPDFScanBounded(t *testing.T) {
	unclosed := buildPDF("<< /Author (" + strings.Repeat("x", 70<<10) + " >>\n<< /Creator (Kim) >>")
	clean, fs, err := Scrub("long.pdf", unclosed)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fmtFindings(fs), "longer than 64 KiB or not closed") || strings.Contains(string(clean), "(Kim)") {
		t.Errorf("findings %v", fs)
	}
	flood := buildPDF(strings.Repeat("/Author (", 300<<10/9))
	_, fs, err = Scrub("flood.pdf", flood)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fmtFindings(fs), "too many unclosed strings") {
		t.Errorf("no budget warning: %v", fs)
	}
}

// TestFindingsCapped: a file with thousands of author fields gets at most
// maxFindings lines, the last saying how many more (all are still blanked).
func TestFindingsCapped(t *testing.T) {
	pdf := buildPDF(strings.Repeat("<< /Author (Kim) >>\n", 1000))
	clean, fs, err := Scrub("many.pdf", pdf)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != maxFindings || !strings.Contains(fs[len(fs)-1].Detail, "801 more findings not listed (801 of them removed)") {
		t.Errorf("%d findings, last %v", len(fs), fs[len(fs)-1])
	}
	if strings.Contains(string(clean), "(Kim)") {
		t.Error("an author field was left")
	}
}

// TestManyAuthorElementsBlanked: blanking is one pass per element name
// (the old code copied the whole part once per element found).
func TestManyAuthorElementsBlanked(t *testing.T) {
	core := "<cp:coreProperties>" + strings.Repeat("<dc:creator>Kim</dc:creator><cp:lastModifiedBy> Pak </cp:lastModifiedBy><dc:creator/>", 2000) + "</cp:coreProperties>"
	b := buildZip(t, []zipPart{{name: "docProps/core.xml", body: core}})
	clean, _, err := Scrub("many.docx", b)
	if err != nil {
		t.Fatal(err)
	}
	got := readZip(t, clean)["docProps/core.xml"]
	want := "<cp:coreProperties>" + strings.Repeat("<dc:creator></dc:creator><cp:lastModifiedBy></cp:lastModifiedBy><dc:creator/>", 2000) + "</cp:coreProperties>"
	if got != want {
		t.Fatalf("core.xml after scrubbing: %.200q…", got)
	}
}
