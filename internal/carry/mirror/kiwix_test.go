package mirror

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// kiwixReader builds testdata/kiwixopds.cc, a small program that reads an
// OPDS catalogue with libkiwix's own catalogue client, or skips.
func kiwixReader(t *testing.T) string {
	t.Helper()
	cxx, err := exec.LookPath("c++")
	if err != nil {
		t.Skip("no C++ compiler: apt-get install g++ libkiwix-dev to read the catalogue with libkiwix")
	}
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "kiwix").Output()
	if err != nil {
		t.Skip("libkiwix's headers are missing: apt-get install libkiwix-dev to read the catalogue with libkiwix")
	}
	bin := filepath.Join(t.TempDir(), "kiwixopds")
	args := append([]string{"-std=c++17", "-O0", filepath.Join("testdata", "kiwixopds.cc"), "-o", bin}, strings.Fields(string(flags))...)
	if out, err := exec.Command(cxx, args...).CombinedOutput(); err != nil {
		t.Fatalf("building the libkiwix reader: %v\n%s", err, out)
	}
	return bin
}

// kiwixBooks reads the catalogue at base+"/" as Kiwix's readers do and
// returns each book's fields.
func kiwixBooks(t *testing.T, bin, base string) []map[string]string {
	t.Helper()
	cmd := exec.Command(bin, base)
	cmd.Stdin = strings.NewReader(readAll(t, get(t, base+"/").Body))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("libkiwix: %v %s", err, stderr.String())
	}
	var books []map[string]string
	for _, block := range strings.Split(strings.TrimSpace(string(out)), "\n\n") {
		if block == "" {
			continue
		}
		b := map[string]string{}
		for _, line := range strings.Split(block, "\n") {
			k, v, _ := strings.Cut(line, "=")
			b[k] = v
		}
		books = append(books, b)
	}
	return books
}

// TestServeKiwix: libkiwix (the library behind Kiwix's readers and their
// online catalogue) reads the mirror's OPDS feed: one book per channel with
// its name, title, languages, counts and date, and a download link, with
// the length, that fetches the latest full edition from the mirror.
func TestServeKiwix(t *testing.T) {
	bin := kiwixReader(t)
	w := newWorld(t, 10)
	w.edit(t, 1)
	base := w.serve(t)

	books := kiwixBooks(t, bin, base)
	if len(books) != 1 {
		t.Fatalf("libkiwix found %d books, want 1: %v", len(books), books)
	}
	b := books[0]
	t.Logf("libkiwix reads: %v", b)
	e := w.ix.Edition(2)
	want := map[string]string{
		"name": "news", "title": "소식", "language": "kor,eng",
		"url": base + "/" + e.Full.Key, "size": strconv.FormatInt(e.Full.Size, 10),
		"articles": strconv.Itoa(e.Articles), "date": e.Created.UTC().Format("2006-01-02"),
	}
	for k, v := range want {
		if b[k] != v {
			t.Errorf("libkiwix reads %s = %q, want %q", k, b[k], v)
		}
	}
	if len(b["id"]) != 36 || strings.HasPrefix(b["id"], "urn:") {
		t.Errorf("book id %q is not a bare UUID", b["id"])
	}

	// The link libkiwix would download fetches the edition the index names.
	resp := get(t, b["url"])
	body := readAll(t, resp.Body)
	sum := sha256.Sum256([]byte(body))
	if resp.StatusCode != 200 || hex.EncodeToString(sum[:]) != e.Full.SHA256 {
		t.Fatalf("%s: %s, %d bytes not the edition", b["url"], resp.Status, len(body))
	}

	// A third edition: the same book id changes with the file, as Kiwix's
	// ids name one file, so a Kiwix reader sees an update.
	w.edit(t, 2)
	again := kiwixBooks(t, bin, base)
	if len(again) != 1 || again[0]["id"] == b["id"] || again[0]["url"] != base+"/"+w.ix.Edition(3).Full.Key {
		t.Errorf("after edition 3 libkiwix reads %v", again)
	}
}
