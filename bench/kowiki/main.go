// Command kowiki writes a Korean Wikipedia-like corpus of any size, for
// measuring ferry (and Kiwix) at the scale of a real Wikipedia:
//
//	go run ./bench/kowiki -testdata DIR -size 5G -out DIR
//
// It needs only the KorQuAD dev set (140 real Korean Wikipedia articles in
// the shared test data) and is deterministic: the same flags give the
// same bytes. Articles are made, not copied:
//
//   - Text comes from a word-bigram model of the KorQuAD paragraphs: each
//     word follows the previous one as in the real text, or, with
//     probability -jump, is drawn from the whole vocabulary, which breaks
//     the long verbatim runs a model of a small text would otherwise
//     repeat. The default makes generated text compress like KorQuAD's own
//     text (zstd, 512 KiB windows), so clusters of it are as hard for ferry
//     and Kiwix as real articles are.
//   - Every article is about a name of its own (two Hangul syllables drawn
//     from KorQuAD's syllables, unique per article: a bijection of the
//     article number), mentions a few other articles' names, with
//     particles, and links to them, so the vocabulary grows with the
//     corpus as a real encyclopedia's does.
//   - Numbers and years are redrawn.
//   - With -pictures P, an article has a picture with probability P
//     (OUT/html/I/<name>.jpg, shown at the top of the page): a JPEG of
//     log-normal size (median -picture-kb) whose header is real (an
//     encoded 16×16 image) and whose image data is random bytes, so it is
//     unique and incompressible like a photograph, costs nothing to
//     make, and passes ferry's JPEG scrubber, which never decodes pixels.
//   - Pages have the shape of mwoffliner's offline Wikipedia pages
//     (package korquad renders the same shape): head with style sheet and
//     script links, one section per paragraph, links, licence footer.
//
// It writes OUT/html/A/<name> (one page per article), OUT/html/index.html
// and illustration.png (zimwriterfs needs them), OUT/paths.txt (article
// paths) and OUT/queries.txt: search queries of three kinds, mixed (an
// article's name; two to four words of generated text; a KorQuAD
// question), for latency measurements.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

func main() {
	td := flag.String("testdata", "../shared/testdata", "shared test data folder (for korquad/KorQuAD_v1.0_dev.json)")
	size := flag.String("size", "100M", "HTML bytes to write (suffix K, M, G)")
	out := flag.String("out", "", "folder to write")
	seed := flag.Uint64("seed", 1, "seed")
	jump := flag.Float64("jump", 0.12, "probability that a word is drawn from the whole vocabulary instead of following the previous word")
	workers := flag.Int("workers", runtime.GOMAXPROCS(0), "pages written in parallel")
	flag.Float64Var(&pictures, "pictures", 0, "probability that an article has a picture")
	flag.Float64Var(&pictureKB, "picture-kb", 12, "median picture size in KiB")
	flag.Parse()
	if err := run(*td, *size, *out, *seed, *jump, *workers); err != nil {
		fmt.Fprintln(os.Stderr, "kowiki:", err)
		os.Exit(1)
	}
}

func parseSize(s string) (int64, error) {
	mul := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mul, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mul, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mul, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("bad -size %q", s)
	}
	return int64(f * float64(mul)), nil
}

// model is the word-bigram model and the syllables names are made of.
type model struct {
	words     []string  // vocabulary
	next      [][]int32 // successors of each word, with repeats (frequency)
	starts    []int32   // words that begin a sentence, with repeats
	all       []int32   // every word occurrence (unigram draws)
	syllables []rune    // Hangul syllables of names, most frequent first
	questions []string
}

func load(path string) (*model, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Data []struct {
			Paragraphs []struct {
				Context string `json:"context"`
				QAs     []struct {
					Question string `json:"question"`
				} `json:"qas"`
			} `json:"paragraphs"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, err
	}
	m := &model{}
	id := map[string]int32{}
	syl := map[rune]int{}
	word := func(w string) int32 {
		i, ok := id[w]
		if !ok {
			i = int32(len(m.words))
			id[w] = i
			m.words = append(m.words, w)
			m.next = append(m.next, nil)
		}
		return i
	}
	for _, a := range f.Data {
		for _, p := range a.Paragraphs {
			prev := int32(-1)
			for _, w := range strings.Fields(p.Context) {
				i := word(w)
				m.all = append(m.all, i)
				if prev < 0 || strings.HasSuffix(m.words[prev], ".") {
					m.starts = append(m.starts, i)
				}
				if prev >= 0 {
					m.next[prev] = append(m.next[prev], i)
				}
				prev = i
				for _, r := range w {
					if r >= 0xAC00 && r <= 0xD7A3 {
						syl[r]++
					}
				}
			}
			for _, q := range p.QAs {
				m.questions = append(m.questions, strings.Join(strings.Fields(q.Question), " "))
			}
		}
	}
	for r := range syl {
		m.syllables = append(m.syllables, r)
	}
	sort.Slice(m.syllables, func(i, j int) bool {
		a, b := m.syllables[i], m.syllables[j]
		if syl[a] != syl[b] {
			return syl[a] > syl[b]
		}
		return a < b
	})
	if len(m.syllables) < 1000 || len(m.starts) == 0 {
		return nil, fmt.Errorf("%s: too little Korean text (%d syllables)", path, len(m.syllables))
	}
	m.syllables = m.syllables[:1000]
	return m, nil
}

// name is the name of article (or entity) n: two syllables from the 1000
// most frequent, through a bijection of n modulo 10^6, with a third
// syllable for n beyond it; distinct n give distinct names.
func (m *model) name(n int) string {
	const k = 1000
	x := (uint64(n%(k*k))*700001 + 12345) % (k * k) // 700001 is coprime with 10^6
	s := string(m.syllables[x/k]) + string(m.syllables[x%k])
	if n >= k*k {
		s += string(m.syllables[(n/(k*k)-1)%k])
	}
	return s
}

var (
	pictures  float64 // probability that an article has a picture
	pictureKB float64 // median picture size
	jpegHead  []byte  // a real JPEG up to its image data
)

// makeJPEGHead encodes a 16×16 picture and keeps its bytes up to and
// including the SOS segment: the markers a JPEG parser walks.
func makeJPEGHead() ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 37)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		return nil, err
	}
	j := b.Bytes()
	for pos := 2; pos+4 <= len(j); {
		m, n := j[pos+1], int(j[pos+2])<<8|int(j[pos+3])
		pos += 2 + n
		if m == 0xDA {
			return j[:pos], nil
		}
	}
	return nil, fmt.Errorf("no SOS in the encoded JPEG")
}

// picture returns article n's picture: jpegHead, random image data without
// 0xFF bytes (so no marker appears in it), EOI.
func picture(rng *rand.Rand) []byte {
	size := max(2048, int(pictureKB*1024*math.Exp(0.9*rng.NormFloat64())))
	p := make([]byte, 0, size)
	p = append(p, jpegHead...)
	for len(p) < size-2 {
		v := rng.Uint64()
		for k := 0; k < 8 && len(p) < size-2; k++ {
			c := byte(v >> (8 * k))
			if c == 0xFF {
				c = 0xFE
			}
			p = append(p, c)
		}
	}
	return append(p, 0xFF, 0xD9)
}

var particles = []string{"은", "는", "이", "가", "의", "에서", "을", "를", "로", "와", "과", "에게", "도"}

// article generates article n, and its picture (nil if none).
func (m *model) article(n, total int, seed uint64, jump float64) (title string, page, pic []byte) {
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	title = m.name(n)
	if pictures > 0 && rng.Float64() < pictures {
		pic = picture(rand.New(rand.NewPCG(seed^0x5bd1e995, uint64(n))))
	}
	// The names this article mentions: its own and a few others (articles
	// of the corpus, which it links to, or names beyond it).
	mentions := []int{n}
	for range 2 + rng.IntN(5) {
		mentions = append(mentions, rng.IntN(2*total+10))
	}
	var b strings.Builder
	et := html.EscapeString(title)
	b.WriteString("<!DOCTYPE html>\n<html lang=\"ko\" dir=\"ltr\"><head>\n<meta charset=\"UTF-8\">\n")
	fmt.Fprintf(&b, "<title>%s</title>\n", et)
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\n")
	b.WriteString("<link href=\"../-/s/css_modules/style.css\" rel=\"stylesheet\" type=\"text/css\">\n")
	b.WriteString("<link href=\"../-/s/css_modules/content.parsoid.css\" rel=\"stylesheet\" type=\"text/css\">\n")
	b.WriteString("<script src=\"../-/j/js_modules/script.js\"></script>\n</head>\n")
	b.WriteString("<body class=\"mediawiki ltr sitedir-ltr mw-hide-empty-elt ns-0 ns-subject page-Main\">\n")
	b.WriteString("<div id=\"content\" class=\"mw-body\" role=\"main\"><a id=\"top\"></a>\n")
	fmt.Fprintf(&b, "<h1 id=\"titleHeading\" class=\"firstHeading\" style=\"background-color: white; margin: 0;\">%s</h1>\n", et)
	b.WriteString("<div id=\"mw-content-text\"><div class=\"mw-parser-output\">\n")
	if pic != nil {
		fmt.Fprintf(&b, "<figure class=\"mw-default-size\"><img src=\"../I/%s.jpg\" alt=\"%s\" width=\"220\"></figure>\n", et, et)
	}
	// Paragraph count: log-normal, median 6, as article lengths vary.
	paras := max(1, min(60, int(math.Exp(1.8+0.7*rng.NormFloat64()))))
	for k := 0; k < paras; k++ {
		fmt.Fprintf(&b, "<details data-level=\"2\" open=\"\"><summary class=\"section-heading collapsible-heading\"><h2 id=\"section_%d\">%s %d</h2></summary>\n", k, et, k+1)
		fmt.Fprintf(&b, "<section data-mw-section-id=\"%d\"><p id=\"mwA%d\">", k+1, k)
		m.paragraph(&b, rng, mentions, total, jump)
		b.WriteString("</p></section></details>\n")
	}
	b.WriteString("</div></div></div>\n<script src=\"../-/j/js_modules/mediawiki.js\"></script>\n")
	b.WriteString("<footer><div class=\"mw-footer\">이 글은 위키백과의 글을 본떠 만든 시험용 글로, 크리에이티브 커먼즈 저작자표시-동일조건변경허락 라이선스로 이용할 수 있습니다.</div></footer>\n</body></html>\n")
	return title, []byte(b.String()), pic
}

// paragraph writes 3 to 8 sentences.
func (m *model) paragraph(b *strings.Builder, rng *rand.Rand, mentions []int, total int, jump float64) {
	sentences := 3 + rng.IntN(6)
	for s := 0; s < sentences; s++ {
		w := m.starts[rng.IntN(len(m.starts))]
		for t := 0; t < 40; t++ {
			if t > 0 || s > 0 {
				b.WriteByte(' ')
			}
			if rng.IntN(14) == 0 {
				// A name, with a particle; linked if it is an article.
				e := mentions[rng.IntN(len(mentions))]
				nm := m.name(e)
				if e < total && rng.IntN(3) == 0 {
					fmt.Fprintf(b, `<a href="./%s" title="%s" rel="mw:WikiLink">%s</a>`, nm, nm, nm)
				} else {
					b.WriteString(nm)
				}
				b.WriteString(particles[rng.IntN(len(particles))])
				b.WriteByte(' ')
			}
			b.WriteString(html.EscapeString(redraw(m.words[w], rng)))
			if strings.HasSuffix(m.words[w], ".") && t > 3 {
				break
			}
			if nx := m.next[w]; len(nx) > 0 && rng.Float64() >= jump {
				w = nx[rng.IntN(len(nx))]
			} else {
				w = m.all[rng.IntN(len(m.all))]
			}
		}
	}
}

// redraw replaces the digits of a word but the first of each number:
// years and counts change from article to article and stay plausible
// (1948년 may become 1903년, never 8604년).
func redraw(w string, rng *rand.Rand) string {
	if !strings.ContainsFunc(w, unicode.IsDigit) {
		return w
	}
	r := []rune(w)
	for i, c := range r {
		if c >= '0' && c <= '9' && i > 0 && r[i-1] >= '0' && r[i-1] <= '9' {
			r[i] = rune('0' + rng.IntN(10))
		}
	}
	return string(r)
}

func run(td, sizeFlag, out string, seed uint64, jump float64, workers int) error {
	if out == "" {
		return fmt.Errorf("-out is required")
	}
	target, err := parseSize(sizeFlag)
	if err != nil {
		return err
	}
	m, err := load(filepath.Join(td, "korquad/KorQuAD_v1.0_dev.json"))
	if err != nil {
		return err
	}
	dir := filepath.Join(out, "html", "A")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	idir := filepath.Join(out, "html", "I")
	if pictures > 0 {
		if jpegHead, err = makeJPEGHead(); err != nil {
			return err
		}
		if err := os.MkdirAll(idir, 0o755); err != nil {
			return err
		}
	}
	// Article count from the mean size of a sample (page and picture).
	var sample int64
	for n := 0; n < 400; n++ {
		_, p, pic := m.article(n, 1<<20, seed, jump)
		sample += int64(len(p) + len(pic))
	}
	total := max(1, int(target/(sample/400)))
	type page struct {
		n          int
		title      string
		size, pict int
	}
	results := make([]page, total)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	next := make(chan int, 256)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range next {
				title, p, pic := m.article(n, total, seed, jump)
				if err := os.WriteFile(filepath.Join(dir, title), p, 0o644); err != nil {
					errs <- err
					return
				}
				if pic != nil {
					if err := os.WriteFile(filepath.Join(idir, title+".jpg"), pic, 0o644); err != nil {
						errs <- err
						return
					}
				}
				results[n] = page{n, title, len(p), len(pic)}
			}
		}()
	}
	for n := 0; n < total; n++ {
		select {
		case next <- n:
		case err := <-errs:
			close(next)
			wg.Wait()
			return err
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	var written, pics int64
	paths := make([]string, total)
	for i, p := range results {
		written += int64(p.size + p.pict)
		pics += int64(p.pict)
		paths[i] = "A/" + p.title
	}
	welcome := fmt.Sprintf("<!DOCTYPE html>\n<html lang=\"ko\"><head><meta charset=\"UTF-8\"><title>시험용 백과</title></head>"+
		"<body><h1>시험용 백과</h1><p><a href=\"%s\">%d</a></p></body></html>\n", paths[0], total)
	if err := os.WriteFile(filepath.Join(out, "html", "index.html"), []byte(welcome), 0o644); err != nil {
		return err
	}
	if err := writeIllustration(filepath.Join(out, "html", "illustration.png")); err != nil {
		return err
	}
	if err := writeLines(filepath.Join(out, "paths.txt"), paths); err != nil {
		return err
	}
	// Queries: names of articles, short runs of generated words, KorQuAD
	// questions, in turn.
	rng := rand.New(rand.NewPCG(seed, 1<<62))
	var qs []string
	for i := 0; i < 3000; i++ {
		switch i % 3 {
		case 0:
			qs = append(qs, m.name(rng.IntN(total)))
		case 1:
			var ws []string
			for range 2 + rng.IntN(3) {
				w := strings.TrimRight(m.words[m.all[rng.IntN(len(m.all))]], ".,")
				if w != "" && utf8.ValidString(w) {
					ws = append(ws, w)
				}
			}
			qs = append(qs, strings.Join(ws, " "))
		default:
			qs = append(qs, m.questions[rng.IntN(len(m.questions))])
		}
	}
	if err := writeLines(filepath.Join(out, "queries.txt"), qs); err != nil {
		return err
	}
	fmt.Printf("%d\n", written)
	fmt.Fprintf(os.Stderr, "kowiki: %d articles, %d bytes (%d of them pictures) in %s\n", total, written, pics, out)
	return nil
}

func writeLines(path string, lines []string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// writeIllustration draws the 48x48 PNG zimwriterfs requires.
func writeIllustration(path string) error {
	img := image.NewRGBA(image.Rect(0, 0, 48, 48))
	for y := 0; y < 48; y++ {
		for x := 0; x < 48; x++ {
			img.Set(x, y, color.RGBA{uint8(160 - 2*x), uint8(60 + 3*y), 90, 255})
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
