package channel

import (
	"crypto/ecdh"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// PeerKey is a device's static public key (X25519). Pairing returns the
// peer's; the caller stores it to let that peer reconnect without a code.
type PeerKey [32]byte

// String is the key in hex, for storage and logs.
func (k PeerKey) String() string { return hex.EncodeToString(k[:]) }

// ParsePeerKey reads the hex form String writes.
func ParsePeerKey(s string) (PeerKey, error) {
	var k PeerKey
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != len(k) {
		return k, errors.New("channel: a peer key is 64 hex digits")
	}
	copy(k[:], b)
	return k, nil
}

// Equal compares two keys in constant time.
func (k PeerKey) Equal(o PeerKey) bool { return subtle.ConstantTimeCompare(k[:], o[:]) == 1 }

// Identity is a device's static X25519 key pair.
type Identity struct {
	priv [32]byte
	pub  PeerKey
}

// NewIdentity makes a fresh Identity from crypto/rand.
func NewIdentity() (Identity, error) {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		return Identity{}, fmt.Errorf("channel: making a key: %w", err)
	}
	return ParseIdentity(k.Bytes())
}

// ParseIdentity rebuilds an Identity from the 32 bytes Private returned.
func ParseIdentity(private []byte) (Identity, error) {
	k, err := ecdh.X25519().NewPrivateKey(private)
	if err != nil {
		return Identity{}, fmt.Errorf("channel: bad private key: %w", err)
	}
	var id Identity
	copy(id.priv[:], k.Bytes())
	copy(id.pub[:], k.PublicKey().Bytes())
	return id, nil
}

// Private returns the private key, for the caller to store (it is secret:
// whoever has it can pose as this device to its remembered peers).
func (id Identity) Private() []byte { return append([]byte(nil), id.priv[:]...) }

// Public returns the public key peers remember.
func (id Identity) Public() PeerKey { return id.pub }

func (id Identity) isZero() bool { return id.pub == PeerKey{} }

// Code is a one-time pairing code: 6 to 8 decimal digits.
type Code string

// Code lengths.
const (
	MinCodeDigits = 6
	MaxCodeDigits = 8
)

// NewCode draws a code of the given number of digits uniformly from
// crypto/rand.
func NewCode(digits int) (Code, error) {
	if digits < MinCodeDigits || digits > MaxCodeDigits {
		return "", fmt.Errorf("channel: a code has %d to %d digits", MinCodeDigits, MaxCodeDigits)
	}
	max := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil)
	n, err := rand.Int(rand.Reader, max)
	if err != nil {
		return "", fmt.Errorf("channel: drawing a code: %w", err)
	}
	return Code(fmt.Sprintf("%0*d", digits, n)), nil
}

// ParseCode reads a code as a person types it: spaces and dashes are
// ignored, and 6 to 8 digits must remain.
func ParseCode(s string) (Code, error) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-':
		default:
			return "", fmt.Errorf("channel: a code is digits only, not %q", r)
		}
	}
	if n := b.Len(); n < MinCodeDigits || n > MaxCodeDigits {
		return "", fmt.Errorf("channel: a code has %d to %d digits, this one %d", MinCodeDigits, MaxCodeDigits, n)
	}
	return Code(b.String()), nil
}

// Display groups the digits for reading aloud: "123 456", "1234 5678".
func (c Code) Display() string {
	s := string(c)
	h := (len(s) + 1) / 2
	if len(s) == 6 {
		h = 3
	}
	return s[:h] + " " + s[h:]
}
