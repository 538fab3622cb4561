package peer

import (
	"errors"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// chunkStream decodes one compressed chunk while its DATA arrives, so that
// the taker can place decoded bytes at once and a cut keeps them.
type chunkStream struct {
	pw    *io.PipeWriter
	done  chan struct{}
	mu    sync.Mutex
	out   []byte // decoded, not yet taken
	n     int64  // decoded in all
	limit int64
	err   error
}

var errChunkLong = errors.New("peer: chunk decodes to more than announced")

func newChunkStream(limit int64) *chunkStream {
	pr, pw := io.Pipe()
	cs := &chunkStream{pw: pw, done: make(chan struct{}), limit: limit}
	go func() {
		defer close(cs.done)
		d, err := zstd.NewReader(pr, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(chunkLimit),
			zstd.WithDecoderMaxWindow(chunkLimit))
		if err != nil {
			cs.finish(err)
			pr.CloseWithError(err)
			return
		}
		defer d.Close()
		buf := make([]byte, 32<<10)
		for {
			k, err := d.Read(buf)
			cs.mu.Lock()
			cs.n += int64(k)
			if cs.n > cs.limit {
				err = errChunkLong
			} else {
				cs.out = append(cs.out, buf[:k]...)
			}
			cs.mu.Unlock()
			if err == io.EOF {
				// Drain what follows the frame, so the writer never blocks.
				io.Copy(io.Discard, pr)
				cs.finish(nil)
				return
			}
			if err != nil {
				cs.finish(err)
				pr.CloseWithError(err)
				return
			}
		}
	}()
	return cs
}

func (cs *chunkStream) finish(err error) {
	cs.mu.Lock()
	if cs.err == nil {
		cs.err = err
	}
	cs.mu.Unlock()
}

// write feeds compressed bytes.
func (cs *chunkStream) write(p []byte) error {
	if _, err := cs.pw.Write(p); err != nil {
		cs.mu.Lock()
		defer cs.mu.Unlock()
		if cs.err != nil {
			return cs.err
		}
		return err
	}
	return nil
}

// take returns the bytes decoded since the last take.
func (cs *chunkStream) take() []byte {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	b := cs.out
	cs.out = nil
	return b
}

// close ends the input and waits for the decoder; take then returns the
// rest.
func (cs *chunkStream) close() error {
	cs.pw.Close()
	<-cs.done
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.err
}

// abort stops the decoder.
func (cs *chunkStream) abort() {
	cs.pw.CloseWithError(errors.New("peer: chunk abandoned"))
	<-cs.done
}
