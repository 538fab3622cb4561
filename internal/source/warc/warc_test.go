package warc

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"ferry/internal/source"
	"ferry/internal/source/sourcetest"
	"ferry/internal/testkit/shared"
)

func checkPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || path.Clean(p) != p || strings.HasPrefix(p, "../") || p == ".." {
		return fmt.Errorf("unclean path %q", p)
	}
	return nil
}

// pageLinks returns the URL references of a page (href, src, srcset).
func pageLinks(b []byte) []string {
	var out []string
	z := html.NewTokenizer(bytes.NewReader(b))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		for _, a := range z.Token().Attr {
			switch a.Key {
			case "href", "src":
				out = append(out, a.Val)
			case "srcset":
				for _, c := range strings.Split(a.Val, ",") {
					if f := strings.Fields(c); len(f) > 0 {
						out = append(out, f[0])
					}
				}
			}
		}
	}
}

// checkLinks verifies that every relative link of every HTML entry leads to
// an entry, and returns how many internal and absolute links it saw.
func checkLinks(t *testing.T, g sourcetest.Walked) (internal, external int) {
	t.Helper()
	for _, p := range g.Order {
		e := g.Entries[p]
		if !e.Article || e.Redirect != "" {
			continue
		}
		for _, l := range pageLinks(sourcetest.Read(t, e)) {
			u, err := url.Parse(l)
			if err != nil || l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			if u.Scheme != "" || u.Host != "" {
				external++
				continue
			}
			target := path.Join(path.Dir(p), u.Path)
			if _, ok := g.Entries[target]; !ok {
				t.Errorf("%s: link %q leads to %q, which is not an entry", p, l, target)
			}
			internal++
		}
	}
	return
}

// TestRealFiles runs the checks on other people's real WARC files (the
// shared test data): an iana.org crawl and example.com captures. The same
// kinds of check run on our own crawl (TestGarden, TestDamaged, ...).
func TestRealFiles(t *testing.T) {
	if st, err := os.Stat(shared.Root()); shared.Root() == "" || err != nil || !st.IsDir() {
		t.Skip("shared test data not found (../shared/testdata or FERRY_TESTDATA): the real WARC files (iana.org, example.com) were not checked; our own crawl was")
	}
	t.Run("IANA", realIANA)
	t.Run("Example", realExample)
	t.Run("OpenTwice", func(t *testing.T) { openTwice(t, shared.Path(t, "warc/iana.warc.gz")) })
	t.Run("Damaged", func(t *testing.T) {
		damaged(t, shared.Path(t, "warc/iana.warc.gz"), shared.Path(t, "warc/example.warc"))
	})
}

func realIANA(t *testing.T) {
	s, err := Open(shared.Path(t, "warc/iana.warc.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st := s.Stats()
	if st.Records != 343 {
		t.Errorf("records = %d, want 343", st.Records)
	}
	if st.Revisits == 0 || st.RevisitsUnresolved != 0 || st.RevisitsResolved != st.Revisits {
		t.Errorf("revisits: %+v", st)
	}
	g := sourcetest.Walk(t, s)
	t.Logf("stats %+v, %d entries", st, len(g.Entries))
	for _, want := range []string{"www.iana.org/index.html", "www.iana.org/domains/root", "www.iana.org/_css/2013.1/screen.css", "www.iana.org/numbers", "www.iana.org/domains/root/db"} {
		e, ok := g.Entries[want]
		if !ok {
			t.Errorf("missing entry %q", want)
			continue
		}
		if e.Redirect == "" && e.MIME == "" {
			t.Errorf("%s has no MIME type", want)
		}
	}
	if e := g.Entries["www.iana.org/domains/root"]; !e.Article || !strings.Contains(e.Title, "Root Zone") {
		t.Errorf("domains/root: article=%v title=%q", e.Article, e.Title)
	}
	if e := g.Entries["www.iana.org/_css/2013.1/screen.css"]; !strings.HasPrefix(e.MIME, "text/css") {
		t.Errorf("screen.css MIME %q", e.MIME)
	}
	// The 302 from /about/performance/ietf-statistics points at a captured page.
	if e := g.Entries["www.iana.org/about/performance/ietf-statistics"]; e.Redirect != "www.iana.org/performance/ietf-statistics" {
		t.Errorf("redirect = %+v", e)
	} else if _, ok := g.Entries[e.Redirect]; !ok {
		t.Errorf("redirect target %q missing", e.Redirect)
	}
	for _, e := range g.Entries {
		if e.Redirect != "" {
			if _, ok := g.Entries[e.Redirect]; !ok {
				t.Errorf("%s redirects to missing %s", e.Path, e.Redirect)
			}
			continue
		}
		sourcetest.Read(t, e)
	}
	in, ext := checkLinks(t, g)
	t.Logf("%d internal links checked, %d left absolute", in, ext)
	if in < 100 {
		t.Errorf("only %d internal links rewritten", in)
	}
	// print.css was captured over https last: its newest capture is a
	// revisit resolved to the original payload.
	css := sourcetest.Read(t, g.Entries["www.iana.org/_css/2013.1/print.css"])
	if !bytes.Contains(css, []byte("{")) {
		t.Errorf("print.css payload looks wrong: %q", css[:min(len(css), 80)])
	}
	md := s.Metadata()
	if md.MainPage != "www.iana.org/index.html" || md.Title == "" {
		t.Errorf("metadata %+v", md)
	}
}

func realExample(t *testing.T) {
	for _, name := range []string{"warc/example.warc.gz", "warc/example.warc"} {
		t.Run(name, func(t *testing.T) {
			s, err := Open(shared.Path(t, name))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			g := sourcetest.Walk(t, s)
			e, ok := g.Entries["example.com/index.html"]
			if !ok {
				t.Fatalf("example.com/index.html missing; have %v", g.Order)
			}
			if e.Title != "Example Domain" || !e.Article {
				t.Errorf("entry %+v", e)
			}
			if b := sourcetest.Read(t, e); !bytes.Contains(b, []byte("illustrative examples")) {
				t.Errorf("body: %q", b)
			}
			t.Logf("%s: %+v", name, s.Stats())
			checkLinks(t, g)
		})
	}
}

// rec builds one WARC record.
func rec(typ, uri, date string, extra map[string]string, block string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "WARC/1.0\r\nWARC-Type: %s\r\nWARC-Target-URI: %s\r\nWARC-Date: %s\r\n", typ, uri, date)
	for k, v := range extra {
		fmt.Fprintf(&b, "%s: %s\r\n", k, v)
	}
	fmt.Fprintf(&b, "Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n%s\r\n\r\n", len(block), block)
	return b.String()
}

func httpResp(status, ctype, body string) string {
	return fmt.Sprintf("HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s", status, ctype, len(body), body)
}

// gzipMembers compresses each record as its own gzip member, as crawlers do.
func gzipMembers(recs ...string) []byte {
	var out bytes.Buffer
	for _, r := range recs {
		z := gzip.NewWriter(&out)
		z.Write([]byte(r))
		z.Close()
	}
	return out.Bytes()
}

func TestNewestWinsAndRevisit(t *testing.T) {
	oldPage := `<html><head><title>Old</title></head><body><a href="/b?x=1&y=2">b</a> <img src="http://other.example/i.png"></body></html>`
	newPage := `<html><head><title>New</title><link rel=stylesheet href="s.css"></head><body><a href="/b?x=1&y=2#top">b</a><a href="/gone">g</a><a href="/moved">m</a></body></html>`
	css := `body{background:url(/a/img/bg.png)} @import "other.css";`
	recs := []string{
		// The newer capture comes first in the file: date, not order, decides.
		rec("response", "http://site.example/a/", "2020-02-01T00:00:00Z", map[string]string{"WARC-Payload-Digest": "sha1:NEW"}, httpResp("200 OK", "text/html", newPage)),
		rec("response", "https://site.example/a/", "2020-01-01T00:00:00Z", nil, httpResp("200 OK", "text/html", oldPage)),
		rec("response", "http://site.example/b?x=1&y=2", "2020-01-01T00:00:00Z", map[string]string{"WARC-Payload-Digest": "sha1:B"}, httpResp("200 OK", "text/html", "<title>B</title>b")),
		rec("response", "http://site.example/a/s.css", "2020-01-01T00:00:00Z", nil, httpResp("200 OK", "text/css", css)),
		rec("response", "http://site.example/a/img/bg.png", "2020-01-01T00:00:00Z", nil, httpResp("200 OK", "", "\x89PNG\r\n\x1a\nrest")),
		rec("response", "http://site.example/moved", "2020-01-01T00:00:00Z", nil, "HTTP/1.1 301 Moved\r\nLocation: /b?x=1&y=2\r\nContent-Length: 0\r\n\r\n"),
		rec("response", "http://site.example/gone", "2020-01-01T00:00:00Z", nil, httpResp("404 Not Found", "text/html", "no")),
		// A revisit of /b three months later, resolved by payload digest.
		rec("revisit", "http://site.example/c", "2020-04-01T00:00:00Z", map[string]string{"WARC-Payload-Digest": "sha1:B", "WARC-Profile": "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest"}, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"),
		// A revisit resolved by WARC-Refers-To-Target-URI and -Date (written
		// with a different precision than the original's WARC-Date).
		rec("revisit", "http://site.example/d.css", "2020-05-01T00:00:00Z", map[string]string{"WARC-Refers-To-Target-URI": "<http://site.example/a/s.css>", "WARC-Refers-To-Date": "2020-01-01T00:00:00.000Z"}, "HTTP/1.1 200 OK\r\nContent-Type: text/css\r\n\r\n"),
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{{"plain", []byte(strings.Join(recs, ""))}, {"gzip", gzipMembers(recs...)}} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := New(bytes.NewReader(tc.data), int64(len(tc.data)))
			if err != nil {
				t.Fatal(err)
			}
			g := sourcetest.Walk(t, s)
			a := g.Entries["site.example/a/index.html"]
			if a.Title != "New" {
				t.Errorf("newest capture did not win: title %q", a.Title)
			}
			body := string(sourcetest.Read(t, a))
			for _, want := range []string{`href="../b@x=1&amp;y=2#top"`, `href="s.css"`, `href="http://site.example/gone"`, `href="../moved"`} {
				if !strings.Contains(body, want) {
					t.Errorf("rewritten page lacks %s:\n%s", want, body)
				}
			}
			if c := string(sourcetest.Read(t, g.Entries["site.example/a/s.css"])); !strings.Contains(c, `url("img/bg.png")`) || !strings.Contains(c, `@import "http://site.example/a/other.css"`) {
				t.Errorf("css: %s", c)
			}
			if e := g.Entries["site.example/a/img/bg.png"]; e.MIME != "image/png" {
				t.Errorf("sniffed MIME %q", e.MIME)
			}
			if e := g.Entries["site.example/moved"]; e.Redirect != "site.example/b@x=1&y=2" {
				t.Errorf("redirect %+v", e)
			}
			if _, ok := g.Entries["site.example/gone"]; ok {
				t.Error("404 capture became an entry")
			}
			if c := sourcetest.Read(t, g.Entries["site.example/c"]); string(c) != "<title>B</title>b" {
				t.Errorf("revisit payload %q", c)
			}
			if c := string(sourcetest.Read(t, g.Entries["site.example/d.css"])); !strings.Contains(c, "background") {
				t.Errorf("revisit by reference: %q", c)
			}
			if st := s.Stats(); st.RevisitsResolved != 2 || st.RevisitsUnresolved != 0 {
				t.Errorf("stats %+v", st)
			}
			checkLinks(t, g)
		})
	}
}

// TestRedirectCycle: two pages captured first with content, later as
// redirects to each other, plus a third redirecting into the pair; every
// path ends at content.
func TestRedirectCycle(t *testing.T) {
	data := []byte(strings.Join([]string{
		rec("response", "http://c.example/a", "2020-01-01T00:00:00Z", nil, httpResp("200 OK", "text/html", "<title>A</title>")),
		rec("response", "http://c.example/b", "2020-01-01T00:00:00Z", nil, httpResp("200 OK", "text/html", "<title>B</title>")),
		rec("response", "http://c.example/a", "2020-02-01T00:00:00Z", nil, "HTTP/1.1 302 Found\r\nLocation: /b\r\n\r\n"),
		rec("response", "http://c.example/b", "2020-02-01T00:00:00Z", nil, "HTTP/1.1 302 Found\r\nLocation: /a\r\n\r\n"),
		rec("response", "http://c.example/p", "2020-02-01T00:00:00Z", nil, "HTTP/1.1 301 Moved\r\nLocation: /a\r\n\r\n"),
	}, ""))
	s, err := New(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	g := sourcetest.Walk(t, s)
	for _, p := range []string{"c.example/a", "c.example/b", "c.example/p"} {
		seen := 0
		q := p
		for g.Entries[q].Redirect != "" && seen < 5 {
			q = g.Entries[q].Redirect
			seen++
		}
		e, ok := g.Entries[q]
		if !ok || e.Redirect != "" || !e.Article {
			t.Errorf("%s does not end at content (stopped at %q)", p, q)
		}
	}
}

func TestURLPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"http://www.iana.org/", "www.iana.org/index.html"},
		{"http://www.iana.org", "www.iana.org/index.html"},
		{"https://WWW.IANA.org:443/domains/root", "www.iana.org/domains/root"},
		{"http://h.example:8080/a/b/", "h.example_8080/a/b/index.html"},
		{"http://h.example/a/../../b/./c", "h.example/b/c"},
		{"http://h.example/a/..", "h.example/index.html"},
		{"http://h.example/%ED%95%9C%EA%B8%80", "h.example/한글"},
		{"http://h.example/%E9t%E9", "h.example/%E9t%E9"},                   // Latin-1: kept escaped
		{"http://h.example/a%2Fb", "h.example/a%2Fb"},                       // escaped slash stays one segment
		{"http://h.example/s?q=a b&x=%2F/", "h.example/s@q=a%20b&x=%2F%2F"}, // query in one segment
		{"http://h.example/?", "h.example/index.html@"},
		{"http://h.example/p#frag", "h.example/p"},
		{"http://[::1]:8/x", "__1_8/x"},
	} {
		u, err := url.Parse(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := URLPath(u)
		if !ok || got != tc.want {
			t.Errorf("URLPath(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
		if err := checkPath(got); err != nil {
			t.Error(err)
		}
	}
	for _, bad := range []string{"ftp://h/x", "mailto:a@b", "http:///x", "http://../x"} {
		u, _ := url.Parse(bad)
		if u == nil {
			continue
		}
		if p, ok := URLPath(u); ok {
			t.Errorf("URLPath(%q) = %q, want refusal", bad, p)
		}
	}
	long := "http://h.example/" + strings.Repeat("가", 300)
	u, _ := url.Parse(long)
	if p, _ := URLPath(u); len(p) > 220 || !strings.HasPrefix(p, "h.example/가") {
		t.Errorf("long segment: %d bytes %q", len(p), p)
	}
}

func TestRelLink(t *testing.T) {
	for _, tc := range []struct{ from, to, want string }{
		{"h/a/b", "h/a/c", "c"},
		{"h/a/b", "h/c/d", "../c/d"},
		{"h/index.html", "h/a/b/index.html", "a/b/index.html"},
		{"h/a/b", "g/x", "../../g/x"},
		{"h/p", "h/File:x.png", "./File:x.png"},
		{"h/p", "h/a b?#", "a%20b%3F%23"},
	} {
		if got := source.RelLink(tc.from, tc.to); got != tc.want {
			t.Errorf("source.RelLink(%q, %q) = %q, want %q", tc.from, tc.to, got, tc.want)
		}
	}
}

// TestDamaged cuts our crawl and inflates a Content-Length: every variant
// gives a clear error, never a panic.
func TestDamaged(t *testing.T) { damaged(t, vecGzip, vecPlain) }

func damaged(t *testing.T, gzName, plainName string) {
	data, err := os.ReadFile(gzName)
	if err != nil {
		t.Fatal(err)
	}
	cut := data[:len(data)/2]
	_, err = New(bytes.NewReader(cut), int64(len(cut)))
	if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated file: err = %v", err)
	}
	t.Logf("truncated: %v", err)
	plain, _ := os.ReadFile(plainName)
	bad := bytes.Replace(plain, []byte("Content-Length: "), []byte("Content-Length: 9"), 1)
	// The block runs into the records after it: refused, or read on from
	// the next record with a warning naming the one whose length is wrong.
	if s, err := New(bytes.NewReader(bad), int64(len(bad))); err == nil && len(s.Warnings()) == 0 {
		t.Error("inflated Content-Length accepted without a word")
	} else if err == nil {
		t.Logf("bad length: %q", s.Warnings())
	} else {
		t.Logf("bad length: %v", err)
	}
	if _, err := New(bytes.NewReader([]byte("<html>")), 6); !errors.Is(err, ErrCorrupt) {
		t.Errorf("non-WARC: %v", err)
	}
	if _, err := New(bytes.NewReader(nil), 0); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
}

// FuzzRecordReader feeds WARC files (and variants) to the record reader and
// the whole import. Work per input is bounded: at most 64 entries are
// opened and 64 KiB read from each.
func FuzzRecordReader(f *testing.F) {
	// Our own crawl, whole and cut, plain and gzip: a few KiB each.
	for _, name := range []string{vecPlain, vecGzip} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/3])
	}
	f.Add([]byte(rec("response", "http://x/", "2020-01-01T00:00:00Z", nil, httpResp("200 OK", "text/html", "<a href=/y>y</a>"))))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := New(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		n := 0
		s.Walk(context.Background(), func(e source.Entry) error {
			if err := checkPath(e.Path); err != nil {
				t.Fatal(err)
			}
			if n++; n > 64 {
				return io.EOF
			}
			if e.Open != nil {
				if rc, err := e.Open(); err == nil {
					io.Copy(io.Discard, io.LimitReader(rc, 64<<10))
					rc.Close()
				}
			}
			return nil
		})
	})
}

func benchImport(b *testing.B, name string) {
	p := shared.Path(b, name)
	st, err := os.Stat(p)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	for i := 0; i < b.N; i++ {
		s, err := Open(p)
		if err != nil {
			b.Fatal(err)
		}
		err = s.Walk(context.Background(), func(e source.Entry) error {
			if e.Open == nil {
				return nil
			}
			rc, err := e.Open()
			if err != nil {
				return err
			}
			_, err = io.Copy(io.Discard, rc)
			rc.Close()
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkImportIANA measures import throughput (MB/s of the .warc.gz):
// scan, rewrite and read every entry once.
func BenchmarkImportIANA(b *testing.B) { benchImport(b, "warc/iana.warc.gz") }

// TestOpenTwice: the first Open after Walk's render (served from the
// one-page cache) and later ones (rendered again) give the same bytes.
func TestOpenTwice(t *testing.T) { openTwice(t, vecGzip) }

func openTwice(t *testing.T, name string) {
	s, err := Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	err = s.Walk(context.Background(), func(e source.Entry) error {
		if !e.Article {
			return nil
		}
		a, b := sourcetest.Read(t, e), sourcetest.Read(t, e)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: second Open differs", e.Path)
		}
		n++
		return nil
	})
	if err != nil || n == 0 {
		t.Fatalf("walk: %v, %d pages", err, n)
	}
}

// TestLongRedirectChain: thousands of paths, each captured with content and
// later as a redirect to the next, the last closing a cycle to the first:
// every path ends at content, and the walk is linear (this input took
// seconds when each path's chain was walked anew).
func TestLongRedirectChain(t *testing.T) {
	const n = 3000
	var recs []string
	for i := 0; i < n; i++ {
		u := fmt.Sprintf("http://l.example/p%d", i)
		recs = append(recs,
			rec("response", u, "2020-01-01T00:00:00Z", nil, httpResp("200 OK", "text/html", fmt.Sprintf("<title>P%d</title>", i))),
			rec("response", u, "2020-02-01T00:00:00Z", nil, fmt.Sprintf("HTTP/1.1 301 Moved\r\nLocation: /p%d\r\n\r\n", (i+1)%n)))
	}
	data := []byte(strings.Join(recs, ""))
	s, err := New(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	g := sourcetest.Walk(t, s)
	for i := 0; i < n; i += 97 {
		q, hops := fmt.Sprintf("l.example/p%d", i), 0
		for g.Entries[q].Redirect != "" && hops <= n {
			q = g.Entries[q].Redirect
			hops++
		}
		if e, ok := g.Entries[q]; !ok || e.Redirect != "" || !e.Article {
			t.Fatalf("p%d does not end at content (stopped at %q after %d hops)", i, q, hops)
		}
	}
}
