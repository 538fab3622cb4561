package publish

import (
	"context"
	"path/filepath"
	"sort"
	"testing"

	"ferry/internal/testkit/corpus"
)

// TestPublishReplay: with the origin gone, a publish from the WARCs the
// store keeps with editions 1 and 2 rebuilds edition 2 exactly (nothing
// would change, nothing is written); from edition 1's WARCs alone it
// rebuilds edition 1, which differs from edition 2.
func TestPublishReplay(t *testing.T) {
	s := newSetup(t, 12, "")
	if r := s.run(Options{}); r.Err != nil || !r.Published {
		t.Fatalf("edition 1: %v", r.Err)
	}
	if r := s.run(Options{}); r.Err != nil || !r.Unchanged {
		t.Fatalf("unchanged run: %v %+v", r.Err, r)
	}
	site, _ := corpus.Site(corpus.Options{Pages: 12, Seed: 3, Pictures: true})
	next, _, err := corpus.Edit(site, corpus.Options{Pages: 12, Seed: 3, Pictures: true}, 3, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.origin.Set(next)
	if r := s.run(Options{}); r.Err != nil || !r.Published || r.Edition != 2 {
		t.Fatalf("edition 2: %v %+v", r.Err, r)
	}
	s.origin.Close()
	seq := s.index().Sequence

	warcs := func(editions ...string) []string {
		var all []string
		for _, e := range editions {
			m, _ := filepath.Glob(filepath.Join(s.store, "news", "warc", e, "*.warc.gz"))
			sort.Strings(m)
			all = append(all, m...)
		}
		return all
	}
	both := warcs("000001", "000002")
	if len(both) != 3 {
		t.Fatalf("%d WARCs in the store, want 3 (edition 1's, the unchanged run's and edition 2's)", len(both))
	}
	res := s.run(Options{Replay: both})
	if res.Err != nil || !res.Unchanged || res.Previous != 2 || res.Published || res.Harvest.Fetched == 0 {
		t.Fatalf("replay of both editions' WARCs: %v %+v", res.Err, res)
	}
	res = s.run(Options{Replay: warcs("000001")})
	if res.Err != nil || res.Unchanged || res.Published || !res.DryRun || res.Delta == nil || res.Delta.Changed == 0 {
		t.Fatalf("replay of edition 1's WARCs: %v %+v", res.Err, res)
	}
	if ix := s.index(); ix.Sequence != seq || ix.Latest != 2 {
		t.Fatalf("a replay changed the index: sequence %d → %d", seq, ix.Sequence)
	}
	if _, err := Run(context.Background(), s.cfg, Options{Replay: []string{filepath.Join(s.dir, "none.warc.gz")}}); err == nil {
		t.Fatal("a missing WARC was replayed")
	}
}
