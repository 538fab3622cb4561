package main

import (
	"bufio"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"ferry/internal/archive"
	"ferry/internal/testkit/korquad"
)

// corpus writes the KorQuAD articles as HTML (copies times, each copy a
// variant), a welcome page, an illustration, paths.txt and questions.tsv.
func corpus(args []string) error {
	fs := flag.NewFlagSet("corpus", flag.ExitOnError)
	td := fs.String("testdata", "../shared/testdata", "shared test data folder")
	copies := fs.Int("copies", 1, "copies of every article (variants)")
	out := fs.String("out", "", "folder to write (HTML goes to OUT/html)")
	fs.Parse(args)
	if *out == "" {
		return fmt.Errorf("corpus: -out is required")
	}
	set, err := korquad.LoadFile(filepath.Join(*td, "korquad/KorQuAD_v1.0_dev.json"))
	if err != nil {
		return err
	}
	html := filepath.Join(*out, "html")
	n, err := set.WriteFolder(html, *copies)
	if err != nil {
		return err
	}
	// A short welcome page (zimwriterfs needs one): it links to the first
	// article only, so that it does not match every search itself.
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"ko\"><head><meta charset=\"UTF-8\"><title>KorQuAD</title></head>"+
		"<body><h1>KorQuAD</h1><p><a href=\"%s\">%d</a></p></body></html>\n",
		korquad.Path(url.PathEscape(set.Articles[0].Title)), len(set.Articles)**copies)
	if err := os.WriteFile(filepath.Join(html, "index.html"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	if err := writeIllustration(filepath.Join(html, "illustration.png")); err != nil {
		return err
	}
	// Every article path (all copies), for the load test.
	var paths []string
	for c := 0; c < max(*copies, 1); c++ {
		for _, a := range set.Articles {
			name := a.Title
			if c > 0 {
				name = fmt.Sprintf("%s_(%d)", a.Title, c)
			}
			paths = append(paths, korquad.Path(name))
		}
	}
	if err := writeLines(filepath.Join(*out, "paths.txt"), paths); err != nil {
		return err
	}
	var qs []string
	for _, q := range set.Questions {
		t := strings.Join(strings.Fields(q.Text), " ")
		qs = append(qs, t+"\t"+set.Articles[q.Article].Title)
	}
	if err := writeLines(filepath.Join(*out, "questions.tsv"), qs); err != nil {
		return err
	}
	fmt.Printf("%d\n", n)
	return nil
}

// writeIllustration draws the 48x48 PNG that zimwriterfs requires.
func writeIllustration(path string) error {
	img := image.NewRGBA(image.Rect(0, 0, 48, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 48; x++ {
			img.Set(x, y, color.RGBA{uint8(40 + 3*x), uint8(80 + 2*y), 160, 255})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeLines(path string, lines []string) error {
	return os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

func readLines(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

// sample picks n of xs, spread evenly (deterministic), or all when n <= 0.
func sample(xs []string, n int) []string {
	if n <= 0 || n >= len(xs) {
		return xs
	}
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, xs[i*len(xs)/n])
	}
	return out
}

// urls prints base + each path (percent-escaped per segment), shuffled
// deterministically so that wrk does not walk the archive in order.
func urls(args []string) error {
	fs := flag.NewFlagSet("urls", flag.ExitOnError)
	base := fs.String("base", "", "URL prefix, e.g. /content/book/")
	pathsFile := fs.String("paths", "", "file of article paths")
	n := fs.Int("n", 1000, "number of URLs (0: all)")
	fs.Parse(args)
	paths, err := readLines(*pathsFile)
	if err != nil {
		return err
	}
	paths = sample(paths, *n)
	rng := rand.New(rand.NewPCG(8, 8))
	rng.Shuffle(len(paths), func(i, j int) { paths[i], paths[j] = paths[j], paths[i] })
	w := bufio.NewWriter(os.Stdout)
	for _, p := range paths {
		fmt.Fprintln(w, *base+escapePath(p))
	}
	return w.Flush()
}

func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// zimPaths prints the article paths of a ferry archive (made from a ZIM):
// these are the same paths the ZIM serves.
func zimPaths(args []string) error {
	fs := flag.NewFlagSet("zimpaths", flag.ExitOnError)
	arch := fs.String("archive", "", "ferry archive imported from the ZIM")
	fs.Parse(args)
	r, err := archive.OpenFile(*arch)
	if err != nil {
		return err
	}
	defer r.Close()
	w := bufio.NewWriter(os.Stdout)
	for i := 0; i < r.NumEntries(); i++ {
		e, err := r.EntryAt(i)
		if err != nil {
			return err
		}
		if e.Article && !e.Redirect && strings.HasPrefix(e.MIME, "text/html") {
			fmt.Fprintln(w, e.Path)
		}
	}
	return w.Flush()
}
