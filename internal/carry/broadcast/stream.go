package broadcast

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
)

// A stream file is packets one after the other, each preceded by its length
// as a 4-byte big-endian integer. There is no file header, so recordings can
// be concatenated.

// WriteStreamPacket writes one length-prefixed packet to w.
func WriteStreamPacket(w io.Writer, pkt []byte) error {
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(pkt)))
	if _, err := w.Write(l[:]); err != nil {
		return err
	}
	_, err := w.Write(pkt)
	return err
}

// ReadStream reads length-prefixed packets from r and calls fn with each one
// whose length prefix is plausible (fn must not keep pkt; it checks the
// packet itself). Where a length prefix is damaged it resynchronises on the
// next packet magic; it returns the number of bytes it skipped that way.
// fn's error stops the read.
func ReadStream(r io.Reader, fn func(pkt []byte) error) (skipped int64, err error) {
	br := bufio.NewReaderSize(r, 2*MaxPacketSize+8)
	magic := []byte(Magic)
	for {
		head, err := br.Peek(8)
		if len(head) < 8 {
			skipped += int64(len(head))
			if err == nil || errors.Is(err, io.EOF) {
				return skipped, nil
			}
			return skipped, err
		}
		n := int(binary.BigEndian.Uint32(head))
		if n >= MinPacketSize && n <= MaxPacketSize && bytes.Equal(head[4:8], magic) {
			pkt, err := br.Peek(4 + n)
			if len(pkt) < 4+n {
				if err != nil && !errors.Is(err, io.EOF) {
					return skipped, err
				}
				// Truncated last packet: hand it over to be counted.
				if err := fn(pkt[4:]); err != nil {
					return skipped, err
				}
				return skipped, nil
			}
			if err := fn(pkt[4:]); err != nil {
				return skipped, err
			}
			br.Discard(4 + n)
			continue
		}
		// Resynchronise: move to 4 bytes before the next magic.
		buf, err := br.Peek(br.Size())
		if len(buf) < 8 && err != nil && !errors.Is(err, io.EOF) {
			return skipped, err
		}
		var drop int
		if i := bytes.Index(buf[5:], magic); i >= 0 {
			drop = i + 1
		} else if errors.Is(err, io.EOF) {
			drop = len(buf)
		} else {
			drop = len(buf) - 7
		}
		br.Discard(drop)
		skipped += int64(drop)
	}
}

// Receive reads a stream from in and hands its packets to r in batches
// (HandleBatch), flushing at the end. It returns the bytes of damaged
// framing skipped.
func Receive(in io.Reader, r *Receiver) (int64, error) {
	const batch = 256
	var pkts [][]byte
	var arena []byte
	flush := func() error {
		err := r.HandleBatch(pkts)
		pkts, arena = pkts[:0], arena[:0]
		return err
	}
	skipped, err := ReadStream(in, func(p []byte) error {
		if len(arena)+len(p) > cap(arena) {
			if err := flush(); err != nil {
				return err
			}
			if cap(arena) < batch*len(p) {
				arena = make([]byte, 0, batch*len(p))
			}
		}
		arena = append(arena, p...)
		pkts = append(pkts, arena[len(arena)-len(p):])
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err == nil {
		err = r.Flush()
	}
	return skipped, err
}
