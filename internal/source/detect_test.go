package source

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"ferry/internal/testkit/shared"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// TestDetectRealFiles detects other people's real files (the shared test
// data); TestDetectOwnFiles does the same on files our own code writes.
func TestDetectRealFiles(t *testing.T) {
	if st, err := os.Stat(shared.Root()); shared.Root() == "" || err != nil || !st.IsDir() {
		t.Skip("shared test data not found (../shared/testdata or FERRY_TESTDATA): real WARC, EPUB, feed and ZIM files were not detected; our own were")
	}
	for _, tc := range []struct {
		name string
		want Format
	}{
		{"warc/iana.warc.gz", FormatWARC},
		{"warc/example.warc.gz", FormatWARC},
		{"warc/example.warc", FormatWARC},
		{"epub/alice.epub", FormatEPUB},
		{"feeds/gulp-releases.atom", FormatFeed},
		{"zim/small.zim", FormatZIM},
		{"zim/wikibooks_be_all_nopic_2017-02_oldns_xz.zim", FormatZIM},
		{"html/wikibooks_en", FormatFolder},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := shared.Path(t, tc.name)
			if tc.want == FormatFolder {
				if got, err := Detect(p); err != nil || got != tc.want {
					t.Fatalf("Detect = %v, %v; want %v", got, err, tc.want)
				}
				return
			}
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			detectFile(t, p, data, tc.want)
		})
	}
}

// detectFile checks that the file at p, holding data, is detected as want,
// and so is a copy without an extension and one with a wrong extension:
// content, not the name, decides.
func detectFile(t *testing.T, p string, data []byte, want Format) {
	t.Helper()
	if got, err := Detect(p); err != nil || got != want {
		t.Fatalf("Detect = %v, %v; want %v", got, err, want)
	}
	dir := t.TempDir()
	for _, name := range []string{"noext", "wrong.html", "wrong.epub"} {
		anon := filepath.Join(dir, name)
		if err := os.WriteFile(anon, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := Detect(anon); got != want {
			t.Errorf("named %s: %v, %v", name, got, err)
		}
	}
}

func TestDetectRejects(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"page.html":  "<!DOCTYPE html><html><body>hi</body></html>",
		"fake.epub":  "PK\x03\x04 not really",
		"text.warc":  "hello",
		"empty.atom": "",
		"svg.xml":    `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`,
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o600)
		if f, err := Detect(p); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("%s: %v, %v; want ErrUnknownFormat", name, f, err)
		}
	}
	for _, tc := range []struct {
		head string
		want Format
	}{
		{"\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"EUC-KR\"?>\n<!-- c --><rss version=\"2.0\">", FormatFeed},
		{`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">`, FormatFeed},
		{"<feed xmlns=\"http://www.w3.org/2005/Atom\">", FormatFeed},
		{"WARC/1.1\r\n", FormatWARC},
		{"ZIM\x04\x06\x00", FormatZIM},
	} {
		if got := DetectBytes([]byte(tc.head)); got != tc.want {
			t.Errorf("DetectBytes(%q) = %v, want %v", tc.head, got, tc.want)
		}
	}
	if _, err := Detect(filepath.Join(dir, "absent")); err == nil {
		t.Error("missing file detected")
	}
}

// FuzzDetectBytes checks that no input makes the sniffer panic or hang,
// seeded with the files our own code writes (ownFiles) and, when the
// shared test data is there, the first 64 KiB of real files.
func FuzzDetectBytes(f *testing.F) {
	for _, v := range ownFiles(f) {
		if !v.dir {
			f.Add(v.data[:min(len(v.data), sniffLen)])
		}
	}
	if root := shared.Root(); root != "" {
		for _, name := range []string{"warc/iana.warc.gz", "warc/example.warc", "epub/alice.epub", "feeds/gulp-releases.atom", "zim/small.zim"} {
			if b, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name))); err == nil {
				f.Add(b[:min(len(b), sniffLen)])
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got := DetectBytes(b)
		if got < FormatUnknown || got > FormatEPUB || got == FormatFolder {
			t.Fatalf("DetectBytes gave %v", got)
		}
	})
}

// TestDetectFeedEncodings: feeds in UTF-16 and UTF-32, with and without a
// byte order mark, and JSON Feeds are recognised (they were not).
func TestDetectFeedEncodings(t *testing.T) {
	rss := `<?xml version="1.0"?><rss version="2.0"><channel><title>소식</title></channel></rss>`
	for name, enc := range map[string]encoding.Encoding{
		"utf16le-bom": unicode.UTF16(unicode.LittleEndian, unicode.UseBOM),
		"utf16be-bom": unicode.UTF16(unicode.BigEndian, unicode.UseBOM),
		"utf16le":     unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM),
		"utf16be":     unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM),
		"utf32le-bom": utf32.UTF32(utf32.LittleEndian, utf32.UseBOM),
		"utf32be-bom": utf32.UTF32(utf32.BigEndian, utf32.UseBOM),
		"utf32le":     utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM),
		"utf32be":     utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM),
	} {
		b, err := enc.NewEncoder().Bytes([]byte(rss))
		if err != nil {
			t.Fatal(err)
		}
		if f := DetectBytes(b); f != FormatFeed {
			t.Errorf("%s: detected %v", name, f)
		}
		// Cut in the middle of a code unit: still a feed, no panic.
		if f := DetectBytes(b[:len(b)-1]); f != FormatFeed {
			t.Errorf("%s cut short: detected %v", name, f)
		}
	}
	for _, j := range []string{
		`{"version": "https://jsonfeed.org/version/1.1", "title": "소식", "items": []}`,
		"\ufeff{\n  \"title\": \"x\",\n  \"version\" : \"https://jsonfeed.org/version/1\"}",
	} {
		if f := DetectBytes([]byte(j)); f != FormatFeed {
			t.Errorf("JSON Feed %q: detected %v", j, f)
		}
	}
	if f := DetectBytes([]byte(`{"version": "1.0", "name": "not a feed"}`)); f != FormatUnknown {
		t.Errorf("plain JSON detected as %v", f)
	}
}
