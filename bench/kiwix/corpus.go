package main

import (
	"bufio"
	"flag"
	"fmt"
	"hash/fnv"
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
//
// Copy c > 0 of an article is a variant, not a duplicate: a quarter of its
// paragraphs (chosen at random) are replaced by paragraphs of other
// articles and the paragraph list is rotated, so copies share most but not
// all of their text, as pages of one wiki share phrases and templates.
// -order says where the copies lie in path order, which is the order the
// packers meet them in: "adjacent" names them TITLE, TITLE_(1), ... (side by
// side), "shuffled" puts a hash of (article, copy) before the title, so the
// copies of one article are spread over the whole corpus.
func corpus(args []string) error {
	fs := flag.NewFlagSet("corpus", flag.ExitOnError)
	td := fs.String("testdata", "../shared/testdata", "shared test data folder")
	copies := fs.Int("copies", 1, "copies of every article (variants)")
	order := fs.String("order", "adjacent", "adjacent or shuffled: where the copies of an article lie in path order")
	out := fs.String("out", "", "folder to write (HTML goes to OUT/html)")
	fs.Parse(args)
	if *out == "" {
		return fmt.Errorf("corpus: -out is required")
	}
	if *order != "adjacent" && *order != "shuffled" {
		return fmt.Errorf("corpus: -order %q: use adjacent or shuffled", *order)
	}
	set, err := korquad.LoadFile(filepath.Join(*td, "korquad/KorQuAD_v1.0_dev.json"))
	if err != nil {
		return err
	}
	html := filepath.Join(*out, "html")
	if err := os.MkdirAll(filepath.Join(html, "A"), 0o755); err != nil {
		return err
	}
	var n int64
	var paths []string
	for c := 0; c < max(*copies, 1); c++ {
		for i, a := range set.Articles {
			name := copyName(a.Title, i, c, *order)
			page := variant(set, i, c)
			if err := os.WriteFile(filepath.Join(html, "A", name), page, 0o644); err != nil {
				return err
			}
			n += int64(len(page))
			paths = append(paths, korquad.Path(name))
		}
	}
	// A short welcome page (zimwriterfs needs one): it links to the first
	// article only, so that it does not match every search itself.
	var b strings.Builder
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"ko\"><head><meta charset=\"UTF-8\"><title>KorQuAD</title></head>"+
		"<body><h1>KorQuAD</h1><p><a href=\"%s\">%d</a></p></body></html>\n",
		escapePath(paths[0]), len(paths))
	if err := os.WriteFile(filepath.Join(html, "index.html"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	if err := writeIllustration(filepath.Join(html, "illustration.png")); err != nil {
		return err
	}
	// Every article path (all copies), for the load test.
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

// copyName is the file name of copy c of article i (see corpus).
func copyName(title string, i, c int, order string) string {
	name := title
	if c > 0 {
		name = fmt.Sprintf("%s_(%d)", title, c)
	}
	if order == "shuffled" {
		h := fnv.New32a()
		fmt.Fprintf(h, "%d/%d", i, c)
		name = fmt.Sprintf("%08x_%s", h.Sum32(), name)
	}
	return name
}

// variant renders copy c of article i: the article itself for c = 0,
// otherwise with a quarter of its paragraphs replaced by paragraphs of
// other articles and the list rotated (deterministic in i and c).
func variant(set *korquad.Set, i, c int) []byte {
	if c == 0 {
		return set.HTML(i, 0)
	}
	rng := rand.New(rand.NewPCG(uint64(i), uint64(c)))
	a := set.Articles[i]
	paras := make([]string, len(a.Paragraphs))
	for k, p := range a.Paragraphs {
		if rng.IntN(4) == 0 {
			o := set.Articles[rng.IntN(len(set.Articles))]
			p = o.Paragraphs[rng.IntN(len(o.Paragraphs))]
		}
		paras[k] = p
	}
	r := rng.IntN(len(paras))
	paras = append(paras[r:], paras[:r]...)
	v := *set
	v.Articles = append([]korquad.Article(nil), set.Articles...)
	v.Articles[i].Paragraphs = paras
	return v.HTML(i, c)
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
