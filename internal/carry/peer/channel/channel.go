// Package channel makes the paired, encrypted, mutually authenticated
// connection two ferry devices sync over, as specified in docs/sync.md.
//
// The first time two devices meet, the listening side shows a short
// one-time code (and a QR code of its address and the code). The dialling
// side types it in; CPace (package cpace) turns the code into a strong key
// that keys a Noise XXpsk0 handshake, which also swaps the devices' static
// keys. A device may remember the other's static key (PeerKey; the caller
// stores it), and later connections then use Noise IK with no code.
//
// After the handshake a Conn carries length-prefixed Noise transport
// messages. Every read and write has a deadline, frames have a maximum size,
// and any failure breaks the Conn for good, so a stalled or hostile peer
// cannot hang or confuse the caller.
package channel

import (
	"errors"
	"time"
)

// Errors. Pairing failures are deliberately not told apart: a wrong code
// and a tampered exchange look the same to both sides and to an onlooker.
var (
	ErrPairing         = errors.New("channel: pairing failed: the code was wrong, or someone interfered with the connection")
	ErrUnknownPeer     = errors.New("channel: the peer is not one this device remembers")
	ErrNotPaired       = errors.New("channel: the peer does not have the key this device expected; pair again with a code")
	ErrTooManyFailures = errors.New("channel: too many failed pairing attempts; start again with a new code")
	ErrCodeUsed        = errors.New("channel: the pairing code was already used; start again with a new code")
	ErrNoCode          = errors.New("channel: this device is not accepting new pairings")
	ErrBusy            = errors.New("channel: another pairing attempt is under way")
	ErrVersion         = errors.New("channel: the peer speaks an unknown (newer?) version of the sync protocol")
	ErrFrame           = errors.New("channel: malformed frame")
	ErrFrameTooLarge   = errors.New("channel: frame larger than allowed")
	ErrMessageTooLarge = errors.New("channel: message larger than a frame can carry")
	ErrDecrypt         = errors.New("channel: message failed authentication (corrupted or tampered)")
	ErrTimeout         = errors.New("channel: the peer did not answer in time")
	ErrClosed          = errors.New("channel: connection closed")
)

// Frame and message sizes.
const (
	// MaxFrame is the largest frame body: Noise's message limit.
	MaxFrame = 65535
	// Overhead is what encryption adds to each message.
	Overhead = 16
	// MaxMessage is the largest message a Conn sends in one frame.
	MaxMessage = MaxFrame - Overhead
	// maxHandshakeFrame bounds frames before the handshake completes; the
	// largest handshake frame is 97 bytes.
	maxHandshakeFrame = 256
)

// Config holds what both sides of a handshake need.
type Config struct {
	// Identity is this device's static key pair.
	Identity Identity
	// HandshakeTimeout bounds the whole handshake (default 30 s).
	HandshakeTimeout time.Duration
	// ReadTimeout bounds the wait for each frame after the handshake
	// (default 60 s): a peer silent for longer is dropped.
	ReadTimeout time.Duration
	// WriteTimeout bounds each frame's write (default 60 s), so a peer that
	// stops reading cannot block us.
	WriteTimeout time.Duration
	// MaxFrame caps the frames we accept after the handshake (default and
	// maximum: MaxFrame).
	MaxFrame int
}

func (c Config) withDefaults() Config {
	if c.HandshakeTimeout <= 0 {
		c.HandshakeTimeout = 30 * time.Second
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 60 * time.Second
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = 60 * time.Second
	}
	if c.MaxFrame <= 0 || c.MaxFrame > MaxFrame {
		c.MaxFrame = MaxFrame
	}
	if c.MaxFrame < Overhead {
		c.MaxFrame = Overhead
	}
	return c
}
