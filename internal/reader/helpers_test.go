package reader

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/sample"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/shared"
)

// packed caches archives built from the shared real test content, so each
// is packed once per test binary.
var packed sync.Map // name -> []byte

// packDir packs a folder of real content (from ../shared/testdata) into an
// in-memory archive, signed with a fresh key; it skips when absent.
func packDir(tb testing.TB, rel, channel string, langs []string, signer *key.Secret) []byte {
	tb.Helper()
	return packFolder(tb, shared.Path(tb, rel), channel, langs, signer)
}

// packFolder packs the folder dir (packed once per test binary).
func packFolder(tb testing.TB, dir, channel string, langs []string, signer *key.Secret) []byte {
	tb.Helper()
	rel := dir
	if b, ok := packed.Load(rel); ok {
		return b.([]byte)
	}
	src, err := folder.New(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	_, err = pack.Pack(context.Background(), &buf, pack.Options{
		Info:    archive.Info{Channel: channel, Edition: 3, Title: channel, Languages: langs, Created: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		Signers: []*key.Secret{signer},
		Sources: []pack.Source{{Source: src}},
	})
	if err != nil {
		tb.Fatalf("packing %s: %v", filepath.Base(dir), err)
	}
	packed.Store(rel, buf.Bytes())
	return buf.Bytes()
}

// haveRealLibs reports whether testLibs packs the shared real content.
func haveRealLibs() bool {
	st, err := os.Stat(filepath.Join(shared.Root(), "udhr"))
	return shared.Root() != "" && err == nil && st.IsDir()
}

// packSite packs a site of ferry's own writing (package corpus) with the
// metadata packDir gives real folders.
func packSite(tb testing.TB, channel string, langs []string, pages int, seed uint64, signer *key.Secret) []byte {
	tb.Helper()
	if b, ok := packed.Load("corpus:" + channel); ok {
		return b.([]byte)
	}
	site, err := corpus.Site(corpus.Options{Pages: pages, Seed: seed, Pictures: true})
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := pack.Pack(context.Background(), &buf, pack.Options{
		Info:    archive.Info{Channel: channel, Edition: 3, Title: channel, Languages: langs, Created: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		Signers: []*key.Secret{signer},
		Sources: []pack.Source{{Source: folder.NewFS(site)}},
	}); err != nil {
		tb.Fatalf("packing %s: %v", channel, err)
	}
	packed.Store("corpus:"+channel, buf.Bytes())
	return buf.Bytes()
}

var (
	keyOnce sync.Once
	testKey *key.Secret
)

func publisherKey(tb testing.TB) *key.Secret {
	keyOnce.Do(func() {
		var err error
		if testKey, err = key.Generate(); err != nil {
			tb.Fatal(err)
		}
	})
	return testKey
}

func openBytes(tb testing.TB, name string, b []byte) Library {
	tb.Helper()
	r, err := archive.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return Library{Name: name, Path: name + ".ferry", Err: err}
	}
	v, err := edition.Of(r)
	if err != nil {
		return Library{Name: name, Path: name + ".ferry", Err: err}
	}
	return Library{Name: name, Path: name + ".ferry", Edition: v}
}

// testLibs returns the sample, the UDHR in six languages, 129 English
// Wikipedia articles and two saved Wikibooks pages with pictures (real
// content made by others, packed at run time). Without the shared test
// data the three are stand-ins of ferry's own writing under the same
// names and metadata (corpus sites), so the reader's core tests run in a
// plain clone; checks of the real pages' text look at haveRealLibs.
func testLibs(tb testing.TB) []Library {
	k := publisherKey(tb)
	if !haveRealLibs() {
		return []Library{
			Sample(),
			openBytes(tb, "udhr", packSite(tb, "udhr", []string{"ko", "en"}, 30, 1, k)),
			openBytes(tb, "enwiki", packSite(tb, "enwiki", []string{"en"}, 60, 2, k)),
			openBytes(tb, "wikibooks", packSite(tb, "wikibooks", []string{"en"}, 10, 3, k)),
		}
	}
	return []Library{
		Sample(),
		openBytes(tb, "udhr", packDir(tb, "udhr", "udhr", []string{"ko", "en"}, k)),
		openBytes(tb, "enwiki", packDir(tb, "html/enwiki_raycharles", "enwiki", []string{"en"}, k)),
		openBytes(tb, "wikibooks", packDir(tb, "html/wikibooks_en", "wikibooks", []string{"en"}, k)),
	}
}

func newServer(tb testing.TB, libs []Library, opts Options) *httptest.Server {
	srv := httptest.NewServer(New(libs, opts))
	tb.Cleanup(srv.Close)
	return srv
}

// do runs one request through the handler in memory.
func do(h http.Handler, method, target string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	req.Host = "127.0.0.1:8080"
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

var _ = sample.Name
