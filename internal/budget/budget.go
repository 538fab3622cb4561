// Package budget bounds the memory that concurrent work holds at once: a
// counting semaphore of bytes. Decoding a cluster, shrinking a picture —
// work whose memory follows what an input claims — takes its share first
// and gives it back after, so many requests or workers together never
// hold more than the budget, whatever the inputs say.
package budget

import "sync"

// Budget is a number of bytes shared by goroutines.
type Budget struct {
	mu    sync.Mutex
	cond  *sync.Cond
	free  int64
	limit int64
}

// New returns a budget of n bytes.
func New(n int64) *Budget {
	b := &Budget{free: n, limit: n}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// Acquire waits until n bytes are free, takes them and returns what it
// took, to give back with Release. A request larger than the whole budget
// takes all of it (one such job at a time).
func (b *Budget) Acquire(n int64) int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	n = max(0, min(n, b.limit))
	for b.free < n {
		b.cond.Wait()
	}
	b.free -= n
	return n
}

// Release gives back n bytes that Acquire returned.
func (b *Budget) Release(n int64) {
	b.mu.Lock()
	b.free += n
	b.mu.Unlock()
	b.cond.Broadcast()
}

// SetLimit changes the size of the budget; bytes already taken stay
// taken and count against the new size.
func (b *Budget) SetLimit(n int64) {
	b.mu.Lock()
	b.free += n - b.limit
	b.limit = n
	b.mu.Unlock()
	b.cond.Broadcast()
}

// Limit returns the size of the budget.
func (b *Budget) Limit() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.limit
}
