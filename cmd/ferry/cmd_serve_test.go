package main

import (
	"bufio"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/testkit/corpus"
)

// getBody fetches url and returns its status and body.
func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeUntrustedChannel: a library's channel whose publisher the
// library does not trust is shown as not trusted (not as broken), with
// the signer's fingerprint, and its pages answer 403.
func TestServeUntrustedChannel(t *testing.T) {
	c := newCLI(t)
	src := c.site("src", corpus.Options{Pages: 2, Seed: 7})
	c.ok("keygen", "-o", "stranger")
	c.ok("pack", "-k", "stranger.key", "-o", "news.ferry", "--channel", "news", src)
	c.ok("import", "--allow-untrusted", "news.ferry", "--library", "lib")
	pubs, err := key.LoadPublicFiles([]string{"stranger.pub"})
	if err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	// --library DIR opens the library as a PATH does.
	home := serveInProcess(t, "", []string{"serve", "--addr", addr, "--library", "lib"}, "http://"+addr+"/en/")
	if !strings.Contains(home, "Not from a publisher you trust") || strings.Contains(home, "cannot be opened") {
		t.Errorf("untrusted channel not shown as such:\n%s", home)
	}
	if !strings.Contains(home, pubs[0].Fingerprint()) {
		t.Errorf("signer's fingerprint %s not shown", pubs[0].Fingerprint())
	}
	if code, _ := getBody(t, "http://"+addr+"/a/news/"+corpus.PagePath(0)); code != http.StatusForbidden {
		t.Errorf("untrusted channel's page: %d, want 403", code)
	}
}

// TestServeChecksInBackground: damage in an archive is found by the
// background check and shown on the home page before any damaged page is
// opened; and Go's own reply to a malformed request carries the reader's
// safety headers (reader.Listener).
func TestServeChecksInBackground(t *testing.T) {
	c := newCLI(t)
	src := c.site("src", corpus.Options{Pages: 30, Seed: 8})
	c.ok("keygen", "-o", "pub")
	c.ok("pack", "-k", "pub.key", "-o", "site.ferry", src)
	b, err := os.ReadFile("site.ferry")
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/3] ^= 0x55 // inside the clusters, far from the header and the index
	if err := os.WriteFile("site.ferry", b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := archive.OpenFile("site.ferry"); err != nil {
		t.Skipf("the damage makes the archive fail to open (%v): nothing left for the background check", err)
	}
	addr := freePort(t)
	serveInProcess(t, "", []string{"serve", "--addr", addr, "--trust", "pub.pub", "site.ferry"}, "http://"+addr+"/")
	found := false
	for i := 0; i < 100 && !found; i++ {
		_, home := getBody(t, "http://"+addr+"/en/")
		found = strings.Contains(home, "Library with damaged parts")
		if !found {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !found {
		t.Error("the home page does not say the library is damaged: CheckAll did not run")
	}

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: bad host\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("server's own reply: %d, headers %v", resp.StatusCode, resp.Header)
	}
}

// TestServeNoGlossary: word notes mark a Korean loanword by default and
// not at all with --no-glossary (no switch to turn them back on).
func TestServeNoGlossary(t *testing.T) {
	c := newCLI(t)
	os.MkdirAll("src", 0o755)
	os.WriteFile(filepath.Join("src", "index.html"), []byte(`<!DOCTYPE html><html lang="ko"><head><meta charset="utf-8"><title>손전화</title></head>`+
		`<body><p>스마트폰으로 사진을 찍었다.</p></body></html>`), 0o644)
	c.ok("keygen", "-o", "pub")
	c.ok("pack", "-k", "pub.key", "-o", "news.ferry", "src")
	addr := freePort(t)
	page := serveInProcess(t, "", []string{"serve", "--addr", addr, "news.ferry"}, "http://"+addr+"/ko/a/news/index.html")
	if !strings.Contains(page, `<abbr class="fg"`) || !strings.Contains(page, `class="fb-gloss"`) {
		t.Errorf("word notes missing by default:\n%s", page)
	}
	addr2 := freePort(t)
	page = serveInProcess(t, "", []string{"serve", "--no-glossary", "--addr", addr2, "news.ferry"}, "http://"+addr2+"/ko/a/news/index.html")
	if strings.Contains(page, `<abbr class="fg"`) || strings.Contains(page, `class="fb-gloss"`) || strings.Contains(page, "fg-list") {
		t.Errorf("--no-glossary still marks words or offers the switch:\n%s", page)
	}
	if _, page = getBody(t, "http://"+addr2+"/ko-g1/a/news/index.html"); strings.Contains(page, `<abbr class="fg"`) {
		t.Error("--no-glossary: the URL turned word notes back on")
	}
}

// TestServeMemory: --memory sets the runtime's limit and the archive
// caches; sizes that cannot work are refused with a clear message.
func TestServeMemory(t *testing.T) {
	t.Cleanup(func() {
		debug.SetMemoryLimit(math.MaxInt64)
		archive.SetMemoryLimit(0)
	})
	for _, tc := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{"256MiB", 256 << 20, false}, {"1GiB", 1 << 30, false}, {"off", 0, false}, {"0", 0, false},
		{"10MiB", 0, true}, {"lots", 0, true}, {"-5MiB", 0, true},
	} {
		got, err := memoryLimit(tc.in)
		if (err != nil) != tc.bad || !tc.bad && got != tc.want {
			t.Errorf("memoryLimit(%q) = %d, %v; want %d (error: %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
	c := newCLI(t)
	addr := freePort(t)
	serveInProcess(t, "", []string{"serve", "--memory", "64MiB", "--addr", addr}, "http://"+addr+"/")
	if got := debug.SetMemoryLimit(-1); got != 64<<20 {
		t.Errorf("runtime memory limit %d, want %d", got, 64<<20)
	}
	if cache, decode := archive.MemoryLimits(); cache != 4<<20 || decode != 16<<20 {
		t.Errorf("archive caches %d and %d, want 4 MiB and 16 MiB under 64 MiB", cache, decode)
	}
	c.run(2, "", "serve", "--memory", "1MiB")
	if !strings.Contains(c.out, "--memory") {
		t.Errorf("refusal does not name --memory: %s", c.out)
	}
}

// TestServeShareWithFriend: the reader's "share with a friend" page,
// started by its button, pairs with 'ferry sync' on another library
// using the code it shows, and says what was exchanged; each library ends
// with the other's archive.
func TestServeShareWithFriend(t *testing.T) {
	c := newCLI(t)
	c.site("news", corpus.Options{Pages: 4, Seed: 11})
	c.site("books", corpus.Options{Pages: 3, Seed: 12})
	c.ok("keygen", "-o", "pub")
	c.ok("pack", "-k", "pub.key", "-o", "news.ferry", "--channel", "news", "news")
	c.ok("pack", "-k", "pub.key", "-o", "books.ferry", "--channel", "books", "books")
	for _, lib := range []string{"a", "b"} {
		c.ok("trust", "add", "pub.pub", "--library", lib)
	}
	c.ok("import", "news.ferry", "--library", "a")
	c.ok("import", "books.ferry", "--library", "b")
	addr := freePort(t)
	page := serveInProcess(t, "", []string{"serve", "--addr", addr, "a"}, "http://"+addr+"/en/share")
	m := regexp.MustCompile(`name="t" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no start button on the share page:\n%s", page)
	}
	resp, err := http.PostForm("http://"+addr+"/en/share/start", url.Values{"t": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	p := regexp.MustCompile(`ferry sync (FERRY-SYNC:[^<\s]+)`).FindStringSubmatch(string(b))
	if p == nil {
		t.Fatalf("no pairing on the share page after start:\n%s", b)
	}
	got := c.ok("sync", p[1], "--library", "b")
	if !strings.Contains(got, "received 1 archive") || !strings.Contains(got, "sent 1 archive") {
		t.Errorf("friend's summary: %s", got)
	}
	var body string
	for i := 0; i < 100; i++ {
		_, body = getBody(t, "http://"+addr+"/en/share")
		if strings.Contains(body, "Received 1 editions") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(body, "Received 1 editions") || !strings.Contains(body, "sent 1") || !strings.Contains(body, "started again") {
		t.Errorf("share page after the sync:\n%s", body)
	}
	for _, lib := range []string{"a", "b"} {
		if out := c.ok("library", "list", "--library", lib); !strings.Contains(out, "news") || !strings.Contains(out, "books") {
			t.Errorf("library %s after sharing: %s", lib, out)
		}
	}
}

// TestServeUnderSlowClients: 300 connections that send half a request
// and hold it (slowloris), and a request with a 1 MB header, do not stop
// the reader from answering a normal request; the server cuts slow
// headers and bounds their size.
func TestServeUnderSlowClients(t *testing.T) {
	srv := readerServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	if srv.ReadHeaderTimeout <= 0 || srv.ReadHeaderTimeout > 30*time.Second || srv.MaxHeaderBytes <= 0 || srv.MaxHeaderBytes > 1<<20 || srv.IdleTimeout <= 0 {
		t.Fatalf("server limits: header timeout %v, header bytes %d, idle %v", srv.ReadHeaderTimeout, srv.MaxHeaderBytes, srv.IdleTimeout)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	var slow []net.Conn
	defer func() {
		for _, c := range slow {
			c.Close()
		}
	}()
	for i := 0; i < 300; i++ {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatalf("slow client %d: %v", i, err)
		}
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
		slow = append(slow, c)
	}
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatalf("a normal request beside 300 slow clients: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "ok" {
		t.Fatalf("a normal request beside 300 slow clients: %d %q", resp.StatusCode, b)
	}
	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 1<<20))
	if resp, err := client.Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("a 1 MB header: status %d, want 431", resp.StatusCode)
		}
	}
}
