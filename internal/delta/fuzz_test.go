package delta

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/key"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/shared"
)

// FuzzChain opens fuzzed bytes as a delta on a base and walks the
// resulting view: errors are fine, panics and hangs are bugs. The base is
// a few pages of our own writing, or the real UDHR pages when the shared
// test data is there; seeds are a delta and a full edition on it.
func FuzzChain(f *testing.F) {
	baseFS := fstest.MapFS{}
	if dir := filepath.Join(shared.Root(), "udhr"); shared.Root() != "" {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if b, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && strings.HasSuffix(e.Name(), ".html") {
				baseFS[e.Name()] = &fstest.MapFile{Data: b}
			}
		}
	}
	if baseFS["kor.html"] == nil || baseFS["rus.html"] == nil {
		site, err := corpus.Site(corpus.Options{Pages: 6, Seed: 13})
		if err != nil {
			f.Fatal(err)
		}
		baseFS = fstest.MapFS{"kor.html": site[corpus.PagePath(0)], "rus.html": site[corpus.PagePath(1)],
			"eng.html": site[corpus.PagePath(3)], "index.html": site["index.html"]}
	}
	nextFS := fstest.MapFS{}
	for p, m := range baseFS {
		nextFS[p] = m
	}
	delete(nextFS, "rus.html")
	nextFS["kor.html"] = &fstest.MapFile{Data: append(append([]byte{}, baseFS["kor.html"].Data...), "<p>대한민국</p>"...)}
	k, _ := key.Generate()
	baseB, nextB := packFS(f, baseFS, 1, k), packFS(f, nextFS, 2, k)
	base, next := open(f, baseB), open(f, nextB)
	var d bytes.Buffer
	bv, _ := edition.Of(base)
	nv, _ := edition.Of(next)
	if _, err := Make(context.Background(), bv, nv, &d, Options{Signers: []*key.Secret{k}}); err != nil {
		f.Fatal(err)
	}
	f.Add(d.Bytes())
	f.Add(nextB)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := archive.Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		v, err := edition.Open(base, r)
		if err != nil {
			return
		}
		n := 0
		v.Each(func(e archive.Entry) error {
			if n++; n > 1000 {
				return context.Canceled
			}
			v.ReadAll(e)
			return nil
		})
		v.Search("대한민국", 0, 10)
		v.SuggestTitles("대", 5)
		v.NumEntries()
	})
}
