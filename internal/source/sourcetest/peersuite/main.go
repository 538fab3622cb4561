// Command peersuite runs ferry's content sources over other projects' test
// suites (openZIM's zim-testing-suite, warcio's samples, feedparser's and
// gofeed's feeds, IDPF's EPUB 3 samples) and reports, per suite, how many
// files each source opened and walked, how many it refused and why, and
// whether any input panicked or hung. It is a measuring tool for
// docs/benchmarks.md, not a test: the suites are other people's files and
// are never part of the repository.
//
//	go run ./internal/source/sourcetest/peersuite DIR...
//
// Each DIR is walked; a file is read by the source its name suggests
// (.zim, .warc/.warc.gz/.arc, .epub, feeds by extension .xml .rss .atom
// .rdf .json .dat), and a folder holding META-INF/container.xml is zipped
// as an EPUB. Every entry is opened and up to 1 MiB of it read; each file
// gets 60 seconds.
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"ferry/internal/source"
	"ferry/internal/source/epub"
	"ferry/internal/source/feed"
	"ferry/internal/source/warc"
	"ferry/internal/source/zim"
)

type result struct {
	kind, path string
	entries    int
	warnings   int
	err        error
	panicked   bool
	timedOut   bool
}

func main() {
	for _, dir := range os.Args[1:] {
		var results []result
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				if _, err := os.Stat(filepath.Join(p, "META-INF", "container.xml")); err == nil {
					results = append(results, run("epub", p, func() (source.Source, error) { return zipDir(p) }))
					return fs.SkipDir
				}
				if d.Name() == ".git" {
					return fs.SkipDir
				}
				return nil
			}
			if k := kindOf(p); k != "" {
				results = append(results, run(k, p, func() (source.Source, error) { return open(k, p) }))
			}
			return nil
		})
		report(dir, results)
	}
}

func kindOf(p string) string {
	name := strings.ToLower(filepath.Base(p))
	switch {
	case strings.HasSuffix(name, ".zim"):
		return "zim"
	case strings.HasSuffix(name, ".warc"), strings.HasSuffix(name, ".warc.gz"), strings.HasSuffix(name, ".arc"), strings.HasSuffix(name, ".arc.gz"):
		return "warc"
	case strings.HasSuffix(name, ".epub"):
		return "epub"
	case strings.HasSuffix(name, ".xml"), strings.HasSuffix(name, ".rss"), strings.HasSuffix(name, ".atom"), strings.HasSuffix(name, ".rdf"), strings.HasSuffix(name, ".json"), strings.HasSuffix(name, ".dat"):
		return "feed"
	}
	return ""
}

func open(kind, p string) (source.Source, error) {
	switch kind {
	case "zim":
		a, err := zim.OpenFile(p)
		if err != nil {
			return nil, err
		}
		return zim.NewSource(a)
	case "warc":
		return warc.Open(p)
	case "epub":
		return epub.Open(p)
	case "feed":
		return feed.Open(p)
	}
	return nil, fmt.Errorf("no source for %s", p)
}

// zipDir packs an unzipped EPUB folder as the OCF zip it stands for.
func zipDir(dir string) (source.Source, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	if w, err := zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store}); err == nil {
		w.Write([]byte("application/epub+zip"))
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "mimetype" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		if w, err := zw.Create(rel); err == nil {
			w.Write(b)
		}
		return nil
	})
	zw.Close()
	return epub.New(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
}

func run(kind, p string, mk func() (source.Source, error)) result {
	r := result{kind: kind, path: p}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				r.panicked, r.err = true, fmt.Errorf("panic: %v", v)
				done <- r
			}
		}()
		s, err := mk()
		if err != nil {
			r.err = err
			done <- r
			return
		}
		err = s.Walk(context.Background(), func(e source.Entry) error {
			r.entries++
			if e.Open == nil {
				return nil
			}
			rc, err := e.Open()
			if err != nil {
				return fmt.Errorf("%s: %w", e.Path, err)
			}
			defer rc.Close()
			_, err = io.Copy(io.Discard, io.LimitReader(rc, 1<<20))
			if err != nil {
				return fmt.Errorf("%s: %w", e.Path, err)
			}
			return nil
		})
		r.err = err
		if w, ok := s.(interface{ Warnings() []string }); ok {
			r.warnings = len(w.Warnings())
		}
		if c, ok := s.(io.Closer); ok {
			c.Close()
		}
		done <- r
	}()
	select {
	case r := <-done:
		return r
	case <-time.After(60 * time.Second):
		r.timedOut, r.err = true, fmt.Errorf("no answer within 60 s")
		return r
	}
}

func report(dir string, results []result) {
	sort.Slice(results, func(i, j int) bool { return results[i].path < results[j].path })
	kinds := map[string][3]int{} // packed, refused, panics+hangs
	for _, r := range results {
		k := kinds[r.kind]
		switch {
		case r.panicked || r.timedOut:
			k[2]++
		case r.err != nil:
			k[1]++
		default:
			k[0]++
		}
		kinds[r.kind] = k
	}
	fmt.Printf("== %s: %d files\n", dir, len(results))
	for kind, k := range kinds {
		fmt.Printf("   %s: %d packed, %d refused, %d panics or hangs\n", kind, k[0], k[1], k[2])
	}
	for _, r := range results {
		rel, _ := filepath.Rel(dir, r.path)
		switch {
		case r.err != nil:
			fmt.Printf("   REFUSED %s %s: %v\n", r.kind, rel, oneLine(r.err))
		case r.warnings > 0:
			fmt.Printf("   warned  %s %s: %d entries, %d warnings\n", r.kind, rel, r.entries, r.warnings)
		}
	}
}

func oneLine(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
