package scrub

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ferry/internal/testkit/shared"
)

// No false positives: nothing in our own corpus (the built-in sample
// library's pages and pictures, and this package's clean vectors) nor, when
// it is there, in the shared test data (other people's HTML, images, ZIM,
// WARC, EPUB, feeds...) is a Red Star watermark, every image that decoded
// still decodes the same, and files without metadata stay byte-identical.
func TestNoFalsePositives(t *testing.T) {
	own := map[string][]byte{"own.jpg": ownJPEG(t), "own.png": ownPNG(t), "own.gif": ownGIF(t), "own.mp4": ownMP4,
		"motion.jpg": append(ownJPEG(t), motionVideo...), "own.pdf": buildPDF("<< /Title (x) >>"), "own.docx": docx(t, nil, "", "", "", "")}
	n := 0
	for name, b := range own {
		if noFalsePositive(t, name, b) {
			t.Errorf("%s: a clean vector was changed", name)
		}
		n++
	}
	walk := func(root string) (int, int) {
		files, changed := 0, 0
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files++
			if noFalsePositive(t, p, data) {
				changed++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return files, changed
	}
	files, changed := walk(filepath.Join("..", "sample", "content"))
	if files < 10 || changed != 0 {
		t.Errorf("sample library: %d files, %d changed (it has no metadata to lose)", files, changed)
	}
	n += files
	if root := shared.Root(); root != "" {
		if _, err := os.Stat(root); err == nil {
			files, changed := walk(root)
			t.Logf("shared test data: %d files checked, %d would lose metadata", files, changed)
			n += files
		}
	} else {
		t.Log("shared test data not found: checked our own corpus only")
	}
	t.Logf("%d files checked", n)
}

// noFalsePositive checks one clean file and reports whether scrubbing
// changed it (removing metadata is fine; a watermark finding is not).
func noFalsePositive(t *testing.T, p string, data []byte) bool {
	fs, err := Check(p, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Errorf("%s: %v", p, err)
		return false
	}
	if len(kinds(fs, KindWatermark))+len(kinds(fs, KindSuspicious)) != 0 {
		t.Errorf("%s: false positive %v", p, fs)
	}
	clean, sfs, err := Scrub(p, data)
	if err != nil {
		t.Errorf("%s: %v", p, err)
		return false
	}
	removed := false
	for _, f := range sfs {
		removed = removed || f.Removed
	}
	if !removed && !bytes.Equal(clean, data) {
		t.Errorf("%s: changed although nothing was removed", p)
	}
	if _, ok := zipContents(data, false); ok {
		if _, ok := zipContents(clean, false); !ok {
			t.Errorf("%s: archive no longer reads after scrubbing", p)
		}
	}
	if before, err := decodes(data); err == nil {
		after, err := decodes(clean)
		if err != nil || !samePixels(before, after) {
			t.Errorf("%s: image no longer decodes the same: %v", p, err)
		}
	}
	return !bytes.Equal(clean, data)
}

func TestScrubFileAndWalk(t *testing.T) {
	dir := t.TempDir()
	jpg := ownJPEG(t)
	old := time.Date(2019, 4, 15, 8, 30, 0, 0, time.UTC)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o640); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old)
		return p
	}
	wmPath := write("photo.jpg", mustWatermark(t, jpg, "DISK0001"))
	cleanPath := write("clean.jpg", jpg)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	videoPath := write("sub/film.mp4", mustWatermark(t, []byte("\x00\x00\x00\x18ftypmp42 film"), "DISK0002", "DISK0003"))

	// Check mode changes nothing.
	fs, err := ScrubFile(wmPath, true)
	if err != nil || !HasWatermark(fs) {
		t.Fatalf("check: %v %v", fs, err)
	}
	if b, _ := os.ReadFile(wmPath); bytes.Equal(b, jpg) {
		t.Fatal("check mode changed the file")
	}

	got := map[string][]Finding{}
	err = Walk(dir, false, func(p string, fs []Finding, err error) error {
		if err != nil {
			t.Errorf("%s: %v", p, err)
		}
		got[filepath.Base(p)] = fs
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !HasWatermark(got["photo.jpg"]) || !HasWatermark(got["film.mp4"]) || len(got["clean.jpg"]) != 0 {
		t.Fatalf("walk findings %v", got)
	}
	for _, p := range []string{wmPath, cleanPath} {
		b, _ := os.ReadFile(p)
		if !bytes.Equal(b, jpg) {
			t.Errorf("%s: not the original image", p)
		}
		st, _ := os.Stat(p)
		if st.Mode().Perm() != 0o640 || !st.ModTime().Equal(old) {
			t.Errorf("%s: mode %v mtime %v, want 0640 and %v", p, st.Mode().Perm(), st.ModTime(), old)
		}
	}
	if b, _ := os.ReadFile(videoPath); string(b) != "\x00\x00\x00\x18ftypmp42 film" {
		t.Errorf("video: % x", b)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
	if _, err := ScrubFile(dir, false); err == nil {
		t.Error("ScrubFile accepted a folder")
	}
}

// Files over the in-memory limit lose only the trailer, streamed.
func TestLargeFilePath(t *testing.T) {
	defer func(v int64) { inMemoryLimit = v }(inMemoryLimit)
	inMemoryLimit = 1000
	body := bytes.Repeat([]byte("video frame "), 500)
	p := filepath.Join(t.TempDir(), "big.avi")
	os.WriteFile(p, mustWatermark(t, body, "BIGDISK"), 0o600)
	fs, err := ScrubFile(p, true)
	if err != nil || !HasWatermark(fs) || len(kinds(fs, KindWarning)) != 0 {
		t.Fatalf("check: %v %v", fs, err)
	}
	fs, err = ScrubFile(p, false)
	if err != nil || !HasWatermark(fs) {
		t.Fatalf("scrub: %v %v", fs, err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, body) {
		t.Fatal("large file not restored")
	}
	// A JPEG over the limit: the trailer goes, and the report says the
	// embedded metadata was not looked at.
	jpg := insertAfterSOI(ownJPEG(t), jpegSegment(0xFE, bytes.Repeat([]byte("comment "), 200)))
	p = filepath.Join(t.TempDir(), "big.jpg")
	os.WriteFile(p, mustWatermark(t, jpg, "BIGDISK"), 0o600)
	fs, err = ScrubFile(p, false)
	if err != nil || !HasWatermark(fs) || len(kinds(fs, KindWarning)) != 1 {
		t.Fatalf("scrub big JPEG: %v %v", fs, err)
	}
	if b, _ := os.ReadFile(p); !bytes.Equal(b, jpg) {
		t.Fatal("large JPEG not restored")
	}
	if _, _, err := Scrub("big", make([]byte, 2000)); err == nil {
		t.Fatal("Scrub accepted more than the limit")
	}
}

func TestWalkSymlinkRoot(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "a.jpg")
	os.WriteFile(target, mustWatermark(t, ownJPEG(t), "S"), 0o600)
	link := filepath.Join(dir, "link.jpg")
	if err := os.Symlink(target, link); err != nil {
		t.Skip("symlinks not available:", err)
	}
	var got error
	Walk(link, false, func(p string, fs []Finding, err error) error { got = err; return nil })
	if !errors.Is(got, ErrNotRegular) {
		t.Fatalf("got %v", got)
	}
}
