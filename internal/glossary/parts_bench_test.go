//go:build unix

package glossary

import (
	"bytes"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkStoredParts splits the cost of applying stored marks into its
// steps, per page of the real Korean pages: finding the record in the
// table, reading and checking it against the page, the text scan alone
// (checkInText), and writing the marked page without and with the list.
func BenchmarkStoredParts(b *testing.B) {
	g := Default()
	_, pages := realPages(b)
	tab := g.NewMarksTable()
	var marks []Marks
	for i, p := range pages {
		m := g.FindMarks(p, Options{})
		rec, ok := g.AppendPageMarks(nil, p, m)
		if !ok {
			b.Fatalf("page %d: marks not storable", i)
		}
		tab.Add(strconv.Itoa(i), rec)
		marks = append(marks, m)
	}
	t := tab.Bytes()
	s, err := g.OpenStoredMarks(bytes.NewReader(t), int64(len(t)))
	if err != nil {
		b.Fatal(err)
	}
	recs := make([][]byte, len(pages))
	var buf []byte
	for i := range pages {
		rec, _, _ := s.record(PathHash(strconv.Itoa(i)), &buf)
		recs[i] = slices.Clone(rec)
	}
	// per reports the median over rounds of the thread's CPU time per page
	// (wall time on a loaded machine is mostly other processes).
	per := func(b *testing.B, fn func(i int, p []byte)) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		b.ReportAllocs()
		var ds []time.Duration
		for range b.N {
			c0 := threadCPU()
			for i, p := range pages {
				fn(i, p)
			}
			ds = append(ds, threadCPU()-c0)
		}
		slices.Sort(ds)
		b.ReportMetric(float64(ds[len(ds)/2].Nanoseconds())/float64(len(pages)), "cpu-ns/page")
		// The fastest round: what is left when other programs disturb
		// least (for comparing two versions on a busy machine).
		b.ReportMetric(float64(ds[0].Nanoseconds())/float64(len(pages)), "min-cpu-ns/page")
	}
	b.Run("lookup", func(b *testing.B) {
		per(b, func(i int, _ []byte) { s.record(PathHash(strconv.Itoa(i)), &buf) })
	})
	b.Run("parse", func(b *testing.B) {
		per(b, func(i int, p []byte) { g.ParsePageMarks(recs[i], p) })
	})
	b.Run("intext", func(b *testing.B) {
		per(b, func(i int, p []byte) { checkInText(p, marks[i]) })
	})
	dst := make([]byte, 0, 1<<20)
	b.Run("apply-nolist", func(b *testing.B) {
		per(b, func(i int, p []byte) { dst, _ = g.AppendMarked(dst[:0], p, marks[i], Options{NoList: true}) })
	})
	b.Run("apply", func(b *testing.B) {
		per(b, func(i int, p []byte) { dst, _ = g.AppendMarked(dst[:0], p, marks[i], Options{}) })
	})
	b.Run("copy", func(b *testing.B) {
		per(b, func(i int, p []byte) { dst = append(dst[:0], p...) })
	})
}

// threadCPU is the calling thread's CPU time (CLOCK_THREAD_CPUTIME_ID).
func threadCPU() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
