package zim_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/html"

	"ferry/internal/source"
	"ferry/internal/source/zim"
	"ferry/internal/testkit/shared"
)

// The real ZIM files in the shared test data.
const (
	small      = "zim/small.zim"
	rayCharles = "zim/wikipedia_en_ray_charles_mini_2020-03.zim"
	booksNew   = "zim/wikibooks_be_all_nopic_2017-02.zim"
	booksOld   = "zim/wikibooks_be_all_nopic_2017-02_oldns_xz.zim"
)

var allFiles = []string{small, rayCharles, booksNew, booksOld}

// corpus returns the package's own vectors followed by those of the real
// files (names in the shared test data) that are present, so the general
// checks run in a plain clone and, beside it, on other people's files too.
func corpus(t testing.TB, real ...string) []string {
	t.Helper()
	out := slices.Clone(ownFiles)
	root := shared.Root()
	missing := 0
	for _, name := range real {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(name))); root != "" && err == nil {
			out = append(out, name)
		} else {
			missing++
		}
	}
	if missing > 0 {
		t.Logf("%d real ZIM files of the shared test data not found: checked on our own vectors only", missing)
	}
	return out
}

// filePath is the path of a vector ("testdata/...") or of a shared file
// (skipping the test when that is missing).
func filePath(t testing.TB, name string) string {
	if strings.HasPrefix(name, "testdata/") {
		return name
	}
	return shared.Path(t, name)
}

func openZIM(t testing.TB, name string) *zim.Archive {
	t.Helper()
	a, err := zim.OpenFile(filePath(t, name))
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filePath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// walked is what Walk yielded: entries by path and content of non-redirects.
type walked struct {
	entries map[string]source.Entry
	content map[string][]byte
	order   []string
}

func walk(t testing.TB, s *zim.Source) *walked {
	t.Helper()
	w := &walked{entries: map[string]source.Entry{}, content: map[string][]byte{}}
	err := s.Walk(context.Background(), func(e source.Entry) error {
		if _, dup := w.entries[e.Path]; dup {
			t.Errorf("path %q yielded twice", e.Path)
		}
		w.entries[e.Path] = e
		w.order = append(w.order, e.Path)
		if e.Redirect != "" {
			return nil
		}
		rc, err := e.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			return err
		}
		if int64(len(b)) != e.Size {
			t.Errorf("%s: Size %d but read %d bytes", e.Path, e.Size, len(b))
		}
		w.content[e.Path] = b
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	return w
}

func openSource(t testing.TB, name string) (*zim.Archive, *zim.Source) {
	t.Helper()
	a := openZIM(t, name)
	s, err := zim.NewSource(a)
	if err != nil {
		t.Fatalf("%s: NewSource: %v", name, err)
	}
	return a, s
}

// declared counts what the directory says, read entry by entry with
// EntryAt (not through Walk): content-namespace articles, redirects and
// resources.
func declared(t *testing.T, a *zim.Archive) (articles, redirects, resources int) {
	t.Helper()
	newNS := a.Header().NewNamespaces()
	var front map[uint32]bool
	if newNS {
		if list, err := a.FrontArticles(); err == nil {
			front = map[uint32]bool{}
			for _, i := range list {
				front[i] = true
			}
		}
	}
	for i := uint32(0); i < a.EntryCount(); i++ {
		e, err := a.EntryAt(i)
		if err != nil {
			t.Fatal(err)
		}
		if newNS && e.Namespace != 'C' || !newNS && strings.ContainsRune("MXW", rune(e.Namespace)) {
			continue
		}
		switch {
		case e.IsRedirect():
			redirects++
		case strings.HasPrefix(a.MIME(e), "text/html") && (newNS && (front == nil || front[i]) || !newNS && e.Namespace == 'A'):
			articles++
		default:
			resources++
		}
	}
	return
}

func count(w *walked) (articles, redirects, resources int) {
	for _, e := range w.entries {
		switch {
		case e.Redirect != "":
			redirects++
		case e.Article:
			articles++
		default:
			resources++
		}
	}
	return
}

func TestOpenAllAndCounts(t *testing.T) {
	for _, name := range corpus(t, allFiles...) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			a, s := openSource(t, name)
			h := a.Header()
			if h.MajorVersion != 5 && h.MajorVersion != 6 {
				t.Errorf("version %d.%d", h.MajorVersion, h.MinorVersion)
			}
			if len(a.MIMETypes()) == 0 {
				t.Error("empty MIME list")
			}
			if err := a.Verify(context.Background()); err != nil {
				t.Errorf("Verify: %v", err)
			}
			w := walk(t, s)
			da, dr, ds := declared(t, a)
			wa, wr, ws := count(w)
			if da != wa || dr != wr || ds != ws {
				t.Errorf("walk gave %d articles, %d redirects, %d resources; directory declares %d, %d, %d", wa, wr, ws, da, dr, ds)
			}
			if wa == 0 {
				t.Error("no articles")
			}
			t.Logf("%s: v%d.%d, %d entries, %d articles, %d redirects, %d resources", name, h.MajorVersion, h.MinorVersion, h.EntryCount, wa, wr, ws)
			for p, e := range w.entries {
				if strings.HasPrefix(p, "M/") || strings.HasPrefix(p, "X/") || strings.HasPrefix(p, "W/") {
					t.Errorf("%s: metadata/index entry in the stream", p)
				}
				if e.Article && e.Title == "" {
					t.Errorf("%s: article without title", p)
				}
				if e.Redirect == "" && e.MIME == "" {
					t.Errorf("%s: no MIME type", p)
				}
			}
		})
	}
}

// TestRealFiles runs the checks that need other people's real ZIM files
// (the shared test data): each compares a file with what is known of it.
// The general checks (TestOpenAllAndCounts, ...) also run on these files
// when they are present.
func TestRealFiles(t *testing.T) {
	if st, err := os.Stat(shared.Root()); shared.Root() == "" || err != nil || !st.IsDir() {
		t.Skip("shared test data not found (../shared/testdata or FERRY_TESTDATA): the real ZIM files (Ray Charles, Wikibooks twins, small.zim, libzim's invalid files) were not checked; our own vectors were")
	}
	t.Run("RayCharles", realRayCharles)
	t.Run("WikibooksTwins", realWikibooksTwins)
	t.Run("SmallNewLayout", realSmallNewLayout)
	t.Run("InvalidFiles", realInvalidFiles)
	t.Run("TitleListings", func(t *testing.T) { zim.CheckTitleListings(t, shared.Path(t, small), "C/main.html") })
}

// realRayCharles checks the old-layout (v5, xz) file against index.json and
// the files extracted byte for byte from it.
func realRayCharles(t *testing.T) {
	_, s := openSource(t, rayCharles)
	w := walk(t, s)
	root := shared.Path(t, "html/enwiki_raycharles")
	var index struct {
		Articles []struct {
			Path  string `json:"path"`
			Title string `json:"title"`
		} `json:"articles"`
		Redirects map[string]string `json:"redirects"`
	}
	raw, err := os.ReadFile(filepath.Join(root, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		t.Fatal(err)
	}
	if len(index.Articles) != 129 || len(index.Redirects) != 155 {
		t.Fatalf("index.json lists %d articles and %d redirects", len(index.Articles), len(index.Redirects))
	}
	articles, redirects, _ := count(w)
	if articles != len(index.Articles) || redirects != len(index.Redirects) {
		t.Errorf("walk gave %d articles and %d redirects, index.json %d and %d", articles, redirects, len(index.Articles), len(index.Redirects))
	}
	for _, a := range index.Articles {
		e, ok := w.entries[a.Path]
		if !ok || !e.Article || e.Title != a.Title {
			t.Errorf("article %s %q: got %+v", a.Path, a.Title, e)
		}
		if ok && !strings.HasPrefix(e.MIME, "text/html") {
			t.Errorf("article %s has MIME %q", a.Path, e.MIME)
		}
	}
	for from, to := range index.Redirects {
		if e := w.entries[from]; e.Redirect != to {
			t.Errorf("redirect %s: got %q, index.json %q", from, e.Redirect, to)
		}
	}
	// Every extracted file matches the entry of the same path, byte for
	// byte, and every non-redirect entry was extracted.
	files := 0
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "index.json" {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		want, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files++
		got, ok := w.content[rel]
		if !ok {
			t.Errorf("%s: extracted file has no entry", rel)
		} else if !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes differ from the %d extracted", rel, len(got), len(want))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files != len(w.content) || files != 203 {
		t.Errorf("%d extracted files, %d content entries", files, len(w.content))
	}
	m := s.Metadata()
	if m.Title != "Ray Charles" || m.Language != "en" || m.Date != "2020-03-31" || m.Creator != "Wikipedia" || m.Publisher != "Kiwix" {
		t.Errorf("metadata %+v", m)
	}
	if e, ok := w.entries[m.MainPage]; !ok || !e.Article {
		t.Errorf("main page %q is not an article of the stream", m.MainPage)
	}
	if !bytes.HasPrefix(m.Illustration, []byte("\x89PNG")) {
		t.Error("no PNG illustration (old files keep it in -/favicon)")
	}
}

// TestWikibooksTwins: the v6.3 zstd file and its old-namespace xz twin give
// the same articles, titles, text and link targets.
func realWikibooksTwins(t *testing.T) {
	an, sn := openSource(t, booksNew)
	ao, so := openSource(t, booksOld)
	if !an.Header().NewNamespaces() || ao.Header().NewNamespaces() {
		t.Fatal("expected one new- and one old-namespace file")
	}
	wn, wo := walk(t, sn), walk(t, so)
	n := 0
	for p, eo := range wo.entries {
		if !eo.Article {
			continue
		}
		n++
		np := strings.TrimPrefix(p, "A/")
		en, ok := wn.entries[np]
		if !ok || !en.Article || en.Title != eo.Title {
			t.Errorf("%s (%q): new file has %+v", p, eo.Title, en)
			continue
		}
		tn, ln := textAndLinks(t, np, wn.content[np])
		to, lo := textAndLinks(t, p, wo.content[p])
		if tn != to {
			t.Errorf("%s: text differs", p)
		}
		// Old links point into A/, I/, -/; the same targets in the new
		// file are those paths without the namespace.
		for i := range lo {
			lo[i] = lo[i][2:]
		}
		if strings.Join(ln, "\n") != strings.Join(lo, "\n") {
			t.Errorf("%s: link targets differ:\n%v\n%v", p, ln, lo)
		}
	}
	if n != 66 {
		t.Errorf("%d articles in the old file, want 66", n)
	}
	na, nr, ns := count(wn)
	oa, or, os := count(wo)
	if na != oa || nr != or || ns != os {
		t.Errorf("new file %d/%d/%d articles/redirects/resources, old %d/%d/%d", na, nr, ns, oa, or, os)
	}
	mn, mo := sn.Metadata(), so.Metadata()
	if mn.Title != mo.Title || mn.Language != mo.Language || mn.Description != mo.Description || strings.TrimPrefix(mo.MainPage, "A/") != mn.MainPage {
		t.Errorf("metadata differs:\n%+v\n%+v", mn, mo)
	}
}

// textAndLinks returns the text of an HTML page and the archive paths its
// relative links resolve to (external links and fragments dropped).
func textAndLinks(t testing.TB, from string, page []byte) (string, []string) {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("%s: %v", from, err)
	}
	var text strings.Builder
	var links []string
	var visit func(*html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.TextNode {
			text.WriteString(n.Data)
		}
		if n.Type == html.ElementNode {
			for _, at := range n.Attr {
				if at.Key != "href" && at.Key != "src" {
					continue
				}
				if p, ok := resolveLink(from, at.Val); ok {
					links = append(links, p)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(doc)
	return text.String(), links
}

// resolveLink resolves a relative href/src against the page's directory.
// Root-relative links ("/-/j/x.js", one in the Ray Charles index page) are
// not relative links; they break in kiwix-serve too.
func resolveLink(from, ref string) (string, bool) {
	u, err := url.Parse(ref)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Path == "" || strings.HasPrefix(ref, "/") {
		return "", false // external, root-relative, fragment-only or unparsable
	}
	return path.Join(path.Dir(from), u.Path), true
}

func TestRedirectTargetsExist(t *testing.T) {
	for _, name := range corpus(t, allFiles...) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			_, s := openSource(t, name)
			w := walk(t, s)
			for p, e := range w.entries {
				if e.Redirect == "" {
					continue
				}
				target, ok := w.entries[e.Redirect]
				if !ok || target.Redirect != "" {
					t.Errorf("redirect %s -> %s: target missing or itself a redirect", p, e.Redirect)
				}
			}
			if m := s.Metadata().MainPage; m != "" {
				if _, ok := w.entries[m]; !ok {
					t.Errorf("main page %q not in the stream", m)
				}
			}
		})
	}
}

// TestLinksResolve: every relative href/src in every article points to an
// entry of the stream, so pages, images, CSS and JS work inside ferry.
func TestLinksResolve(t *testing.T) {
	for _, name := range corpus(t, allFiles...) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			_, s := openSource(t, name)
			w := walk(t, s)
			checked := 0
			for p, e := range w.entries {
				if !e.Article {
					continue
				}
				_, links := textAndLinks(t, p, w.content[p])
				for _, l := range links {
					checked++
					if _, ok := w.entries[l]; !ok {
						t.Errorf("%s: link to %q does not resolve", p, l)
					}
				}
			}
			t.Logf("%d links checked", checked)
			if name == rayCharles && checked < 1000 || strings.HasPrefix(name, "testdata/") && checked == 0 {
				t.Errorf("only %d links checked", checked)
			}
		})
	}
}

func realSmallNewLayout(t *testing.T) {
	a, s := openSource(t, small)
	h := a.Header()
	if !h.NewNamespaces() || h.MajorVersion != 6 {
		t.Fatalf("small.zim header %+v", h)
	}
	w := walk(t, s)
	m := s.Metadata()
	if m.Title != "Test ZIM file" || m.Language != "en" || m.Date != "2021-06-02" || m.MainPage != "main.html" {
		t.Errorf("metadata %+v", m)
	}
	if !bytes.HasPrefix(m.Illustration, []byte("\x89PNG")) {
		t.Error("illustration missing")
	}
	if e := w.entries["main.html"]; !e.Article || e.MIME != "text/html" {
		t.Errorf("main.html: %+v", e)
	}
	names, err := a.MetadataNames()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(names, ","), "Counter") {
		t.Errorf("metadata names %v lack Counter", names)
	}
	counter, err := a.Metadata("Counter")
	if err != nil || !strings.Contains(string(counter), "text/html=1") {
		t.Errorf("Counter = %q, %v", counter, err)
	}
	if _, err := a.Metadata("NoSuchName"); !errors.Is(err, zim.ErrNotFound) {
		t.Errorf("missing metadata: %v", err)
	}
}

// TestLookupAndTitles: every entry is found by its path; title order is
// ordered by title; front articles are exactly the walked articles.
func TestLookupAndTitles(t *testing.T) {
	for _, name := range corpus(t, allFiles...) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			a, s := openSource(t, name)
			for i := uint32(0); i < a.EntryCount(); i++ {
				e, err := a.EntryAt(i)
				if err != nil {
					t.Fatal(err)
				}
				f, err := a.LookupPath(e.Path())
				if err != nil || f.Index != i {
					t.Errorf("lookup %q: %v, %v", e.Path(), f, err)
				}
			}
			if _, err := a.LookupPath("C/no such entry"); !errors.Is(err, zim.ErrNotFound) {
				t.Errorf("missing path: %v", err)
			}
			order, err := a.TitleOrder()
			if errors.Is(err, zim.ErrNotFound) {
				t.Logf("no title list (header or X/listing/titleOrdered/v0)")
			} else if err != nil {
				t.Fatal(err)
			} else {
				if len(order) != int(a.EntryCount()) {
					t.Errorf("title order has %d of %d entries", len(order), a.EntryCount())
				}
				checkTitleOrder(t, a, order)
			}
			front, err := a.FrontArticles()
			if errors.Is(err, zim.ErrNotFound) {
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkTitleOrder(t, a, front)
			w := walk(t, s)
			var fromWalk, fromList []string
			for p, e := range w.entries {
				if e.Article {
					fromWalk = append(fromWalk, p)
				}
			}
			for _, i := range front {
				e, _ := a.EntryAt(i)
				p, _ := s.PathOf(e)
				fromList = append(fromList, p)
			}
			sort.Strings(fromWalk)
			sort.Strings(fromList)
			if strings.Join(fromWalk, "\n") != strings.Join(fromList, "\n") {
				t.Errorf("front articles %v, walked articles %v", fromList, fromWalk)
			}
		})
	}
}

func checkTitleOrder(t *testing.T, a *zim.Archive, order []uint32) {
	t.Helper()
	var prevNS byte
	prev := ""
	for _, i := range order {
		e, err := a.EntryAt(i)
		if err != nil {
			t.Fatal(err)
		}
		if e.Namespace == prevNS && e.DisplayTitle() < prev {
			t.Errorf("title order: %q after %q", e.DisplayTitle(), prev)
		}
		prevNS, prev = e.Namespace, e.DisplayTitle()
	}
}

func realInvalidFiles(t *testing.T) {
	for _, tc := range []struct {
		file string
		want error
	}{
		{"invalid.smaller_than_header.zim", zim.ErrFormat},
		{"invalid.outofbounds_urlptrpos.zim", zim.ErrCorrupt},
		{"invalid.offset_in_cluster.zim", zim.ErrCorrupt},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := readFile(t, "zim/invalid/"+tc.file)
			err := openAndWalk(b)
			if err == nil {
				t.Fatal("accepted a damaged file")
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}
}

// openAndWalk opens b and reads every entry, returning the first error.
func openAndWalk(b []byte) error {
	a, err := zim.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return err
	}
	s, err := zim.NewSource(a)
	if err != nil {
		return err
	}
	return s.Walk(context.Background(), func(e source.Entry) error {
		if e.Redirect != "" {
			return nil
		}
		rc, err := e.Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		_, err = io.Copy(io.Discard, rc)
		return err
	})
}

// TestWalkNamesDamagedEntry: a blob offset broken in the uncompressed
// cluster makes Walk fail naming an entry it spoils (the offset ends one
// blob and starts the next), instead of skipping them.
func TestWalkNamesDamagedEntry(t *testing.T) {
	b := readFile(t, vecV5Old)
	a, err := zim.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	const victim = "I/m/wave.png"
	e, err := a.LookupPath(victim)
	if err != nil {
		t.Fatal(err)
	}
	spoiled := map[string]bool{}
	for i := uint32(0); i < a.EntryCount(); i++ {
		f, err := a.EntryAt(i)
		if err != nil {
			t.Fatal(err)
		}
		if !f.IsRedirect() && f.Cluster == e.Cluster && (f.Blob == e.Blob || f.Blob == e.Blob+1) {
			spoiled[f.Path()] = true
		}
	}
	h := a.Header()
	start := binary.LittleEndian.Uint64(b[h.ClusterPtrPos+8*uint64(e.Cluster):])
	if b[start]&0x0f > 1 {
		t.Fatalf("cluster %d of %s is compressed", e.Cluster, victim)
	}
	damaged := bytes.Clone(b)
	binary.LittleEndian.PutUint32(damaged[start+1+4*uint64(e.Blob+1):], 0xfffffff0)
	err = openAndWalk(damaged)
	if !errors.Is(err, zim.ErrCorrupt) {
		t.Fatalf("damaged file: %v", err)
	}
	named := false
	for p := range spoiled {
		named = named || strings.Contains(err.Error(), `"`+p+`"`)
	}
	if !named {
		t.Errorf("error %v names none of the spoiled entries %v", err, spoiled)
	}
}

// TestTruncated: every cut-short copy is refused, never read partially.
func TestTruncated(t *testing.T) {
	for _, name := range corpus(t, small, rayCharles) {
		b := readFile(t, name)
		step := max(1, len(b)/400)
		for n := 0; n < len(b); n += step {
			if err := openAndWalk(b[:n]); err == nil {
				t.Errorf("%s cut to %d bytes: accepted", name, n)
			}
		}
		for n := len(b) - 40; n < len(b); n++ {
			err := openAndWalk(b[:n])
			if !errors.Is(err, zim.ErrTruncated) {
				t.Errorf("%s cut to %d bytes: %v, want ErrTruncated", name, n, err)
			}
		}
	}
}

// TestFlipped: a changed byte gives an error or data, never a panic or a
// hang, and Verify always notices it.
func TestFlipped(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flips int // xz decoding is slow: fewer flips for the xz file
	}{{vecV5Old, 400}, {vecV60Old, 400}, {vecV61New, 1500}, {vecV63Full, 400}, {small, 600}, {booksNew, 150}, {booksOld, 40}} {
		name := tc.name
		if !strings.HasPrefix(name, "testdata/") && !slices.Contains(corpus(t, name), name) {
			continue
		}
		b := readFile(t, name)
		// Every header byte, then an even spread over the rest.
		step := max(1, len(b)/tc.flips)
		walked := 0
		for i := 0; i < len(b); i++ {
			if i >= zim.HeaderSize && i%step != 0 {
				continue
			}
			c := bytes.Clone(b)
			c[i] ^= 0x5a
			if openAndWalk(c) == nil {
				walked++
			}
			a, err := zim.Open(bytes.NewReader(c), int64(len(c)))
			if err != nil {
				continue
			}
			if err := a.Verify(context.Background()); !errors.Is(err, zim.ErrChecksum) {
				t.Errorf("%s byte %d flipped: Verify %v", name, i, err)
			}
		}
		t.Logf("%s: %d of %d damaged copies still walked", name, walked, len(b)/step)
	}
}

// TestConcurrentReads reads every entry from several goroutines at once.
func TestConcurrentReads(t *testing.T) {
	for _, name := range corpus(t, rayCharles) {
		t.Run(filepath.Base(name), func(t *testing.T) { concurrentReads(t, name) })
	}
}

func concurrentReads(t *testing.T, name string) {
	_, s := openSource(t, name)
	w := walk(t, s)
	a := s.Archive()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k, p := range w.order {
				if (k+g)%2 == 0 || w.entries[p].Redirect != "" {
					continue
				}
				zp := p
				if a.Header().NewNamespaces() {
					zp = "C/" + p
				}
				e, err := a.LookupPath(zp)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := a.ReadAll(e)
				if err != nil || !bytes.Equal(got, w.content[p]) {
					t.Errorf("%s: concurrent read differs: %v", p, err)
				}
			}
		}(g)
	}
	wg.Wait()
}

func TestWalkCancel(t *testing.T) {
	_, s := openSource(t, vecV5Old)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := s.Walk(ctx, func(source.Entry) error {
		n++
		if n == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 3 {
		t.Errorf("after cancel: %v, %d entries", err, n)
	}
}

// BenchmarkWalk opens a ZIM file (from the page cache) and reads every
// entry through Walk, as ferry pack does; MB/s counts content bytes.
func BenchmarkWalk(b *testing.B) {
	for _, name := range []string{rayCharles, booksNew, booksOld} {
		b.Run(filepath.Base(name), func(b *testing.B) {
			file := shared.Path(b, name)
			var total int64
			for i := 0; i < b.N; i++ {
				a, err := zim.OpenFile(file)
				if err != nil {
					b.Fatal(err)
				}
				s, err := zim.NewSource(a)
				if err != nil {
					b.Fatal(err)
				}
				total = 0
				err = s.Walk(context.Background(), func(e source.Entry) error {
					if e.Redirect != "" {
						return nil
					}
					rc, err := e.Open()
					if err != nil {
						return err
					}
					n, err := io.Copy(io.Discard, rc)
					total += n
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
			b.SetBytes(total)
		})
	}
}

// TestSplitFile: a ZIM cut into parts (name.zimaa, .zimab, ...) opens as
// one file, by its first part or by its .zim name.
func TestSplitFile(t *testing.T) {
	b := readFile(t, vecV5Old)
	_, whole := openSource(t, vecV5Old)
	want := len(walk(t, whole).entries)
	dir := t.TempDir()
	base := filepath.Join(dir, "ray.zim")
	for i, k := 0, 0; i < len(b); i, k = i+300, k+1 {
		part := base + string(rune('a'+k/26)) + string(rune('a'+k%26))
		if err := os.WriteFile(part, b[i:min(i+300, len(b))], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{base + "aa", base} {
		a, err := zim.OpenFile(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if a.Size() != int64(len(b)) {
			t.Errorf("%s: size %d, want %d", name, a.Size(), len(b))
		}
		if err := a.Verify(context.Background()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		s, err := zim.NewSource(a)
		if err != nil {
			t.Fatal(err)
		}
		if w := walk(t, s); len(w.entries) != want {
			t.Errorf("%s: %d entries", name, len(w.entries))
		}
		s.Close()
	}
}

// TestRedirectTitles: redirects to articles carry their own title (another
// name for the article); redirects to resources carry none.
func TestRedirectTitles(t *testing.T) {
	_, s := openSource(t, vecV5Old)
	w := walk(t, s)
	if e := w.entries["A/Main_Page.html"]; e.Redirect != "A/Home.html" || e.Title != "Main Page" {
		t.Errorf("A/Main_Page.html: %+v", e)
	}
	if e := w.entries["-/favicon"]; e.Redirect != "I/favicon.png" || e.Title != "" {
		t.Errorf("-/favicon: %+v", e)
	}
}
