package library

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/corpus"
	"ferry/internal/trust"
)

// TestRadioEditionSearchable: an edition packed with the radio profile
// (pages only, no index, Brotli) arrives without an index; the library
// builds one from the verified copy, so the reader finds its pages, and
// removing the archive removes the index.
func TestRadioEditionSearchable(t *testing.T) {
	site, err := corpus.Site(corpus.Options{Pages: 10, Seed: 8, Pictures: true})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := key.Generate()
	var buf bytes.Buffer
	sum, err := pack.Pack(context.Background(), &buf, pack.Options{Info: archive.Info{Channel: "radio", Edition: 1},
		Signers: []*key.Secret{k}, Sources: []pack.Source{{Source: folder.NewFS(site)}}, Profile: pack.ProfileRadio})
	if err != nil {
		t.Fatal(err)
	}
	if sum.IndexBytes != 0 || sum.Entries != 11 { // 10 pages and the index page; pictures left out
		t.Fatalf("radio pack: %d entries, index %d bytes", sum.Entries, sum.IndexBytes)
	}
	file := filepath.Join(t.TempDir(), "radio-1.ferry")
	os.WriteFile(file, buf.Bytes(), 0o644)
	l, err := Load(filepath.Join(t.TempDir(), "lib"), true)
	if err != nil {
		t.Fatal(err)
	}
	l.State.Trust.Add(trust.Anchor{Label: "radio", Keys: []key.Public{k.Public()}, Threshold: 1})
	res, err := l.AddFiles(context.Background(), []string{file}, AddOptions{})
	if err != nil || len(res.Added) != 1 || len(res.Warnings) != 0 {
		t.Fatalf("add: %+v %v", res, err)
	}
	o, err := Open(l.Dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hits, _, err := o.Channel("radio").View.Search(corpus.Keyword(4), 0, 3)
	o.Close()
	if err != nil || len(hits) == 0 || hits[0].Path != corpus.PagePath(4) {
		t.Fatalf("search of the radio edition: %v %v", hits, err)
	}
	if _, err := l.Remove("radio"); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(l.Dir, IndexDir, "*")); len(left) != 0 {
		t.Errorf("index files left after removing the archive: %v", left)
	}
}

// TestIndexFolderLinkNotFollowed: a library (a card) whose index folder is
// a symbolic link to a folder elsewhere gets no index written through it;
// the radio edition is still added, with a warning that it has no search.
func TestIndexFolderLinkNotFollowed(t *testing.T) {
	site, err := corpus.Site(corpus.Options{Pages: 3, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := key.Generate()
	var buf bytes.Buffer
	if _, err := pack.Pack(context.Background(), &buf, pack.Options{Info: archive.Info{Channel: "radio", Edition: 1},
		Signers: []*key.Secret{k}, Sources: []pack.Source{{Source: folder.NewFS(site)}}, Profile: pack.ProfileRadio}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "radio-1.ferry")
	os.WriteFile(file, buf.Bytes(), 0o644)
	dir := filepath.Join(t.TempDir(), "card")
	os.MkdirAll(dir, 0o755)
	elsewhere := t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(dir, IndexDir)); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	l, err := Load(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	l.State.Trust.Add(trust.Anchor{Label: "radio", Keys: []key.Public{k.Public()}, Threshold: 1})
	res, err := l.AddFiles(context.Background(), []string{file}, AddOptions{})
	if err != nil || len(res.Added) != 1 || len(res.Warnings) != 1 {
		t.Fatalf("add: %+v %v", res, err)
	}
	if ents, _ := os.ReadDir(elsewhere); len(ents) != 0 {
		t.Fatalf("%d files written through the card's linked index folder", len(ents))
	}
	// Once the link is gone, importing the archive again builds the index.
	if err := os.Remove(filepath.Join(dir, IndexDir)); err != nil {
		t.Fatal(err)
	}
	res, err = l.AddFiles(context.Background(), []string{file}, AddOptions{})
	if err != nil || len(res.Skipped) != 1 || len(res.Warnings) != 0 {
		t.Fatalf("add again: %+v %v", res, err)
	}
	if _, err := os.Stat(l.indexPath(res.Skipped[0].ID)); err != nil {
		t.Fatalf("index not built on the second import: %v", err)
	}
}
