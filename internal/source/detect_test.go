package source

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"ferry/internal/testkit/shared"
)

func TestDetectRealFiles(t *testing.T) {
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
			got, err := Detect(p)
			if err != nil || got != tc.want {
				t.Fatalf("Detect = %v, %v; want %v", got, err, tc.want)
			}
			// Content, not the name, decides: a copy without extension
			// is recognised the same way.
			if tc.want == FormatFolder {
				return
			}
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			anon := filepath.Join(t.TempDir(), "noext")
			if err := os.WriteFile(anon, data, 0o600); err != nil {
				t.Fatal(err)
			}
			if got, err := Detect(anon); got != tc.want {
				t.Errorf("without extension: %v, %v", got, err)
			}
		})
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
// seeded with the first 64 KiB of the real files.
func FuzzDetectBytes(f *testing.F) {
	for _, name := range []string{"warc/iana.warc.gz", "warc/example.warc", "epub/alice.epub", "feeds/gulp-releases.atom", "zim/small.zim"} {
		b, err := os.ReadFile(shared.Path(f, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[:min(len(b), sniffLen)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		DetectBytes(b)
	})
}
