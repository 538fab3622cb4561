package zim

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// xzReader decodes an .xz stream whose blocks use the LZMA2 filter alone
// (what every ZIM writer produces). It parses the xz container itself so
// that the LZMA2 dictionary it allocates is min(what the block header
// claims, dictCap): a header may claim up to 4 GiB, and libzim's writer
// always claims 64 MiB even for a 1 MiB cluster. A cluster's data never
// refers further back than its own decompressed size, so a dictionary of
// that size suffices. Block checks (CRC32/CRC64/SHA-256) are skipped, not
// verified; Archive.Verify checks the whole file's MD5.
type xzReader struct {
	r       *countingReader
	dictCap int
	check   int // size of the per-block check field
	block   *lzma.Reader2
	start   int64 // count at the start of the block's compressed data
	hdrSize int64
	done    bool
}

type countingReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *countingReader) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

var errXZ = errors.New("xz")

var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0}

func newXZReader(r io.Reader, dictCap int) (*xzReader, error) {
	if dictCap < lzma.MinDictCap {
		dictCap = lzma.MinDictCap
	}
	x := &xzReader{r: &countingReader{r: bufio.NewReaderSize(r, 32<<10)}, dictCap: dictCap}
	var h [12]byte
	if _, err := io.ReadFull(x.r, h[:]); err != nil {
		return nil, fmt.Errorf("xz stream header: %w", noEOF(err))
	}
	if !bytes.Equal(h[:6], xzMagic) {
		return nil, fmt.Errorf("xz stream header has no xz magic: %w", errXZ)
	}
	if crc32.ChecksumIEEE(h[6:8]) != binary.LittleEndian.Uint32(h[8:]) || h[6] != 0 || h[7] > 0x0f {
		return nil, fmt.Errorf("xz stream flags are damaged: %w", errXZ)
	}
	x.check = [16]int{0, 4, 4, 4, 8, 8, 8, 16, 16, 16, 32, 32, 32, 64, 64, 64}[h[7]]
	if err := x.nextBlock(); err != nil {
		return nil, err
	}
	return x, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// nextBlock reads a block header and starts its LZMA2 decoder, or marks the
// stream done when the index follows.
func (x *xzReader) nextBlock() error {
	first, err := x.r.ReadByte()
	if err != nil {
		return fmt.Errorf("xz block header: %w", noEOF(err))
	}
	if first == 0 { // index indicator: no more blocks
		x.done = true
		return nil
	}
	size := (int(first) + 1) * 4
	h := make([]byte, size)
	h[0] = first
	if _, err := io.ReadFull(x.r, h[1:]); err != nil {
		return fmt.Errorf("xz block header: %w", noEOF(err))
	}
	if crc32.ChecksumIEEE(h[:size-4]) != binary.LittleEndian.Uint32(h[size-4:]) {
		return fmt.Errorf("xz block header checksum mismatch: %w", errXZ)
	}
	flags := h[1]
	if flags&0x03 != 0 || flags&0x3c != 0 {
		return fmt.Errorf("xz block uses a filter chain other than LZMA2 alone (flags %#x): %w", flags, ErrUnsupported)
	}
	p := h[2 : size-4]
	skip := func() error {
		_, n := binary.Uvarint(p)
		if n <= 0 {
			return fmt.Errorf("xz block header size field is damaged: %w", errXZ)
		}
		p = p[n:]
		return nil
	}
	if flags&0x40 != 0 {
		if err := skip(); err != nil {
			return err
		}
	}
	if flags&0x80 != 0 {
		if err := skip(); err != nil {
			return err
		}
	}
	if len(p) < 3 || p[0] != 0x21 || p[1] != 1 {
		return fmt.Errorf("xz block filter is not LZMA2: %w", ErrUnsupported)
	}
	dict, err := lzma.DecodeDictCap(p[2])
	if err != nil {
		return fmt.Errorf("xz LZMA2 dictionary size: %w", errXZ)
	}
	if dict > int64(x.dictCap) {
		dict = int64(x.dictCap)
	}
	if dict < lzma.MinDictCap {
		dict = lzma.MinDictCap
	}
	x.hdrSize = int64(size)
	x.start = x.r.n
	x.block, err = lzma.Reader2Config{DictCap: int(dict)}.NewReader2(x.r)
	if err != nil {
		return fmt.Errorf("xz LZMA2 data: %v: %w", err, errXZ)
	}
	return nil
}

func (x *xzReader) Read(p []byte) (int, error) {
	for {
		if x.done {
			return 0, io.EOF
		}
		n, err := x.block.Read(p)
		if err == nil || n > 0 {
			if err == io.EOF {
				err = nil
				if ferr := x.finishBlock(); ferr != nil {
					return n, ferr
				}
			}
			return n, err
		}
		if err != io.EOF {
			return 0, fmt.Errorf("xz LZMA2 data: %v: %w", err, errXZ)
		}
		if err := x.finishBlock(); err != nil {
			return 0, err
		}
	}
}

// finishBlock skips the block padding and check, then starts the next block.
func (x *xzReader) finishBlock() error {
	compressed := x.r.n - x.start
	pad := (4 - (x.hdrSize+compressed)%4) % 4
	if _, err := io.CopyN(io.Discard, x.r, pad+int64(x.check)); err != nil {
		return fmt.Errorf("xz block padding: %w", noEOF(err))
	}
	return x.nextBlock()
}
