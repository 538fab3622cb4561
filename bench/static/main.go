// Command static measures `ferry static` at Wikipedia scale: the time and
// peak memory of exporting a large archive, the files per folder it
// writes, and how long its search takes, from file:// in chromium, to
// show a first result.
//
//	go run ./bench/static -make 600000 -archive /tmp/big.ferry     # once: a site of our own writing (testkit/corpus)
//	go run ./bench/static -archive /tmp/big.ferry -out /tmp/big-static
//
// (-pack DIR packs a folder instead, e.g. one written by bench/kowiki.)
// The export runs in a child process so its peak resident memory
// (getrusage's maxrss) is its own. The search is timed from the moment
// the query is submitted to the first result on screen, for the queries
// given (the kowiki generator writes them), in a fresh chromium.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/chromedp/chromedp"

	"ferry/internal/archive"
	"ferry/internal/carry/static"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/browser"
	"ferry/internal/testkit/corpus"
)

func main() {
	packDir := flag.String("pack", "", "pack this folder (e.g. kowiki's html/) into -archive and stop")
	makeN := flag.Int("make", 0, "make a site of this many pages of our own writing, pack it into -archive and stop")
	synth := flag.Int("synthetic", 0, "export a synthetic archive of this many pages (made on the fly, not packed) instead of -archive")
	arch := flag.String("archive", "", "the archive to export")
	out := flag.String("out", "", "export folder (must not exist)")
	queries := flag.String("queries", "", "file of search queries, one a line (default: a few of the archive's titles)")
	n := flag.Int("n", 20, "queries to time")
	child := flag.Bool("child", false, "internal: run the export in this process")
	flag.Parse()
	var err error
	switch {
	case *makeN > 0:
		err = makeSite(*makeN, *arch)
	case *packDir != "":
		err = packFolder(*packDir, *arch)
	case *child:
		err = export(*arch, *synth, *out)
	default:
		err = run(*arch, *synth, *out, *queries, *n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/static:", err)
		os.Exit(1)
	}
}

// makeSite packs a corpus site of n pages: half Korean, half English,
// each with a word of its own (낱말17, word17), linking to each other.
func makeSite(n int, dst string) error {
	start := time.Now()
	fsys, err := corpus.Site(corpus.Options{Pages: n, Seed: 1})
	if err != nil {
		return err
	}
	fmt.Printf("made %d pages in %v\n", n, time.Since(start).Round(time.Second))
	return packSource(folder.NewFS(fsys), dst)
}

func packFolder(dir, dst string) error {
	src, err := folder.New(dir)
	if err != nil {
		return err
	}
	return packSource(src, dst)
}

func packSource(src source.Source, dst string) error {
	if dst == "" {
		return fmt.Errorf("give -archive FILE to write")
	}
	k, err := key.Generate()
	if err != nil {
		return err
	}
	start := time.Now()
	sum, err := pack.PackFile(context.Background(), dst, pack.Options{
		Info:    archive.Info{Channel: "big", Title: "큰 서고 (만든 글)", Languages: []string{"ko", "en"}, MainPage: "index.html"},
		Signers: []*key.Secret{k}, Sources: []pack.Source{{Source: src}},
	})
	if err != nil {
		return err
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("packed %s: %+v in %v, peak RSS %d MiB\n", dst, sum, time.Since(start).Round(time.Second), ru.Maxrss/1024)
	return nil
}

// export is the child: the export itself.
func export(arch string, synth int, out string) error {
	var a archive.Contents
	if synth > 0 {
		s, err := newSynthetic(synth)
		if err != nil {
			return err
		}
		a = s
	} else {
		r, err := archive.OpenFile(arch)
		if err != nil {
			return err
		}
		defer r.Close()
		a = r
	}
	warnings := 0
	last := time.Now()
	sum, err := static.Export(context.Background(), out, []archive.Contents{a}, static.Options{
		Warn: func(s string) {
			if warnings < 5 {
				fmt.Fprintln(os.Stderr, "warning:", s)
			}
			warnings++
		},
		Progress: func(done, total int64) {
			if time.Since(last) > 30*time.Second {
				last = time.Now()
				fmt.Fprintf(os.Stderr, "%d/%d entries\n", done, total)
			}
		},
	})
	if err != nil {
		return err
	}
	fmt.Printf("%d files, %d bytes, %d left out\n", sum.Files, sum.Bytes, sum.Skipped)
	return nil
}

func run(arch string, synth int, out, queries string, n int) error {
	if arch == "" && synth == 0 || out == "" {
		return fmt.Errorf("give -archive FILE (or -synthetic N) and -out DIR")
	}
	var qs []string
	if synth > 0 {
		fmt.Printf("synthetic archive: %d pages\n", synth)
		return exportAndTime(arch, synth, out, keywordQueries(synth, n))
	}
	r, err := archive.OpenFile(arch)
	if err != nil {
		return err
	}
	m := r.Manifest()
	fmt.Printf("archive: %d entries, %d articles, %d bytes\n", m.Counts.Entries, m.Counts.Articles, r.Size())
	if queries != "" {
		f, err := os.Open(queries)
		if err != nil {
			return err
		}
		s := bufio.NewScanner(f)
		for s.Scan() && len(qs) < n {
			if q := strings.TrimSpace(s.Text()); q != "" {
				qs = append(qs, q)
			}
		}
		f.Close()
	}
	for i := 1; len(qs) < n && i < r.NumEntries(); i += r.NumEntries()/n + 1 {
		if e, err := r.EntryAt(i); err == nil && e.Article && e.Title != "" {
			qs = append(qs, e.Title)
		}
	}
	r.Close()
	return exportAndTime(arch, 0, out, qs)
}

func exportAndTime(arch string, synth int, out string, qs []string) error {
	if _, err := os.Stat(out); err != nil {
		self, err := os.Executable()
		if err != nil {
			return err
		}
		cmd := exec.Command(self, "-child", "-archive", arch, "-synthetic", fmt.Sprint(synth), "-out", out)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return err
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		fmt.Printf("export: %v wall, %v CPU, peak RSS %d MiB\n", time.Since(start).Round(time.Second),
			(time.Duration(ru.Utime.Nano() + ru.Stime.Nano())).Round(time.Second), ru.Maxrss/1024)
	} else {
		fmt.Printf("export: %s exists, timing its search only\n", out)
	}
	if err := folders(out); err != nil {
		return err
	}
	return searchTimes(out, qs)
}

// folders reports the largest folders of the export.
func folders(out string) error {
	count := map[string]int{}
	files := 0
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == out {
			return err
		}
		count[filepath.Dir(p)]++
		if !d.IsDir() {
			files++
		}
		return nil
	})
	if err != nil {
		return err
	}
	type dc struct {
		dir string
		n   int
	}
	var ds []dc
	for d, n := range count {
		ds = append(ds, dc{d, n})
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].n > ds[j].n })
	fmt.Printf("%d files in %d folders; largest folders:", files, len(ds))
	for _, d := range ds[:min(3, len(ds))] {
		rel, _ := filepath.Rel(out, d.dir)
		fmt.Printf(" %s (%d)", rel, d.n)
	}
	fmt.Println()
	return nil
}

// searchTimes opens the export's search page from file:// and times each
// query from submit to the first result shown.
func searchTimes(out string, qs []string) error {
	bin := browser.Path()
	if bin == "" {
		return fmt.Errorf("chromium is not installed")
	}
	ents, err := os.ReadDir(out)
	if err != nil {
		return err
	}
	var page string
	for _, e := range ents {
		if p := filepath.Join(out, e.Name(), "search.html"); e.IsDir() {
			if _, err := os.Stat(p); err == nil {
				page = p
			}
		}
	}
	if page == "" {
		return fmt.Errorf("no search.html in %s", out)
	}
	prof, err := os.MkdirTemp("", "bench-static-chromium-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(prof)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(bin), chromedp.UserDataDir(prof),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("allow-file-access-from-files", true))
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	u := "file://" + filepath.ToSlash(page)
	var times []time.Duration
	found := 0
	for _, q := range qs {
		if err := chromedp.Do(ctx, chromedp.Navigate(u), chromedp.WaitReady("#q")); err != nil {
			return err
		}
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(q){window.__t0 = 0; var ol = document.getElementById('results');
			new MutationObserver(function(){ if (!window.__t1 && ol.firstChild) { window.__t1 = performance.now(); } }).observe(ol, {childList: true});
			document.getElementById('q').value = q; window.__t0 = performance.now(); ferrySearch.run(); return true; })(`+quoteJS(q)+`)`)); err != nil {
			return err
		}
		deadline := time.Now().Add(30 * time.Second)
		var ms float64
		for time.Now().Before(deadline) {
			v, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`window.__t1 ? window.__t1 - window.__t0 : (document.getElementById('status').textContent.indexOf('없') >= 0 ? -1 : 0)`))
			if err != nil {
				return err
			}
			if v != 0 {
				ms = v
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if ms > 0 {
			found++
			times = append(times, time.Duration(ms*float64(time.Millisecond)))
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	if len(times) == 0 {
		return fmt.Errorf("no query found anything")
	}
	fmt.Printf("search from file://: %d of %d queries found results; first result after median %v, 90th percentile %v, worst %v\n",
		found, len(qs), times[len(times)/2].Round(time.Millisecond), times[len(times)*9/10].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond))
	return nil
}

func quoteJS(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteString(`\` + string(r))
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
