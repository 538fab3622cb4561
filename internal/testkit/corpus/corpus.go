// Package corpus makes test sites of any size from ferry's own writing:
// the Korean and English sentences and the pictures of the built-in sample
// library (package sample), recombined deterministically into pages that
// link to each other. Tests of packing, deltas, the library, the carriers
// and the reader use it so that a plain clone tests itself; tests on other
// people's real content use package shared and skip without it.
package corpus

import (
	"bytes"
	"fmt"
	"html"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing/fstest"

	"ferry/internal/archive"
	"ferry/internal/htmltext"
	"ferry/internal/sample"
)

// pool is the sample library's text and pictures.
type pool struct {
	ko, en   []string // sentences
	pictures map[string][]byte
}

var (
	once sync.Once
	the  *pool
	err  error
)

func load() (*pool, error) {
	once.Do(func() {
		var r *archive.Reader
		if r, err = sample.Open(); err != nil {
			return
		}
		p := &pool{pictures: map[string][]byte{}}
		for i := 0; i < r.NumEntries(); i++ {
			var e archive.Entry
			if e, err = r.EntryAt(i); err != nil {
				return
			}
			var b []byte
			if b, err = r.ReadAll(e); err != nil {
				return
			}
			switch {
			case strings.HasPrefix(e.MIME, "image/"):
				p.pictures[path.Base(e.Path)] = b
			case htmltext.IsHTML(e.MIME) && strings.HasPrefix(e.Path, "ko/"):
				_, text := htmltext.Extract(b)
				p.ko = append(p.ko, sentences(text)...)
			case htmltext.IsHTML(e.MIME) && strings.HasPrefix(e.Path, "en/"):
				_, text := htmltext.Extract(b)
				p.en = append(p.en, sentences(text)...)
			}
		}
		if len(p.ko) < 50 || len(p.en) < 50 || len(p.pictures) == 0 {
			err = fmt.Errorf("corpus: the sample library has %d Korean and %d English sentences, %d pictures", len(p.ko), len(p.en), len(p.pictures))
			return
		}
		the = p
	})
	return the, err
}

// sentences cuts each line of text after '.', '?' or '!' followed by a
// space, keeping whole sentences of 12 runes or more (headings and menus,
// which end without a stop, are left out).
func sentences(text string) []string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		start := 0
		for i := 0; i < len(line); i++ {
			if c := line[i]; (c == '.' || c == '?' || c == '!') && (i+1 == len(line) || line[i+1] == ' ') {
				if s := strings.TrimSpace(line[start : i+1]); len([]rune(s)) >= 12 {
					out = append(out, s)
				}
				start = i + 1
			}
		}
	}
	return out
}

// Options shape a site.
type Options struct {
	Pages int    // articles (default 40)
	Seed  uint64 // which sentences go where
	// Pictures puts the sample pictures in img/ and one on every third page.
	Pictures bool
}

// Site returns a folder of Pages HTML articles under A/ (half Korean, half
// English, each with its own made-up keyword, e.g. 낱말17 or word17, and
// links to three others), an index.html listing them, and with Pictures
// the pictures under img/. The same options give the same bytes.
func Site(opts Options) (fstest.MapFS, error) {
	p, err := load()
	if err != nil {
		return nil, err
	}
	if opts.Pages <= 0 {
		opts.Pages = 40
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	fs := fstest.MapFS{}
	var links strings.Builder
	for i := 0; i < opts.Pages; i++ {
		name := PagePath(i)
		fs[name] = &fstest.MapFile{Data: page(p, rng, i, opts.Pages, opts.Pictures, 0)}
		fmt.Fprintf(&links, "<li><a href=\"%s\">%s</a></li>\n", name, html.EscapeString(Title(i)))
	}
	fs["index.html"] = &fstest.MapFile{Data: []byte("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>시험 서고 / Test library</title></head><body>\n<h1>시험 서고</h1>\n<ul>\n" + links.String() + "</ul>\n</body></html>\n")}
	if opts.Pictures {
		for n, b := range p.pictures {
			fs["img/"+n] = &fstest.MapFile{Data: b}
		}
	}
	return fs, nil
}

// Edit returns the next edition of a site: every changeEvery-th article
// rewritten (its keyword kept), the articles in removed taken out and
// added new articles appended after the last one. It returns the new site
// and the paths that changed or were added.
func Edit(site fstest.MapFS, opts Options, changeEvery int, removed []int, added int) (fstest.MapFS, []string, error) {
	p, err := load()
	if err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewPCG(opts.Seed+1, 0xed17))
	next := fstest.MapFS{}
	for k, v := range site {
		next[k] = v
	}
	var changed []string
	if opts.Pages <= 0 {
		opts.Pages = 40
	}
	for i := 0; i < opts.Pages; i++ {
		if changeEvery > 0 && i%changeEvery == changeEvery/2 {
			next[PagePath(i)] = &fstest.MapFile{Data: page(p, rng, i, opts.Pages, opts.Pictures, 1)}
			changed = append(changed, PagePath(i))
		}
	}
	for _, i := range removed {
		delete(next, PagePath(i))
	}
	for i := opts.Pages; i < opts.Pages+added; i++ {
		next[PagePath(i)] = &fstest.MapFile{Data: page(p, rng, i, opts.Pages+added, opts.Pictures, 0)}
		changed = append(changed, PagePath(i))
	}
	sort.Strings(changed)
	return next, changed, nil
}

// PagePath is the path of article i.
func PagePath(i int) string { return fmt.Sprintf("A/%03d.html", i) }

// Keyword is the made-up word only article i holds (Korean articles have
// a Korean one).
func Keyword(i int) string {
	if i%2 == 0 {
		return fmt.Sprintf("낱말%d", i)
	}
	return fmt.Sprintf("word%d", i)
}

// Title is the title of article i.
func Title(i int) string {
	if i%2 == 0 {
		return fmt.Sprintf("시험 글 %d", i)
	}
	return fmt.Sprintf("Test article %d", i)
}

func page(p *pool, rng *rand.Rand, i, n int, pictures bool, rev int) []byte {
	sents, lang := p.en, "en"
	if i%2 == 0 {
		sents, lang = p.ko, "ko"
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"><title>%s</title></head><body>\n<h1>%s</h1>\n",
		lang, html.EscapeString(Title(i)), html.EscapeString(Title(i)))
	paras := 3 + rng.IntN(4)
	for k := 0; k < paras; k++ {
		b.WriteString("<p>")
		for s := 0; s < 2+rng.IntN(4); s++ {
			b.WriteString(html.EscapeString(sents[rng.IntN(len(sents))]))
			b.WriteByte(' ')
		}
		if k == 0 {
			fmt.Fprintf(&b, "%s.", Keyword(i))
		}
		if k == 1 {
			j := rng.IntN(n)
			fmt.Fprintf(&b, " <a href=\"%s\">%s</a>", path.Base(PagePath(j)), html.EscapeString(Title(j)))
		}
		b.WriteString("</p>\n")
	}
	if rev > 0 {
		fmt.Fprintf(&b, "<p>고친 판 %d. Revised %d.</p>\n", rev, rev)
	}
	if pictures && i%3 == 0 {
		names := make([]string, 0, len(p.pictures))
		for n := range p.pictures {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(&b, "<p><img src=\"../img/%s\" alt=\"\"></p>\n", names[i%len(names)])
	}
	b.WriteString("</body></html>\n")
	return b.Bytes()
}

// WriteDir writes a site (or any fstest.MapFS) into the folder dir as
// plain files, making folders as needed.
func WriteDir(dir string, site fstest.MapFS) error {
	for p, f := range site {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
