package library

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"ferry/internal/archive"
	"ferry/internal/delta"
	"ferry/internal/edition"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/corpus"
	"ferry/internal/trust"
)

var created = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// smallSite is a made-up site of our own writing (package corpus) with
// pages kor.html and eng.html that tests edit from edition to edition.
func smallSite(t testing.TB) fstest.MapFS {
	t.Helper()
	m, err := corpus.Site(corpus.Options{Pages: 12, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m["kor.html"], m["eng.html"] = m[corpus.PagePath(0)], m[corpus.PagePath(1)]
	return m
}

// bigSite is a larger made-up site with pictures (about 0.3 MB).
func bigSite(t testing.TB) fstest.MapFS {
	t.Helper()
	m, err := corpus.Site(corpus.Options{Pages: 120, Seed: 2, Pictures: true})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// packFile packs fsys as edition of channel into a file in dir.
func packFile(t testing.TB, dir, channel string, edition uint64, fsys fs.FS, k *key.Secret, stmts ...trust.Statement) string {
	t.Helper()
	extra, err := trust.Extra(stmts...)
	if err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, channel+"-"+string(rune('a'+edition))+".ferry")
	info := archive.Info{Channel: channel, Edition: edition, Title: channel, Created: created, Extra: extra}
	if _, err := pack.PackFile(context.Background(), name, pack.Options{Info: info, Signers: []*key.Secret{k},
		Sources: []pack.Source{{Source: folder.NewFS(fsys)}}}); err != nil {
		t.Fatal(err)
	}
	return name
}

func openFile(t testing.TB, p string) *archive.Reader {
	t.Helper()
	r, err := archive.OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// deltaFile writes the delta from the chain of files base... to next.
func deltaFile(t testing.TB, dir string, next string, k *key.Secret, base ...string) string {
	t.Helper()
	var layers []*archive.Reader
	for _, b := range base {
		layers = append(layers, openFile(t, b))
	}
	bv, err := edition.Open(layers...)
	if err != nil {
		t.Fatal(err)
	}
	nv, err := edition.Open(openFile(t, next))
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimSuffix(next, ".ferry") + ".delta.ferry"
	if _, err := delta.MakeFile(context.Background(), bv, nv, name, delta.Options{Signers: []*key.Secret{k}}); err != nil {
		t.Fatal(err)
	}
	return name
}

func edit(m fstest.MapFS, page, text string) fstest.MapFS {
	c := fstest.MapFS{}
	for k, v := range m {
		c[k] = v
	}
	c[page] = &fstest.MapFile{Data: []byte("<html><head><title>" + text + "</title></head><body><p>" + text + "</p></body></html>")}
	return c
}

// consistent checks what every test of interruptions needs: the state file
// parses and every archive it lists is present and verifies.
func consistent(t testing.TB, dir string) *Library {
	t.Helper()
	l, err := Load(dir, false)
	if err != nil {
		t.Fatalf("library after interruption: %v", err)
	}
	for _, r := range l.State.Archives {
		a, err := archive.OpenFile(l.Path(r))
		if err != nil {
			t.Fatalf("archive %s listed but broken: %v", r.ID, err)
		}
		err = a.Verify(context.Background(), nil)
		a.Close()
		if err != nil {
			t.Fatalf("archive %s does not verify: %v", r.ID, err)
		}
	}
	// No final-named file that does not verify.
	files, _ := filepath.Glob(filepath.Join(dir, ArchiveDir, "*"+archiveExt))
	for _, f := range files {
		a, err := archive.OpenFile(f)
		if err == nil {
			err = a.Verify(context.Background(), nil)
			a.Close()
		}
		if err != nil {
			t.Fatalf("%s is broken: %v", f, err)
		}
	}
	return l
}

func TestImportTrustRollbackDelta(t *testing.T) {
	src := t.TempDir()
	k, _ := key.Generate()
	udhr := smallSite(t)
	ed1 := packFile(t, src, "udhr", 1, udhr, k)
	ed2fs := edit(udhr, "kor.html", "세계 인권 선언 개정판")
	ed2 := packFile(t, src, "udhr", 2, ed2fs, k)
	d2 := deltaFile(t, src, ed2, k, ed1)
	dir := filepath.Join(t.TempDir(), "lib")
	l, err := Load(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// Untrusted: refused, saying the fingerprint and the command.
	_, err = l.AddFiles(ctx, []string{ed1}, AddOptions{})
	var ue *UntrustedError
	if !errors.As(err, &ue) || !errors.Is(err, trust.ErrUntrusted) ||
		!strings.Contains(err.Error(), k.Public().Fingerprint()) || !strings.Contains(err.Error(), "ferry trust add "+k.Public().String()) {
		t.Fatalf("untrusted import: %v", err)
	}
	if err := l.State.Trust.Add(trust.Anchor{Label: "UN", Keys: []key.Public{k.Public()}, Threshold: 1}); err != nil {
		t.Fatal(err)
	}
	if err := l.Save(); err != nil {
		t.Fatal(err)
	}
	res, err := l.AddFiles(ctx, []string{d2, ed1}, AddOptions{}) // order does not matter
	if err != nil || len(res.Added) != 2 {
		t.Fatalf("import: %+v %v", res, err)
	}
	res, err = l.AddFiles(ctx, []string{ed1}, AddOptions{})
	if err != nil || len(res.Skipped) != 1 || len(res.Added) != 0 {
		t.Fatalf("second import: %+v %v", res, err)
	}
	o, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	ch := o.Channel("udhr")
	if ch == nil || ch.View == nil || !ch.Trusted || ch.Edition != 2 || len(ch.Chain) != 2 || ch.Anchor != "UN" {
		t.Fatalf("channel %+v", ch)
	}
	got, err := ch.View.Cat("kor.html")
	if err != nil || string(got) != string(ed2fs["kor.html"].Data) {
		t.Fatalf("served kor.html = %q, %v", got, err)
	}
	hits, _, err := ch.View.Search("개정판", 0, 5)
	if err != nil || len(hits) != 1 || hits[0].Path != "kor.html" {
		t.Fatalf("search in the delta: %v %v", hits, err)
	}

	// Rollback: another edition 1 (different content) is refused, naming both numbers.
	old := packFile(t, t.TempDir(), "udhr", 1, edit(udhr, "eng.html", "old"), k)
	_, err = l.AddFiles(ctx, []string{old}, AddOptions{})
	if !errors.Is(err, ErrRollback) || !strings.Contains(err.Error(), "edition 1 is older than edition 2") {
		t.Fatalf("rollback: %v", err)
	}
	// A full edition 2 of the same content is not a rollback; the shorter chain wins.
	if _, err := l.AddFiles(ctx, []string{ed2}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	o2, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	if c := o2.Channel("udhr"); len(c.Chain) != 1 || c.Edition != 2 {
		t.Fatalf("after full edition 2: %+v", c.Chain)
	}
	// The state survives reloading, and removal by channel forgets the
	// files but not the highest edition.
	if _, err := l.Remove("udhr"); err != nil {
		t.Fatal(err)
	}
	l2 := consistent(t, dir)
	if len(l2.State.Archives) != 0 || l2.State.Channels["udhr"].Highest != 2 {
		t.Fatalf("after remove: %+v", l2.State)
	}
	if _, err := l2.AddFiles(ctx, []string{ed1}, AddOptions{}); !errors.Is(err, ErrRollback) {
		t.Fatalf("rollback after remove: %v", err)
	}
}

func TestUntrustedListedAndAllowed(t *testing.T) {
	src := t.TempDir()
	k, _ := key.Generate()
	ed1 := packFile(t, src, "udhr", 1, smallSite(t), k)
	dir := t.TempDir()
	l, _ := Load(dir, true)
	if _, err := l.AddFiles(context.Background(), []string{ed1}, AddOptions{AllowUntrusted: true}); err != nil {
		t.Fatal(err)
	}
	o, err := Open(dir, OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	c := o.Channel("udhr")
	if c.View != nil || c.Trusted || !strings.Contains(c.TrustCommand, k.Public().String()) ||
		!strings.Contains(c.Reason, k.Public().Fingerprint()) || c.Edition != 1 {
		t.Fatalf("untrusted channel %+v", c)
	}
	o2, err := Open(dir, OpenOptions{AllowUntrusted: true})
	if err != nil {
		t.Fatal(err)
	}
	defer o2.Close()
	if c := o2.Channel("udhr"); c.View == nil || c.Trusted {
		t.Fatalf("--allow-untrusted channel %+v", c)
	}
}

// TestRotationThroughLibrary: the library knows only the root; a new
// signing key is accepted by its certificate, and a revoked key is refused
// later even when the revocation is no longer carried.
func TestRotationThroughLibrary(t *testing.T) {
	src := t.TempDir()
	kr := newRotation()
	k1 := kr.k1
	udhr := smallSite(t)
	a1 := packFile(t, src, "udhr", 1, udhr, kr.k1, kr.c1)
	a2 := packFile(t, src, "udhr", 2, edit(udhr, "eng.html", "two"), kr.k2, kr.c2, kr.rev)
	a3 := packFile(t, src, "udhr", 3, edit(udhr, "eng.html", "three"), kr.k1, kr.c1)
	dir := t.TempDir()
	l := trustingLibrary(t, dir, kr.root.Public())
	ctx := context.Background()
	if _, err := l.AddFiles(ctx, []string{a1}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AddFiles(ctx, []string{a2}, AddOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := l.AddFiles(ctx, []string{a3}, AddOptions{})
	if !errors.Is(err, trust.ErrUntrusted) || !strings.Contains(err.Error(), "revoked") {
		t.Fatalf("archive by the revoked key: %v", err)
	}
	// The library remembers across loads; the old edition 1 (signed by the
	// now revoked key) is no longer served.
	l2 := consistent(t, dir)
	if !l2.State.Trust.IsRevoked(k1.Public()) {
		t.Fatal("revocation not in the state file")
	}
	o, _ := Open(dir, OpenOptions{})
	defer o.Close()
	if c := o.Channel("udhr"); c.Edition != 2 || !c.Trusted {
		t.Fatalf("channel %+v", c)
	}
}

// rotation is a publisher's root key with two certified signing keys, the
// first revoked (rev is carried by a later edition).
type rotation struct {
	root, k1, k2 *key.Secret
	c1, c2, rev  trust.Statement
}

func newRotation() rotation {
	r := rotation{root: must(key.Generate()), k1: must(key.Generate()), k2: must(key.Generate())}
	r.c1, _ = trust.Certify(r.k1.Public(), "2025", r.root)
	r.c2, _ = trust.Certify(r.k2.Public(), "2026", r.root)
	r.rev, _ = trust.Revoke(r.k1.Public(), "stolen", r.root)
	return r
}

// trustingLibrary makes a library in dir that trusts the keys.
func trustingLibrary(t testing.TB, dir string, keys ...key.Public) *Library {
	t.Helper()
	l, err := Load(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.State.Trust.Add(trust.Anchor{Label: "publisher", Keys: keys, Threshold: 1}); err != nil {
		t.Fatal(err)
	}
	return l
}

func must(k *key.Secret, err error) *key.Secret {
	if err != nil {
		panic(err)
	}
	return k
}

func FuzzParseState(f *testing.F) {
	root := must(key.Generate())
	r, _ := trust.Revoke(root.Public(), "x", root)
	s := State{Format: 1, Channels: map[string]*ChannelState{"c": {Highest: 3}},
		Trust:    trust.Store{Anchors: []trust.Anchor{{Label: "a", Keys: []key.Public{root.Public()}, Threshold: 1}}, Revoked: []trust.Statement{r}},
		Archives: []Record{{ID: strings.Repeat("ab", 32), File: fileFor(strings.Repeat("ab", 32)), Channel: "c", Edition: 3}}}
	b, _ := json.Marshal(s)
	f.Add(b)
	f.Add([]byte(`{"format":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseState(b)
		if err != nil {
			return
		}
		bestChain(s.Archives)
		if _, err := json.Marshal(s); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzParseInventory(f *testing.F) {
	inv := Inventory{Format: 1, Type: inventoryType, Channels: map[string]*ChannelState{"c": {Highest: 2}},
		Archives: []InventoryItem{{ID: strings.Repeat("0f", 32), Channel: "c", Edition: 2}}}
	b, _ := json.Marshal(inv)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseInventory(b)
	})
}

func TestBestChain(t *testing.T) {
	id := func(c byte) string { return strings.Repeat(string(c), 64) }
	recs := []Record{
		{ID: id('1'), Channel: "c", Edition: 1},
		{ID: id('2'), Channel: "c", Edition: 2, Base: id('1')},
		{ID: id('3'), Channel: "c", Edition: 3, Base: id('2')},
		{ID: id('4'), Channel: "c", Edition: 4, Base: id('9')}, // base missing
		{ID: id('5'), Channel: "c", Edition: 3},                // full 3: shorter than 1+2+3
		{ID: id('a'), Channel: "d", Edition: 5, Base: id('b')}, // loop
		{ID: id('b'), Channel: "d", Edition: 6, Base: id('a')},
	}
	got := bestChain(recs)
	if c := got["c"]; len(c) != 1 || c[0].ID != id('5') {
		t.Fatalf("channel c: %+v", c)
	}
	if _, ok := got["d"]; ok {
		t.Fatal("a loop of deltas made a chain")
	}
	got = bestChain(recs[:4])
	if c := got["c"]; len(c) != 3 || c[0].ID != id('1') || c[2].ID != id('3') {
		t.Fatalf("chain 1-2-3: %+v", c)
	}
}

// TestNewerStateFormat: a library.json of a newer format is "made by a
// newer ferry", not "damaged" (it was reported as damaged), and nothing
// is written.
func TestNewerStateFormat(t *testing.T) {
	for _, b := range []string{`{"format": 2, "archives": "a newer shape"}`, `{"format": 7}`} {
		_, err := ParseState([]byte(b))
		if !errors.Is(err, ErrNewer) || errors.Is(err, ErrState) || !strings.Contains(err.Error(), "newer ferry") {
			t.Errorf("%s: %v", b, err)
		}
	}
	if _, err := ParseState([]byte(`{"format": 0}`)); !errors.Is(err, ErrState) {
		t.Errorf("format 0: %v", err)
	}
}
