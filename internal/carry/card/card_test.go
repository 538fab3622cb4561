package card

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"ferry/internal/archive"
	"ferry/internal/delta"
	"ferry/internal/edition"
	"ferry/internal/key"
	"ferry/internal/library"
	"ferry/internal/pack"
	"ferry/internal/release"
	"ferry/internal/scrub"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/packtest"
	"ferry/internal/trust"
)

// fixture is a channel's editions as files: full editions 1..3, the delta
// 2-on-1 and the delta 3-on-2, and another channel.
type fixture struct {
	ed1, ed2, ed3, d2, d3, other string
}

func site(t *testing.T, pages int, seed uint64) fstest.MapFS {
	t.Helper()
	m, err := corpus.Site(corpus.Options{Pages: pages, Seed: seed, Pictures: true})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func writeArchive(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func makeDelta(t *testing.T, base [][]byte, next []byte) []byte {
	t.Helper()
	var layers []*archive.Reader
	for _, b := range base {
		layers = append(layers, packtest.Open(t, b))
	}
	bv, err := packtestChain(layers)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := delta.Make(context.Background(), bv, packtest.View(t, packtest.Open(t, next)), &out, delta.Options{Signers: []*key.Secret{packtest.Key(t)}}); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	opts := corpus.Options{Pages: 20, Seed: 4, Pictures: true}
	s1 := site(t, 20, 4)
	s2, _, err := corpus.Edit(s1, opts, 4, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	s3, _, _ := corpus.Edit(s2, corpus.Options{Pages: 21, Seed: 5, Pictures: true}, 5, []int{2}, 1)
	b1 := packtest.FS(t, s1, archive.Info{Channel: "news", Edition: 1})
	b2 := packtest.FS(t, s2, archive.Info{Channel: "news", Edition: 2})
	b3 := packtest.FS(t, s3, archive.Info{Channel: "news", Edition: 3})
	dir := t.TempDir()
	return fixture{
		ed1:   writeArchive(t, dir, "news-1.ferry", b1),
		ed2:   writeArchive(t, dir, "news-2.ferry", b2),
		ed3:   writeArchive(t, dir, "news-3.ferry", b3),
		d2:    writeArchive(t, dir, "news-2.delta.ferry", makeDelta(t, [][]byte{b1}, b2)),
		d3:    writeArchive(t, dir, "news-3.delta.ferry", makeDelta(t, [][]byte{b1, readFile(t, filepath.Join(dir, "news-2.delta.ferry"))}, b3)),
		other: writeArchive(t, dir, "books-1.ferry", packtest.FS(t, site(t, 30, 9), archive.Info{Channel: "books", Edition: 1})),
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// trusting is a new library in a temporary folder that trusts the test key.
func trusting(t *testing.T) *library.Library {
	t.Helper()
	l, err := library.Load(filepath.Join(t.TempDir(), "lib"), true)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.State.Trust.Add(trust.Anchor{Label: "pub", Keys: []key.Public{packtest.Key(t).Public()}, Threshold: 1}); err != nil {
		t.Fatal(err)
	}
	return l
}

func add(t *testing.T, l *library.Library, paths ...string) {
	t.Helper()
	if _, err := l.AddFiles(context.Background(), paths, library.AddOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestExportInventory(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	A := trusting(t)
	add(t, A, f.ed1, f.d2, f.other)
	card := filepath.Join(t.TempDir(), "card")
	res, err := Export(ctx, A, card, ExportOptions{Channels: []string{"news"}})
	if err != nil || len(res.Written) != 2 {
		t.Fatalf("export: %+v %v", res, err)
	}
	B := trusting(t)
	if _, err := Import(ctx, B, []string{card}, library.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	invPath := filepath.Join(t.TempDir(), "inventory.json")
	if err := WriteInventory(B, invPath); err != nil {
		t.Fatal(err)
	}
	inv, err := ReadInventory(invPath)
	if err != nil || len(inv.Archives) != 2 || inv.Channels["news"].Highest != 2 {
		t.Fatalf("inventory %+v %v", inv, err)
	}
	// Next week the outside library gets delta 3; the next card carries
	// only it.
	add(t, A, f.d3)
	card2 := filepath.Join(t.TempDir(), "card2")
	res, err = Export(ctx, A, card2, ExportOptions{Since: inv, Channels: []string{"news"}})
	if err != nil || len(res.Written) != 1 || res.Written[0].Edition != 3 {
		t.Fatalf("export since inventory: %+v %v", res, err)
	}
	// Exporting again to the same card writes nothing.
	res, err = Export(ctx, A, card2, ExportOptions{Since: inv, Channels: []string{"news"}})
	if err != nil || len(res.Written) != 0 {
		t.Fatalf("second export: %+v %v", res, err)
	}
	if _, err := Import(ctx, B, []string{card2}, library.AddOptions{}); err != nil {
		t.Fatal(err)
	}
	o, err := library.Open(B.Dir, library.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if c := o.Channel("news"); c == nil || c.Edition != 3 || c.View == nil {
		t.Fatalf("inside after card 2: %+v", c)
	}
	if o.Channel("books") != nil {
		t.Fatal("a channel not selected was exported")
	}
	// A card too small: the error says how much is missing.
	_, err = Export(ctx, A, filepath.Join(t.TempDir(), "small"), ExportOptions{freeSpace: func(string) (int64, bool) { return 1000, true }})
	if !errors.Is(err, library.ErrNoSpace) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("full card: %v", err)
	}
}

// TestExportSmallestChain: the courier holds full edition 2 and the delta
// 2-on-1, the reader holds edition 1: only the delta travels (it used to
// send the full edition 2).
func TestExportSmallestChain(t *testing.T) {
	f := newFixture(t)
	A := trusting(t)
	add(t, A, f.ed1, f.ed2, f.d2)
	B := trusting(t)
	add(t, B, f.ed1)
	plan, err := Plan(A, nil, map[string]bool{B.State.Archives[0].ID: true})
	if err != nil {
		t.Fatal(err)
	}
	d2, closeD2, _ := library.OpenArrival(f.d2)
	defer closeD2()
	if len(plan) != 1 || plan[0].Base == "" || plan[0].Size != d2.Size {
		t.Fatalf("plan %+v, want the delta alone", plan)
	}
	// With nothing on the other side, the full edition 2 is the cheapest.
	plan, _ = Plan(A, nil, nil)
	if len(plan) != 1 || plan[0].Base != "" || plan[0].Edition != 2 {
		t.Fatalf("plan for an empty library %+v", plan)
	}
}

// TestExportThroughLinkedPart: a card whose .ID.part is a symbolic link to
// a file elsewhere; export replaces the link and leaves that file alone.
func TestExportThroughLinkedPart(t *testing.T) {
	f := newFixture(t)
	l := trusting(t)
	add(t, l, f.ed1)
	id := l.State.Archives[0].ID
	victim := filepath.Join(t.TempDir(), "precious.txt")
	os.WriteFile(victim, []byte("keep me"), 0o644)
	card := filepath.Join(t.TempDir(), "card")
	os.MkdirAll(filepath.Join(card, library.ArchiveDir), 0o755)
	if err := os.Symlink(victim, filepath.Join(card, library.ArchiveDir, "."+id+".part")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if _, err := Export(context.Background(), l, card, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); !bytes.Equal(b, []byte("keep me")) {
		t.Fatalf("the file the link pointed to was overwritten (%d bytes)", len(b))
	}
	if st, err := os.Lstat(filepath.Join(card, library.ArchiveDir, id+".ferry")); err != nil || !st.Mode().IsRegular() {
		t.Fatalf("exported archive: %v %v", st, err)
	}
}

// TestExportAsksBeforeScrubbingOthers: the owner's own files on the card
// (a photo with a watermark) are shown before anything changes and left
// alone unless the answer is yes; ferry's archives are cleaned and every
// change is reported.
func TestExportAsksBeforeScrubbingOthers(t *testing.T) {
	f := newFixture(t)
	l := trusting(t)
	add(t, l, f.ed1)
	card := filepath.Join(t.TempDir(), "card")
	os.MkdirAll(card, 0o755)
	photo := filepath.Join(card, "family.png")
	pic := site(t, 1, 1)["img/card.png"].Data
	marked, err := scrub.AppendWatermark(bytes.Clone(pic), "RS-123456")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(photo, marked, 0o644)
	for _, yes := range []bool{false, true} {
		var asked []Found
		var reported []string
		_, err := Export(context.Background(), l, card, ExportOptions{Scrub: true,
			ScrubOthers: func(found []Found) bool { asked = found; return yes },
			Scrubbed:    func(p string, _ []scrub.Finding, _ error) { reported = append(reported, p) }})
		if err != nil {
			t.Fatal(err)
		}
		if len(asked) != 1 || asked[0].Path != photo {
			t.Fatalf("asked about %+v, want the photo", asked)
		}
		b, _ := os.ReadFile(photo)
		if !yes && !bytes.Equal(b, marked) {
			t.Fatal("the photo was changed although the answer was no")
		}
		if yes && (!bytes.Equal(b, pic) || len(reported) == 0 || reported[len(reported)-1] != photo) {
			t.Fatalf("the photo was not cleaned or not reported (reported %v)", reported)
		}
		if yes {
			break
		}
		os.WriteFile(photo, marked, 0o644)
	}
}

func packtestChain(layers []*archive.Reader) (*edition.View, error) { return edition.Open(layers...) }

// TestProgramsTravel: programs signed by a trusted key go on the card
// beside the library, are checked again when the card is imported and
// copied into the library; a changed program on the card is refused and
// named, and the archives are imported all the same.
func TestProgramsTravel(t *testing.T) {
	f := newFixture(t)
	A := trusting(t)
	add(t, A, f.ed1)
	rel := t.TempDir()
	var files []string
	for _, tg := range release.Targets[:2] {
		p := filepath.Join(rel, tg.FileName())
		os.WriteFile(p, []byte("program "+tg.String()), 0o755)
		files = append(files, p)
	}
	if err := release.Sign(rel, files, nil, packtest.Key(t)); err != nil {
		t.Fatal(err)
	}
	card := filepath.Join(t.TempDir(), "card")
	res, err := Export(context.Background(), A, card, ExportOptions{Programs: rel})
	if err != nil || len(res.Programs) != 2 {
		t.Fatalf("export: %+v %v", res, err)
	}
	B := trusting(t)
	imp, err := Import(context.Background(), B, []string{card}, library.AddOptions{})
	if err != nil || len(imp.Programs) != 2 || imp.ProgramsErr != nil || len(imp.Added) != 1 {
		t.Fatalf("import: %+v %v", imp, err)
	}
	if _, err := os.Stat(filepath.Join(B.Dir, ProgramsDir, release.Targets[0].FileName())); err != nil {
		t.Fatal(err)
	}
	// On another card, one program was swapped.
	card2 := filepath.Join(t.TempDir(), "card2")
	if _, err := Export(context.Background(), A, card2, ExportOptions{Programs: rel}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(card2, ProgramsDir, release.Targets[1].FileName()), []byte("swapped"), 0o755)
	C := trusting(t)
	imp, err = Import(context.Background(), C, []string{card2}, library.AddOptions{})
	if err != nil || len(imp.Added) != 1 || imp.ProgramsErr == nil || !strings.Contains(imp.ProgramsErr.Error(), release.Targets[1].FileName()) {
		t.Fatalf("swapped program: %+v %v", imp, err)
	}
	if _, err := os.Stat(filepath.Join(C.Dir, ProgramsDir)); err == nil {
		t.Error("programs copied although one was changed")
	}
	// A release signed by a key the library does not trust is not put on
	// a card.
	stranger, _ := key.Generate()
	release.Sign(rel, files, nil, stranger)
	if _, err := Export(context.Background(), A, filepath.Join(t.TempDir(), "c3"), ExportOptions{Programs: rel}); err == nil {
		t.Error("programs of an untrusted signer exported")
	}
}

// TestProgramsCertifiedKey: programs signed by a signing key that the
// trusted root certified (the certificate carried in programs.sig) travel
// like an archive so signed; a card whose programs folder is a link to a
// folder elsewhere gets nothing written through it.
func TestProgramsCertifiedKey(t *testing.T) {
	f := newFixture(t)
	A := trusting(t)
	add(t, A, f.ed1)
	sub, _ := key.Generate()
	cert, err := trust.Certify(sub.Public(), "release key", packtest.Key(t))
	if err != nil {
		t.Fatal(err)
	}
	extra, err := trust.Extra(cert)
	if err != nil {
		t.Fatal(err)
	}
	rel := t.TempDir()
	p := filepath.Join(rel, release.Targets[0].FileName())
	os.WriteFile(p, []byte("program"), 0o755)
	if err := release.Sign(rel, []string{p}, extra, sub); err != nil {
		t.Fatal(err)
	}
	card := filepath.Join(t.TempDir(), "card")
	if _, err := Export(context.Background(), A, card, ExportOptions{Programs: rel}); err != nil {
		t.Fatalf("export of programs signed by a certified key: %v", err)
	}
	B := trusting(t)
	imp, err := Import(context.Background(), B, []string{card}, library.AddOptions{})
	if err != nil || imp.ProgramsErr != nil || len(imp.Programs) != 1 {
		t.Fatalf("import: %+v %v", imp, err)
	}
	// Without the certificate the same signer is a stranger.
	if err := release.Sign(rel, []string{p}, nil, sub); err != nil {
		t.Fatal(err)
	}
	if _, err := Export(context.Background(), A, filepath.Join(t.TempDir(), "c2"), ExportOptions{Programs: rel}); err == nil {
		t.Error("programs of an uncertified key exported")
	}
	release.Sign(rel, []string{p}, extra, sub)
	card3 := filepath.Join(t.TempDir(), "card3")
	os.MkdirAll(card3, 0o755)
	elsewhere := t.TempDir()
	if err := os.Symlink(elsewhere, filepath.Join(card3, ProgramsDir)); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if _, err := Export(context.Background(), A, card3, ExportOptions{Programs: rel}); err == nil {
		t.Error("export wrote programs through a linked folder without an error")
	}
	if ents, _ := os.ReadDir(elsewhere); len(ents) != 0 {
		t.Fatalf("%d files written through the card's linked programs folder", len(ents))
	}
}

// TestExportToItself: exporting a library onto its own folder is refused
// at once with a message (it used to wait forever for its own lock).
func TestExportToItself(t *testing.T) {
	f := newFixture(t)
	l := trusting(t)
	add(t, l, f.ed1)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err := Export(ctx, l, l.Dir, ExportOptions{})
	if err == nil || !strings.Contains(err.Error(), "is the library itself") {
		t.Fatalf("export onto the library's own folder: %v", err)
	}
}

// TestExportRewritesDeleted: archives the card's state lists but its
// folder lacks (deleted in a file manager to free space) are written
// again, not counted as already there.
func TestExportRewritesDeleted(t *testing.T) {
	f := newFixture(t)
	A := trusting(t)
	add(t, A, f.ed1, f.other)
	card := filepath.Join(t.TempDir(), "card")
	if _, err := Export(context.Background(), A, card, ExportOptions{}); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(card, library.ArchiveDir, "*.ferry"))
	for _, p := range files {
		os.Remove(p)
	}
	res, err := Export(context.Background(), A, card, ExportOptions{})
	if err != nil || len(res.Written) != 2 {
		t.Fatalf("second export after the files were deleted: %+v %v", res, err)
	}
}

// TestExportPrefersTrusted: a library holding a trusted edition 1 and an
// untrusted edition 999999 (added with AllowUntrusted) of one channel
// exports edition 1: the courier carries what its library trusts.
func TestExportPrefersTrusted(t *testing.T) {
	f := newFixture(t)
	A := trusting(t)
	add(t, A, f.ed1)
	evilKey, _ := key.Generate()
	var buf bytes.Buffer
	if _, err := pack.Pack(context.Background(), &buf, pack.Options{Info: archive.Info{Channel: "news", Edition: 999999},
		Signers: []*key.Secret{evilKey}, Sources: []pack.Source{{Source: folder.NewFS(site(t, 3, 77))}}}); err != nil {
		t.Fatal(err)
	}
	evil := writeArchive(t, t.TempDir(), "evil.ferry", buf.Bytes())
	if _, err := A.AddFiles(context.Background(), []string{evil}, library.AddOptions{AllowUntrusted: true}); err != nil {
		t.Fatal(err)
	}
	plan, err := Plan(A, nil, nil)
	if err != nil || len(plan) != 1 || plan[0].Edition != 1 {
		t.Fatalf("plan %+v %v, want the trusted edition 1", plan, err)
	}
}

// TestExportGoesOnPastBadArchive: one channel's archive missing from the
// library fails that channel, named, and the other channels are exported.
func TestExportGoesOnPastBadArchive(t *testing.T) {
	f := newFixture(t)
	A := trusting(t)
	add(t, A, f.ed1, f.other)
	for _, r := range A.State.Archives {
		if r.Channel == "books" {
			os.Remove(A.Path(r))
		}
	}
	card := filepath.Join(t.TempDir(), "card")
	res, err := Export(context.Background(), A, card, ExportOptions{})
	if err == nil || !strings.Contains(err.Error(), "channel books") || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("export with a missing archive: %v", err)
	}
	if len(res.Written) != 1 || res.Written[0].Channel != "news" {
		t.Fatalf("written %+v, want the news channel", res.Written)
	}
}
