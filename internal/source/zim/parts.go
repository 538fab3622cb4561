package zim

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
)

// openParts opens name, or the parts of a split ZIM, as one ReaderAt.
func openParts(name string) (io.ReaderAt, int64, io.Closer, error) {
	base, split := strings.CutSuffix(name, "aa")
	if !split {
		if _, err := os.Stat(name); errors.Is(err, fs.ErrNotExist) {
			if _, err2 := os.Stat(name + "aa"); err2 == nil {
				base, split = name, true
			}
		}
	}
	if !split || !strings.HasSuffix(base, ".zim") {
		f, err := os.Open(name)
		if err != nil {
			return nil, 0, nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			return nil, 0, nil, err
		}
		return f, st.Size(), f, nil
	}
	p := &partsReader{}
	for i := 0; i < 26*26; i++ {
		f, err := os.Open(base + string(rune('a'+i/26)) + string(rune('a'+i%26)))
		if errors.Is(err, fs.ErrNotExist) && i > 0 {
			break
		}
		if err != nil {
			p.Close()
			return nil, 0, nil, err
		}
		st, err := f.Stat()
		if err != nil {
			f.Close()
			p.Close()
			return nil, 0, nil, err
		}
		p.files = append(p.files, f)
		p.starts = append(p.starts, p.size)
		p.size += st.Size()
	}
	return p, p.size, p, nil
}

// partsReader reads consecutive files as one.
type partsReader struct {
	files  []*os.File
	starts []int64
	size   int64
}

func (p *partsReader) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("zim: negative offset %d", off)
	}
	n := 0
	for len(b) > 0 {
		if off >= p.size {
			return n, io.EOF
		}
		i := sort.Search(len(p.starts), func(i int) bool { return p.starts[i] > off }) - 1
		end := p.size
		if i+1 < len(p.starts) {
			end = p.starts[i+1]
		}
		chunk := b
		if int64(len(chunk)) > end-off {
			chunk = chunk[:end-off]
		}
		m, err := p.files[i].ReadAt(chunk, off-p.starts[i])
		n += m
		off += int64(m)
		b = b[m:]
		if m < len(chunk) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF // the part shrank since it was opened
			}
			return n, err
		}
	}
	return n, nil
}

func (p *partsReader) Close() error {
	var first error
	for _, f := range p.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
