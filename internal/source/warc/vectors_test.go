package warc

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha1"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/korean"

	"ferry/internal/source"
	"ferry/internal/source/sourcetest"
	"ferry/internal/testkit/golden"
)

// Our own made-up crawl of garden.example, written by the functions below
// (text of our own), committed as testdata/garden.warc (plain) and
// testdata/garden.warc.gz (one gzip member per record, as crawlers write).
// It has warcinfo and request records, responses with chunked and gzip
// bodies, a page in EUC-KR, a revisit, redirects, a redirect cycle over
// pages that also have 200 captures, a 404, and titles with entities.
const (
	vecPlain = "testdata/garden.warc"
	vecGzip  = "testdata/garden.warc.gz"
)

// field is one WARC or HTTP header line, in the order written.
type field struct{ k, v string }

// record writes one WARC record with its fields in order (deterministic).
func record(typ, uri, date, ctype string, block string, extra ...field) string {
	var b strings.Builder
	fmt.Fprintf(&b, "WARC/1.1\r\nWARC-Type: %s\r\n", typ)
	if uri != "" {
		fmt.Fprintf(&b, "WARC-Target-URI: %s\r\n", uri)
	}
	fmt.Fprintf(&b, "WARC-Date: %s\r\nWARC-Record-ID: <urn:uuid:%s>\r\n", date, fakeUUID(typ+uri+date))
	for _, f := range extra {
		fmt.Fprintf(&b, "%s: %s\r\n", f.k, f.v)
	}
	fmt.Fprintf(&b, "Content-Type: %s\r\nContent-Length: %d\r\n\r\n%s\r\n\r\n", ctype, len(block), block)
	return b.String()
}

func fakeUUID(s string) string {
	h := sha1.Sum([]byte(s))
	return fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// digest is a WARC-Payload-Digest of body.
func digest(body string) string {
	h := sha1.Sum([]byte(body))
	return "sha1:" + base32.StdEncoding.EncodeToString(h[:])
}

// response writes an HTTP response message with the given header lines.
func response(status string, body string, hdr ...field) string {
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %s\r\n", status)
	for _, f := range hdr {
		fmt.Fprintf(&b, "%s: %s\r\n", f.k, f.v)
	}
	b.WriteString("\r\n")
	b.WriteString(body)
	return b.String()
}

func request(uri string) string {
	path := strings.TrimPrefix(uri, "http://garden.example")
	return "GET " + path + " HTTP/1.1\r\nHost: garden.example\r\nUser-Agent: ferry-test\r\n\r\n"
}

func gz(s string) string {
	var b bytes.Buffer
	z, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	z.Write([]byte(s))
	z.Close()
	return b.String()
}

// chunk splits s into HTTP/1.1 chunks of n bytes.
func chunk(s string, n int) string {
	var b strings.Builder
	for len(s) > 0 {
		k := min(n, len(s))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", k, s[:k])
		s = s[k:]
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

const (
	gardenHome = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Tomatoes &amp; Beans | garden.example</title>
<link rel="stylesheet" href="/style.css"></head><body><h1>Tomatoes &amp; beans</h1>
<p>Plant beans when the soil is warm. <a href="/beans.html" title="Beans &amp; peas">Beans</a>,
<a href="ko/">텃밭 일기</a>, <a href="/old">an old link</a>, <a href="/a">A</a>, <a href="http://elsewhere.example/">elsewhere</a>.</p>
<img src="/img/leaf.png" alt="a leaf"></body></html>`
	gardenBeans = `<html><head><title>Beans</title></head><body><p>Beans climb anything: a fence, a pole, a neighbour's tomato.</p><a href="/">home</a></body></html>`
	gardenCSS   = `body{font-family:serif;background:url(/img/leaf.png)}`
	gardenKo    = `<html><head><meta charset="euc-kr"><title>텃밭 일기</title></head><body><p>오늘은 상추를 심었다. 비가 오면 물을 주지 않아도 된다.</p><a href="../">처음으로</a></body></html>`
	gardenEsc   = `<html><head><title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title></head><body><p>Escaped markup in a title stays text.</p></body></html>`
)

var leafPNG = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"

// gardenRecords is the crawl, record by record.
func gardenRecords() []string {
	ko, _ := korean.EUCKR.NewEncoder().String(gardenKo)
	const http = "application/http; msgtype=response"
	const req = "application/http; msgtype=request"
	d1, d2, d3 := "2024-03-01T10:00:00Z", "2024-03-01T10:00:05Z", "2024-04-01T09:00:00Z"
	return []string{
		record("warcinfo", "", d1, "application/warc-fields", "software: ferry test writer\r\nformat: WARC File Format 1.1\r\n"),
		record("request", "http://garden.example/", d1, req, request("http://garden.example/")),
		record("response", "http://garden.example/", d1, http, response("200 OK", gardenHome,
			field{"Content-Type", "text/html; charset=utf-8"}, field{"Content-Length", fmt.Sprint(len(gardenHome))}),
			field{"WARC-Payload-Digest", digest(gardenHome)}),
		record("response", "http://garden.example/beans.html", d1, http, response("200 OK", chunk(gz(gardenBeans), 40),
			field{"Content-Type", "text/html"}, field{"Transfer-Encoding", "chunked"}, field{"Content-Encoding", "gzip"})),
		record("response", "http://garden.example/style.css", d1, http, response("200 OK", gz(gardenCSS),
			field{"Content-Type", "text/css"}, field{"Content-Encoding", "gzip"})),
		record("response", "http://garden.example/img/leaf.png", d1, http, response("200 OK", leafPNG,
			field{"Content-Type", "image/png"}, field{"Content-Length", fmt.Sprint(len(leafPNG))})),
		record("response", "http://garden.example/ko/", d1, http, response("200 OK", ko,
			field{"Content-Type", "text/html; charset=euc-kr"})),
		record("response", "http://garden.example/escape.html", d1, http, response("200 OK", gardenEsc,
			field{"Content-Type", "text/html"})),
		record("response", "http://garden.example/old", d1, http, response("301 Moved Permanently", "",
			field{"Location", "/beans.html"}, field{"Content-Length", "0"})),
		record("response", "http://garden.example/missing", d1, http, response("404 Not Found", "gone",
			field{"Content-Type", "text/plain"})),
		// /a and /b: first pages, then redirects to each other.
		record("response", "http://garden.example/a", d1, http, response("200 OK", "<title>A</title>a", field{"Content-Type", "text/html"})),
		record("response", "http://garden.example/b", d1, http, response("200 OK", "<title>B</title>b", field{"Content-Type", "text/html"})),
		record("response", "http://garden.example/a", d2, http, response("302 Found", "", field{"Location", "/b"})),
		record("response", "http://garden.example/b", d2, http, response("302 Found", "", field{"Location", "/a"})),
		// A month later the home page had not changed.
		record("revisit", "http://garden.example/", d3, http, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n",
			field{"WARC-Payload-Digest", digest(gardenHome)},
			field{"WARC-Profile", "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"},
			field{"WARC-Refers-To-Target-URI", "http://garden.example/"}, field{"WARC-Refers-To-Date", d1}),
	}
}

func gzipEach(recs []string) []byte {
	var out bytes.Buffer
	for _, r := range recs {
		z, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
		z.Write([]byte(r))
		z.Close()
	}
	return out.Bytes()
}

// TestVectors checks the committed crawl is what gardenRecords writes, and
// rewrites it with -update.
func TestVectors(t *testing.T) {
	recs := gardenRecords()
	for name, b := range map[string][]byte{vecPlain: []byte(strings.Join(recs, "")), vecGzip: gzipEach(recs)} {
		golden.Check(t, name, b)
	}
}

// TestGarden reads our crawl, plain and gzip: every capture kind ends up
// where it should, bodies are decoded, links resolve.
func TestGarden(t *testing.T) {
	for _, name := range []string{vecPlain, vecGzip} {
		t.Run(name, func(t *testing.T) {
			s, err := Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			g := sourcetest.Walk(t, s)
			home := g.Entries["garden.example/index.html"]
			if home.Title != "Tomatoes & Beans | garden.example" || !home.Article {
				t.Errorf("home: %+v", home)
			}
			body := string(sourcetest.Read(t, home))
			for _, want := range []string{`<title>Tomatoes &amp; Beans | garden.example</title>`, `title="Beans &amp; peas"`,
				`href="beans.html"`, `href="style.css"`, `src="img/leaf.png"`, `href="ko/index.html"`, `href="http://elsewhere.example/"`} {
				if !strings.Contains(body, want) {
					t.Errorf("home page lacks %s:\n%s", want, body)
				}
			}
			if b := string(sourcetest.Read(t, g.Entries["garden.example/beans.html"])); !strings.Contains(b, "neighbour's tomato") {
				t.Errorf("chunked gzip body: %q", b)
			}
			if b := string(sourcetest.Read(t, g.Entries["garden.example/style.css"])); !strings.Contains(b, `url("img/leaf.png")`) {
				t.Errorf("gzip css: %q", b)
			}
			ko := g.Entries["garden.example/ko/index.html"]
			if b := string(sourcetest.Read(t, ko)); ko.Title != "텃밭 일기" || !strings.Contains(b, "상추를 심었다") || !strings.Contains(b, `href="../index.html"`) {
				t.Errorf("EUC-KR page: %q %q", ko.Title, b)
			}
			if e := g.Entries["garden.example/old"]; e.Redirect != "garden.example/beans.html" {
				t.Errorf("301: %+v", e)
			}
			if _, ok := g.Entries["garden.example/missing"]; ok {
				t.Error("404 packed")
			}
			if st := s.Stats(); st.RevisitsResolved != 1 || st.Records != 15 {
				t.Errorf("stats %+v", st)
			}
			if len(s.Warnings()) != 0 {
				t.Errorf("warnings %q", s.Warnings())
			}
			checkLinks(t, g)
		})
	}
}

// TestTitleEscapes (issue 13, item 18): an entity in a <title> must not
// corrupt the title or the page, and escaped markup must stay text in the
// packed page. The tokenizer unescapes its buffer in place, so the old
// code wrote "Tomatoes & Beans | garden.examplele" style garbage and a
// live "</title><script>" into the page; attributes of unchanged tags
// were hit the same way.
func TestTitleEscapes(t *testing.T) {
	s, err := Open(vecPlain)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	g := sourcetest.Walk(t, s)
	e := g.Entries["garden.example/escape.html"]
	if e.Title != "</title><script>alert(1)</script>" {
		t.Errorf("title %q", e.Title)
	}
	b := string(sourcetest.Read(t, e))
	if strings.Contains(b, "<script>") || !strings.Contains(b, "&lt;/title&gt;&lt;script&gt;") {
		t.Errorf("escaped title became markup:\n%s", b)
	}
	in := `<p title="a &amp; b &lt;i&gt;">x &amp; y</p><a href="http://out.example/?a=1&amp;b=2">o</a>`
	out, _ := rewriteHTML([]byte(in), &linker{self: "x/index.html", has: func(string) bool { return false }})
	if string(out) != in {
		t.Errorf("unchanged markup was altered:\n%s\n%s", in, out)
	}
}

// TestResync (issue 13, item 18): a record whose Content-Length is a byte
// short does not make the whole WARC refused: the reader goes on from the
// next WARC/ line with a warning naming the record; a response so damaged
// is left out, a request costs nothing.
func TestResync(t *testing.T) {
	recs := gardenRecords()
	short := func(r string) string { // Content-Length one less
		i := strings.Index(r, "Content-Length: ")
		j := i + len("Content-Length: ")
		k := j + strings.Index(r[j:], "\r")
		var n int
		fmt.Sscan(r[j:k], &n)
		return r[:j] + fmt.Sprint(n-1) + r[k:]
	}
	// A POST request (a body after its header: a short length leaves a
	// byte of it behind; a short GET leaves only line ends, read past as
	// the blank lines between records).
	recs[1] = short(record("request", "http://garden.example/", "2024-03-01T10:00:00Z", "application/http; msgtype=request",
		"POST /search HTTP/1.1\r\nHost: garden.example\r\nContent-Length: 7\r\n\r\nq=beans"))
	recs[5] = short(recs[5]) // the PNG's response
	for _, data := range [][]byte{[]byte(strings.Join(recs, "")), gzipEach(recs)} {
		s, err := New(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		g := sourcetest.Walk(t, s)
		if _, ok := g.Entries["garden.example/index.html"]; !ok {
			t.Errorf("home page lost: %v", g.Order)
		}
		if _, ok := g.Entries["garden.example/img/leaf.png"]; ok {
			t.Error("the damaged response was packed")
		}
		w := strings.Join(s.Warnings(), "\n")
		if !strings.Contains(w, "request http://garden.example/") || !strings.Contains(w, "http://garden.example/img/leaf.png: its record's Content-Length is wrong") {
			t.Errorf("warnings:\n%s", w)
		}
	}
	// Resynchronising gives up after maxResync bytes.
	defer func(n int64) { maxResync = n }(maxResync)
	maxResync = 64 << 10
	junk := recs[0] + strings.Repeat("x", int(maxResync)+10) + recs[2]
	if _, err := New(strings.NewReader(junk), int64(len(junk))); !errors.Is(err, ErrCorrupt) {
		t.Errorf("%d junk bytes between records: %v", maxResync+10, err)
	}
	// Garbage at the very start is still no WARC file.
	if _, err := New(strings.NewReader("xx"+recs[0]), int64(2+len(recs[0]))); !errors.Is(err, ErrCorrupt) {
		t.Errorf("leading garbage: %v", err)
	}
}

// TestCycleDeterministic (issue 13, item 18): redirect cycles over paths
// that also have 200 captures pack the same entries every time (the old
// code cut each cycle where Go's random map order first reached it).
func TestCycleDeterministic(t *testing.T) {
	var recs []string
	for c := 0; c < 8; c++ {
		for _, p := range []string{"x", "y", "z"} {
			recs = append(recs, record("response", fmt.Sprintf("http://c.example/%d%s", c, p), "2020-01-01T00:00:00Z", "application/http; msgtype=response",
				response("200 OK", "<title>"+p+"</title>", field{"Content-Type", "text/html"})))
		}
		for i, p := range []string{"x", "y", "z"} {
			next := []string{"y", "z", "x"}[i]
			recs = append(recs, record("response", fmt.Sprintf("http://c.example/%d%s", c, p), "2020-02-01T00:00:00Z", "application/http; msgtype=response",
				response("302 Found", "", field{"Location", fmt.Sprintf("/%d%s", c, next)})))
		}
	}
	data := []byte(strings.Join(recs, ""))
	var first string
	for run := 0; run < 20; run++ {
		s, err := New(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		s.Walk(context.Background(), func(e source.Entry) error {
			fmt.Fprintf(&b, "%s>%s ", e.Path, e.Redirect)
			return nil
		})
		if run == 0 {
			first = b.String()
		} else if b.String() != first {
			t.Fatalf("run %d packed\n%s\nrun 0 packed\n%s", run, b.String(), first)
		}
	}
}

// TestGzipBomb (issue 14, item 7): a gzip body that expands more than
// maxRatio times is refused with an error naming its record, not packed.
func TestGzipBomb(t *testing.T) {
	bomb := gz(strings.Repeat("\x00", 16<<20))
	data := []byte(record("response", "http://bomb.example/z.html", "2020-01-01T00:00:00Z", "application/http; msgtype=response",
		response("200 OK", bomb, field{"Content-Type", "application/octet-stream"}, field{"Content-Encoding", "gzip"})))
	s, err := New(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var got int64
	err = s.Walk(context.Background(), func(e source.Entry) error {
		rc, err := e.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		got, err = io.Copy(io.Discard, rc)
		return err
	})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "http://bomb.example/z.html") {
		t.Errorf("bomb: %v after %d bytes", err, got)
	}
	if got > 2<<20 {
		t.Errorf("decoded %d bytes before stopping", got)
	}
	// A body of exactly the floor still reads.
	ok := gz(strings.Repeat("\x00", ratioFloor))
	data = []byte(record("response", "http://ok.example/z", "2020-01-01T00:00:00Z", "application/http; msgtype=response",
		response("200 OK", ok, field{"Content-Type", "application/octet-stream"}, field{"Content-Encoding", "gzip"})))
	s, _ = New(bytes.NewReader(data), int64(len(data)))
	g := sourcetest.Walk(t, s)
	if b := sourcetest.Read(t, g.Entries["ok.example/z"]); len(b) != ratioFloor {
		t.Errorf("floor-sized body: %d bytes", len(b))
	}
}
