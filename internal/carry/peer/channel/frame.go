package channel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// readFrame reads one frame from r: a 2-byte big-endian length n (1 to
// max) and n bytes. It allocates only after the length is checked.
func readFrame(r io.Reader, max int) ([]byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, ioError("reading frame length", err)
	}
	n := int(binary.BigEndian.Uint16(h[:]))
	if n == 0 {
		return nil, fmt.Errorf("reading frame: %w (zero length)", ErrFrame)
	}
	if n > max {
		return nil, fmt.Errorf("reading frame: %w (%d bytes, at most %d)", ErrFrameTooLarge, n, max)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, ioError("reading frame", err)
	}
	return b, nil
}

// appendFrameHeader starts a frame of n bytes.
func appendFrameHeader(dst []byte, n int) []byte {
	return binary.BigEndian.AppendUint16(dst, uint16(n))
}

// writeFrame writes body as one frame, with a write deadline.
func writeFrame(c net.Conn, body []byte, timeout time.Duration) error {
	if len(body) == 0 || len(body) > MaxFrame {
		return fmt.Errorf("channel: internal error: frame of %d bytes", len(body))
	}
	b := appendFrameHeader(make([]byte, 0, 2+len(body)), len(body))
	b = append(b, body...)
	if timeout > 0 {
		c.SetWriteDeadline(time.Now().Add(timeout))
	}
	if _, err := c.Write(b); err != nil {
		return ioError("writing frame", err)
	}
	return nil
}

// ioError names a transport failure by what it means to the caller: the
// peer was too slow (ErrTimeout) or the connection is gone (ErrClosed).
func ioError(doing string, err error) error {
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%s: %w", doing, ErrTimeout)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return fmt.Errorf("%s: %w", doing, ErrClosed)
	}
	return fmt.Errorf("%s: %w", doing, err)
}
