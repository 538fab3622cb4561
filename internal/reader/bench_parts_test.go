package reader

import (
	"net/url"
	"runtime"
	"slices"
	"testing"
	"time"

	"ferry/internal/archive"
	"ferry/internal/glossary"
	"ferry/internal/testkit/cpuclock"
	"ferry/internal/testkit/korquad"
)

// BenchmarkFirstViewParts splits what a first view with word notes adds
// (BenchmarkFirstView) into its steps, per KorQuAD article, each timed by
// the thread's CPU clock (ns per article: the median and the least over
// the rounds of each round's time for all 140, divided by 140): reading
// the page (ReadAll, as with notes off; readPooled, as with stored
// marks), neutralize and scanHead (both modes), the stored marks (lookup, record read and checked: marks;
// the record alone: parse), the marked page's length, writing it into a
// new buffer of that length (alloc+apply) or into one kept (apply), and
// moving the layout (markedLayout).
// Run: go test ./internal/reader -run '^$' -bench FirstViewParts -benchtime 40x
func BenchmarkFirstViewParts(b *testing.B) {
	srv := benchServer(b)
	h := srv.Config.Handler.(*Handler)
	l := h.lookupLib("korquad")
	set := korquad.Load(b)
	var es []archive.Entry
	for _, a := range set.Articles {
		p, _ := url.PathUnescape((&url.URL{Path: korquad.Path(a.Title)}).EscapedPath())
		e, err := l.Edition.Lookup(p)
		if err != nil {
			b.Fatal(err)
		}
		es = append(es, e)
	}
	g := glossary.Default()
	t := h.marksTable(l)
	var pages [][]byte
	var marks []glossary.Marks
	for _, e := range es {
		p, _ := l.Edition.ReadAll(e)
		neutralize(p, false)
		pages = append(pages, p)
		m, ok, err := t.Marks(e, p)
		if !ok || err != nil {
			b.Fatal(err)
		}
		marks = append(marks, m)
	}
	per := func(b *testing.B, fn func(i int)) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		var ds []time.Duration
		for range b.N {
			c0 := cpuclock.Thread()
			for i := range es {
				fn(i)
			}
			ds = append(ds, cpuclock.Thread()-c0)
		}
		slices.Sort(ds)
		b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/float64(len(es)), "cpu-ns/page")
		b.ReportMetric(float64(ds[0].Nanoseconds())/float64(len(es)), "min-cpu-ns/page")
	}
	b.Run("readall", func(b *testing.B) { per(b, func(i int) { l.Edition.ReadAll(es[i]) }) })
	b.Run("readpooled", func(b *testing.B) {
		per(b, func(i int) { p, _ := readPooled(l.Edition, es[i]); putPooled(p) })
	})
	b.Run("neutralize", func(b *testing.B) { per(b, func(i int) { neutralize(pages[i], false) }) })
	b.Run("scanhead", func(b *testing.B) { per(b, func(i int) { scanHead(pages[i]) }) })
	b.Run("marks", func(b *testing.B) { per(b, func(i int) { t.Marks(es[i], pages[i]) }) })
	recs := make([][]byte, len(es))
	for i := range es {
		recs[i], _ = t.Record(es[i], pages[i])
	}
	b.Run("parse", func(b *testing.B) { per(b, func(i int) { g.ParsePageMarks(recs[i], pages[i]) }) })
	b.Run("markedlen", func(b *testing.B) { per(b, func(i int) { g.MarkedLen(pages[i], marks[i], glossOpts) }) })
	b.Run("alloc+apply", func(b *testing.B) {
		per(b, func(i int) {
			g.AppendMarked(make([]byte, 0, g.MarkedLen(pages[i], marks[i], glossOpts)), pages[i], marks[i], glossOpts)
		})
	})
	dst := make([]byte, 0, 1<<20)
	b.Run("apply", func(b *testing.B) {
		per(b, func(i int) { dst, _ = g.AppendMarked(dst[:0], pages[i], marks[i], glossOpts) })
	})
	b.Run("layout", func(b *testing.B) {
		lays := make([]layout, len(es))
		for i := range es {
			lays[i] = scanHead(pages[i])
		}
		per(b, func(i int) { markedLayout(g, marks[i], lays[i], len(pages[i])+5000) })
	})
}
