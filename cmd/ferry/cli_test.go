package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ferry/internal/scrub"
	"ferry/internal/testkit/shared"
)

// ferryRun runs the built command and returns stdout, stderr and the exit code.
func ferryRun(t *testing.T, bin, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestCommands walks the publisher's path end to end with the real binary:
// keygen, pack real content, verify (trusted, untrusted, damaged,
// truncated), info, ls, cat, search.
func TestCommands(t *testing.T) {
	udhr := shared.Path(t, "udhr")
	bin := buildFerry(t)
	dir := t.TempDir()
	run := func(want int, args ...string) string {
		t.Helper()
		out, errOut, code := ferryRun(t, bin, dir, args...)
		if code != want {
			t.Fatalf("ferry %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, out, errOut)
		}
		if want != 0 && want != 2 && strings.Count(strings.TrimSpace(errOut), "\n") > 1 {
			t.Errorf("ferry %s: error is not one line: %q", strings.Join(args, " "), errOut)
		}
		return out + errOut
	}
	run(0, "keygen", "-o", "pub", "--label", "Test")
	run(0, "keygen", "-o", "other")
	if st, _ := os.Stat(filepath.Join(dir, "pub.key")); st.Mode().Perm() != 0o600 {
		t.Errorf("pub.key mode %v", st.Mode().Perm())
	}
	out := run(0, "pack", "-k", "pub.key", "-o", "udhr.ferry", "--channel", "udhr", "--edition", "3", "--lang", "ko,en", udhr)
	if !strings.Contains(out, "packed udhr.ferry") {
		t.Fatalf("pack summary: %s", out)
	}
	run(0, "verify", "--trust", "pub.pub", "udhr.ferry")
	if out := run(4, "verify", "--trust", "other.pub", "udhr.ferry"); !strings.Contains(out, "--trust") {
		t.Errorf("untrusted message does not say what to do: %s", out)
	}
	var info struct {
		ID       string          `json:"id"`
		Manifest json.RawMessage `json:"manifest"`
	}
	if err := json.Unmarshal([]byte(run(0, "info", "--json", "udhr.ferry")), &info); err != nil || len(info.ID) != 64 {
		t.Fatalf("info --json: %v %+v", err, info)
	}
	if !strings.Contains(string(info.Manifest), `"edition": 3`) {
		t.Errorf("manifest: %s", info.Manifest)
	}
	if ls := run(0, "ls", "udhr.ferry"); !strings.Contains(ls, "kor.html\n") {
		t.Errorf("ls: %s", ls)
	}
	want, _ := os.ReadFile(filepath.Join(udhr, "kor.html"))
	if got, _, _ := ferryRun(t, bin, dir, "cat", "udhr.ferry", "kor.html"); got != string(want) {
		t.Errorf("cat returned %d bytes, want %d", len(got), len(want))
	}
	var hits []struct{ Path, Title, Snippet string }
	if err := json.Unmarshal([]byte(run(0, "search", "--json", "--limit", "3", "udhr.ferry", "모든", "인간은")), &hits); err != nil || len(hits) == 0 || hits[0].Path != "kor.html" {
		t.Fatalf("search: %v %+v", err, hits)
	}
	if !strings.Contains(hits[0].Snippet, "[") {
		t.Errorf("snippet without marked words: %q", hits[0].Snippet)
	}
	// Damaged and truncated copies: exit 3 with a message naming the problem.
	b, _ := os.ReadFile(filepath.Join(dir, "udhr.ferry"))
	bad := append([]byte{}, b...)
	bad[len(bad)/3] ^= 0x40
	os.WriteFile(filepath.Join(dir, "bad.ferry"), bad, 0o644)
	if out := run(3, "verify", "bad.ferry"); !strings.Contains(out, "corrupt") {
		t.Errorf("damaged: %s", out)
	}
	os.WriteFile(filepath.Join(dir, "short.ferry"), b[:len(b)-100], 0o644)
	if out := run(3, "verify", "short.ferry"); !strings.Contains(out, "copy it again") {
		t.Errorf("truncated: %s", out)
	}
	run(2, "pack", "-o", "x.ferry", udhr)
	run(2, "nosuchcommand")
	run(0, "help")
}

// TestSealedServe creates a sealed container with a hidden library, adds a
// real archive to the hidden library and serves it with --sealed.
func TestSealedServe(t *testing.T) {
	udhr := shared.Path(t, "udhr")
	bin := buildFerry(t)
	dir := t.TempDir()
	withInput := func(input string, args ...string) (string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(input)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return string(out), code
	}
	ferryRun(t, bin, dir, "keygen", "-o", "pub")
	if out, _, code := ferryRun(t, bin, dir, "pack", "-k", "pub.key", "-o", "udhr.ferry", udhr); code != 0 {
		t.Fatal(out)
	}
	if out, code := withInput("decoy\ndecoy\nsecret\nsecret\n", "seal", "--size", "8MiB", "-o", "box.bin"); code != 0 {
		t.Fatalf("seal: %s", out)
	}
	if st, err := os.Stat(filepath.Join(dir, "box.bin")); err != nil || st.Size() != 8<<20 {
		t.Fatalf("container: %v %v", st, err)
	}
	if out, code := withInput("secret\ndecoy\n", "seal", "add", "box.bin", "udhr.ferry"); code != 0 {
		t.Fatalf("seal add: %s", out)
	}
	if out, code := withInput("decoy\n", "seal", "list", "box.bin"); code != 0 || strings.Contains(out, "udhr") {
		t.Fatalf("outer library shows the hidden archive: %s", out)
	}
	if out, code := withInput("wrong\n", "seal", "list", "box.bin"); code == 0 || !strings.Contains(out, "passphrase") {
		t.Fatalf("wrong passphrase: %d %s", code, out)
	}
	addr := freePort(t)
	cmd := exec.Command(bin, "serve", "--sealed", "box.bin", "--addr", addr)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader("secret\n")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	body := ""
	for i := 0; i < 200 && !strings.Contains(body, "udhr"); i++ {
		time.Sleep(50 * time.Millisecond)
		resp, err := http.Get("http://" + addr + "/a/udhr/kor.html")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			body = "udhr " + string(b)
		}
	}
	if !strings.Contains(body, "모든 인간은") {
		t.Fatalf("sealed archive not served: %.200q\n%s", body, out.String())
	}
}

// TestServeLibraryWithDelta packs two editions, makes a delta, imports the
// base and the delta into a library that trusts the key, and checks the
// reader shows the newest edition: a changed page, an added page, and the
// added page found by search.
func TestServeLibraryWithDelta(t *testing.T) {
	udhr := shared.Path(t, "udhr")
	bin := buildFerry(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.MkdirAll(src, 0o755)
	for _, n := range []string{"kor.html", "eng.html"} {
		b, err := os.ReadFile(filepath.Join(udhr, n))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(src, n), b, 0o644)
	}
	must := func(args ...string) {
		t.Helper()
		if out, errOut, code := ferryRun(t, bin, dir, args...); code != 0 {
			t.Fatalf("ferry %v: %d\n%s%s", args, code, out, errOut)
		}
	}
	must("keygen", "-o", "pub")
	must("pack", "-k", "pub.key", "-o", "u1.ferry", "--channel", "udhr", "--edition", "1", "src")
	os.WriteFile(filepath.Join(src, "new.html"), []byte("<html><title>New page</title><p>brand new 새로운 소식</p></html>"), 0o644)
	kor, _ := os.ReadFile(filepath.Join(src, "kor.html"))
	os.WriteFile(filepath.Join(src, "kor.html"), []byte(strings.Replace(string(kor), "모든 인간은", "모든 사람은", 1)), 0o644)
	must("pack", "-k", "pub.key", "-o", "u2.ferry", "--channel", "udhr", "--edition", "2", "src")
	must("delta", "u1.ferry", "u2.ferry", "-o", "u2.delta.ferry", "-k", "pub.key")
	// pack --base makes the same kind of delta straight from the source.
	must("pack", "-k", "pub.key", "-o", "u2b.ferry", "--channel", "udhr", "--edition", "2", "--base", "u1.ferry", "src")
	if out, _, _ := ferryRun(t, bin, dir, "info", "u2b.ferry"); !strings.Contains(out, "delta of:    udhr edition 1") {
		t.Errorf("pack --base did not make a delta: %s", out)
	}
	must("trust", "add", "pub.pub", "--library", "lib")
	must("import", "u1.ferry", "u2.delta.ferry", "--library", "lib")
	addr := freePort(t)
	cmd := exec.Command(bin, "serve", "--addr", addr, "lib")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	get := func(path string) string {
		for i := 0; i < 100; i++ {
			resp, err := http.Get("http://" + addr + path)
			if err != nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(b)
		}
		t.Fatalf("ferry serve did not answer %s", path)
		return ""
	}
	if !strings.Contains(get("/a/udhr/new.html"), "새로운 소식") {
		t.Error("page added by the delta not served")
	}
	if page := get("/a/udhr/kor.html"); !strings.Contains(page, "모든 사람은") || strings.Contains(page, "모든 인간은 태어날") {
		t.Error("page changed by the delta not served in its new form")
	}
	if !strings.Contains(get("/search?q=brand"), "New page") {
		t.Error("search does not find the page added by the delta")
	}
}

// TestPackMixedSources packs a ZIM, a WARC, an EPUB book and an Atom feed
// into one archive, each under its own prefix, found by content.
func TestPackMixedSources(t *testing.T) {
	zimPath := shared.Path(t, "zim/small.zim")
	warcPath := shared.Path(t, "warc/example.warc.gz")
	epubPath := shared.Path(t, "epub/alice.epub")
	feedPath := shared.Path(t, "feeds/gulp-releases.atom")
	bin := buildFerry(t)
	dir := t.TempDir()
	// A renamed copy: detection must go by content, not the extension.
	b, err := os.ReadFile(epubPath)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "book.bin"), b, 0o644)
	ferryRun(t, bin, dir, "keygen", "-o", "pub")
	if out, errOut, code := ferryRun(t, bin, dir, "pack", "-k", "pub.key", "-o", "mixed.ferry", zimPath, warcPath, "book.bin", feedPath); code != 0 {
		t.Fatalf("pack: %s%s", out, errOut)
	}
	ls, _, _ := ferryRun(t, bin, dir, "ls", "mixed.ferry")
	count := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(ls), "\n") {
		prefix, _, _ := strings.Cut(line, "/")
		count[prefix]++
	}
	for _, p := range []string{"small", "example", "book.bin", "gulp-releases"} {
		if count[p] == 0 {
			t.Errorf("no entries under %s/ (have %v)", p, count)
		}
	}
	if _, _, code := ferryRun(t, bin, dir, "verify", "mixed.ferry"); code != 0 {
		t.Fatal("mixed archive does not verify")
	}
	out, _, _ := ferryRun(t, bin, dir, "search", "--json", "mixed.ferry", "rabbit")
	if !strings.Contains(out, "book.bin/") {
		t.Errorf("search for rabbit does not find the book: %s", out)
	}
}

// TestExportScrubsWatermarks marks a library's archive the way Red Star OS
// does, exports it, and checks the warning, the clean library file and the
// verified copy on the card.
func TestExportScrubsWatermarks(t *testing.T) {
	udhr := shared.Path(t, "udhr")
	bin := buildFerry(t)
	dir := t.TempDir()
	must := func(args ...string) string {
		t.Helper()
		out, errOut, code := ferryRun(t, bin, dir, args...)
		if code != 0 {
			t.Fatalf("ferry %v: %d\n%s%s", args, code, out, errOut)
		}
		return out + errOut
	}
	must("keygen", "-o", "pub")
	must("pack", "-k", "pub.key", "-o", "u.ferry", "--channel", "udhr", udhr)
	must("trust", "add", "pub.pub", "--library", "lib")
	must("import", "u.ferry", "--library", "lib")
	files, _ := filepath.Glob(filepath.Join(dir, "lib", "archives", "*.ferry"))
	if len(files) != 1 {
		t.Fatalf("library files: %v", files)
	}
	orig, _ := os.ReadFile(files[0])
	marked, err := scrub.AppendWatermark(orig, "SERIAL-1234")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(files[0], marked, 0o644)
	out := must("export", "--library", "lib", "--to", "card")
	if !strings.Contains(out, "Red Star OS watermark") {
		t.Errorf("no watermark warning: %s", out)
	}
	if b, _ := os.ReadFile(files[0]); !bytes.Equal(b, orig) {
		t.Error("library archive not restored to its signed bytes")
	}
	copies, _ := filepath.Glob(filepath.Join(dir, "card", "archives", "*.ferry"))
	if len(copies) != 1 {
		t.Fatalf("card files: %v", copies)
	}
	must("verify", copies[0])
}
