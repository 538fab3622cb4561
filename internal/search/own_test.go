package search

import (
	"os"
	"sync"
	"testing"

	"ferry/internal/htmltext"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/shared"
)

var (
	sampleOnce, ownOnce sync.Once
	sampleData, ownData *docSet
	sampleErr, ownErr   error
)

// loadSample returns the built-in sample library's 30 pages as documents
// (path order) with the questions written by hand about them
// (corpus.Questions): a small KorQuAD of our own.
func loadSample(tb testing.TB) *docSet {
	tb.Helper()
	sampleOnce.Do(func() {
		pages, err := corpus.SamplePages()
		if err != nil {
			sampleErr = err
			return
		}
		k := &docSet{}
		at := map[string]int{}
		for i, p := range pages {
			at[p.Path] = i
			k.titles = append(k.titles, p.Title)
			k.bodies = append(k.bodies, p.Text)
			k.textBytes += len(p.Title) + len(p.Text)
		}
		for _, q := range corpus.Questions() {
			i, ok := at[q.Path]
			if !ok {
				sampleErr = os.ErrNotExist
				return
			}
			k.questions = append(k.questions, kqQuestion{q.Text, i})
		}
		sampleData = k
	})
	if sampleErr != nil {
		tb.Fatalf("sample pages: %v", sampleErr)
	}
	return sampleData
}

// ownPages is how many made-up pages loadOwn adds to the sample's.
const ownPages = 300

// loadOwn returns the sample pages followed by ownPages pages of a
// made-up site recombined from their sentences (corpus.Site; page i is
// document 30+i and alone holds corpus.Keyword(i)), for tests that need
// more documents than the sample has. Its questions are the hand-written
// ones (answered by the sample pages, though a made-up page holding the
// same sentences may rank first) and one keyword query per made-up page.
func loadOwn(tb testing.TB) *docSet {
	tb.Helper()
	s := loadSample(tb)
	ownOnce.Do(func() {
		site, err := corpus.Site(corpus.Options{Pages: ownPages, Seed: 21})
		if err != nil {
			ownErr = err
			return
		}
		k := &docSet{textBytes: s.textBytes}
		k.titles = append(k.titles, s.titles...)
		k.bodies = append(k.bodies, s.bodies...)
		k.questions = append(k.questions, s.questions...)
		for i := 0; i < ownPages; i++ {
			title, text := htmltext.Extract(site[corpus.PagePath(i)].Data)
			k.questions = append(k.questions, kqQuestion{corpus.Keyword(i), len(k.titles)})
			k.titles = append(k.titles, title)
			k.bodies = append(k.bodies, text)
			k.textBytes += len(title) + len(text)
		}
		ownData = k
	})
	if ownErr != nil {
		tb.Fatalf("made-up pages: %v", ownErr)
	}
	return ownData
}

// TestOwnHitRate asks every hand-written question of the index of the
// sample pages: the page that answers it must come first in most cases
// and in the top three in all but a few.
func TestOwnHitRate(t *testing.T) {
	k := loadSample(t)
	ix := openBytes(t, k.build(t))
	if ix.DocCount() != len(k.titles) {
		t.Fatalf("DocCount %d, want %d", ix.DocCount(), len(k.titles))
	}
	for _, q := range k.questions {
		res, err := ix.Search(q.q, 0, 3)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range res.Hits {
			got = append(got, k.titles[h.Doc])
		}
		if len(res.Hits) == 0 || int(res.Hits[0].Doc) != q.article {
			t.Logf("%q: want %q first, got %q", q.q, k.titles[q.article], got)
		}
	}
	top1, top3 := k.hitRates(t, ix)
	t.Logf("sample pages: %d documents, %d questions; top-1 %.3f, top-3 %.3f", len(k.titles), len(k.questions), top1, top3)
	// Measured top-1 0.895 (34 of 38), top-3 1.000; the thresholds sit a
	// little below.
	if top1 < 0.85 || top3 < 0.95 {
		t.Errorf("hit rate top-1 %.3f top-3 %.3f below thresholds 0.85/0.95", top1, top3)
	}
}

// TestRealFiles runs the search checks on other people's real text (the
// shared test data): the KorQuAD articles and questions, the UDHR
// translations and the Ray Charles article. The other tests run the same
// checks on our own pages.
func TestRealFiles(t *testing.T) {
	if st, err := os.Stat(shared.Root()); shared.Root() == "" || err != nil || !st.IsDir() {
		t.Skip("shared test data not found (../shared/testdata or FERRY_TESTDATA): search was not measured on real text (KorQuAD hit rate, UDHR stemming, Ray Charles); it was on our own pages")
	}
	t.Run("KorQuADHitRate", korquadHitRate)
	t.Run("KoreanQueriesKorQuAD", koreanQueriesKorQuAD)
	t.Run("EmptyAndGarbageKorQuAD", func(t *testing.T) { emptyAndGarbage(t, loadKorQuAD(t)) })
	t.Run("EnglishStemmingUDHR", englishStemmingUDHR)
	t.Run("SnippetKorQuAD", snippetKorQuAD)
	t.Run("SpillKorQuAD", func(t *testing.T) { spill(t, loadKorQuAD(t), 256<<10) })
	t.Run("CorruptKorQuAD", func(t *testing.T) { corruptIndex(t, loadKorQuAD(t)) })
	t.Run("ConcurrentKorQuAD", func(t *testing.T) { concurrent(t, loadKorQuAD(t)) })
	t.Run("SnippetFilterReal", func(t *testing.T) {
		var texts []string
		for _, name := range []string{"udhr/kor.html", "udhr/eng.html", "html/enwiki_raycharles/A/Ray_Charles"} {
			b, err := os.ReadFile(shared.Path(t, name))
			if err != nil {
				t.Fatal(err)
			}
			_, text := htmltext.Extract(b)
			texts = append(texts, text)
		}
		snippetFilter(t, texts)
	})
}
