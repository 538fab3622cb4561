package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ferry/internal/library"
	"ferry/internal/scrub"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/shared"
)

// cli runs ferry commands in this process, in a temporary folder, the way a
// person types them, and sees what they print and their exit status.
type cli struct {
	t     *testing.T
	dir   string
	out   string // stdout and stderr of the last command
	multi bool   // the command may report on several lines
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	return &cli{t: t, dir: dir}
}

// run runs a command with input on standard input and checks its status.
func (c *cli) run(want int, input string, args ...string) string {
	c.t.Helper()
	var out, errb bytes.Buffer
	term := &terminal{out: &safeWriter{w: &out}, err: &safeWriter{w: &errb}, in: strings.NewReader(input), raw: &out}
	code := run(context.Background(), args, term)
	c.out = out.String() + errb.String()
	if code != want {
		c.t.Fatalf("ferry %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out.String(), errb.String())
	}
	if want != 0 && want != 2 && want != exitFound && !c.multi && strings.Count(strings.TrimSpace(errb.String()), "\n") > 1 {
		c.t.Errorf("ferry %s: error is not one line: %q", strings.Join(args, " "), errb.String())
	}
	return c.out
}

func (c *cli) ok(args ...string) string { c.t.Helper(); return c.run(0, "", args...) }

// site writes a made-up site of our own writing (package corpus) into the
// folder name and returns it.
func (c *cli) site(name string, opts corpus.Options) string {
	c.t.Helper()
	m, err := corpus.Site(opts)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := corpus.WriteDir(filepath.Join(c.dir, name), m); err != nil {
		c.t.Fatal(err)
	}
	return name
}

// TestCommands walks the publisher's path end to end: keygen, pack, verify
// (trusted, untrusted, damaged, truncated), info, ls, cat, search, and the
// refusals a new user meets.
func TestCommands(t *testing.T) {
	c := newCLI(t)
	src := c.site("site", corpus.Options{Pages: 20, Seed: 1, Pictures: true})
	c.ok("keygen", "-o", "pub", "--label", "Test")
	c.ok("keygen", "-o", "other")
	if st, _ := os.Stat("pub.key"); st.Mode().Perm() != 0o600 {
		t.Errorf("pub.key mode %v", st.Mode().Perm())
	}
	c.run(1, "", "keygen", "-o", "pub") // never overwrites a key
	out := c.ok("pack", "-k", "pub.key", "-o", "site.ferry", "--channel", "site", "--edition", "3", "--lang", "ko,en", src)
	// 27 files of the site and, the archive being Korean, the glossary marks table.
	if !strings.Contains(out, "packed site.ferry") || !strings.Contains(out, "28 entries") {
		t.Fatalf("pack summary: %s", out)
	}
	out = c.ok("pack", "-k", "pub.key", "-o", "plain.ferry", "--lang", "ko,en", "--no-glossary-marks", src)
	if !strings.Contains(out, "27 entries") {
		t.Errorf("pack --no-glossary-marks: %s", out)
	}
	// An existing archive is never replaced without --force.
	c.run(1, "", "pack", "-k", "pub.key", "-o", "site.ferry", src)
	if !strings.Contains(c.out, "--force") {
		t.Errorf("refusal does not name --force: %s", c.out)
	}
	c.ok("pack", "-k", "pub.key", "-o", "site.ferry", "--force", "--channel", "site", "--edition", "3", src)
	c.run(1, "", "pack", "-k", "pub.key", "-o", "missing/x.ferry", src)
	if !strings.Contains(c.out, "does not exist") || strings.Contains(c.out, ".tmp") {
		t.Errorf("missing folder: %s", c.out)
	}
	c.ok("verify", "--trust", "pub.pub", "site.ferry")
	if out := c.run(4, "", "verify", "--trust", "other.pub", "site.ferry"); !strings.Contains(out, "--trust") {
		t.Errorf("untrusted message does not say what to do: %s", out)
	}
	if out := c.ok("verify", "-q", "site.ferry"); out != "" {
		t.Errorf("verify -q printed %q", out)
	}
	var info struct {
		ID       string          `json:"id"`
		Manifest json.RawMessage `json:"manifest"`
	}
	if err := json.Unmarshal([]byte(c.ok("info", "--json", "site.ferry")), &info); err != nil || len(info.ID) != 64 {
		t.Fatalf("info --json: %v %+v", err, info)
	}
	var man struct{ Edition int }
	if err := json.Unmarshal(info.Manifest, &man); err != nil || man.Edition != 3 {
		t.Errorf("manifest: %s", info.Manifest)
	}
	if ls := c.ok("ls", "site.ferry"); !strings.Contains(ls, "A/000.html\n") {
		t.Errorf("ls: %s", ls)
	}
	want, _ := os.ReadFile(filepath.Join(src, "A", "000.html"))
	if got := c.ok("cat", "site.ferry", "A/000.html"); got != string(want) {
		t.Errorf("cat returned %d bytes, want %d", len(got), len(want))
	}
	var hits []struct{ Path, Title, Snippet string }
	if err := json.Unmarshal([]byte(c.ok("search", "--json", "--limit", "3", "site.ferry", corpus.Keyword(4))), &hits); err != nil || len(hits) == 0 || hits[0].Path != corpus.PagePath(4) {
		t.Fatalf("search: %v %+v", err, hits)
	}
	if !strings.Contains(hits[0].Snippet, "["+corpus.Keyword(4)) {
		t.Errorf("snippet without the marked word: %q", hits[0].Snippet)
	}
	if out := c.ok("search", "site.ferry", corpus.Keyword(6)); !strings.Contains(out, "results for") {
		t.Errorf("results: %s", out)
	}
	if count(1, "result") != "1 result" || count(3, "entry") != "3 entries" || count(2, "archive") != "2 archives" {
		t.Error("plurals")
	}
	c.run(2, "", "search", "--limit", "0", "site.ferry", "x")
	// Damaged and truncated copies: exit 3 with a message naming the
	// problem; verify goes on past a bad archive to the next.
	b, _ := os.ReadFile("site.ferry")
	bad := bytes.Clone(b)
	bad[len(bad)/3] ^= 0x40
	os.WriteFile("bad.ferry", bad, 0o644)
	if out := c.run(3, "", "verify", "bad.ferry"); !strings.Contains(out, "corrupt") {
		t.Errorf("damaged: %s", out)
	}
	os.WriteFile("short.ferry", b[:len(b)-100], 0o644)
	if out := c.run(3, "", "verify", "short.ferry"); !strings.Contains(out, "copy it again") {
		t.Errorf("truncated: %s", out)
	}
	c.multi = true // one line per archive
	out = c.run(3, "", "verify", "bad.ferry", "site.ferry", "short.ferry")
	c.multi = false
	if !strings.Contains(out, "site.ferry: OK") || !strings.Contains(out, "2 of 3 archives failed") {
		t.Errorf("verify of several stopped early: %s", out)
	}
	// A file of another kind is named as what it is, not called damaged.
	os.WriteFile("book.epub", epubBytes(t), 0o644)
	if out := c.run(1, "", "info", "book.epub"); !strings.Contains(out, "EPUB file, not a ferry archive") {
		t.Errorf("info of an EPUB: %s", out)
	}
	os.WriteFile("photo.jpg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"), 0o644)
	if out := c.run(1, "", "verify", "photo.jpg"); !strings.Contains(out, "photo.jpg is a picture (image/jpeg), not a ferry archive") || strings.Count(out, "photo.jpg") != 1 {
		t.Errorf("verify of a JPEG: %s", out)
	}
	// A damaged start says nothing of what it is: still exit 3, the path once.
	zeroed := bytes.Clone(b)
	clear(zeroed[:64])
	os.WriteFile("zeroed.ferry", zeroed, 0o644)
	if out := c.run(3, "", "info", "zeroed.ferry"); !strings.Contains(out, "damaged at its start") || strings.Count(out, "zeroed.ferry") != 1 {
		t.Errorf("info of an archive damaged at its start: %s", out)
	}
	c.run(2, "", "pack", "-o", "x.ferry", src)
	c.run(2, "", "nosuchcommand")
	c.run(2, "", "pack", "--bogus")
	if !strings.Contains(c.out, "ferry pack -h") {
		t.Errorf("unknown flag does not point to the command's help: %s", c.out)
	}
	c.run(2, "", "trust", "nosuch")
	c.ok("help")
	if out := c.ok("version"); !strings.Contains(out, "ferry") {
		t.Errorf("version: %s", out)
	}
}

// epubBytes is the smallest EPUB that detection recognises.
func epubBytes(t *testing.T) []byte {
	t.Helper()
	return append([]byte("PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x14\x00\x00\x00\x14\x00\x00\x00\x08\x00\x00\x00mimetype"),
		"application/epub+zip"...)
}

// TestPackRefusals: packing nothing or the same folder twice is an error,
// not an archive nobody wanted.
func TestPackRefusals(t *testing.T) {
	c := newCLI(t)
	c.ok("keygen", "-o", "pub")
	os.Mkdir("empty", 0o755)
	if out := c.run(1, "", "pack", "-k", "pub.key", "-o", "e.ferry", "empty"); !strings.Contains(out, "nothing to pack") {
		t.Errorf("empty folder: %s", out)
	}
	if _, err := os.Stat("e.ferry"); err == nil {
		t.Error("an empty archive was written")
	}
	src := c.site("site", corpus.Options{Pages: 2})
	if out := c.run(2, "", "pack", "-k", "pub.key", "-o", "twice.ferry", src, "./"+src); !strings.Contains(out, "given twice") {
		t.Errorf("same folder twice: %s", out)
	}
}

// TestLibraryCommands runs the publisher → card → reader round trip through
// the commands: keys and a certificate, a delta, untrusted refusal (exit 4),
// trust, import, inventory, export since the inventory, compact, rollback,
// and a delta whose base is missing.
func TestLibraryCommands(t *testing.T) {
	c := newCLI(t)
	opts := corpus.Options{Pages: 12, Seed: 2}
	src1 := c.site("src1", opts)
	c.site("src2", opts)
	kor := filepath.Join("src2", filepath.FromSlash(corpus.PagePath(0)))
	b, _ := os.ReadFile(kor)
	os.WriteFile(kor, bytes.Replace(b, []byte("</body>"), []byte("<p>개정판</p></body>"), 1), 0o644)
	os.Remove(filepath.Join("src2", filepath.FromSlash(corpus.PagePath(3))))
	c.ok("keygen", "-o", "root")
	c.ok("keygen", "-o", "sign")
	c.ok("trust", "certify", "-k", "root.key", "-o", "sign.cert", "sign.pub")
	c.ok("pack", "-k", "root.key", "-o", "e1.ferry", "--channel", "news", "--edition", "1", src1)
	c.ok("pack", "-k", "sign.key", "-o", "e2.ferry", "--channel", "news", "--edition", "2", "src2")
	c.ok("delta", "e1.ferry", "e2.ferry", "-o", "d2.ferry", "-k", "sign.key", "--cert", "sign.cert")

	c.run(4, "", "import", "e1.ferry", "--library", "lib")
	if !strings.Contains(c.out, "ferry trust add ferry-pub-v1:") {
		t.Fatalf("untrusted import does not say how to trust: %s", c.out)
	}
	c.ok("trust", "add", "root.pub", "--name", "UN", "--library", "lib")
	c.ok("trust", "list", "--library", "lib")
	c.ok("import", "e1.ferry", "--library", "lib")
	c.ok("trust", "add", "root.pub", "--library", "lib2")
	c.ok("import", "e1.ferry", "--library", "lib2")
	c.ok("inventory", "-o", "inv.json", "--library", "lib2")
	c.ok("library", "add", "d2.ferry", "--library", "lib")
	if out := c.ok("library", "list", "--library", "lib"); !strings.Contains(out, "edition 2") || !strings.Contains(out, "2 archives") {
		t.Errorf("library list: %s", out)
	}
	c.ok("export", "--to", "card", "--since-inventory", "inv.json", "--library", "lib")
	files, _ := filepath.Glob(filepath.Join("card", "archives", "*.ferry"))
	if len(files) != 1 {
		t.Fatalf("card holds %d archives, want only the delta", len(files))
	}
	c.ok("import", "card", "--library", "lib2")
	o, err := library.Open("lib2", library.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ch := o.Channel("news")
	if ch == nil || ch.Edition != 2 || ch.View == nil {
		t.Fatalf("reader library after the card: %+v", ch)
	}
	if b, err := ch.View.Cat(corpus.PagePath(0)); err != nil || !strings.Contains(string(b), "개정판") {
		t.Fatalf("page of edition 2: %v", err)
	}
	o.Close()
	c.ok("compact", "--library", "lib2", "--channel", "news", "-o", "c2.ferry", "-k", "sign.key")
	c.ok("verify", "c2.ferry")
	c.ok("import", "e2.ferry", "--library", "lib3", "--allow-untrusted")
	c.run(1, "", "import", "e1.ferry", "--library", "lib3", "--allow-untrusted")
	if !strings.Contains(c.out, "edition 1 is older than edition 2") {
		t.Fatalf("rollback message: %s", c.out)
	}
	// A delta without its base: kept, with a warning that says so.
	c.ok("trust", "add", "root.pub", "--library", "lib4")
	if out := c.ok("import", "d2.ferry", "--library", "lib4"); !strings.Contains(out, "is not in the library") {
		t.Errorf("delta without base: %s", out)
	}
	c.ok("library", "remove", "news", "--library", "lib")
	c.ok("trust", "remove", "UN", "--library", "lib")
	c.run(2, "", "trust")
}

// TestBroadcastCommands: encode an edition, receive it into a library that
// already has the previous one; it is listed, and the old one sent again
// is refused.
func TestBroadcastCommands(t *testing.T) {
	c := newCLI(t)
	src := c.site("src", corpus.Options{Pages: 8, Seed: 3})
	c.ok("keygen", "-o", "pub")
	c.ok("pack", "-k", "pub.key", "-o", "e1.ferry", "--channel", "news", "--edition", "1", src)
	c.ok("pack", "-k", "pub.key", "-o", "e2.ferry", "--channel", "news", "--edition", "2", src)
	c.ok("trust", "add", "pub.pub")
	c.ok("import", "e1.ferry") // the default library, ./ferry-library
	c.ok("broadcast", "encode", "-k", "pub.key", "--repair", "30%", "-o", "e2.pkt", "e2.ferry")
	if out := c.ok("broadcast", "receive", "e2.pkt"); !strings.Contains(out, "news edition 2: added to the library") {
		t.Errorf("receive: %s", out)
	}
	if out := c.ok("library", "list"); !strings.Contains(out, "news: edition 2") {
		t.Errorf("the received edition is not listed: %s", out)
	}
	// Another edition 1 (not the one held): a rollback now.
	c.ok("pack", "-k", "pub.key", "-o", "old.ferry", "--channel", "news", "--edition", "1", "--title", "old", src)
	c.ok("broadcast", "encode", "-o", "old.pkt", "old.ferry")
	if out := c.ok("broadcast", "receive", "old.pkt"); !strings.Contains(out, "rollback") {
		t.Errorf("an old edition by broadcast was not refused as a rollback: %s", out)
	}
}

// TestScrubCheckStatus: scrub --check exits 5 when it finds a watermark,
// 0 when files are clean, like grep.
func TestScrubCheckStatus(t *testing.T) {
	c := newCLI(t)
	c.site("s", corpus.Options{Pages: 1, Pictures: true})
	c.ok("scrub", "--check", "s")
	pic, _ := os.ReadFile(filepath.Join("s", "img", "card.png"))
	marked, err := scrub.AppendWatermark(pic, "RS-1")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join("s", "img", "card.png"), marked, 0o644)
	c.run(exitFound, "", "scrub", "--check", "s")
	c.ok("scrub", "s")
	c.ok("scrub", "--check", "s")
}

// TestSealedServe creates a sealed container with a hidden library, adds an
// archive to the hidden library and serves it with --sealed.
func TestSealedServe(t *testing.T) {
	c := newCLI(t)
	src := c.site("src", corpus.Options{Pages: 4, Seed: 4})
	c.ok("keygen", "-o", "pub")
	c.ok("pack", "-k", "pub.key", "-o", "news.ferry", src)
	c.run(2, "", "seal", "--size", "2MB", "-o", "box.bin") // refused before any passphrase
	c.run(1, "", "seal", "list", "missing.bin")
	if !strings.Contains(c.out, "no such file") || strings.Contains(c.out, "passphrase") {
		t.Errorf("missing container: %s", c.out)
	}
	if out := c.run(0, "decoy passphrase one\ndecoy passphrase one\nsecret passphrase two\nsecret passphrase two\n", "seal", "--size", "8MiB", "-o", "box.bin"); !strings.Contains(out, "created box.bin") {
		t.Fatalf("seal: %s", out)
	}
	if st, err := os.Stat("box.bin"); err != nil || st.Size() != 8<<20 {
		t.Fatalf("container: %v %v", st, err)
	}
	c.run(0, "secret passphrase two\ndecoy passphrase one\n", "seal", "add", "box.bin", "news.ferry")
	if out := c.run(0, "decoy passphrase one\n", "seal", "list", "box.bin"); strings.Contains(out, "news") {
		t.Fatalf("outer library shows the hidden archive: %s", out)
	}
	if out := c.run(1, "wrong\n", "seal", "list", "box.bin"); !strings.Contains(out, "passphrase") {
		t.Fatalf("wrong passphrase: %s", out)
	}
	if out := c.run(0, "short\nshort\n\n", "seal", "--size", "8MiB", "-o", "weak.bin"); !strings.Contains(out, "weak") {
		t.Errorf("no warning for a weak passphrase: %s", out)
	}
	addr := freePort(t)
	body := serveInProcess(t, "secret passphrase two\n", []string{"serve", "--sealed", "box.bin", "--addr", addr}, "http://"+addr+"/a/news/"+corpus.PagePath(0))
	if !strings.Contains(body, corpus.Keyword(0)) {
		t.Fatalf("sealed archive not served: %.200q", body)
	}
}

// serveInProcess runs a serving command until url answers 200 and returns
// the body; the command is stopped when the test ends.
func serveInProcess(t *testing.T, input string, args []string, url string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out bytes.Buffer
	term := &terminal{out: &safeWriter{w: &out}, err: &safeWriter{w: &out}, in: strings.NewReader(input)}
	go func() { done <- run(ctx, args, term) }()
	t.Cleanup(func() { cancel(); <-done })
	for i := 0; i < 200; i++ {
		resp, err := http.Get(url)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return string(b)
			}
		}
		select {
		case code := <-done:
			t.Fatalf("ferry %v ended with %d: %s", args, code, out.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("ferry %v did not answer %s", args, url)
	return ""
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestServeLibraryWithDelta packs two editions, makes a delta, imports the
// base and the delta into a library that trusts the key, and checks the
// reader shows the newest edition: a changed page, an added page, and the
// added page found by search.
func TestServeLibraryWithDelta(t *testing.T) {
	c := newCLI(t)
	src := c.site("src", corpus.Options{Pages: 6, Seed: 5})
	c.ok("keygen", "-o", "pub")
	c.ok("pack", "-k", "pub.key", "-o", "u1.ferry", "--channel", "news", "--edition", "1", src)
	os.WriteFile(filepath.Join(src, "new.html"), []byte("<html><title>New page</title><p>brand new 새로운 소식</p></html>"), 0o644)
	page := filepath.Join(src, filepath.FromSlash(corpus.PagePath(0)))
	b, _ := os.ReadFile(page)
	os.WriteFile(page, bytes.Replace(b, []byte("</body>"), []byte("<p>고친 글입니다</p></body>"), 1), 0o644)
	c.ok("pack", "-k", "pub.key", "-o", "u2.ferry", "--channel", "news", "--edition", "2", src)
	c.ok("delta", "u1.ferry", "u2.ferry", "-o", "u2.delta.ferry", "-k", "pub.key")
	// pack --base makes the same kind of delta straight from the source.
	c.ok("pack", "-k", "pub.key", "-o", "u2b.ferry", "--channel", "news", "--edition", "2", "--base", "u1.ferry", src)
	if out := c.ok("info", "u2b.ferry"); !strings.Contains(out, "delta of:    news edition 1") {
		t.Errorf("pack --base did not make a delta: %s", out)
	}
	c.ok("trust", "add", "pub.pub", "--library", "lib")
	c.ok("import", "u1.ferry", "u2.delta.ferry", "--library", "lib")
	addr := freePort(t)
	if body := serveInProcess(t, "", []string{"serve", "--addr", addr, "lib"}, "http://"+addr+"/a/news/new.html"); !strings.Contains(body, "새로운 소식") {
		t.Error("page added by the delta not served")
	}
	get := func(path string) string {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if !strings.Contains(get("/a/news/"+corpus.PagePath(0)), "고친 글입니다") {
		t.Error("page changed by the delta not served in its new form")
	}
	if !strings.Contains(get("/search?q=brand"), "New page") {
		t.Error("search does not find the page added by the delta")
	}
}

// TestPackMixedSources packs a ZIM, a WARC, an EPUB book and an Atom feed
// (other people's real files) into one archive, each under its own
// prefix, found by content; a folder given first supplies the metadata.
func TestPackMixedSources(t *testing.T) {
	zimPath := shared.Path(t, "zim/small.zim")
	warcPath := shared.Path(t, "warc/example.warc.gz")
	epubPath := shared.Path(t, "epub/alice.epub")
	feedPath := shared.Path(t, "feeds/gulp-releases.atom")
	c := newCLI(t)
	site := c.site("site", corpus.Options{Pages: 3})
	b, err := os.ReadFile(epubPath)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile("book.bin", b, 0o644) // detection goes by content, not the name
	c.ok("keygen", "-o", "pub")
	c.ok("pack", "-k", "pub.key", "-o", "mixed.ferry", "--title", "Our site", site, zimPath, warcPath, "book.bin", feedPath)
	count := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(c.ok("ls", "mixed.ferry")), "\n") {
		prefix, _, _ := strings.Cut(line, "/")
		count[prefix]++
	}
	for _, p := range []string{"site", "small", "example", "book.bin", "gulp-releases"} {
		if count[p] == 0 {
			t.Errorf("no entries under %s/ (have %v)", p, count)
		}
	}
	info := c.ok("info", "mixed.ferry")
	if !strings.Contains(info, "title:       Our site") || !strings.Contains(info, "main page:   site/index.html") {
		t.Errorf("the archive's metadata is not the publisher's and the first folder's: %s", info)
	}
	c.ok("verify", "mixed.ferry")
	if out := c.ok("search", "--json", "mixed.ferry", "rabbit"); !strings.Contains(out, "book.bin/") {
		t.Errorf("search for rabbit does not find the book: %s", out)
	}
}

// TestExportScrubsWatermarks marks a library's archive the way Red Star OS
// does, exports it, and checks the message, the clean library file and the
// verified copy on the card.
func TestExportScrubsWatermarks(t *testing.T) {
	c := newCLI(t)
	src := c.site("src", corpus.Options{Pages: 3, Seed: 6})
	c.ok("keygen", "-o", "pub")
	c.ok("pack", "-k", "pub.key", "-o", "u.ferry", "--channel", "news", src)
	c.ok("trust", "add", "pub.pub", "--library", "lib")
	c.ok("import", "u.ferry", "--library", "lib")
	files, _ := filepath.Glob(filepath.Join("lib", "archives", "*.ferry"))
	if len(files) != 1 {
		t.Fatalf("library files: %v", files)
	}
	orig, _ := os.ReadFile(files[0])
	marked, err := scrub.AppendWatermark(orig, "SERIAL-1234")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(files[0], marked, 0o644)
	out := c.ok("export", "--library", "lib", "--to", "card")
	if !strings.Contains(out, "Red Star OS watermark") || !strings.Contains(out, files[0]) {
		t.Errorf("no message naming the cleaned file: %s", out)
	}
	if b, _ := os.ReadFile(files[0]); !bytes.Equal(b, orig) {
		t.Error("library archive not restored to its signed bytes")
	}
	copies, _ := filepath.Glob(filepath.Join("card", "archives", "*.ferry"))
	if len(copies) != 1 {
		t.Fatalf("card files: %v", copies)
	}
	c.ok("verify", copies[0])
}

// TestTerminalEscapes: names from an archive reach the terminal with their
// control characters shown, not obeyed (a channel name that tries to
// rewrite the line as a green "added" message).
func TestTerminalEscapes(t *testing.T) {
	c := newCLI(t)
	src := c.site("src", corpus.Options{Pages: 2})
	c.ok("keygen", "-o", "evil")
	evil := "x\r\x1b[2K\x1b[32madded news-ko edition 43\x1b[8m"
	c.ok("pack", "-k", "evil.key", "-o", "evil.ferry", "--channel", evil, src)
	out := c.run(4, "", "import", "evil.ferry")
	if strings.ContainsAny(out, "\r\x1b") || !strings.Contains(out, `\x1b[32madded`) {
		t.Errorf("control characters reached the terminal: %q", out)
	}
	if got := clean("a\u202eb\u0085c\td"); got != `a\u202eb\x85c`+"\td" {
		t.Errorf("clean: %q", got)
	}
}

// TestAudioCommands: a radio edition through the three audio commands —
// encode, a simulated radio path, decode into the library.
func TestAudioCommands(t *testing.T) {
	c := newCLI(t)
	src := c.site("src", corpus.Options{Pages: 3, Seed: 12})
	c.ok("keygen", "-o", "pub")
	c.ok("pack", "-k", "pub.key", "-o", "radio.ferry", "--channel", "radio-ko", "--profile", "radio", src)
	c.ok("trust", "add", "pub.pub")
	out := c.ok("audio", "encode", "--mode", "fast", "--repair", "60%", "-o", "on-air.wav", "radio.ferry")
	if !strings.Contains(out, "fast mode sound") || !strings.Contains(out, "bit/s") {
		t.Errorf("encode: %s", out)
	}
	c.ok("audio", "channel", "--snr", "8", "--offset", "30", "--drift", "3000", "on-air.wav", "heard.wav")
	if out := c.ok("audio", "decode", "heard.wav"); !strings.Contains(out, "radio-ko edition 1: added to the library") {
		t.Errorf("decode: %s", out)
	}
	if out := c.ok("library", "list"); !strings.Contains(out, "radio-ko: edition 1") {
		t.Errorf("library: %s", out)
	}
	c.run(2, "", "audio", "encode", "--mode", "loud", "-o", "x.wav", "radio.ferry")
}
