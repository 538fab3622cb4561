package scrub

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
)

// The ciphertext/plaintext pair published in redstar-tools
// watermarked/README.md (see docs/scrub.md).
func TestPublishedMarkDecrypts(t *testing.T) {
	ct := []byte{0x79, 0x08, 0xdf, 0xd0, 0xe0, 0x92, 0xb2, 0xd1, 0x28, 0x24, 0x7e, 0x20,
		0x31, 0x59, 0x75, 0xb2, 0x5a, 0x13, 0xa0, 0xe6, 0x29, 0x4b, 0x75, 0xb1}
	s, ok := markSerial(decryptMark(ct))
	if !ok || s != "WM8295FF513293A"[2:] {
		t.Fatalf("got %q %v, want serial 8295FF513293A", s, ok)
	}
	// And AppendWatermark makes exactly that ciphertext.
	b := mustWatermark(t, nil, "8295FF513293A")
	if !bytes.Equal(b[:24], ct) || string(b[24:]) != "\x18\x00\x00\x00EOF" {
		t.Fatalf("AppendWatermark = % x", b)
	}
}

func TestTrailerRoundTrip(t *testing.T) {
	blob := []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + strings.Repeat("\x00\x01mdat", 40))
	avi := append([]byte("RIFF\x10\x00\x00\x00AVI LIST"), bytes.Repeat([]byte{0xAB, 0x00}, 300)...)
	inputs := map[string][]byte{
		"jpeg": ownJPEG(t),
		"png":  ownPNG(t),
		"gif":  ownGIF(t),
		"mp4":  blob,
		"avi":  avi,
		"text": []byte("plain text that happens to end with EOF"),
	}
	for name, orig := range inputs {
		for _, n := range []int{1, 2, 3, 11, 12} { // 11+ marks: length no longer fits one byte
			t.Run(fmt.Sprintf("%s/%d", name, n), func(t *testing.T) {
				var serials []string
				for i := 0; i < n; i++ {
					serials = append(serials, fmt.Sprintf("%08X%05d", 0xC0FFEE+i, i))
				}
				wm := mustWatermark(t, orig, serials...)
				before := append([]byte(nil), wm...)
				// Check reports and changes nothing.
				fs, err := Check(name, bytes.NewReader(wm), int64(len(wm)))
				if err != nil {
					t.Fatal(err)
				}
				w := kinds(fs, KindWatermark)
				if len(w) != 1 || w[0].Removed || !strings.Contains(w[0].Detail, serials[n-1]) || !strings.Contains(w[0].Detail, fmt.Sprintf("%d mark(s)", n)) {
					t.Fatalf("Check findings %v", fs)
				}
				if !bytes.Equal(wm, before) {
					t.Fatal("Check changed its input")
				}
				clean, fs, err := Scrub(name, wm)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(clean, orig) {
					t.Fatalf("scrubbed %d bytes, want the %d original bytes", len(clean), len(orig))
				}
				if w := kinds(fs, KindWatermark); len(w) != 1 || !w[0].Removed {
					t.Fatalf("Scrub findings %v", fs)
				}
				if name == "jpeg" || name == "png" || name == "gif" {
					if _, err := decodes(clean); err != nil {
						t.Fatalf("scrubbed image does not decode: %v", err)
					}
				}
			})
		}
	}
}

// A file passed through two Red Star machines that each appended a whole
// trailer (rather than extending one) loses both.
func TestStackedTrailers(t *testing.T) {
	orig := ownJPEG(t)
	wm := mustWatermark(t, mustWatermark(t, orig, "FIRST0001"), "SECOND0002", "THIRD0003")
	clean, fs, err := Scrub("x.jpg", wm)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(clean, orig) {
		t.Fatal("stacked trailers not fully removed")
	}
	d := kinds(fs, KindWatermark)[0].Detail
	for _, s := range []string{"FIRST0001", "SECOND0002", "THIRD0003", "2 trailer(s)"} {
		if !strings.Contains(d, s) {
			t.Errorf("detail %q lacks %s", d, s)
		}
	}
}

// TestTrailerCutWhateverComesBefore (issue 13 item 15): a verified trailer
// is cut exactly, whatever is before it: a photo with bytes after its
// end-of-image marker (a Motion Photo's video, an editor's data), a
// truncated picture, a PNG with bytes after IEND, a video, a PDF, a DOCX.
// The old code refused the JPEG, PNG and GIF cases ("the bytes before it do
// not end with a complete image").
func TestTrailerCutWhateverComesBefore(t *testing.T) {
	jpg, png, gif := ownJPEG(t), ownPNG(t), ownGIF(t)
	motion := append(append([]byte(nil), jpg...), motionVideo...)
	cases := []struct {
		name string
		orig []byte
		want []byte // after scrubbing; nil: orig
	}{
		{"motion photo", motion, nil},
		// The phone's metadata goes too; the video stays.
		{"camera motion photo", append(cameraJPEG(t), motionVideo...), motion},
		{"jpeg with editor data", append(append([]byte(nil), jpg...), "\x00\x00Photoshop trailer"...), nil},
		{"jpeg truncated", jpg[:len(jpg)-2], nil},
		{"png with bytes after IEND", append(append([]byte(nil), png...), "extra"...), nil},
		{"png truncated", png[:len(png)-5], nil},
		{"gif truncated", gif[:len(gif)-1], nil},
		{"mp4", ownMP4, nil},
		{"pdf", buildPDF("<< /Title (x) >>"), nil},
		{"docx", docx(t, nil, "", "", "", ""), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := c.want
			if want == nil {
				want = c.orig
			}
			for _, serials := range [][]string{{"ABCDEF"}, {"ONE1", "TWO2"}} {
				wm := mustWatermark(t, c.orig, serials...)
				fs, err := Check(c.name, bytes.NewReader(wm), int64(len(wm)))
				if err != nil || len(kinds(fs, KindWatermark)) != 1 {
					t.Fatalf("Check: %v %v", fs, err)
				}
				clean, fs, err := Scrub(c.name, wm)
				if err != nil {
					t.Fatal(err)
				}
				if w := kinds(fs, KindWatermark); len(w) != 1 || !w[0].Removed || !strings.Contains(w[0].Detail, serials[len(serials)-1]) {
					t.Fatalf("findings %v", fs)
				}
				if !bytes.Equal(clean, want) {
					t.Fatalf("scrubbed to %d bytes, want %d", len(clean), len(want))
				}
				// Stacked on a trailer that is already there: both go.
				wm2 := mustWatermark(t, wm, "THIRD3")
				if clean2, _, _ := Scrub(c.name, wm2); !bytes.Equal(clean2, want) {
					t.Fatalf("stacked trailers: %d bytes, want %d", len(clean2), len(want))
				}
			}
		})
	}
}

func TestTrailerLookalikes(t *testing.T) {
	orig := ownPNG(t)
	junk := bytes.Repeat([]byte{0x5A}, 48)
	cases := map[string]struct {
		data       []byte
		suspicious bool
	}{
		// Right length and tag, but the marks do not decrypt to "WM".
		"bad marks": {append(append(append([]byte(nil), orig...), junk...), binary.LittleEndian.AppendUint32(nil, 48)...), true},
		// Length not a multiple of 24.
		"bad length": {append(append(append([]byte(nil), orig...), junk...), binary.LittleEndian.AppendUint32(nil, 47)...), false},
		// Length larger than the file.
		"huge length": {append(append([]byte(nil), orig...), binary.LittleEndian.AppendUint32(nil, 0xFFFFFFF0)...), false},
		"zero length": {append(append([]byte(nil), orig...), 0, 0, 0, 0), false},
	}
	for name, c := range cases {
		data := append(c.data, "EOF"...)
		clean, fs, err := Scrub(name, data)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(clean, data) {
			t.Errorf("%s: file changed", name)
		}
		if len(kinds(fs, KindWatermark)) != 0 || (len(kinds(fs, KindSuspicious)) == 1) != c.suspicious {
			t.Errorf("%s: findings %v", name, fs)
		}
	}
}

// TestManyStackedTrailers: a file through 100 machines that each appended
// a whole trailer loses all of them in one pass (the old code stopped at
// 64, so a second scrub found more), and the finding lists 32 serials and
// counts the rest.
func TestManyStackedTrailers(t *testing.T) {
	orig := ownMP4
	wm := orig
	for i := 0; i < 100; i++ {
		wm = mustWatermark(t, wm, fmt.Sprintf("DISK%04d", i))
	}
	clean, fs, err := Scrub("film.mp4", wm)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(clean, orig) {
		t.Fatalf("%d bytes left, want %d", len(clean), len(orig))
	}
	w := kinds(fs, KindWatermark)
	if len(w) != 1 || !strings.Contains(w[0].Detail, "100 mark(s) in 100 trailer(s)") || !strings.Contains(w[0].Detail, "DISK0099") || !strings.Contains(w[0].Detail, "and 68 more") {
		t.Fatalf("findings %v", fs)
	}
}

func TestAppendWatermarkSerialTooLong(t *testing.T) {
	if _, err := AppendWatermark(nil, strings.Repeat("9", 23)); err == nil {
		t.Fatal("23-byte serial accepted")
	}
}
