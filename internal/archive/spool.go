package archive

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"ferry/internal/scratch"
)

// spool is a temporary file the Writer appends to and reads back at any
// offset: the content of entries waiting to be grouped into clusters, and
// the sorted runs of entry metadata. It is unlinked as soon as it is made
// (on Unix), so nothing is left behind however the packer ends; elsewhere
// Close removes it.
type spool struct {
	f    *scratch.File
	w    *bufio.Writer
	size int64 // bytes appended
	dirt bool  // appended bytes not yet flushed
}

func newSpool(dir, pattern string) (*spool, error) {
	f, err := scratch.New(dir, pattern)
	if err != nil {
		return nil, fmt.Errorf("archive: temporary file: %w", err)
	}
	return &spool{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

func (s *spool) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	s.size += int64(n)
	s.dirt = true
	if err != nil {
		err = fmt.Errorf("archive: writing a temporary file: %w", err)
	}
	return n, err
}

func (s *spool) flush() error {
	if !s.dirt {
		return nil
	}
	s.dirt = false
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("archive: writing a temporary file: %w", err)
	}
	return nil
}

// seal flushes the spool and lets its write buffer go: for a sorted run,
// which is only read after it is written, so that many runs do not hold
// 256 KiB each. A sealed spool must not be written to.
func (s *spool) seal() error {
	err := s.flush()
	s.w = nil
	return err
}

func (s *spool) ReadAt(p []byte, off int64) (int, error) {
	if err := s.flush(); err != nil {
		return 0, err
	}
	return s.f.ReadAt(p, off)
}

// reader reads the spool from the start, after what was appended is
// flushed.
func (s *spool) reader() (*bufio.Reader, error) {
	if err := s.flush(); err != nil {
		return nil, err
	}
	return bufio.NewReaderSize(io.NewSectionReader(s.f, 0, s.size), 64<<10), nil
}

func (s *spool) Close() error {
	if s == nil || s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}

// sorter sorts byte records, compared with bytes.Compare, in bounded
// memory: records gather in memory up to budget bytes; past it they are
// sorted and written as a run to a spool; sorted merges the runs into one
// spool that can be read in order as many times as needed. The Writer
// sorts its entry metadata by path (and titles, and redirect targets)
// with it, so that packing a million entries does not hold a million
// paths in memory.
type sorter struct {
	dir    string
	budget int
	arena  []byte
	offs   []int // start of each record in arena
	runs   []*spool
	n      int64 // records added
}

func newSorter(dir string, budget int) *sorter {
	return &sorter{dir: dir, budget: budget}
}

func (s *sorter) add(rec []byte) error {
	s.offs = append(s.offs, len(s.arena))
	s.arena = binary.AppendUvarint(s.arena, uint64(len(rec)))
	s.arena = append(s.arena, rec...)
	s.n++
	if len(s.arena)+8*len(s.offs) >= s.budget {
		return s.spill()
	}
	return nil
}

// record returns the record at arena offset o.
func (s *sorter) record(o int) []byte {
	l, k := binary.Uvarint(s.arena[o:])
	return s.arena[o+k : o+k+int(l)]
}

func (s *sorter) sortMemory() {
	slices.SortStableFunc(s.offs, func(a, b int) int { return bytes.Compare(s.record(a), s.record(b)) })
}

// spill writes the records in memory as a sorted run.
func (s *sorter) spill() error {
	if len(s.offs) == 0 {
		return nil
	}
	s.sortMemory()
	sp, err := newSpool(s.dir, "ferry-sort-*.tmp")
	if err != nil {
		return err
	}
	s.runs = append(s.runs, sp)
	for _, o := range s.offs {
		l, k := binary.Uvarint(s.arena[o:])
		if _, err := sp.Write(s.arena[o : o+k+int(l)]); err != nil {
			return err
		}
	}
	s.arena, s.offs = s.arena[:0], s.offs[:0]
	return sp.seal()
}

// sorted returns the records in order. The sorter must not be added to
// afterwards; close releases its files.
func (s *sorter) sorted() (*sortedRecords, error) {
	if len(s.runs) == 0 {
		s.sortMemory()
		return &sortedRecords{mem: s}, nil
	}
	if err := s.spill(); err != nil {
		return nil, err
	}
	s.arena, s.offs = nil, nil
	if len(s.runs) == 1 {
		r := s.runs[0]
		s.runs = nil
		return &sortedRecords{file: r}, nil
	}
	out, err := newSpool(s.dir, "ferry-sort-*.tmp")
	if err != nil {
		return nil, err
	}
	h := &runHeap{}
	for _, r := range s.runs {
		rd, err := r.reader()
		if err != nil {
			return nil, err
		}
		c := &runCursor{r: rd}
		if err := c.next(); err != nil {
			return nil, err
		}
		if c.rec != nil {
			heap.Push(h, c)
		}
	}
	var lb [binary.MaxVarintLen64]byte
	for h.Len() > 0 {
		c := (*h)[0]
		if _, err := out.Write(lb[:binary.PutUvarint(lb[:], uint64(len(c.rec)))]); err != nil {
			return nil, err
		}
		if _, err := out.Write(c.rec); err != nil {
			return nil, err
		}
		if err := c.next(); err != nil {
			return nil, err
		}
		if c.rec == nil {
			heap.Pop(h)
		} else {
			heap.Fix(h, 0)
		}
	}
	for _, r := range s.runs {
		r.Close()
	}
	s.runs = nil
	return &sortedRecords{file: out}, nil
}

func (s *sorter) close() {
	for _, r := range s.runs {
		r.Close()
	}
	s.runs, s.arena, s.offs = nil, nil, nil
}

// runCursor reads the records of a run; rec is nil at its end.
type runCursor struct {
	r   *bufio.Reader
	rec []byte
	buf []byte
}

func (c *runCursor) next() error {
	l, err := binary.ReadUvarint(c.r)
	if err == io.EOF {
		c.rec = nil
		return nil
	}
	if err != nil {
		return fmt.Errorf("archive: reading a temporary file: %w", err)
	}
	if l > maxSortRecord {
		return errors.New("archive: temporary file damaged (record too long)")
	}
	if cap(c.buf) < int(l) {
		c.buf = make([]byte, l)
	}
	c.rec = c.buf[:l]
	if _, err := io.ReadFull(c.r, c.rec); err != nil {
		return fmt.Errorf("archive: reading a temporary file: %w", err)
	}
	return nil
}

// maxSortRecord bounds a metadata record: a path, a title and a redirect
// target with their lengths and the fixed fields.
const maxSortRecord = 3*(maxStringLen+binary.MaxVarintLen64) + 64

type runHeap []*runCursor

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return bytes.Compare(h[i].rec, h[j].rec) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runCursor)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// sortedRecords are a sorter's records in order, in memory or in one
// spool, read with each.
type sortedRecords struct {
	mem  *sorter
	file *spool
}

// each calls fn with every record in order; fn must not keep rec.
func (sr *sortedRecords) each(fn func(rec []byte) error) error {
	if sr.mem != nil {
		for _, o := range sr.mem.offs {
			if err := fn(sr.mem.record(o)); err != nil {
				return err
			}
		}
		return nil
	}
	rd, err := sr.file.reader()
	if err != nil {
		return err
	}
	c := &runCursor{r: rd}
	for {
		if err := c.next(); err != nil {
			return err
		}
		if c.rec == nil {
			return nil
		}
		if err := fn(c.rec); err != nil {
			return err
		}
	}
}

// iter returns a pull iterator over the records (for merge joins).
func (sr *sortedRecords) iter() (func() ([]byte, error), error) {
	if sr.mem != nil {
		i := 0
		return func() ([]byte, error) {
			if i >= len(sr.mem.offs) {
				return nil, nil
			}
			i++
			return sr.mem.record(sr.mem.offs[i-1]), nil
		}, nil
	}
	rd, err := sr.file.reader()
	if err != nil {
		return nil, err
	}
	c := &runCursor{r: rd}
	return func() ([]byte, error) {
		if err := c.next(); err != nil {
			return nil, err
		}
		return c.rec, nil
	}, nil
}

func (sr *sortedRecords) close() {
	if sr == nil {
		return
	}
	if sr.file != nil {
		sr.file.Close()
	}
	if sr.mem != nil {
		sr.mem.close()
	}
}
