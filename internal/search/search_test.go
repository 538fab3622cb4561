package search

import (
	"bytes"
	"errors"
	"math"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/shared"
	"golang.org/x/text/unicode/norm"
)

func openBytes(t testing.TB, idx []byte) *Index {
	t.Helper()
	ix, err := Open(bytes.NewReader(idx), int64(len(idx)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return ix
}

func TestTerms(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"금강산의 높이", []string{"금강", "강산", "높이"}},
		{"대통령이", []string{"대통", "통령"}},
		{"대통령", []string{"대통", "통령"}},
		{"산", []string{"산"}},
		{"회의", []string{"회의"}}, // two syllables: no particle is stripped
		{"Running RUNS run", []string{"run", "run", "run"}},
		{"1989년 2월", []string{"1989", "년", "2", "월"}},
		{"金剛山", []string{"金剛", "剛山"}},
		{"Москва МОСКВА", []string{"москва", "москва"}},
		{"ＡＢＣ", []string{"abc"}},
		{"don't", []string{"don't"}},
		{"", nil},
		{"!!! ... ---", nil},
	}
	for _, c := range cases {
		if got := Terms(c.in); !slices.Equal(got, c.want) {
			t.Errorf("Terms(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestTermsNFD(t *testing.T) {
	s := "대한민국의 헌법은 국민주권을 선언한다. Café crème"
	if a, b := Terms(norm.NFC.String(s)), Terms(norm.NFD.String(s)); !slices.Equal(a, b) {
		t.Fatalf("NFC %q != NFD %q", a, b)
	}
}

func TestTermLengthCap(t *testing.T) {
	for _, term := range Terms(strings.Repeat("가나다abc", 100) + " " + strings.Repeat("é", 100)) {
		if len(term) > MaxTermLen {
			t.Fatalf("term of %d bytes", len(term))
		}
	}
}

func TestStemEnglish(t *testing.T) {
	// Porter2 reference outputs from the published algorithm's word lists.
	cases := map[string]string{
		"running": "run", "runs": "run", "caresses": "caress", "ponies": "poni", "ties": "tie",
		"cats": "cat", "agreed": "agre", "hopping": "hop", "hoping": "hope", "sky": "sky",
		"generously": "generous", "happiness": "happi", "relational": "relat", "marry": "marri",
		"married": "marri", "education": "educ", "educated": "educ", "consign": "consign",
		"consigned": "consign", "consolation": "consol", "knightly": "knight", "news": "news",
		"a": "a", "is": "is", "rights": "right", "freedoms": "freedom", "nationality": "nation",
		"generalization": "general", "cries": "cri", "gas": "gas", "gaps": "gap",
	}
	for in, want := range cases {
		if got := string(stemEnglish([]byte(in))); got != want {
			t.Errorf("stem(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestKoreanQueries checks Korean queries with particles on the sample
// pages: the page a question is about comes first, the top hits of a
// word with a particle use the word, NFD queries equal NFC ones, and
// paging returns the tail of a longer page.
func TestKoreanQueries(t *testing.T) {
	k := loadSample(t)
	ix := openBytes(t, k.build(t))
	find := func(title string) int { return slices.Index(k.titles, title) }
	for _, c := range []struct{ q, title string }{
		{"기억카드를 숨기려면", "기억카드 간수하기"},
		{"라지오 방송을 록음하려면", "라지오 신호 들어 보기"},
		{"세계인권선언의 제19조", "정보를 찾고 받을 권리"},
		{"감추기 단추를 누르면", "감추기 단추"},
	} {
		res, err := ix.Search(c.q, 0, 3)
		if err != nil || len(res.Hits) == 0 {
			t.Fatalf("%s: %v %v", c.q, res, err)
		}
		if i := find(c.title); i < 0 {
			t.Fatalf("no page %q", c.title)
		} else if int(res.Hits[0].Doc) != i {
			t.Errorf("%s: first hit %q, want %q", c.q, k.titles[res.Hits[0].Doc], c.title)
		}
	}

	res, err := ix.Search("출판자가", 0, 3)
	if err != nil || len(res.Hits) < 3 {
		t.Fatalf("출판자가: %v %v", res, err)
	}
	// The top hits must be about publishers: their text uses 출판자 often.
	for _, h := range res.Hits {
		if n := strings.Count(k.bodies[h.Doc], "출판자"); n < 2 {
			t.Errorf("출판자가: hit %q mentions 출판자 only %d times", k.titles[h.Doc], n)
		}
	}
	nfcNFD(t, ix, []string{"기억카드를 숨기려면", "출판자가", "붉은별 조작체계는 무엇을 덧붙이나?"})

	// Paging: offset 2 limit 3 is the tail of the first 5.
	all, _ := ix.Search("서고", 0, 5)
	page, _ := ix.Search("서고", 2, 3)
	if len(all.Hits) != 5 || !slices.Equal(all.Hits[2:], page.Hits) {
		t.Errorf("paging: %v vs %v", all.Hits, page.Hits)
	}
}

// nfcNFD checks that NFD queries give the same hits as NFC ones.
func nfcNFD(t *testing.T, ix *Index, queries []string) {
	t.Helper()
	for _, q := range queries {
		a, err1 := ix.Search(norm.NFC.String(q), 0, 10)
		b, err2 := ix.Search(norm.NFD.String(q), 0, 10)
		if err1 != nil || err2 != nil || !slices.Equal(a.Hits, b.Hits) || len(a.Hits) == 0 {
			t.Errorf("%q: NFC %v (%v) vs NFD %v (%v)", q, a.Hits, err1, b.Hits, err2)
		}
	}
}

// koreanQueriesKorQuAD is TestKoreanQueries on the KorQuAD articles.
func koreanQueriesKorQuAD(t *testing.T) {
	k := loadKorQuAD(t)
	ix := openBytes(t, k.build(t))
	find := func(title string) int { return slices.Index(k.titles, title) }

	res, err := ix.Search("금강산의 높이", 0, 5)
	if err != nil || len(res.Hits) == 0 {
		t.Fatalf("금강산의 높이: %v %v", res, err)
	}
	if got := k.titles[res.Hits[0].Doc]; got != "금강산" {
		t.Errorf("금강산의 높이: first hit %q, want 금강산", got)
	}

	res, err = ix.Search("대통령이", 0, 3)
	if err != nil || len(res.Hits) == 0 {
		t.Fatalf("대통령이: %v %v", res, err)
	}
	// The top hits must be about presidents: their text uses 대통령 often.
	for _, h := range res.Hits {
		if n := strings.Count(k.bodies[h.Doc], "대통령"); n < 3 {
			t.Errorf("대통령이: hit %q mentions 대통령 only %d times", k.titles[h.Doc], n)
		}
	}
	if i := find("리처드 닉슨"); i < 0 {
		t.Log("no 리처드 닉슨 article")
	} else if res, _ := ix.Search("닉슨 대통령이", 0, 1); len(res.Hits) == 0 || int(res.Hits[0].Doc) != i {
		t.Errorf("닉슨 대통령이: want 리처드 닉슨 first, got %v", res.Hits)
	}
	nfcNFD(t, ix, []string{"금강산의 높이", "대통령이", "김정남은 어디에서 사망했나?"})

	// Paging: offset 2 limit 3 is the tail of the first 5.
	all, _ := ix.Search("대한민국 대통령", 0, 5)
	page, _ := ix.Search("대한민국 대통령", 2, 3)
	if len(all.Hits) != 5 || !slices.Equal(all.Hits[2:], page.Hits) {
		t.Errorf("paging: %v vs %v", all.Hits, page.Hits)
	}
}

// TestEmptyAndGarbageQueries searches our own pages for nothing, junk and
// huge queries: no error, no hit out of range, bad paging refused.
func TestEmptyAndGarbageQueries(t *testing.T) { emptyAndGarbage(t, loadOwn(t)) }

func emptyAndGarbage(t *testing.T, k *docSet) {
	ix := openBytes(t, k.build(t))
	for _, q := range []string{"", "   ", "!!!", "\x00\xff\xfe", strings.Repeat("가", 10000),
		strings.Repeat("a b c ", 5000), "zzzzqqqq", "\u0301\u0301", "🙂🙂"} {
		res, err := ix.Search(q, 0, 10)
		if err != nil {
			t.Errorf("Search(%.20q): %v", q, err)
		}
		for _, h := range res.Hits {
			if int(h.Doc) >= len(k.titles) {
				t.Errorf("Search(%.20q): hit %d out of range", q, h.Doc)
			}
		}
	}
	if _, err := ix.Search("금강산", -1, 10); err == nil {
		t.Error("negative offset accepted")
	}
	if _, err := ix.Search("금강산", 0, MaxResults+1); err == nil {
		t.Error("huge limit accepted")
	}
}

// udhrArticles extracts the articles of the English UDHR crudely.
func udhrArticles(t *testing.T) []string {
	raw, err := os.ReadFile(shared.Path(t, "udhr/eng.html"))
	if err != nil {
		t.Fatal(err)
	}
	tags := regexp.MustCompile(`<[^>]*>`)
	parts := strings.Split(string(raw), "<article")
	var out []string
	for _, p := range parts[1:] {
		out = append(out, tags.ReplaceAllString("<"+p, " "))
	}
	return out
}

// stemIndex indexes docs and one more document about running, and
// returns the index and that document's id.
func stemIndex(t *testing.T, docs []string) (*Index, uint32) {
	b := NewBuilder()
	for i, a := range docs {
		b.Add(uint32(i), "", a)
	}
	runDoc := uint32(len(docs))
	b.Add(runDoc, "Running", "She was running to the station when the train left.")
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return openBytes(t, buf.Bytes()), runDoc
}

// TestEnglishStemming searches the sample's English pages for word forms
// none of them holds: only stemming can find the page using another form
// of the word.
func TestEnglishStemming(t *testing.T) {
	pages, err := corpus.SamplePages()
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	for _, p := range pages {
		if p.Lang == "en" {
			docs = append(docs, p.Text)
		}
	}
	if len(docs) != 15 {
		t.Fatalf("%d English sample pages, want 15", len(docs))
	}
	ix, runDoc := stemIndex(t, docs)
	top := func(q string) (uint32, string) {
		res, err := ix.Search(q, 0, 1)
		if err != nil || len(res.Hits) == 0 {
			t.Fatalf("Search(%q): %v %v", q, res, err)
		}
		d := res.Hits[0].Doc
		if d == runDoc {
			return d, "running"
		}
		return d, docs[d]
	}
	if d, _ := top("runs"); d != runDoc {
		t.Errorf("runs: got doc %d, want the running document", d)
	}
	for _, c := range []struct{ query, form string }{
		{"punished", "punish"},    // rights: "nobody may punish them"
		{"LISTENS", "listening"},  // radio: "Listening to a radio signal"
		{"protected", "protects"}, // safety: "What ferry protects you from"
		{"carrying", "carr"},      // carry, carries, carried
	} {
		for _, d := range docs {
			if strings.Contains(strings.ToLower(d), strings.ToLower(c.query)) {
				t.Fatalf("%s is in a page: this case does not test stemming", c.query)
			}
		}
		if _, a := top(c.query); !strings.Contains(strings.ToLower(a), c.form) {
			t.Errorf("%s: top page does not say %s: %.80q", c.query, c.form, a)
		}
	}
}

// englishStemmingUDHR is TestEnglishStemming on the English UDHR.
func englishStemmingUDHR(t *testing.T) {
	arts := udhrArticles(t)
	if len(arts) < 30 {
		t.Fatalf("found %d UDHR articles", len(arts))
	}
	ix, runDoc := stemIndex(t, arts)
	top := func(q string) (uint32, string) {
		res, err := ix.Search(q, 0, 1)
		if err != nil || len(res.Hits) == 0 {
			t.Fatalf("Search(%q): %v %v", q, res, err)
		}
		d := res.Hits[0].Doc
		if d == runDoc {
			return d, "running"
		}
		return d, arts[d]
	}
	if d, _ := top("runs"); d != runDoc {
		t.Errorf("runs: got doc %d, want the running document", d)
	}
	if _, a := top("married"); !strings.Contains(a, "marry") {
		t.Errorf("married: top article does not say marry: %.80q", a)
	}
	if _, a := top("EDUCATED"); !strings.Contains(a, "education") {
		t.Errorf("EDUCATED: top article does not say education: %.80q", a)
	}
}

// TestSnippet cuts snippets from a sample page for a Korean query with
// particles, and from made-up English text.
func TestSnippet(t *testing.T) {
	k := loadSample(t)
	i := slices.Index(k.titles, "정보를 찾고 받을 권리")
	if i < 0 {
		t.Fatal("no rights page in the sample")
	}
	snippet(t, k.bodies[i], "국경을 넘어서 생각을")
	// 국경 first comes near the end of the page, once with each of two
	// particles: the window starts before it and marks both.
	var marked []string
	frags := Snippet(k.bodies[i], "국경을", 120)
	for _, f := range frags {
		if f.Match {
			marked = append(marked, f.Text)
		}
	}
	if !slices.Equal(marked, []string{"국경을", "국경은"}) || frags[0].Text != "… " {
		t.Errorf("국경을: marked %q in %+v", marked, frags)
	}
}

// snippetKorQuAD is TestSnippet on the KorQuAD article about 금강산.
func snippetKorQuAD(t *testing.T) {
	k := loadKorQuAD(t)
	i := slices.Index(k.titles, "금강산")
	if i < 0 {
		t.Fatal("no 금강산 article")
	}
	snippet(t, k.bodies[i], "금강산의 높이")
}

func snippet(t *testing.T, body, query string) {
	frags := Snippet(body, query, 120)
	var text strings.Builder
	matches := 0
	qterms := map[string]bool{}
	for _, qt := range Terms(query) {
		qterms[qt] = true
	}
	for _, f := range frags {
		text.WriteString(f.Text)
		if f.Match {
			matches++
			// Whole words are marked (with their particles), each sharing
			// an index term with the query.
			if !slices.ContainsFunc(Terms(f.Text), func(t string) bool { return qterms[t] }) {
				t.Errorf("odd match %q", f.Text)
			}
		}
	}
	if matches == 0 {
		t.Fatalf("no match marked: %+v", frags)
	}
	if n := len([]rune(text.String())); n > 124 {
		t.Errorf("snippet of %d runes", n)
	}
	t.Logf("snippet: %+v", frags)

	en := Snippet("The quick brown fox.\n\nIt was running   fast across the field, and it runs daily.", "run", 40)
	var hl []string
	for _, f := range en {
		if f.Match {
			hl = append(hl, f.Text)
		}
	}
	if !slices.Equal(hl, []string{"running", "runs"}) && !slices.Equal(hl, []string{"running"}) {
		t.Errorf("english snippet %+v", en)
	}
	for _, f := range en {
		if strings.Contains(f.Text, "  ") || strings.Contains(f.Text, "\n") {
			t.Errorf("white space not collapsed: %q", f.Text)
		}
	}
	if got := Snippet("no match here at all", "금강산", 8); len(got) == 0 || got[0].Match {
		t.Errorf("no-match snippet %+v", got)
	}
	if got := Snippet("", "x", 10); len(got) != 0 {
		t.Errorf("empty body snippet %+v", got)
	}
}

func TestDuplicateDoc(t *testing.T) {
	b := NewBuilder()
	b.Add(3, "a", "one")
	b.Add(3, "b", "two")
	if _, err := b.WriteTo(&bytes.Buffer{}); !errors.Is(err, ErrDuplicateDoc) {
		t.Fatalf("got %v, want ErrDuplicateDoc", err)
	}
	b = NewBuilder()
	b.Add(math.MaxUint32, "a", "one")
	if _, err := b.WriteTo(&bytes.Buffer{}); err == nil {
		t.Fatal("doc id MaxUint32 accepted")
	}
}

func TestEmptyIndex(t *testing.T) {
	var buf bytes.Buffer
	if _, err := NewBuilder().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	ix := openBytes(t, buf.Bytes())
	if res, err := ix.Search("금강산", 0, 10); err != nil || len(res.Hits) != 0 {
		t.Fatalf("empty index: %v %v", res, err)
	}
}

// TestLongPostings checks block skipping and MaxScore against a brute-force
// ranking over lists that span many blocks, with docs added out of order.
func TestLongPostings(t *testing.T) {
	b := NewBuilder()
	const n = 3000
	body := func(d int) string {
		var s []string
		if d%2 == 0 {
			s = append(s, "common")
		}
		if d%7 == 0 {
			s = append(s, "seven", "seven")
		}
		if d%97 == 0 {
			s = append(s, "rare")
		}
		for j := 0; j < d%13; j++ {
			s = append(s, "filler")
		}
		return strings.Join(s, " ")
	}
	for d := n - 1; d >= 0; d-- {
		b.Add(uint32(d*3), "", body(d)) // sparse ids
	}
	var buf bytes.Buffer
	if _, err := b.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	ix := openBytes(t, buf.Bytes())
	res, err := ix.Search("rare seven common", 0, 20)
	if err != nil {
		t.Fatal(err)
	}
	// Ranking every match (k large enough that MaxScore never prunes) must
	// give the same top 20 as the pruned search.
	full, err := ix.Search("rare seven common", 0, MaxResults)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Hits) != 20 || !slices.Equal(full.Hits[:20], res.Hits) {
		t.Fatalf("pruned top 20 %v\nfull top 20 %v", res.Hits, full.Hits[:20])
	}
	if res.Hits[0].Doc != 0 { // doc 0 holds all three terms and is shortest
		t.Errorf("top hit %d, want 0", res.Hits[0].Doc)
	}
	if !full.Exact || full.Total != len(full.Hits) {
		t.Errorf("full ranking: total %d exact %v hits %d", full.Total, full.Exact, len(full.Hits))
	}
	for i := 1; i < len(full.Hits); i++ {
		if full.Hits[i].Score > full.Hits[i-1].Score {
			t.Fatalf("hits not sorted at %d", i)
		}
	}
	all, err := ix.Search("common", 0, MaxResults)
	if err != nil {
		t.Fatal(err)
	}
	if all.Total != n/2 || len(all.Hits) != n/2 || !all.Exact {
		t.Errorf("common: total %d hits %d exact %v, want %d", all.Total, len(all.Hits), all.Exact, n/2)
	}
	for _, h := range all.Hits {
		if h.Doc%3 != 0 || (h.Doc/3)%2 != 0 {
			t.Fatalf("common: wrong doc %d", h.Doc)
		}
	}
}

// TestCorruptIndex flips bytes and truncates an index of our own pages:
// Open and Search must return errors or results, never panic.
func TestCorruptIndex(t *testing.T) { corruptIndex(t, loadOwn(t)) }

func corruptIndex(t *testing.T, k *docSet) {
	idx := k.build(t)
	queries := []string{k.questions[0].q, k.questions[len(k.questions)-1].q, "1948년", "the"}
	try := func(b []byte) {
		ix, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrVersion) {
				t.Fatalf("Open error not ErrCorrupt: %v", err)
			}
			return
		}
		for _, q := range queries {
			res, err := ix.Search(q, 0, 10)
			if err == nil {
				for _, h := range res.Hits {
					if h.Doc >= ix.h.normCount {
						t.Fatalf("hit %d beyond %d docs", h.Doc, ix.h.normCount)
					}
				}
			}
		}
	}
	step := len(idx)/300 + 1
	for off := 0; off < len(idx); off += step {
		b := bytes.Clone(idx)
		b[off] ^= 0x5a
		try(b)
	}
	for off := len(idx) - headerLen; off < len(idx); off++ { // every trailer byte
		b := bytes.Clone(idx)
		b[off] ^= 0xff
		try(b)
	}
	for n := 0; n < len(idx); n += step {
		try(idx[:n])
	}
	if _, err := Open(bytes.NewReader(idx[:10]), 10); !errors.Is(err, ErrCorrupt) {
		t.Errorf("short index: %v", err)
	}
}

// TestConcurrentSearch runs searches from several goroutines on one Index
// (sharing its dictionary cache) and compares with serial results.
func TestConcurrentSearch(t *testing.T) { concurrent(t, loadOwn(t)) }

func concurrent(t *testing.T, k *docSet) {
	ix := openBytes(t, k.build(t))
	qs := k.questions[:min(len(k.questions), 300)]
	want := make([][]Hit, len(qs))
	for i, q := range qs {
		res, err := ix.Search(q.q, 0, 5)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = res.Hits
	}
	ix2 := openBytes(t, k.build(t))
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < len(qs); i += 2 {
				res, err := ix2.Search(qs[i].q, 0, 5)
				if err != nil || !slices.Equal(res.Hits, want[i]) {
					t.Errorf("%q: %v %v, want %v", qs[i].q, res.Hits, err, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}
