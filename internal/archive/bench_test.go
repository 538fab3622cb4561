package archive_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"os"
	"testing"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/cpuclock"
	"ferry/internal/testkit/korquad"
	"ferry/internal/testkit/packtest"
)

func korquadArchive(b *testing.B) []byte {
	return korquadArchiveWith(b, archive.WriterOptions{})
}

// korquadArchiveWith packs the KorQuAD folder with these writer options.
func korquadArchiveWith(b *testing.B, wo archive.WriterOptions) []byte {
	set := korquad.Load(b)
	dir := b.TempDir()
	if _, err := set.WriteFolder(dir, 1); err != nil {
		b.Fatal(err)
	}
	src, _ := folder.New(dir)
	if wo == (archive.WriterOptions{}) {
		a, _ := packtest.Sources(b, archive.Info{}, pack.Source{Source: src})
		return a
	}
	k, _ := key.Generate()
	var buf bytes.Buffer
	if _, err := pack.Pack(context.Background(), &buf, pack.Options{Signers: []*key.Secret{k}, Sources: []pack.Source{{Source: src}}, Writer: wo}); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkReadArticleLayouts reads random entries cold (every cluster
// decompressed again, up to the entry) from the KorQuAD archive in the
// default layout and with 2 MiB clusters of Hangul-packed text (codec 3):
// what a random article read costs in each. bytes/op is the archive size.
func BenchmarkReadArticleLayouts(b *testing.B) {
	for _, c := range []struct {
		name string
		wo   archive.WriterOptions
	}{
		{"zstd-512KiB", archive.WriterOptions{NoHangulPacking: true}},
		{"hangul-512KiB", archive.WriterOptions{}},
		{"zstd-2MiB", archive.WriterOptions{ClusterSize: 2 << 20, NoHangulPacking: true}},
		{"hangul-2MiB", archive.WriterOptions{ClusterSize: 2 << 20}},
	} {
		b.Run(c.name, func(b *testing.B) {
			a := korquadArchiveWith(b, c.wo)
			r, err := archive.OpenWith(bytes.NewReader(a), int64(len(a)), archive.ReaderOptions{CacheBytes: 1})
			if err != nil {
				b.Fatal(err)
			}
			var paths []string
			for i := 0; i < r.NumEntries(); i++ {
				if e, _ := r.EntryAt(i); e.Article {
					paths = append(paths, e.Path)
				}
			}
			rng := rand.New(rand.NewPCG(1, 1))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := r.Cat(paths[rng.IntN(len(paths))]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(a)), "archive-bytes")
		})
	}
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

// BenchmarkVerify checks a whole archive, as library.Add does before it
// keeps one: the KorQuAD archive, or the file FERRY_VERIFY_ARCHIVE names
// (bench/sync -dir D keeps its 100 MB edition as D/42.ferry). cpu-ms/op is
// the process's CPU time (both cores), the figure to compare on a shared
// machine.
func BenchmarkVerify(b *testing.B) {
	var ra io.ReaderAt
	var size int64
	if p := os.Getenv("FERRY_VERIFY_ARCHIVE"); p != "" {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			b.Fatal(err)
		}
		ra, size = f, st.Size()
	} else {
		a := korquadArchive(b)
		ra, size = bytes.NewReader(a), int64(len(a))
	}
	b.SetBytes(size)
	b.ResetTimer()
	cpu0 := cpuclock.Process()
	for i := 0; i < b.N; i++ {
		r, err := archive.Open(ra, size)
		if err != nil {
			b.Fatal(err)
		}
		if err := r.Verify(context.Background(), nil); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
	b.ReportMetric(float64((cpuclock.Process()-cpu0).Microseconds())/1e3/float64(b.N), "cpu-ms/op")
}
