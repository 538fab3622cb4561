// Command archive measures ferry archives on real content and prints a
// Markdown table for docs/benchmarks.md: pack throughput, size against the
// input and against plain `zstd -19` of the concatenated input, open time,
// random entry read latency and search latency.
//
//	go run ./bench/archive [-copies N] [-testdata DIR]
//
// The input is the KorQuAD dev set rendered as Wikipedia-like HTML (package
// internal/korquad), plus the English Wikipedia pages of the Ray Charles set.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/korquad"
)

func main() {
	copies := flag.Int("copies", 1, "copies of the KorQuAD articles (each a variant) to make the input larger")
	td := flag.String("testdata", "../shared/testdata", "shared test data folder")
	flag.Parse()
	if err := run(*copies, *td); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(copies int, td string) error {
	set, err := korquad.LoadFile(filepath.Join(td, "korquad/KorQuAD_v1.0_dev.json"))
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "ferry-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	src := filepath.Join(tmp, "korquad")
	in, err := set.WriteFolder(src, copies)
	if err != nil {
		return err
	}
	k, _ := key.Generate()
	fmt.Printf("machine: %d cores, %s/%s, %s\n\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Println("| corpus | input | archive | ratio | of which index | zstd -19 of input | ferry ÷ zstd-19 | pack time | pack MB/s |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	out := filepath.Join(tmp, "korquad.ferry")
	if err := measurePack("KorQuAD HTML", src, in, out, k); err != nil {
		return err
	}
	ray := filepath.Join(td, "html/enwiki_raycharles")
	rayIn := dirSize(ray)
	if err := measurePack("Ray Charles (en Wikipedia)", ray, rayIn, filepath.Join(tmp, "ray.ferry"), k); err != nil {
		return err
	}
	r, err := archive.OpenFile(out)
	if err != nil {
		return err
	}
	defer r.Close()
	// Open time: median of many opens of the file.
	var opens []time.Duration
	for i := 0; i < 200; i++ {
		st := time.Now()
		a, err := archive.OpenFile(out)
		if err != nil {
			return err
		}
		opens = append(opens, time.Since(st))
		a.Close()
	}
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	a, err := archive.OpenFile(out)
	if err != nil {
		return err
	}
	runtime.ReadMemStats(&ms1)
	a.Close()
	fmt.Printf("\nopen %s (%d entries, %d bytes): median %v, %d bytes allocated by one open\n", filepath.Base(out), r.NumEntries(),
		r.Size(), median(opens), ms1.TotalAlloc-ms0.TotalAlloc)
	// Random article reads, cold (no cache) and warm.
	cold, err := archive.OpenWith(mustOpen(out), fileSize(out), archive.ReaderOptions{CacheBytes: 1})
	if err != nil {
		return err
	}
	var articles []archive.Entry
	for i := 0; i < r.NumEntries(); i++ {
		e, _ := r.EntryAt(i)
		if e.Article {
			articles = append(articles, e)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name string
		r    *archive.Reader
	}{{"cold (no cache)", cold}, {"warm (32 MiB cache)", r}} {
		var lat []time.Duration
		for i := 0; i < 500; i++ {
			e := articles[rng.IntN(len(articles))]
			st := time.Now()
			got, err := c.r.Lookup(e.Path)
			if err == nil {
				_, err = c.r.ReadAll(got)
			}
			if err != nil {
				return err
			}
			lat = append(lat, time.Since(st))
		}
		fmt.Printf("random article lookup+read, %s: median %v, p99 %v\n", c.name, median(lat), pct(lat, 0.99))
	}
	v, err := edition.Of(r)
	if err != nil {
		return err
	}
	var lat []time.Duration
	for i, q := range set.Questions {
		if i%5 != 0 {
			continue
		}
		st := time.Now()
		if _, _, err := v.Search(q.Text, 0, 10); err != nil {
			return err
		}
		lat = append(lat, time.Since(st))
	}
	fmt.Printf("search (%d KorQuAD questions, top 10): median %v, p99 %v\n", len(lat), median(lat), pct(lat, 0.99))
	return nil
}

func measurePack(name, dir string, in int64, out string, k *key.Secret) error {
	src, err := folder.New(dir)
	if err != nil {
		return err
	}
	var best time.Duration
	var sum *pack.Summary
	for i := 0; i < 3; i++ {
		st := time.Now()
		sum, err = pack.PackFile(context.Background(), out, pack.Options{Info: archive.Info{Channel: "bench"}, Signers: []*key.Secret{k},
			Sources: []pack.Source{{Source: src}}})
		if err != nil {
			return err
		}
		if d := time.Since(st); best == 0 || d < best {
			best = d
		}
	}
	z := zstd19(dir)
	zs, ratio := "n/a (zstd not installed)", "n/a"
	if z > 0 {
		zs = fmt.Sprintf("%d (%.3f×)", z, float64(z)/float64(in))
		ratio = fmt.Sprintf("%.2f", float64(sum.ArchiveBytes)/float64(z))
	}
	fmt.Printf("| %s | %d | %d | %.3f× | %d (%.3f×) | %s | %s | %v | %.1f |\n", name, in, sum.ArchiveBytes,
		float64(sum.ArchiveBytes)/float64(in), sum.IndexBytes, float64(sum.IndexBytes)/float64(in), zs, ratio,
		best.Round(time.Millisecond), float64(in)/best.Seconds()/1e6)
	return nil
}

// zstd19 returns the size of `zstd -19` of all files of dir concatenated.
func zstd19(dir string) int64 {
	if _, err := exec.LookPath("zstd"); err != nil {
		return 0
	}
	var cat bytes.Buffer
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	sort.Strings(files)
	for _, f := range files {
		b, _ := os.ReadFile(f)
		cat.Write(b)
	}
	cmd := exec.Command("zstd", "-19", "-c", "-q", "-T0")
	cmd.Stdin = &cat
	var out bytes.Buffer
	cmd.Stdout = &out
	if cmd.Run() != nil {
		return 0
	}
	return int64(out.Len())
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			if i, err := d.Info(); err == nil {
				n += i.Size()
			}
		}
		return nil
	})
	return n
}

func mustOpen(p string) *os.File {
	f, err := os.Open(p)
	if err != nil {
		panic(err)
	}
	return f
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

func median(d []time.Duration) time.Duration { return pct(d, 0.5) }

func pct(d []time.Duration, p float64) time.Duration {
	s := append([]time.Duration{}, d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(float64(len(s)-1)*p)]
}
