package archive_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"ferry/internal/archive"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/korquad"
	"ferry/internal/testkit/packtest"
)

func korquadArchive(b *testing.B) []byte {
	set := korquad.Load(b)
	dir := b.TempDir()
	if _, err := set.WriteFolder(dir, 1); err != nil {
		b.Fatal(err)
	}
	src, _ := folder.New(dir)
	a, _ := packtest.Sources(b, archive.Info{}, pack.Source{Source: src})
	return a
}

// BenchmarkOpen opens the KorQuAD archive (header, tail, manifest, signature).
func BenchmarkOpen(b *testing.B) {
	a := korquadArchive(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := archive.Open(bytes.NewReader(a), int64(len(a)))
		if err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}

// BenchmarkReadEntry looks up and reads random articles, cold (no cache:
// every block and cluster read and verified again) and warm.
func BenchmarkReadEntry(b *testing.B) {
	a := korquadArchive(b)
	for _, c := range []struct {
		name  string
		cache int
	}{{"cold", 1}, {"warm", 32 << 20}} {
		b.Run(c.name, func(b *testing.B) {
			r, err := archive.OpenWith(bytes.NewReader(a), int64(len(a)), archive.ReaderOptions{CacheBytes: c.cache})
			if err != nil {
				b.Fatal(err)
			}
			var paths []string
			for i := 0; i < r.NumEntries(); i++ {
				e, _ := r.EntryAt(i)
				paths = append(paths, e.Path)
			}
			rng := rand.New(rand.NewPCG(1, 1))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := r.Cat(paths[rng.IntN(len(paths))]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSearch runs KorQuAD questions against the archive's index.
func BenchmarkSearch(b *testing.B) {
	a := korquadArchive(b)
	set := korquad.Load(b)
	r, err := archive.Open(bytes.NewReader(a), int64(len(a)))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := packtest.View(b, r).Search(set.Questions[i%len(set.Questions)].Text, 0, 10); err != nil {
			b.Fatal(err)
		}
	}
}
