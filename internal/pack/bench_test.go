package pack_test

import (
	"context"
	"io"
	"testing"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/korquad"
)

// BenchmarkPackKorQuAD packs the KorQuAD articles as Wikipedia-like HTML.
func BenchmarkPackKorQuAD(b *testing.B) {
	set := korquad.Load(b)
	dir := b.TempDir()
	in, err := set.WriteFolder(dir, 1)
	if err != nil {
		b.Fatal(err)
	}
	src, _ := folder.New(dir)
	k, _ := key.Generate()
	b.SetBytes(in)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := pack.Pack(context.Background(), io.Discard, pack.Options{Info: archive.Info{Channel: "b"},
			Signers: []*key.Secret{k}, Sources: []pack.Source{{Source: src}}}); err != nil {
			b.Fatal(err)
		}
	}
}
