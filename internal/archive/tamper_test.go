package archive_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"testing/fstest"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/packtest"
	"ferry/internal/testkit/shared"
)

// ownArchive packs a made-up site of our own writing (Korean and English
// pages with pictures, package corpus) of the given number of pages.
func ownArchive(tb testing.TB, pages int, seed uint64, info archive.Info) []byte {
	tb.Helper()
	site, err := corpus.Site(corpus.Options{Pages: pages, Seed: seed, Pictures: true})
	if err != nil {
		tb.Fatal(err)
	}
	return packtest.FS(tb, site, info)
}

// entryContents reads every entry of a good archive.
func entryContents(t testing.TB, b []byte) map[string][]byte {
	r, err := archive.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for i := 0; i < r.NumEntries(); i++ {
		e, err := r.EntryAt(i)
		if err != nil {
			t.Fatal(err)
		}
		c, err := r.ReadAll(e)
		if err != nil {
			t.Fatal(err)
		}
		out[e.Path] = c
	}
	return out
}

// checkDamaged opens a damaged copy: Verify must fail, and every read
// must return an error or exactly the original content.
func checkDamaged(t *testing.T, what string, b []byte, good map[string][]byte) {
	t.Helper()
	r, err := archive.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		if !errors.Is(err, archive.ErrCorrupt) && !errors.Is(err, archive.ErrTruncated) &&
			!errors.Is(err, archive.ErrSignature) && !errors.Is(err, archive.ErrNotArchive) && !errors.Is(err, archive.ErrVersion) {
			t.Errorf("%s: Open error is not a known kind: %v", what, err)
		}
		return
	}
	if err := r.Verify(context.Background(), nil); err == nil {
		t.Errorf("%s: Verify passed a damaged archive", what)
	}
	for i := 0; i < r.NumEntries(); i++ {
		e, err := r.EntryAt(i)
		if err != nil {
			continue
		}
		want, ok := good[e.Path]
		if !ok {
			// A damaged directory can only fail verification, so a
			// successfully read path must be a real one.
			t.Errorf("%s: unknown path %q returned", what, e.Path)
			continue
		}
		got, err := r.ReadAll(e)
		if err == nil && !bytes.Equal(got, want) {
			t.Errorf("%s: %s: wrong content returned without error", what, e.Path)
		}
	}
	if _, _, err := packtest.View(t, r).Search(corpus.Keyword(1)+" "+corpus.Keyword(2), 0, 10); err != nil {
		return
	}
}

// TestTamper flips bits across an archive of our own (pages and pictures).
func TestTamper(t *testing.T) { tamper(t, ownArchive(t, 40, 1, archive.Info{Title: "Own"})) }

// TestRealFiles runs the damage checks on archives packed from other
// people's real pages (the shared test data): the Ray Charles Wikipedia
// pages and the UDHR translations. The same checks run on our own pages in
// TestTamper, TestTruncate and TestSwappedFileAfterVerify.
func TestRealFiles(t *testing.T) {
	if !haveShared() {
		t.Skip("shared test data not found (../shared/testdata or FERRY_TESTDATA): archives of real pages (Ray Charles, UDHR) were not tampered with; our own were")
	}
	t.Run("TamperRayCharles", func(t *testing.T) {
		b, _ := packtest.Folder(t, "html/enwiki_raycharles", archive.Info{Title: "Ray"})
		tamper(t, b)
	})
	t.Run("TruncateRayCharles", func(t *testing.T) {
		b, _ := packtest.Folder(t, "html/enwiki_raycharles", archive.Info{})
		truncate(t, b)
	})
	t.Run("SwappedUDHR", func(t *testing.T) {
		b, _ := packtest.Folder(t, "udhr", archive.Info{})
		swapped(t, b, "kor.html")
	})
}

// haveShared reports whether the shared test data folder is there.
func haveShared() bool {
	st, err := os.Stat(shared.Root())
	return shared.Root() != "" && err == nil && st.IsDir()
}

// tamper flips one bit at a time across an archive and checks each copy.
func tamper(t *testing.T, b []byte) {
	good := entryContents(t, b)
	r, _ := archive.Open(bytes.NewReader(b), int64(len(b)))
	m := r.Manifest()
	// Offsets: spread over the file, plus the first, middle and last byte
	// of every part, so every section is hit.
	offs := map[int64]bool{}
	rng := rand.New(rand.NewPCG(42, uint64(len(b))))
	n := 300
	if testing.Short() {
		n = 60
	}
	for i := 0; i < n; i++ {
		offs[rng.Int64N(int64(len(b)))] = true
	}
	add := func(off, length int64) {
		if length <= 0 {
			return
		}
		offs[off], offs[off+length/2], offs[off+length-1] = true, true, true
	}
	add(0, 16)
	add(m.Data.Offset, m.Data.Length)
	for _, s := range m.Sections {
		add(s.Offset, s.Length)
		add(s.HashesOffset, 32)
	}
	add(int64(len(b))-32, 32)
	add(int64(len(b))-32-97, 97)
	sorted := make([]int64, 0, len(offs))
	for o := range offs {
		sorted = append(sorted, o)
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	bad := make([]byte, len(b))
	for _, off := range sorted {
		copy(bad, b)
		bad[off] ^= byte(1 << (off % 8))
		checkDamaged(t, "flip at "+strconv.FormatInt(off, 10), bad, good)
	}
	t.Logf("flipped %d offsets across %d sections", len(sorted), len(m.Sections))
}

// TestTruncate opens cut copies of an archive of our own.
func TestTruncate(t *testing.T) { truncate(t, ownArchive(t, 40, 2, archive.Info{})) }

// truncate opens prefixes of an archive (all must be refused) and the
// archive with a byte appended.
func truncate(t *testing.T, b []byte) {
	good := entryContents(t, b)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := 0; i < 100; i++ {
		n := rng.Int64N(int64(len(b)))
		if i < 3 {
			n = []int64{0, 15, int64(len(b)) - 1}[i]
		}
		_, err := archive.Open(bytes.NewReader(b[:n]), n)
		if err == nil {
			t.Fatalf("truncated to %d bytes: opened", n)
		}
		checkDamaged(t, "truncated", b[:n], good)
	}
	// Extra bytes appended are refused too.
	if _, err := archive.Open(bytes.NewReader(append(append([]byte{}, b...), 0)), int64(len(b)+1)); err == nil {
		t.Fatal("archive with a trailing byte opened")
	}
}

// TestSwappedFileAfterVerify checks that bytes verified once are served
// from memory: replacing the file underneath cannot change what a reader
// returns.
func TestSwappedFileAfterVerify(t *testing.T) {
	swapped(t, ownArchive(t, 30, 3, archive.Info{}), corpus.PagePath(0))
}

// swapped reads page from an archive, then changes the bytes underneath
// the reader: whatever it returns after must be the original content.
func swapped(t *testing.T, b []byte, page string) {
	good := entryContents(t, b)
	if len(b) < 16+4096 {
		t.Fatalf("archive of %d bytes is too small for this test", len(b))
	}
	sw := &swappable{b: append([]byte{}, b...)}
	r, err := archive.Open(sw, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	e, err := r.Lookup(page)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadAll(e); err != nil {
		t.Fatal(err)
	}
	for i := range sw.b[16 : len(sw.b)-4096] {
		sw.b[16+i] ^= 0x55
	}
	got, err := r.ReadAll(e)
	if err == nil && !bytes.Equal(got, good[page]) {
		t.Fatal("swapped file changed the content returned")
	}
	for p, want := range good {
		e, err := r.Lookup(p)
		if err != nil {
			continue
		}
		if got, err := r.ReadAll(e); err == nil && !bytes.Equal(got, want) {
			t.Fatalf("%s: wrong content after swap", p)
		}
	}
}

type swappable struct{ b []byte }

func (s *swappable) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(s.b)) {
		return 0, io.EOF
	}
	n := copy(p, s.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func FuzzOpen(f *testing.F) {
	// Seeds: an archive of our own small enough for the fuzzer to mutate
	// (and minimize) quickly (two short pages, one Korean, one English),
	// its truncation, the committed vectors, and when the shared data is
	// there real UDHR pages.
	site, err := corpus.Site(corpus.Options{Pages: 2, Seed: 4})
	if err != nil {
		f.Fatal(err)
	}
	delete(site, "index.html")
	small := packtest.FS(f, site, archive.Info{})
	f.Add(small, true)
	f.Add(small, false)
	f.Add(small[:len(small)/2], false)
	// The committed vectors: the good one and each damaged copy.
	files, _ := filepath.Glob(filepath.Join(vectorDir, "*.ferry"))
	if len(files) == 0 {
		f.Fatal("no test vectors in " + vectorDir)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
	}
	if haveShared() {
		real, _ := packtest.Sources(f, archive.Info{}, pack.Source{Source: folder.NewFS(fstest.MapFS{
			"kor.html": {Data: readShared(f, "udhr/kor.html")[:3000]},
			"eng.html": {Data: readShared(f, "udhr/eng.html")[:2000]},
		})})
		f.Add(real, true)
	}
	k, _ := key.Generate()
	f.Fuzz(func(t *testing.T, b []byte, resign bool) {
		if resign {
			// Get past the hashes and signature, as a hostile publisher could.
			b = archive.Resign(b, k)
		}
		r, err := archive.Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		defer r.Close()
		_ = r.Verify(context.Background(), nil)
		for i := 0; i < r.NumEntries() && i < 1000; i++ {
			e, err := r.EntryAt(i)
			if err != nil {
				continue
			}
			_, _ = r.ReadAll(e)
			_, _ = r.Lookup(e.Path)
		}
		if v, err := edition.Of(r); err == nil {
			_, _, _ = v.Search("인권 human rights", 0, 10)
		}
		_, _ = r.SuggestTitles("a", 5)
	})
}

func readShared(tb testing.TB, name string) []byte {
	b, err := os.ReadFile(shared.Path(tb, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
