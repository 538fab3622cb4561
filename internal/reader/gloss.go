package reader

import (
	"sync"

	"ferry/internal/archive"
	"ferry/internal/glossary"
)

// Word notes: the glossary marks South Korean loanwords of a Korean page
// with their plain explanations (package glossary; docs/glossary.md).
// Finding the words is the costly part, so where they are in a page is
// kept (markCache) and only applied on the next view of the same page.

// glossOpts are the options of every marking, find and apply alike.
var glossOpts = glossary.Options{NKLabel: "조선말"}

// gloss returns page b (entry e of l) with its glossed words marked.
func (h *Handler) gloss(l *lib, e archive.Entry, b []byte) []byte {
	g := glossary.Default()
	k := textKey{l, e.Index}
	m, ok := h.marks.get(k)
	if !ok {
		m = g.FindMarks(b, glossOpts)
		h.marks.put(k, m)
	}
	out, err := g.AppendMarked(make([]byte, 0, len(b)+len(b)/8+1024), b, m, glossOpts)
	if err != nil {
		// Marks kept for other bytes (cannot happen for a verified
		// entry, but never show a page marked wrong).
		m = g.FindMarks(b, glossOpts)
		h.marks.put(k, m)
		if out, err = g.AppendMarked(out[:0], b, m, glossOpts); err != nil {
			return b
		}
	}
	return out
}

// glossedPages keeps whole pages as glossing made them (marked, then made
// inert by neutralize), so that a page seen again, which with no-store is
// every Back and every return to it, costs no more with word notes than
// without: only the bar is added per request. It holds at most max bytes
// (glossedBytes unless Options.MemoryLimit says less), pages of at most
// maxGlossedPage; the oldest go first. Entries are never changed once
// kept: requests write them out as they are.
type glossedPages struct {
	mu    sync.Mutex
	m     map[textKey][]byte
	order []textKey
	bytes int
	max   int
	off   bool // for benchmarks
}

const (
	glossedBytes   = 4 << 20
	maxGlossedPage = 512 << 10
)

func (c *glossedPages) get(k textKey) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, ok := c.m[k]
	return b, ok
}

func (c *glossedPages) put(k textKey, b []byte) {
	limit := c.max
	if limit <= 0 {
		limit = glossedBytes
	}
	if len(b) > maxGlossedPage || len(b) > limit {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off {
		return
	}
	if c.m == nil {
		c.m = map[textKey][]byte{}
	}
	if old, ok := c.m[k]; ok {
		c.bytes -= len(old)
	} else {
		c.order = append(c.order, k)
	}
	c.m[k] = b
	c.bytes += len(b)
	for c.bytes > limit && len(c.order) > 1 {
		old := c.order[0]
		c.order = c.order[1:]
		c.bytes -= len(c.m[old])
		delete(c.m, old)
	}
}

// markCache keeps the marks of recently viewed pages, up to max marked
// words in all (12 bytes each; markCacheWords unless Options.MemoryLimit
// says less).
type markCache struct {
	mu    sync.Mutex
	m     map[textKey]glossary.Marks
	order []textKey
	words int
	max   int
	off   bool // for benchmarks: find every time
}

const markCacheWords = 200_000

func (c *markCache) get(k textKey) (glossary.Marks, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.m[k]
	return m, ok
}

func (c *markCache) put(k textKey, m glossary.Marks) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off {
		return
	}
	if c.m == nil {
		c.m = map[textKey]glossary.Marks{}
	}
	if old, ok := c.m[k]; ok {
		c.words -= len(old.Words)
	} else {
		c.order = append(c.order, k)
	}
	c.m[k] = m
	c.words += len(m.Words) + 1
	limit := c.max
	if limit <= 0 {
		limit = markCacheWords
	}
	for c.words > limit && len(c.order) > 1 {
		old := c.order[0]
		c.order = c.order[1:]
		c.words -= len(c.m[old].Words) + 1
		delete(c.m, old)
	}
}
