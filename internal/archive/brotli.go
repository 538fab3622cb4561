package archive

import (
	"bytes"
	"fmt"
	"io"
	"math/bits"

	"github.com/andybalholm/brotli"
)

// brotliEncode compresses a cluster with Brotli at its best quality, with a
// window just large enough for the cluster (RFC 7932 allows 2^10..2^24).
func brotliEncode(raw []byte, clusterSize int) []byte {
	lgwin := max(10, min(24, bits.Len(uint(max(len(raw), clusterSize)))))
	var b bytes.Buffer
	b.WriteByte(codecBrotli)
	w := brotli.NewWriterOptions(&b, brotli.WriterOptions{Quality: brotli.BestCompression, LGWin: lgwin})
	w.Write(raw) // writes to a bytes.Buffer do not fail
	w.Close()
	return b.Bytes()
}

// brotliDecode decompresses the first n bytes of a Brotli stream; with all,
// n is the whole raw length and a stream that holds more is refused after
// one byte past it (as decodeZstd).
func brotliDecode(src []byte, n int64, all bool) ([]byte, error) {
	r := brotli.NewReader(bytes.NewReader(src))
	out, err := readUpTo(r, n, len(src))
	if err != nil {
		return nil, err
	}
	if all {
		var one [1]byte
		if k, err := r.Read(one[:]); k > 0 || err != io.EOF {
			if err == nil || err == io.EOF {
				err = fmt.Errorf("stream holds more than %d bytes", n)
			}
			return nil, err
		}
	}
	return out, nil
}
