// Package packtest builds real archives from the shared test data for
// tests of the packages that read archives.
package packtest

import (
	"bytes"
	"context"
	"io/fs"
	"sync"
	"testing"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/shared"
)

// Folder packs the shared test data folder name (e.g. "html/enwiki_raycharles")
// into memory and returns the archive bytes and the signing key.
func Folder(tb testing.TB, name string, info archive.Info) ([]byte, *key.Secret) {
	tb.Helper()
	dir := shared.Path(tb, name)
	src, err := folder.New(dir)
	if err != nil {
		tb.Fatal(err)
	}
	return Sources(tb, info, pack.Source{Source: src})
}

var (
	keyOnce sync.Once
	theKey  *key.Secret
)

// Key is the publisher key this test binary packs with (made once): the
// archives a test packs are all signed by it, so one trusted key admits
// them all; a test that needs a stranger's archive makes its own key.
func Key(tb testing.TB) *key.Secret {
	keyOnce.Do(func() {
		var err error
		if theKey, err = key.Generate(); err != nil {
			panic(err) // crypto/rand failing: nothing can be tested
		}
	})
	return theKey
}

// Sources packs the given sources into memory, signed with Key.
func Sources(tb testing.TB, info archive.Info, srcs ...pack.Source) ([]byte, *key.Secret) {
	tb.Helper()
	k := Key(tb)
	if info.Channel == "" {
		info.Channel = "test"
	}
	var buf bytes.Buffer
	if _, err := pack.Pack(context.Background(), &buf, pack.Options{Info: info, Signers: []*key.Secret{k}, Sources: srcs}); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes(), k
}

// View returns the edition of one full archive, failing the test if it is
// a delta.
func View(tb testing.TB, r *archive.Reader) *edition.View {
	tb.Helper()
	v, err := edition.Of(r)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

// FS packs a folder given as a file system (e.g. a corpus site) into
// memory, signed with Key.
func FS(tb testing.TB, fsys fs.FS, info archive.Info) []byte {
	tb.Helper()
	b, _ := Sources(tb, info, pack.Source{Source: folder.NewFS(fsys)})
	return b
}

// Open opens archive bytes, failing the test on error.
func Open(tb testing.TB, b []byte) *archive.Reader {
	tb.Helper()
	r, err := archive.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatal(err)
	}
	return r
}
