package reader

import (
	"io"
	"sync"

	"ferry/internal/archive"
	"ferry/internal/glossary"
)

// Word notes: the glossary marks South Korean loanwords of a Korean page
// with their plain explanations (package glossary; docs/glossary.md).
// Finding the words is the costly part: an archive packed as Korean keeps
// where they are in every page (glossary.MarksPath, found when it was
// packed), and what was found here is kept (markCache), so a page is
// tokenized only when its archive has no marks for it, and then once.

// glossOpts are the options of every marking, find and apply alike.
var glossOpts = glossary.Options{NKLabel: "조선말", NoList: true}

// gloss returns page b (entry e of l) with its glossed words marked, and
// the layout of what it returns, given lay, the layout of b.
func (h *Handler) gloss(l *lib, e archive.Entry, b []byte, lay layout) ([]byte, layout) {
	g := glossary.Default()
	k := textKey{l, e.Index}
	m, ok := h.marks.get(k)
	if !ok {
		if m, ok = h.storedMarks(l, e, b); !ok {
			m = g.FindMarks(b, glossOpts)
		}
		h.marks.put(k, m)
	}
	if len(m.Words) == 0 {
		return b, lay // nothing to mark: the page as it is, no copy
	}
	out, err := g.AppendMarked(make([]byte, 0, g.MarkedLen(b, m, glossOpts)), b, m, glossOpts)
	if err != nil {
		// Marks kept for other bytes (cannot happen for a verified
		// entry, but never show a page marked wrong).
		m = g.FindMarks(b, glossOpts)
		h.marks.put(k, m)
		if out, err = g.AppendMarked(out[:0], b, m, glossOpts); err != nil {
			return b, lay
		}
	}
	if lay, ok := markedLayout(g, m, lay, len(out)); ok {
		return out, lay
	}
	return out, scanHead(out)
}

// markedLayout is the layout of a page marked with m, whose own layout is
// lay: the same places moved past the markup inserted before them. That
// is what scanHead finds in the marked page when all the markup goes
// where it stops reading or later, but for the style before </head>
// (which is a style sheet the bar's own goes before, as scanHead would
// place it); in any other case it reports false and the marked page must
// be scanned.
func markedLayout(g *glossary.Glossary, m glossary.Marks, lay layout, size int) (layout, bool) {
	// Marks are in page order, the list (if any) after them.
	if size > maxHeadScan || int(m.Words[0].Start) <= lay.stop ||
		!glossOpts.NoStyle && m.HeadAt >= 0 && m.HeadAt <= lay.stop && m.HeadAt < lay.headAt {
		return layout{}, false
	}
	lay.headAt = g.MarkedOffset(m, glossOpts, lay.headAt)
	lay.bodyAt = g.MarkedOffset(m, glossOpts, lay.bodyAt)
	lay.stop = g.MarkedOffset(m, glossOpts, lay.stop)
	return lay, true
}

// storedMarks returns the marks l's archive keeps for page b (entry e),
// checked against b; false when it keeps none (or none that fit).
func (h *Handler) storedMarks(l *lib, e archive.Entry, b []byte) (glossary.Marks, bool) {
	t := h.marksTable(l)
	if t == nil {
		return glossary.Marks{}, false
	}
	m, ok, err := t.Marks(e, b)
	return m, ok && err == nil
}

// marksTable returns the marks l's archive keeps, nil if none are used.
func (h *Handler) marksTable(l *lib) *glossary.EditionMarks {
	if h.marks.noStored {
		return nil
	}
	l.marksOnce.Do(func() {
		// A table of another glossary version, or a damaged one, is not
		// used: pages are marked as without it.
		// In a chain, each archive keeps the marks of its own pages.
		l.marksTable, _ = glossary.Default().EditionMarks(l.Edition)
	})
	return l.marksTable
}

// pooledPages holds buffers of pages read for glossing (readPooled).
var pooledPages sync.Pool

// maxPooledPage is the largest buffer kept in pooledPages.
const maxPooledPage = 1 << 20

// readPooled reads entry e of c, verified as ReadAll reads it, into a
// buffer from pooledPages, to be given back with putPooled once nothing
// refers to it.
func readPooled(c archive.Contents, e archive.Entry) ([]byte, error) {
	sr, err := c.Open(e)
	if err != nil {
		return nil, err
	}
	n := sr.Size()
	var b []byte
	if p, ok := pooledPages.Get().(*[]byte); ok && int64(cap(*p)) >= n {
		b = (*p)[:n]
	} else {
		b = make([]byte, n, max(n, 64<<10))
	}
	if k, err := sr.ReadAt(b, 0); err != nil && !(err == io.EOF && int64(k) == n) {
		putPooled(b)
		return nil, err
	}
	return b, nil
}

func putPooled(b []byte) {
	if cap(b) <= maxPooledPage {
		pooledPages.Put(&b)
	}
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
	m     map[textKey]glossedPage
	order []textKey
	bytes int
	max   int
	off   bool // for benchmarks: nothing is kept or found
}

// glossedPage is a kept page and its layout.
type glossedPage struct {
	b   []byte
	lay layout
}

const (
	glossedBytes   = 4 << 20
	maxGlossedPage = 512 << 10
)

func (c *glossedPages) get(k textKey) ([]byte, layout, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off {
		return nil, layout{}, false
	}
	p, ok := c.m[k]
	return p.b, p.lay, ok
}

func (c *glossedPages) put(k textKey, b []byte, lay layout) {
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
		c.m = map[textKey]glossedPage{}
	}
	if old, ok := c.m[k]; ok {
		c.bytes -= len(old.b)
	} else {
		c.order = append(c.order, k)
	}
	c.m[k] = glossedPage{b, lay}
	c.bytes += len(b)
	for c.bytes > limit && len(c.order) > 1 {
		old := c.order[0]
		c.order = c.order[1:]
		c.bytes -= len(c.m[old].b)
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
	// noStored ignores the marks archives keep (for benchmarks).
	noStored bool
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
