package budget

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestNeverOver: many goroutines taking shares never hold more than the
// budget together, and a request larger than the budget still runs.
func TestNeverOver(t *testing.T) {
	b := New(100)
	var held, peak atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func(n int64) {
			defer wg.Done()
			got := b.Acquire(n)
			h := held.Add(got)
			for {
				p := peak.Load()
				if h <= p || peak.CompareAndSwap(p, h) {
					break
				}
			}
			held.Add(-got)
			b.Release(got)
		}(int64(i%7*30 + 10))
	}
	wg.Wait()
	if p := peak.Load(); p > 100 {
		t.Fatalf("%d bytes held at once, budget 100", p)
	}
	if b.free != 100 {
		t.Fatalf("%d bytes free after all returned", b.free)
	}
}

// TestSetLimit: shrinking the budget while bytes are out makes later
// requests wait for them; growing it lets them through.
func TestSetLimit(t *testing.T) {
	b := New(100)
	got := b.Acquire(80)
	b.SetLimit(50)
	done := make(chan int64)
	go func() { done <- b.Acquire(40) }()
	select {
	case <-done:
		t.Fatal("40 bytes taken with 80 of a 50-byte budget out")
	case <-time.After(50 * time.Millisecond):
	}
	b.Release(got)
	if n := <-done; n != 40 {
		t.Fatalf("took %d, want 40", n)
	}
	if b.Limit() != 50 {
		t.Fatalf("limit %d, want 50", b.Limit())
	}
}
