package seal

import (
	"fmt"
	"io"
	"slices"
	"sync"
)

// cacheChunks is how many decrypted blocks each open file keeps.
const cacheChunks = 4

// Open returns a reader for the file name and its size. Blocks are read and
// authenticated on demand and a few are cached in memory; a block that fails
// authentication makes ReadAt return an error wrapping ErrCorrupt, never its
// bytes. The reader is safe for concurrent use. Reading a file after it was
// removed or replaced fails with ErrCorrupt (its blocks were overwritten).
func (v *Volume) Open(name string) (io.ReaderAt, int64, error) {
	if v.closed.Load() {
		return nil, 0, ErrClosed
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	i := slices.IndexFunc(v.sb.files, func(f fileEntry) bool { return f.name == name })
	if i < 0 {
		return nil, 0, fmt.Errorf("opening %q: %w", name, ErrNotFound)
	}
	e := v.sb.files[i]
	return &fileReader{v: v, e: e, blocks: blocksOf(e.ext)}, e.size, nil
}

// blockPool holds ciphertext buffers (never plaintext).
var blockPool = sync.Pool{New: func() any { b := make([]byte, BlockSize); return &b }}

type cached struct {
	chunk int64
	data  []byte
}

// fileReader reads one stored file.
type fileReader struct {
	v      *Volume
	e      fileEntry
	blocks []int64 // physical block of each chunk

	mu    sync.Mutex
	cache []cached // most recently used last
}

func (f *fileReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("seal: reading %q: negative offset", f.e.name)
	}
	if off >= f.e.size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && off < f.e.size {
		c := off / payloadSize
		data, err := f.chunk(c)
		if err != nil {
			return n, err
		}
		in := off - c*payloadSize
		end := min(int64(payloadSize), f.e.size-c*payloadSize)
		k := copy(p[n:], data[in:end])
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// chunk returns the plaintext of chunk c, from the cache or decrypted.
func (f *fileReader) chunk(c int64) ([]byte, error) {
	if f.v.closed.Load() {
		return nil, ErrClosed
	}
	f.mu.Lock()
	for i, x := range f.cache {
		if x.chunk == c {
			f.cache = append(append(f.cache[:i:i], f.cache[i+1:]...), x)
			f.mu.Unlock()
			return x.data, nil
		}
	}
	f.mu.Unlock()

	b := f.blocks[c]
	bp := blockPool.Get().(*[]byte)
	defer blockPool.Put(bp)
	blk := *bp
	if _, err := f.v.st.ReadAt(blk, b*BlockSize); err != nil {
		return nil, fmt.Errorf("seal: reading %q block %d: %w", f.e.name, b, err)
	}
	data := make([]byte, payloadSize)
	aad := dataAAD(make([]byte, 0, 64), f.v.k, b, f.e.id, c)
	if !openBlock(data, f.v.k.data, blk, aad) {
		return nil, fmt.Errorf("reading %q at byte %d (block %d): %w", f.e.name, c*payloadSize, b, ErrCorrupt)
	}
	// The last block's padding must be zero: one encoding per file.
	if end := f.e.size - c*payloadSize; end < payloadSize {
		for _, x := range data[end:] {
			if x != 0 {
				return nil, fmt.Errorf("reading %q: %w: padding of the last block is not zero", f.e.name, ErrCorrupt)
			}
		}
	}
	f.mu.Lock()
	if len(f.cache) >= cacheChunks {
		// Not cleared: a concurrent ReadAt may still be copying from it.
		f.cache = slices.Delete(f.cache, 0, 1)
	}
	f.cache = append(f.cache, cached{c, data})
	f.mu.Unlock()
	return data, nil
}
