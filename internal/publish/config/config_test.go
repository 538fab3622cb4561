package config

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestExample(t *testing.T) {
	c, err := Load("testdata/example.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := filepath.Abs("testdata")
	h := c.Harvest
	if h.Contact != "https://ngo.example/crawler" || h.Proxy != "socks5://127.0.0.1:9050" ||
		h.Delay != 2*time.Second || h.PerHost != 2 || h.Concurrency != 8 || h.Timeout != 30*time.Second ||
		h.MaxPageSize != 10_000_000 || h.Retries != 2 || h.State != filepath.Join(dir, "harvest") || h.AllowPrivate {
		t.Errorf("harvest = %+v", h)
	}
	if c.S3 != (S3{Endpoint: "https://s3.ngo.example", Region: "us-east-1", PathStyle: true}) {
		t.Errorf("s3 = %+v", c.S3)
	}
	if len(c.Channels) != 2 {
		t.Fatalf("%d channels", len(c.Channels))
	}
	n := c.Channels[0]
	if n.Name != "news-ko" || n.Title != "오늘의 소식" || n.Publisher != "Example NGO" ||
		strings.Join(n.Languages, ",") != "ko" || n.Key != filepath.Join(dir, "keys", "news.key") ||
		n.Store != "s3://ferry-editions/channels" || n.Cadence != 7*24*time.Hour ||
		n.Images != "shrink" || n.ImageMax != 640 || n.ImageQuality != 70 || n.Budget != 16_000_000_000 ||
		n.ChainLimit != 0.5 || n.MaxChain != 24 {
		t.Errorf("channel 1 = %+v", n)
	}
	if len(n.Sources) != 3 {
		t.Fatalf("%d sources", len(n.Sources))
	}
	feed, site, path := n.Sources[0], n.Sources[1], n.Sources[2]
	if feed.Kind != KindFeed || feed.Location != "https://news.example.org/feed.xml" || feed.MaxPages != 100 ||
		!feed.Articles || !feed.Resources || strings.Join(feed.Exclude, ",") != "/live/**" || feed.Line != 37 {
		t.Errorf("feed = %+v", feed)
	}
	if site.Kind != KindSite || site.Depth != 2 || site.MaxPages != 500 || !site.Sitemap ||
		strings.Join(site.Include, ",") != "/articles/**,/" || site.Line != 42 {
		t.Errorf("site = %+v", site)
	}
	if path.Kind != KindPath || path.Location != filepath.Join(dir, "local", "folder-or-file.zim") {
		t.Errorf("path = %+v", path)
	}
	l := c.Channels[1]
	if l.Store != filepath.Join(dir, "store") || l.Cadence != 24*time.Hour || l.Images != "keep" ||
		l.Budget != 0 || l.Sources[0].Kind != KindURL || l.Sources[0].MaxSize != 4<<30 ||
		l.ChainLimit != DefaultChainLimit || l.MaxChain != DefaultMaxChain {
		t.Errorf("channel 2 = %+v", l)
	}
}

// The example in docs/publish.md is the one tested here.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/publish.md")
	if err != nil {
		t.Skipf("docs/publish.md: %v", err)
	}
	m := regexp.MustCompile("(?s)<!-- example config -->\n```toml\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/publish.md has no example config block")
	}
	want, _ := os.ReadFile("testdata/example.toml")
	if string(m[1]) != string(want) {
		t.Error("the example in docs/publish.md differs from testdata/example.toml; copy one to the other")
	}
}

const minimal = `
[[channel]]
name = "news-ko"
title = "t"
languages = ["ko"]
key = "k.key"
store = "store"
[[channel.source]]
feed = "https://example.org/feed.xml"
`

func TestMinimalDefaults(t *testing.T) {
	c, err := Parse([]byte(minimal), filepath.Join("some", "dir", "c.toml"))
	if err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(filepath.Join("some", "dir"))
	ch := c.Channels[0]
	if ch.Key != filepath.Join(abs, "k.key") || ch.Store != filepath.Join(abs, "store") || ch.Cadence != DefaultCadence {
		t.Errorf("channel = %+v", ch)
	}
	if s := ch.Sources[0]; s.MaxPages != DefaultMaxItems || !s.Articles || s.Line != 8 {
		t.Errorf("source = %+v", s)
	}
	if c.Harvest.Delay != DefaultDelay || c.Harvest.State != filepath.Join(abs, "harvest") {
		t.Errorf("harvest = %+v", c.Harvest)
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name, edit string // edit: text appended to minimal, or "s/OLD/NEW/"
		want       string // regexp the error must match
	}{
		{"unknown top key", "\n[harvst]\ndelay = \"1s\"\n", `:11: .*unknown key "harvst"`},
		{"unknown channel key", "s/title = \"t\"/title = \"t\"\nlanguage = [\"ko\"]/", `:5: .*unknown key "channel.language".*did you mean "languages"`},
		{"unknown source key", "s/feed = /maxpages = 3\nfeed = /", `:9: .*unknown key "channel.source.maxpages".*max_pages`},
		{"syntax", "s/title = \"t\"/title = t/", `:4: `},
		{"wrong type", "s/languages = \\[\"ko\"\\]/languages = \"ko\"/", `:5: .*languages`},
		{"bad name", "s/news-ko/News KO/", `:2: .*channel "News KO": a name is`},
		{"no name", "s/name = \"news-ko\"//", `channel 1 has no name`},
		{"no key", "s/key = \"k.key\"//", `has no key; make one with 'ferry keygen'`},
		{"no store", "s/store = \"store\"//", `has no store`},
		{"bad store", "s/\"store\"/\"ftp:\\/\\/x\\/y\"/", `store "ftp://x/y"`},
		{"bad s3", "s/\"store\"/\"s3:\\/\\/\"/", `write s3://BUCKET/PREFIX`},
		{"bad lang", "s/\\[\"ko\"\\]/[\"Korean\"]/", `language "Korean"`},
		{"no languages", "s/languages = \\[\"ko\"\\]//", `has no languages`},
		{"duplicate", minimal, `two channels are named "news-ko"`},
		{"two kinds", "s/feed = /site = \"https:\\/\\/a.example\\/\"\nfeed = /", `:8: .*exactly one of feed, site, path or url \(it has 2\)`},
		{"no kind", "s/feed = \"https:\\/\\/example.org\\/feed.xml\"/depth = 1/", `exactly one of feed, site, path or url \(it has 0\)`},
		{"depth on feed", "s/feed = /depth = 3\nfeed = /", `depth applies only to site sources`},
		{"bad url", "s/https:\\/\\/example.org\\/feed.xml/file:\\/\\/\\/etc\\/passwd/", `not an http\(s\) URL`},
		{"url with password", "s/https:\\/\\/example.org/https:\\/\\/u:p@example.org/", `user name or password`},
		{"bad glob", "s/feed = /include = [\"\\/a\\/[\"]\nfeed = /", `pattern "/a/\["`},
		{"bad cadence", "s/store = \"store\"/store = \"store\"\ncadence = \"fortnightly\"/", `cadence "fortnightly"`},
		{"bad images", "s/store = \"store\"/store = \"store\"\nimages = \"big\"/", `images = "big"`},
		{"image_max without shrink", "s/store = \"store\"/store = \"store\"\nimage_max = 100/", `apply only with images = "shrink"`},
		{"bad budget", "s/store = \"store\"/store = \"store\"\nbudget = \"lots\"/", `"lots" is not a size`},
		{"bad chain_limit", "s/store = \"store\"/store = \"store\"\nchain_limit = 0/", `chain_limit = 0: 0.05 to 4`},
		{"bad max_chain", "s/store = \"store\"/store = \"store\"\nmax_chain = 0/", `max_chain = 0: 1 to 256`},
		{"reserved name", "s/news-ko/news.json/", `would collide with the store's own files`},
		{"int budget", "s/store = \"store\"/store = \"store\"\nbudget = 5/", `budget`},
		{"bad delay", "\n[harvest]\ndelay = \"soon\"\n", `"soon" is not a duration`},
		{"bad proxy", "\n[harvest]\nproxy = \"tor\"\n", `proxy "tor"`},
		{"bad per_host", "\n[harvest]\nper_host = 0\n", `per_host = 0: must be 1 to 16`},
		{"s3 half keys", "\n[s3]\naccess_key_id = \"a\"\n", `both access_key_id and secret_access_key`},
		{"no source", "s/\\[\\[channel.source\\]\\]\nfeed = \"https:\\/\\/example.org\\/feed.xml\"//", `has no \[\[channel.source\]\]`},
		{"empty", "s/(?s).*//", `no \[\[channel\]\]`},
	}
	sub := regexp.MustCompile(`^s/((?:[^/\\]|\\.)*)/((?:[^/\\]|\\.)*)/$`)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text := minimal + c.edit
			if m := sub.FindStringSubmatch(c.edit); m != nil {
				re := regexp.MustCompile(m[1])
				if !re.MatchString(minimal) {
					t.Fatalf("test edit %q matches nothing", m[1])
				}
				text = re.ReplaceAllString(minimal, strings.ReplaceAll(m[2], `\/`, "/"))
			}
			_, err := Parse([]byte(text), "c.toml")
			if err == nil {
				t.Fatalf("accepted:\n%s", text)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			if !regexp.MustCompile(c.want).MatchString(err.Error()) {
				t.Errorf("error %q does not match %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "c.toml") {
				t.Errorf("error does not start with the file name: %q", err)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]int64{"0": 0, "123": 123, "32GB": 32e9, "500 MB": 500e6, "1.5GiB": 1.5 * (1 << 30), "4kb": 4000, "7B": 7}
	for in, want := range good {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "GB", "-1GB", "1 XB", "1e3", "99999999999TB", "1..2MB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	ex, _ := os.ReadFile("testdata/example.toml")
	f.Add(ex)
	f.Add([]byte(minimal))
	f.Add([]byte("[[channel]]\n[[channel.source]]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Parse(b, "fuzz.toml")
		if err == nil && len(c.Channels) == 0 {
			t.Error("accepted a config without channels")
		}
	})
}
