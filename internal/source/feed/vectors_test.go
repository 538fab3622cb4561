package feed

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"

	"ferry/internal/source"
	"ferry/internal/source/sourcetest"
	"ferry/internal/testkit/golden"
)

// Our own feeds (text of our own), one per format and encoding a reader
// meets, committed under testdata/ and rewritten by -update. Each lists
// the feed title and the item titles a reader must see.
type vector struct {
	name  string
	data  func() []byte
	title string
	items []string
}

const rss2 = `<?xml version="1.0" encoding="%s"?>
<rss version="2.0"><channel><title>Village news</title><link>http://village.example/</link><language>en</language>
<item><title>Use &lt;div&gt; wisely</title><link>/div</link><description>&lt;p&gt;A &lt;b&gt;div&lt;/b&gt; is a box.&lt;/p&gt;</description><pubDate>Mon, 03 Jun 2024 09:00:00 +0000</pubDate></item>
<item><title>The well is fixed &amp; clean</title><description>Water again, 물이 다시 나온다.</description><pubDate>Sun, 02 Jun 2024 09:00:00 +0000</pubDate></item>
<item><title>&lt;b&gt;Market&lt;/b&gt; day</title><description>Apples and pears.</description></item>
</channel></rss>
`

func utf(enc string, b []byte) []byte {
	switch enc {
	case "utf-16le-bom":
		out, _ := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes(b)
		return out
	case "utf-16be":
		out, _ := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM).NewEncoder().Bytes(b)
		return out
	case "utf-32le-bom":
		out, _ := utf32.UTF32(utf32.LittleEndian, utf32.UseBOM).NewEncoder().Bytes(b)
		return out
	case "utf-32be":
		out, _ := utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM).NewEncoder().Bytes(b)
		return out
	}
	panic(enc)
}

func sprintf(format, arg string) []byte { return []byte(strings.Replace(format, "%s", arg, 1)) }

var rss2Items = []string{"Use <div> wisely", "The well is fixed & clean", "Market day"}

var vectors = []vector{
	{"rss090.rdf", func() []byte {
		return []byte(`<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/">
<channel><title>Old news</title><link>http://old.example/</link><description>An RSS 0.90 feed</description></channel>
<item><title>First post</title><link>http://old.example/1</link></item>
<item><title>Second post</title><link>http://old.example/2</link></item>
</rdf:RDF>
`)
	}, "Old news", []string{"First post", "Second post"}},
	{"rss091.xml", func() []byte {
		return []byte(`<?xml version="1.0" encoding="ISO-8859-1"?>
<rss version="0.91"><channel><title>Caf` + "\xe9" + ` notes</title><link>http://cafe.example/</link><description>Latin-1</description><language>fr</language>
<item><title>Cr` + "\xe8" + `me br` + "\xfb" + `l` + "\xe9" + `e</title><link>http://cafe.example/creme</link><description>Sugar on top.</description></item>
</channel></rss>
`)
	}, "Café notes", []string{"Crème brûlée"}},
	{"rss092.xml", func() []byte {
		return []byte(`<?xml version="1.0"?>
<rss version="0.92"><channel><title>Radio hour</title><link>http://radio.example/</link><description>0.92</description>
<item><title>Evening songs</title><description>Songs for the evening.</description><enclosure url="http://radio.example/a.mp3" length="1" type="audio/mpeg"/></item>
</channel></rss>
`)
	}, "Radio hour", []string{"Evening songs"}},
	{"rss20.xml", func() []byte { return sprintf(rss2, "utf-8") }, "Village news", rss2Items},
	{"rss10.rdf", func() []byte {
		return []byte(`<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="http://rdf.example/"><title>봄 소식</title><link>http://rdf.example/</link><description>RSS 1.0</description><dc:language>ko</dc:language></channel>
<item rdf:about="http://rdf.example/1"><title>진달래가 피었다</title><link>http://rdf.example/1</link><dc:date>2024-04-01T08:00:00+09:00</dc:date><description>산마다 분홍빛이다.</description></item>
</rdf:RDF>
`)
	}, "봄 소식", []string{"진달래가 피었다"}},
	{"atom.xml", func() []byte {
		return []byte(`<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title type="text">Web notes</title><id>urn:x-ferry:atom</id><updated>2024-05-01T00:00:00Z</updated>
<entry><title type="text">Why &lt;script&gt; tags are bad</title><id>urn:x-ferry:1</id><updated>2024-05-01T00:00:00Z</updated><content type="html">&lt;p&gt;They run code.&lt;/p&gt;&lt;script&gt;alert(1)&lt;/script&gt;</content></entry>
<entry><title type="html">&lt;em&gt;Fast&lt;/em&gt; pages</title><id>urn:x-ferry:2</id><updated>2024-04-01T00:00:00Z</updated><summary>Small is fast.</summary></entry>
<entry><title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Tables <b>and</b> lists</div></title><id>urn:x-ferry:3</id><updated>2024-03-01T00:00:00Z</updated><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Rows and items.</p></div></content></entry>
</feed>
`)
	}, "Web notes", []string{"Why <script> tags are bad", "Fast pages", "Tables and lists"}},
	{"jsonfeed10.json", func() []byte {
		return []byte(`{"version":"https://jsonfeed.org/version/1","title":"Bread log","home_page_url":"https://bread.example/",
"items":[{"id":"1","title":"Sourdough, day 3","content_html":"<p>Bubbles at last.</p>","date_published":"2024-02-03T07:00:00Z"},
{"id":"2","content_text":"No title here, only text.","date_published":"2024-02-01T07:00:00Z"}]}
`)
	}, "Bread log", []string{"Sourdough, day 3", "No title here, only text."}},
	{"jsonfeed11.json", func() []byte {
		return []byte(`{"version":"https://jsonfeed.org/version/1.1","title":"빵 일기","language":"ko","authors":[{"name":"제빵사"}],
"items":[{"id":"a","title":"호밀빵","content_text":"호밀 가루를 반 섞었다.","date_published":"2024-02-05T07:00:00+09:00"}]}
`)
	}, "빵 일기", []string{"호밀빵"}},
	{"utf16le-bom.xml", func() []byte { return utf("utf-16le-bom", sprintf(rss2, "utf-16")) }, "Village news", rss2Items},
	{"utf16be-nobom.xml", func() []byte { return utf("utf-16be", sprintf(rss2, "UTF-16")) }, "Village news", rss2Items},
	{"utf32le-bom.xml", func() []byte { return utf("utf-32le-bom", sprintf(rss2, "utf-32")) }, "Village news", rss2Items},
	{"utf32be-nobom.xml", func() []byte { return utf("utf-32be", sprintf(rss2, "UTF-32")) }, "Village news", rss2Items},
	{"euckr.xml", func() []byte {
		b, _ := korean.EUCKR.NewEncoder().String(`<?xml version="1.0" encoding="euc-kr"?>
<rss version="2.0"><channel><title>마을 소식</title><language>ko</language>
<item><title>우물을 고쳤다</title><description>이제 물이 맑다.</description></item>
</channel></rss>
`)
		return []byte(b)
	}, "마을 소식", []string{"우물을 고쳤다"}},
	{"noitems-rss090.rdf", func() []byte {
		return []byte(`<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/">
<channel><title>Quiet feed</title><link>http://quiet.example/</link><description>Nothing yet</description></channel>
</rdf:RDF>
`)
	}, "Quiet feed", nil},
}

// TestVectors checks the committed feeds are what the vectors write, and
// rewrites them with -update.
func TestVectors(t *testing.T) {
	for _, v := range vectors {
		name := filepath.Join("testdata", v.name)
		b := v.data()
		golden.Check(t, name, b)
	}
}

// TestCorpus reads every vector (issue 13, item 19): each format and
// encoding is parsed, titles with escaped markup keep all their words,
// and a feed without items warns.
func TestCorpus(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			f, err := Open(filepath.Join("testdata", v.name))
			if err != nil {
				t.Fatal(err)
			}
			w := sourcetest.Walk(t, f)
			if md := f.Metadata(); md.Title != v.title {
				t.Errorf("feed title %q, want %q", md.Title, v.title)
			}
			var titles []string
			for _, p := range w.Order {
				e := w.Entries[p]
				if !strings.HasPrefix(p, ItemDir) {
					continue
				}
				titles = append(titles, e.Title)
				if strings.Contains(p, "#") || strings.HasPrefix(e.Title, "#") {
					t.Errorf("%s: title %q", p, e.Title)
				}
				page := string(sourcetest.Read(t, e))
				if strings.Contains(strings.ToLower(page), "<script") {
					t.Errorf("%s: script in page", p)
				}
			}
			slices.Sort(titles)
			want := slices.Sorted(slices.Values(v.items))
			if !slices.Equal(titles, want) {
				t.Errorf("item titles %q, want %q", titles, want)
			}
			warned := strings.Contains(strings.Join(f.Warnings(), "\n"), "no items")
			if warned != (len(v.items) == 0) {
				t.Errorf("warnings %q for %d items", f.Warnings(), len(v.items))
			}
			checkLinks(t, w)
		})
	}
}

// TestSniff: every vector is recognised as a feed by its first bytes (cut
// anywhere), and other formats are not.
func TestSniff(t *testing.T) {
	for _, v := range vectors {
		b := v.data()
		for _, n := range []int{len(b), 401, 402, 403} {
			if !Sniff(b[:min(n, len(b))]) {
				t.Errorf("%s (first %d bytes) not recognised", v.name, n)
			}
		}
	}
	for _, b := range []string{"", "<html><body>x</body></html>", `{"a":1}`, "WARC/1.0\r\n", "PK\x03\x04"} {
		if Sniff([]byte(b)) {
			t.Errorf("%q taken for a feed", b)
		}
	}
}

// TestTitlePages: a title mentioning markup is shown escaped, as text, on
// the index and the item page.
func TestTitlePages(t *testing.T) {
	f, err := Open("testdata/rss20.xml")
	if err != nil {
		t.Fatal(err)
	}
	w := sourcetest.Walk(t, f)
	idx := string(sourcetest.Read(t, w.Entries[IndexPage]))
	if !strings.Contains(idx, ">Use &lt;div&gt; wisely<") {
		t.Errorf("index:\n%s", idx)
	}
	var e source.Entry
	for _, p := range w.Order {
		if w.Entries[p].Title == "Use <div> wisely" {
			e = w.Entries[p]
		}
	}
	if !strings.HasSuffix(e.Path, "use-div-wisely.html") {
		t.Errorf("slug %q", e.Path)
	}
	if b := string(sourcetest.Read(t, e)); !strings.Contains(b, "<h1>Use &lt;div&gt; wisely</h1>") {
		t.Errorf("item page:\n%s", b)
	}
}
