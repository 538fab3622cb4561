package channel

import (
	"context"
	"crypto/hkdf"
	"crypto/sha512"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"ferry/internal/carry/peer/cpace"

	"github.com/flynn/noise"
)

// The first byte of the first frame says what the dialler wants (v1).
const (
	modePair  = 0x01 // pairing with a code: CPace, then Noise XXpsk0
	modeKnown = 0x02 // reconnection with remembered keys: Noise IK
)

// Labels; docs/sync.md lists them.
const (
	cpaceCI       = "ferry/v1/sync/pair"
	pskInfo       = "ferry/v1/sync/pair/noise-psk"
	prologuePair  = "ferry/v1/sync/pair"
	prologueKnown = "ferry/v1/sync/known"
)

var suite = noise.NewCipherSuite(noise.DH25519, noise.CipherChaChaPoly, noise.HashSHA256)

// Sizes of the handshake frames (bodies), fixed in v1.
const (
	cpaceMsgLen   = 1 + cpace.ElementSize + 1 // lv_cat(Y, "")
	pairHelloLen  = 1 + cpaceMsgLen           // mode, CPace Ya
	pairReplyLen  = cpaceMsgLen + 32 + 16     // CPace Yb, XX message 1 (psk, e; empty payload)
	pairMsg2Len   = 32 + 48 + 16              // XX message 2 (e, ee, s, es)
	pairMsg3Len   = 48 + 16                   // XX message 3 (s, se)
	knownHelloLen = 1 + 32 + 48 + 16          // mode, IK message 1 (e, es, s, ss)
	knownReplyLen = 32 + 16                   // IK message 2 (e, ee, se)
	confirmLen    = Overhead                  // an empty transport message
)

// More errors of the dialling side.
var (
	ErrRefused   = errors.New("channel: the peer closed the connection before the handshake finished: its code may be used up or it is busy (pairing), or it does not remember this device (reconnection: pair again with a code)")
	ErrHandshake = errors.New("channel: handshake failed: the peer is not the device remembered, or someone interfered with the connection")
)

func pskFrom(isk []byte) []byte {
	k, err := hkdf.Key(sha512.New, isk, nil, pskInfo, 32)
	if err != nil {
		panic("channel: internal error: " + err.Error())
	}
	return k
}

func keypair(id Identity) noise.DHKey {
	return noise.DHKey{Private: id.Private(), Public: id.pub[:]}
}

// handshakeDeadline applies the handshake timeout and ctx to nc and
// returns a function that undoes the ctx watch.
func handshakeDeadline(ctx context.Context, nc net.Conn, cfg Config) func() bool {
	d := time.Now().Add(cfg.HandshakeTimeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	nc.SetDeadline(d)
	return context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
}

func checkConfig(cfg Config) (Config, error) {
	if cfg.Identity.isZero() {
		return cfg, errors.New("channel: Config.Identity is not set")
	}
	return cfg.withDefaults(), nil
}

// Pair dials into a listening device's connection nc with the code it
// shows. On success the Conn's Peer is the listener's static key, which the
// caller may store for Reconnect. A wrong code gives ErrPairing. nc is
// closed when Pair fails.
func Pair(ctx context.Context, nc net.Conn, code Code, cfg Config) (*Conn, error) {
	c, err := pair(ctx, nc, code, cfg)
	if err != nil {
		nc.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return c, nil
}

func pair(ctx context.Context, nc net.Conn, code Code, cfg Config) (*Conn, error) {
	cfg, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	if _, err := ParseCode(string(code)); err != nil {
		return nil, err
	}
	defer handshakeDeadline(ctx, nc, cfg)()
	party, err := cpace.New(cpace.Initiator, []byte(code), []byte(cpaceCI), nil, nil, nil)
	if err != nil {
		return nil, err
	}
	hello := append([]byte{modePair}, party.Message()...)
	if err := writeFrame(nc, hello, 0); err != nil {
		return nil, err
	}
	reply, err := readHandshakeFrame(nc, pairReplyLen)
	if err != nil {
		if errors.Is(err, ErrClosed) {
			return nil, ErrRefused
		}
		return nil, err
	}
	msgB := reply[:cpaceMsgLen]
	isk, _, err := party.Finish(msgB)
	if err != nil {
		return nil, ErrPairing
	}
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite:           suite,
		Pattern:               noise.HandshakeXX,
		Initiator:             false,
		Prologue:              pairPrologue(hello, msgB),
		PresharedKey:          pskFrom(isk),
		PresharedKeyPlacement: 0,
		StaticKeypair:         keypair(cfg.Identity),
	})
	if err != nil {
		return nil, err
	}
	if p, _, _, err := hs.ReadMessage(nil, reply[cpaceMsgLen:]); err != nil || len(p) != 0 {
		return nil, ErrPairing // the wrong code shows here first
	}
	m2, _, _, err := hs.WriteMessage(nil, nil)
	if err != nil {
		return nil, err
	}
	if err := writeFrame(nc, m2, 0); err != nil {
		return nil, err
	}
	m3, err := readHandshakeFrame(nc, pairMsg3Len)
	if err != nil {
		if errors.Is(err, ErrClosed) {
			return nil, ErrPairing
		}
		return nil, err
	}
	p, recv, send, err := hs.ReadMessage(nil, m3)
	if err != nil || len(p) != 0 || recv == nil {
		return nil, ErrPairing
	}
	c := newConn(nc, cfg, hs.PeerStatic(), true, hs.ChannelBinding(), send, recv)
	// Confirm, so the listener returns a connection only once both sides
	// hold the keys (a tampered third message fails both sides).
	if err := c.WriteMessage(nil); err != nil {
		return nil, err
	}
	return c, nil
}

func pairPrologue(hello, msgB []byte) []byte {
	p := append([]byte(prologuePair), hello...)
	return append(p, msgB...)
}

// Reconnect dials a device this one paired with before, whose static key
// is peer, with Noise IK and no code. nc is closed when Reconnect fails.
func Reconnect(ctx context.Context, nc net.Conn, peer PeerKey, cfg Config) (*Conn, error) {
	c, err := reconnect(ctx, nc, peer, cfg)
	if err != nil {
		nc.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return c, nil
}

func reconnect(ctx context.Context, nc net.Conn, peer PeerKey, cfg Config) (*Conn, error) {
	cfg, err := checkConfig(cfg)
	if err != nil {
		return nil, err
	}
	defer handshakeDeadline(ctx, nc, cfg)()
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite:   suite,
		Pattern:       noise.HandshakeIK,
		Initiator:     true,
		Prologue:      knownPrologue(),
		StaticKeypair: keypair(cfg.Identity),
		PeerStatic:    peer[:],
	})
	if err != nil {
		return nil, err
	}
	m1, _, _, err := hs.WriteMessage([]byte{modeKnown}, nil)
	if err != nil {
		return nil, err
	}
	if err := writeFrame(nc, m1, 0); err != nil {
		return nil, err
	}
	m2, err := readHandshakeFrame(nc, knownReplyLen)
	if err != nil {
		if errors.Is(err, ErrClosed) {
			return nil, ErrRefused
		}
		return nil, err
	}
	p, send, recv, err := hs.ReadMessage(nil, m2)
	if err != nil || len(p) != 0 || send == nil {
		return nil, ErrHandshake
	}
	c := newConn(nc, cfg, peer[:], false, hs.ChannelBinding(), send, recv)
	// Confirm with an empty message, so the listener knows this is a live
	// peer and not a replay of an old first message.
	if err := c.WriteMessage(nil); err != nil {
		return nil, err
	}
	return c, nil
}

func knownPrologue() []byte { return []byte(prologueKnown) }

// readHandshakeFrame reads a frame that must be exactly n bytes.
func readHandshakeFrame(nc net.Conn, n int) ([]byte, error) {
	f, err := readFrame(nc, maxHandshakeFrame)
	if err != nil {
		return nil, err
	}
	if len(f) != n {
		return nil, fmt.Errorf("handshake: %w (%d bytes, expected %d)", ErrFrame, len(f), n)
	}
	return f, nil
}

// ServerConfig is what the listening side needs.
type ServerConfig struct {
	Config
	// Code is the one-time pairing code shown to the user. Empty: no
	// pairing, only remembered peers may connect.
	Code Code
	// Known reports whether a peer's static key is one this device
	// remembers; nil: none is.
	Known func(PeerKey) bool
	// MaxFailures is how many failed pairing attempts the Server takes
	// before it refuses every further one (default 3). Each attempt is one
	// guess at the code for an attacker, so keep it small.
	MaxFailures int
}

// Server runs the listening side's handshakes. One Server serves one
// pairing code: the code is spent by the first successful pairing, and
// after MaxFailures failed attempts pairing is refused (ErrTooManyFailures)
// and the caller should stop and make a new code. At most one pairing
// attempt runs at a time, so parallel connections get no extra guesses.
// Remembered peers (Known) may reconnect at any time.
type Server struct {
	cfg ServerConfig

	mu       sync.Mutex
	failures int
	busy     bool
	spent    bool
}

// NewServer checks cfg and returns a Server.
func NewServer(cfg ServerConfig) (*Server, error) {
	c, err := checkConfig(cfg.Config)
	if err != nil {
		return nil, err
	}
	cfg.Config = c
	if cfg.Code != "" {
		if _, err := ParseCode(string(cfg.Code)); err != nil {
			return nil, err
		}
	}
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 3
	}
	return &Server{cfg: cfg}, nil
}

// Failures is the number of failed pairing attempts so far.
func (s *Server) Failures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failures
}

// Exhausted reports whether pairing is over: the code was used, or too
// many attempts failed.
func (s *Server) Exhausted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spent || s.failures >= s.cfg.MaxFailures
}

// Handshake runs the listening side of the handshake on an accepted
// connection. On failure nc is closed and nothing is sent that tells the
// peer why.
func (s *Server) Handshake(ctx context.Context, nc net.Conn) (*Conn, error) {
	c, err := s.handshake(ctx, nc)
	if err != nil {
		nc.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return c, nil
}

func (s *Server) handshake(ctx context.Context, nc net.Conn) (*Conn, error) {
	cfg := s.cfg.Config
	defer handshakeDeadline(ctx, nc, cfg)()
	hello, err := readFrame(nc, maxHandshakeFrame)
	if err != nil {
		return nil, err
	}
	switch hello[0] {
	case modePair:
		return s.pair(nc, hello)
	case modeKnown:
		return s.known(nc, hello)
	}
	return nil, fmt.Errorf("%w (mode byte %#02x)", ErrVersion, hello[0])
}

// startPairing claims the one pairing slot.
func (s *Server) startPairing() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.cfg.Code == "":
		return ErrNoCode
	case s.spent:
		return ErrCodeUsed
	case s.failures >= s.cfg.MaxFailures:
		return ErrTooManyFailures
	case s.busy:
		return ErrBusy
	}
	s.busy = true
	return nil
}

func (s *Server) pair(nc net.Conn, hello []byte) (c *Conn, err error) {
	if err := s.startPairing(); err != nil {
		return nil, err
	}
	guessed := false // whether the peer got our CPace message, i.e. a guess
	defer func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.busy = false
		if err == nil {
			s.spent = true
		} else if guessed {
			s.failures++
		}
	}()
	if len(hello) != pairHelloLen {
		return nil, fmt.Errorf("pairing: %w (%d bytes, expected %d)", ErrFrame, len(hello), pairHelloLen)
	}
	party, err := cpace.New(cpace.Responder, []byte(s.cfg.Code), []byte(cpaceCI), nil, nil, nil)
	if err != nil {
		return nil, err
	}
	isk, _, err := party.Finish(hello[1:])
	if err != nil {
		return nil, ErrPairing
	}
	msgB := party.Message()
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite:           suite,
		Pattern:               noise.HandshakeXX,
		Initiator:             true,
		Prologue:              pairPrologue(hello, msgB),
		PresharedKey:          pskFrom(isk),
		PresharedKeyPlacement: 0,
		StaticKeypair:         keypair(s.cfg.Identity),
	})
	if err != nil {
		return nil, err
	}
	m1, _, _, err := hs.WriteMessage(append([]byte(nil), msgB...), nil)
	if err != nil {
		return nil, err
	}
	guessed = true
	if err := writeFrame(nc, m1, 0); err != nil {
		return nil, err
	}
	m2, err := readHandshakeFrame(nc, pairMsg2Len)
	if err != nil {
		if errors.Is(err, ErrClosed) {
			return nil, ErrPairing // a wrong code makes the dialler hang up here
		}
		return nil, err
	}
	if p, _, _, err := hs.ReadMessage(nil, m2); err != nil || len(p) != 0 {
		return nil, ErrPairing
	}
	m3, send, recv, err := hs.WriteMessage(nil, nil)
	if err != nil || send == nil {
		return nil, ErrPairing
	}
	if err := writeFrame(nc, m3, 0); err != nil {
		return nil, err
	}
	c = newConn(nc, s.cfg.Config, hs.PeerStatic(), true, hs.ChannelBinding(), send, recv)
	if err := s.confirm(nc, c); err != nil {
		if errors.Is(err, ErrHandshake) {
			return nil, ErrPairing
		}
		return nil, err
	}
	return c, nil
}

// confirm waits for the dialler's empty confirmation message, the first
// transport message, within the handshake timeout.
func (s *Server) confirm(nc net.Conn, c *Conn) error {
	nc.SetReadDeadline(time.Now().Add(s.cfg.HandshakeTimeout))
	f, err := readHandshakeFrame(nc, confirmLen)
	if err != nil {
		if errors.Is(err, ErrClosed) {
			return ErrHandshake
		}
		return err
	}
	if p, err := c.recv.Decrypt(nil, nil, f); err != nil || len(p) != 0 {
		return ErrHandshake
	}
	nc.SetDeadline(time.Time{})
	return nil
}

func (s *Server) known(nc net.Conn, hello []byte) (*Conn, error) {
	if len(hello) != knownHelloLen {
		return nil, fmt.Errorf("reconnection: %w (%d bytes, expected %d)", ErrFrame, len(hello), knownHelloLen)
	}
	hs, err := noise.NewHandshakeState(noise.Config{
		CipherSuite:   suite,
		Pattern:       noise.HandshakeIK,
		Initiator:     false,
		Prologue:      knownPrologue(),
		StaticKeypair: keypair(s.cfg.Identity),
	})
	if err != nil {
		return nil, err
	}
	if p, _, _, err := hs.ReadMessage(nil, hello[1:]); err != nil || len(p) != 0 {
		return nil, ErrHandshake
	}
	var peer PeerKey
	copy(peer[:], hs.PeerStatic())
	if s.cfg.Known == nil || !s.cfg.Known(peer) {
		return nil, ErrUnknownPeer
	}
	m2, recv, send, err := hs.WriteMessage(nil, nil)
	if err != nil || send == nil {
		return nil, ErrHandshake
	}
	if err := writeFrame(nc, m2, 0); err != nil {
		return nil, err
	}
	c := newConn(nc, s.cfg.Config, peer[:], false, hs.ChannelBinding(), send, recv)
	// The dialler's first message must be the empty confirmation; until it
	// arrives, the first frame may be a replay by someone without the keys.
	if err := s.confirm(nc, c); err != nil {
		return nil, err
	}
	return c, nil
}
