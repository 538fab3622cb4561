// Package packtest builds real archives from the shared test data for
// tests of the packages that read archives.
package packtest

import (
	"bytes"
	"context"
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

// Sources packs the given sources into memory with a fresh key.
func Sources(tb testing.TB, info archive.Info, srcs ...pack.Source) ([]byte, *key.Secret) {
	tb.Helper()
	k, err := key.Generate()
	if err != nil {
		tb.Fatal(err)
	}
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
