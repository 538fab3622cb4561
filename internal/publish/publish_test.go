package publish

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/mmcdole/gofeed"

	"ferry/internal/archive"
	"ferry/internal/publish/config"
	"ferry/internal/publish/harvest"
	"ferry/internal/publish/index"
	"ferry/internal/publish/publishtest"
	"ferry/internal/store"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/shared"
)

// setup is a channel publishing a made-up site from a local origin into a
// folder store.
type setup struct {
	t      *testing.T
	dir    string
	origin *publishtest.Origin
	cfg    *config.Config
	store  string
}

func newSetup(t *testing.T, pages int, extra string) *setup {
	t.Helper()
	dir := t.TempDir()
	site, err := corpus.Site(corpus.Options{Pages: pages, Seed: 3, Pictures: true})
	if err != nil {
		t.Fatal(err)
	}
	o := publishtest.NewOrigin(t, site)
	_, k, _ := publishtest.Key(t, dir, "news")
	st := filepath.Join(dir, "store")
	path := publishtest.Config(t, dir, "ferry.toml", filepath.Join(dir, "state"), publishtest.Channel{
		Name: "news", Title: "소식", Key: k, Store: st, Extra: extra,
		Sources: []string{`site = "` + o.URL + `/"` + "\ndepth = 3"},
	})
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return &setup{t: t, dir: dir, origin: o, cfg: cfg, store: st}
}

func (s *setup) run(opts Options) *Result {
	s.t.Helper()
	res, err := Run(context.Background(), s.cfg, opts)
	if len(res) != 1 {
		s.t.Fatalf("Run: %d results, error %v", len(res), err)
	}
	return res[0]
}

func (s *setup) index() *index.Signed {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.store, "news", "index.json"))
	if err != nil {
		s.t.Fatal(err)
	}
	ix, err := index.Parse(b)
	if err != nil {
		s.t.Fatal(err)
	}
	return ix
}

// checkStore opens and verifies every archive the index names, checks the
// size and hash of every object, and that the store holds nothing else
// under the channel.
func checkStore(t *testing.T, st store.Store, channel string) *index.Signed {
	t.Helper()
	ctx := context.Background()
	rc, _, err := st.Get(ctx, index.IndexKey(channel))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	ix, err := index.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{index.IndexKey(channel): true}
	for _, o := range ix.Keys() {
		named[o.Key] = true
		rc, info, err := st.Get(ctx, o.Key)
		if err != nil {
			t.Fatalf("%s: %v", o.Key, err)
		}
		data, _ := io.ReadAll(rc)
		rc.Close()
		if info.Size != o.Size || int64(len(data)) != o.Size || sha(data) != o.SHA256 {
			t.Errorf("%s: size %d, %d bytes read, index says %d", o.Key, info.Size, len(data), o.Size)
		}
		if strings.HasSuffix(o.Key, ".ferry") {
			r, err := archive.Open(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatalf("%s: %v", o.Key, err)
			}
			if err := r.Verify(ctx, nil); err != nil {
				t.Errorf("%s: %v", o.Key, err)
			}
			if a, _ := ix.Find(r.ID()); a == nil || a.Key != o.Key {
				t.Errorf("%s: its id %.16s is not listed for it", o.Key, r.ID())
			}
		}
	}
	err = st.List(ctx, channel+"/", func(i store.Info) error {
		if !named[i.Key] {
			t.Errorf("%s is in the store but not in the index", i.Key)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

// TestPublishTwice publishes a site, publishes again with nothing changed
// (nothing is published), then edits the site and publishes edition 2 with
// a delta; every object verifies, the WARCs record every response and the
// catalogue lists the channel.
func TestPublishTwice(t *testing.T) {
	s := newSetup(t, 30, "")
	r1 := s.run(Options{})
	if r1.Err != nil {
		t.Fatal(r1.Err)
	}
	if !r1.Published || r1.Edition != 1 || r1.Delta != nil || r1.Harvest.Fetched < 30 || r1.WARCBytes == 0 {
		t.Fatalf("first run: %+v", r1)
	}
	st, err := store.NewFolder(s.store)
	if err != nil {
		t.Fatal(err)
	}
	ix := checkStore(t, st, "news")
	if ix.Latest != 1 || ix.Tip != ix.Editions[0].Full.ID || len(ix.Editions[0].WARC) != 1 {
		t.Fatalf("index after edition 1: %+v", ix.Index)
	}

	r2 := s.run(Options{})
	// robots.txt is read afresh each run; the pages are all 304s.
	if r2.Err != nil || r2.Published || !r2.Unchanged || r2.Harvest.Unchanged < 30 || r2.Harvest.Fetched > 1 {
		t.Fatalf("unchanged run: err %v, %+v, harvest %+v", r2.Err, r2, r2.Harvest)
	}
	if ix2 := s.index(); ix2.Sequence != ix.Sequence {
		t.Fatalf("the index changed on a run with nothing new: sequence %d → %d", ix.Sequence, ix2.Sequence)
	}

	site, _ := corpus.Site(corpus.Options{Pages: 30, Seed: 3, Pictures: true})
	next, changed, err := corpus.Edit(site, corpus.Options{Pages: 30, Seed: 3, Pictures: true}, 10, []int{5}, 2)
	if err != nil {
		t.Fatal(err)
	}
	// Edit leaves the index page as it was; link the new pages from it.
	idx := append([]byte{}, next["index.html"].Data...)
	next["index.html"] = &fstest.MapFile{Data: append(idx, `<a href="A/030.html">30</a><a href="A/031.html">31</a>`...)}
	s.origin.Set(next)
	dry := s.run(Options{DryRun: true})
	if dry.Err != nil || dry.Published || dry.Edition != 2 || dry.Delta == nil || dry.Delta.Added != 2 || dry.Delta.Removed != 1 {
		t.Fatalf("dry run: err %v %+v delta %+v", dry.Err, dry, dry.Delta)
	}
	if s.index().Latest != 1 {
		t.Fatal("a dry run published")
	}
	r3 := s.run(Options{})
	if r3.Err != nil || !r3.Published || r3.Edition != 2 || r3.Delta == nil {
		t.Fatalf("third run: %v %+v", r3.Err, r3)
	}
	// changed: three rewritten pages, one of them then removed, and the two
	// added; changed too are the index page and pages whose links to the
	// removed one became absolute.
	if r3.Delta.Added != 2 || r3.Delta.Removed != 1 || r3.Delta.Changed < len(changed)-2-1+1 {
		t.Errorf("delta: %+v, %d paths changed or added", r3.Delta, len(changed))
	}
	if r3.DeltaBytes*3 > r3.FullBytes {
		t.Errorf("delta is %d bytes, the full edition %d", r3.DeltaBytes, r3.FullBytes)
	}
	ix = checkStore(t, st, "news")
	e2 := ix.Edition(2)
	if ix.Latest != 2 || e2 == nil || e2.Delta == nil || e2.Delta.Base != ix.Editions[0].Full.ID || ix.Tip != e2.Delta.ID {
		t.Fatalf("index after edition 2: %+v", ix.Index)
	}
	// The WARCs of the unchanged run, the dry run and the real one all went
	// up with edition 2 (runs within one second get names of their own).
	if len(e2.WARC) != 3 {
		t.Errorf("edition 2 has %d WARCs, want 3 (unchanged run, dry run, run)", len(e2.WARC))
	}
	// The catalogue.
	b, err := os.ReadFile(filepath.Join(s.store, "channels.json"))
	if err != nil {
		t.Fatal(err)
	}
	list, err := index.ParseChannels(b)
	if err != nil || len(list.Channels) != 1 || list.Channels[0].Latest != 2 {
		t.Fatalf("channels.json: %v %+v", err, list)
	}
	feed, err := os.ReadFile(filepath.Join(s.store, "catalog.opds.xml"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := gofeed.NewParser().ParseString(string(feed))
	if err != nil || len(f.Items) != 1 || f.Items[0].Title != "소식" {
		t.Fatalf("catalog.opds.xml does not parse as a feed with the channel: %v", err)
	}
	// With Due, a weekly channel is not published again within the week.
	r4 := s.run(Options{Due: true})
	if r4.Err != nil || !r4.NotDue || r4.Harvest != nil || r4.NextDue.Before(e2.Created.Add(6*24*time.Hour)) {
		t.Fatalf("due run: %v %+v", r4.Err, r4)
	}
	r5 := s.run(Options{Due: true, Now: func() time.Time { return e2.Created.Add(7*24*time.Hour - time.Hour) }})
	if r5.Err != nil || r5.NotDue || !r5.Unchanged {
		t.Fatalf("due run a week later: %v %+v", r5.Err, r5)
	}
	// Only the chain of the tip is kept locally.
	ents, _ := os.ReadDir(filepath.Join(s.dir, "state", "news", "archives"))
	if len(ents) != 2 {
		t.Errorf("%d local archives, want the chain of edition 2 (full 1 + delta 2)", len(ents))
	}
}

// TestPublishRefusals: a budget the edition does not fit, a site that does
// not answer, a harvest with hostile pages (which fail alone), another
// channel's index under the name.
func TestPublishRefusals(t *testing.T) {
	t.Run("Budget", func(t *testing.T) {
		s := newSetup(t, 5, `budget = "1MB"`+"\n")
		site, _ := corpus.Site(corpus.Options{Pages: 5, Seed: 3})
		big := make([]byte, 1_500_000)
		rand.NewChaCha8([32]byte{1}).Read(big)
		site["img/big.png"] = &fstest.MapFile{Data: append([]byte("\x89PNG\r\n\x1a\n"), big...)}
		site["index.html"].Data = append(site["index.html"].Data, `<img src="img/big.png">`...)
		s.origin.Set(site)
		res := s.run(Options{})
		if !errors.Is(res.Err, ErrBudget) || !strings.Contains(res.Err.Error(), "budget of 1.0 MB") {
			t.Fatalf("error %v, want the budget", res.Err)
		}
		if _, err := os.Stat(filepath.Join(s.store, "news")); !os.IsNotExist(err) {
			t.Error("something was stored")
		}
	})
	t.Run("Unreachable", func(t *testing.T) {
		s := newSetup(t, 5, "")
		if r := s.run(Options{}); r.Err != nil {
			t.Fatal(r.Err)
		}
		s.origin.Close() // the site is gone for this run
		res := s.run(Options{})
		if !errors.Is(res.Err, ErrSourceEmpty) || !strings.Contains(res.Err.Error(), "run again") {
			t.Fatalf("error %v", res.Err)
		}
		if s.index().Latest != 1 {
			t.Fatal("an empty edition was published")
		}
	})
	t.Run("Hostile", func(t *testing.T) {
		s := newSetup(t, 5, "")
		site, _ := corpus.Site(corpus.Options{Pages: 5, Seed: 3})
		site["index.html"].Data = append(site["index.html"].Data, []byte(`<a href="/hostile/slow.html">s</a><a href="/hostile/huge.html">h</a>`+
			`<a href="/hostile/bomb.html">b</a><a href="/hostile/loop1">l</a><a href="/hostile/500.html">e</a><a href="/hostile/euckr.html">k</a>`)...)
		s.origin.Set(site)
		// Only the endless drip should reach the timeout, also on a busy machine.
		res := s.run(Options{Harvest: func(o *harvest.Options) { o.Timeout = 4 * time.Second }})
		if res.Err != nil {
			t.Fatal(res.Err)
		}
		bad := map[error]bool{}
		for _, e := range res.Harvest.Errors {
			for _, want := range []error{harvest.ErrTimeout, harvest.ErrTooLarge, harvest.ErrBomb, harvest.ErrRedirectLoop, harvest.ErrStatus} {
				if errors.Is(e, want) {
					bad[want] = true
				}
			}
		}
		if len(bad) != 5 {
			t.Errorf("failures seen: %v (%v)", bad, res.Harvest.Errors)
		}
		r, err := archive.OpenFile(filepath.Join(s.store, "news", "editions", "000001.ferry"))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, err := r.Cat(hostDir(s.origin.URL) + "/hostile/euckr.html")
		if err != nil || !strings.Contains(string(b), "대한민국") {
			t.Errorf("the EUC-KR page: %v %q", err, b)
		}
	})
	t.Run("ForeignIndex", func(t *testing.T) {
		s := newSetup(t, 5, "")
		if r := s.run(Options{}); r.Err != nil {
			t.Fatal(r.Err)
		}
		_, other, _ := publishtest.Key(t, s.dir, "other")
		s.cfg.Channels[0].Key = other
		res := s.run(Options{})
		if !errors.Is(res.Err, ErrForeignIndex) {
			t.Fatalf("error %v", res.Err)
		}
	})
}

// hostDir is the folder a harvest puts an origin's pages in.
func hostDir(u string) string {
	return strings.ReplaceAll(strings.TrimPrefix(u, "http://"), ":", "_")
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// TestPublishURLSource: a url source (a real EPUB served by the origin) is
// downloaded, opened as the book it is and packed under its own prefix
// beside the harvested site; a second run gets a 304 and the same book.
func TestPublishURLSource(t *testing.T) {
	epub := shared.Path(t, "epub/alice.epub")
	book, err := os.ReadFile(epub)
	if err != nil {
		t.Fatal(err)
	}
	s := newSetup(t, 5, "")
	site, _ := corpus.Site(corpus.Options{Pages: 5, Seed: 3})
	site["books/alice.epub"] = &fstest.MapFile{Data: book}
	s.origin.Set(site)
	s.cfg.Channels[0].Sources = append(s.cfg.Channels[0].Sources, config.Source{Kind: config.KindURL, Location: s.origin.URL + "/books/alice.epub", MaxSize: 10 << 20})
	r := s.run(Options{})
	if r.Err != nil {
		t.Fatal(r.Err)
	}
	a, err := archive.OpenFile(filepath.Join(s.store, "news", "editions", "000001.ferry"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var inBook, raw int
	for i := range a.NumEntries() {
		e, _ := a.EntryAt(i)
		switch {
		case strings.HasPrefix(e.Path, "alice/"):
			inBook++
		case strings.HasSuffix(e.Path, ".epub"):
			raw++
		}
	}
	if inBook < 5 || raw != 0 {
		t.Fatalf("%d entries under alice/, %d raw .epub files", inBook, raw)
	}
	r2 := s.run(Options{})
	if r2.Err != nil || !r2.Unchanged || s.origin.Hits("/books/alice.epub") != 2 {
		t.Fatalf("second run: %v %+v, %d requests for the book", r2.Err, r2, s.origin.Hits("/books/alice.epub"))
	}
}
