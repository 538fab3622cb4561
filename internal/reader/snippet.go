package reader

import (
	"bytes"
	"html/template"
	"strings"
	"sync"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/search"
)

// A search result's snippet is cut by package search from the page's text
// as it is extracted (see search.Text); what was read is kept (heldTexts)
// for the next page of results or a repeated search.

// snippetHTML writes a snippet as HTML, query words in <mark>.
func snippetHTML(frags []search.Fragment) template.HTML {
	var b strings.Builder
	for _, f := range frags {
		if f.Match {
			b.WriteString("<mark>")
			template.HTMLEscape(&b, []byte(f.Text))
			b.WriteString("</mark>")
		} else {
			template.HTMLEscape(&b, []byte(f.Text))
		}
	}
	return template.HTML(b.String())
}

// heldTexts keeps the text that snippets of recent results have read, so a
// page shown again (the next page of results, a repeated search) is not
// read and parsed again. It holds at most max bytes (heldTextBytes unless
// Options.MemoryLimit says less); a page whose
// snippet needed more than maxHeldText is not kept.
type heldTexts struct {
	mu    sync.Mutex
	m     map[textKey]heldText
	order []textKey
	bytes int
	max   int
}

type textKey struct {
	lib   *lib
	index int
}

type heldText struct {
	buf  []byte
	done bool
}

const (
	heldTextBytes = 4 << 20
	maxHeldText   = 128 << 10
)

// snippet cuts the snippet of entry e of l (see snippet).
func (c *heldTexts) snippet(l *lib, e archive.Entry, m *search.Matcher, max int) []search.Fragment {
	k := textKey{l, e.Index}
	c.mu.Lock()
	t := c.m[k]
	c.mu.Unlock()
	s := search.NewText(edition.PageText(l.Edition, e), e.Title, t.buf, t.done)
	defer s.Close()
	frags := s.Snippet(m, max)
	buf, done := s.Held()
	if s.Err() == nil && len(buf) <= maxHeldText && (len(buf) > len(t.buf) || done && !t.done) {
		c.put(k, heldText{bytes.Clone(buf), done})
	}
	return frags
}

func (c *heldTexts) put(k textKey, t heldText) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[textKey]heldText{}
	}
	if old, ok := c.m[k]; ok {
		if len(old.buf) >= len(t.buf) && (old.done || !t.done) {
			return // another request kept as much
		}
		c.bytes -= len(old.buf)
	} else {
		c.order = append(c.order, k)
	}
	c.m[k] = t
	c.bytes += len(t.buf)
	limit := c.max
	if limit <= 0 {
		limit = heldTextBytes
	}
	for c.bytes > limit && len(c.order) > 1 {
		old := c.order[0]
		c.order = c.order[1:]
		c.bytes -= len(c.m[old].buf)
		delete(c.m, old)
	}
}
