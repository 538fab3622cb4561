package channel

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/flynn/noise"
)

// Conn is an established channel: messages are encrypted and authenticated
// with the keys of the handshake, in order, each once. One goroutine may
// read while another writes. After any error the direction that failed
// stays failed and the connection is closed.
//
// Messages (ReadMessage, WriteMessage) map one to one onto frames. Read and
// Write view the same frames as a byte stream. The channel has no
// end-of-stream marker: a connection cut by anyone is seen as ErrClosed,
// so the protocol on top must say where its messages and transfers end.
type Conn struct {
	nc      net.Conn
	cfg     Config
	peer    PeerKey
	paired  bool
	binding []byte

	rmu  sync.Mutex
	recv *noise.CipherState
	rbuf []byte
	rerr error

	wmu  sync.Mutex
	send *noise.CipherState
	werr error

	closeOnce sync.Once
}

func newConn(nc net.Conn, cfg Config, peer []byte, paired bool, binding []byte, send, recv *noise.CipherState) *Conn {
	c := &Conn{nc: nc, cfg: cfg, paired: paired, binding: append([]byte(nil), binding...), send: send, recv: recv}
	copy(c.peer[:], peer)
	nc.SetDeadline(time.Time{})
	return c
}

// Peer is the peer's static key, authenticated by the handshake.
func (c *Conn) Peer() PeerKey { return c.peer }

// Paired reports whether this connection was made with a pairing code (the
// peer may be new), rather than with a remembered key.
func (c *Conn) Paired() bool { return c.paired }

// Binding returns n bytes (1 to 255·32) that both ends of this connection,
// and only this connection, compute alike: HKDF-SHA-256 of the Noise
// handshake hash with info "ferry/v1/sync/binding/" + label. It is unique
// and unpredictable before the handshake, but not secret (someone who
// recorded a reconnection and knows the listener's public key can compute
// it): use it for per-session keys that need no secrecy, such as the riblt
// hash key.
func (c *Conn) Binding(label string, n int) []byte {
	b, err := hkdf.Key(sha256.New, c.binding, nil, "ferry/v1/sync/binding/"+label, n)
	if err != nil {
		panic("channel: internal error: binding of bad length")
	}
	return b
}

// LocalAddr and RemoteAddr are the transport's addresses.
func (c *Conn) LocalAddr() net.Addr  { return c.nc.LocalAddr() }
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// MaxMessage is the largest message WriteMessage sends with this Conn's
// configuration.
func (c *Conn) MaxMessage() int { return c.cfg.MaxFrame - Overhead }

// WriteMessage sends p (at most MaxMessage bytes; empty is allowed) as one
// encrypted frame.
func (c *Conn) WriteMessage(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return c.werr
	}
	if len(p) > c.MaxMessage() {
		return fmt.Errorf("%w (%d bytes, at most %d)", ErrMessageTooLarge, len(p), c.MaxMessage())
	}
	buf := appendFrameHeader(make([]byte, 0, 2+len(p)+Overhead), len(p)+Overhead)
	buf, err := c.send.Encrypt(buf, nil, p)
	if err != nil {
		return c.failWrite(fmt.Errorf("channel: encrypting: %w", err))
	}
	c.nc.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
	if _, err := c.nc.Write(buf); err != nil {
		return c.failWrite(ioError("writing message", err))
	}
	return nil
}

// ReadMessage returns the next message. It waits at most ReadTimeout for
// the whole frame, so a peer that sends nothing, or a byte now and then,
// is dropped with ErrTimeout.
func (c *Conn) ReadMessage() ([]byte, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	return c.readMessage()
}

func (c *Conn) readMessage() ([]byte, error) {
	if c.rerr != nil {
		return nil, c.rerr
	}
	c.nc.SetReadDeadline(time.Now().Add(c.cfg.ReadTimeout))
	f, err := readFrame(c.nc, c.cfg.MaxFrame)
	if err != nil {
		return nil, c.failRead(err)
	}
	if len(f) < Overhead {
		return nil, c.failRead(fmt.Errorf("reading message: %w (shorter than its tag)", ErrFrame))
	}
	p, err := c.recv.Decrypt(nil, nil, f)
	if err != nil {
		return nil, c.failRead(fmt.Errorf("reading message: %w", ErrDecrypt))
	}
	return p, nil
}

// Read reads the message stream as bytes.
func (c *Conn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for len(c.rbuf) == 0 {
		if len(p) == 0 {
			return 0, nil
		}
		m, err := c.readMessage()
		if err != nil {
			return 0, err
		}
		c.rbuf = m
	}
	n := copy(p, c.rbuf)
	c.rbuf = c.rbuf[n:]
	return n, nil
}

// Write sends p as a byte stream, cut into messages of at most MaxMessage.
func (c *Conn) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), c.MaxMessage())
		if err := c.WriteMessage(p[:k]); err != nil {
			return n, err
		}
		n += k
		p = p[k:]
	}
	return n, nil
}

// Close closes the connection; reads and writes then fail with ErrClosed.
func (c *Conn) Close() error {
	var err error
	c.closeOnce.Do(func() { err = c.nc.Close() })
	return err
}

func (c *Conn) failRead(err error) error {
	c.rerr = err
	c.Close()
	return err
}

func (c *Conn) failWrite(err error) error {
	c.werr = err
	c.Close()
	return err
}

var _ interface {
	Read([]byte) (int, error)
	Write([]byte) (int, error)
	Close() error
} = (*Conn)(nil)
