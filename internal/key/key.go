// Package key holds publisher signing keys: Ed25519 key pairs, their text
// files (NAME.key, NAME.pub) and short fingerprints people can compare by eye.
//
// A public key file is one line, safe to publish:
//
//	ferry-pub-v1:BASE64URL(32-byte Ed25519 public key) [optional label]
//
// A secret key file is one line, kept with mode 0600:
//
//	ferry-secret-v1:BASE64URL(32-byte Ed25519 seed)
package key

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

const (
	pubPrefix    = "ferry-pub-v1:"
	secretPrefix = "ferry-secret-v1:"
)

// ErrFormat reports a key file or string that is not a ferry key.
var ErrFormat = errors.New("key: not a ferry key")

// Public is an Ed25519 public key of a publisher.
type Public [ed25519.PublicKeySize]byte

// Secret is an Ed25519 private key of a publisher.
type Secret struct {
	priv ed25519.PrivateKey
}

// Generate makes a new random key pair.
func Generate() (*Secret, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("key: generating: %w", err)
	}
	return &Secret{priv: priv}, nil
}

// FromSeed returns the key pair for a 32-byte seed.
func FromSeed(seed []byte) (*Secret, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("%w: seed is %d bytes, want %d", ErrFormat, len(seed), ed25519.SeedSize)
	}
	return &Secret{priv: ed25519.NewKeyFromSeed(seed)}, nil
}

// Public returns the public half.
func (s *Secret) Public() Public {
	var p Public
	copy(p[:], s.priv.Public().(ed25519.PublicKey))
	return p
}

// Sign signs msg.
func (s *Secret) Sign(msg []byte) []byte { return ed25519.Sign(s.priv, msg) }

// String encodes the secret key in its file form.
func (s *Secret) String() string {
	return secretPrefix + base64.RawURLEncoding.EncodeToString(s.priv.Seed())
}

// Verify reports whether sig is p's valid signature of msg.
func (p Public) Verify(msg, sig []byte) bool {
	return len(sig) == ed25519.SignatureSize && ed25519.Verify(ed25519.PublicKey(p[:]), msg, sig)
}

// String encodes the public key in its file form (without label).
func (p Public) String() string {
	return pubPrefix + base64.RawURLEncoding.EncodeToString(p[:])
}

// Fingerprint is a short, stable name for the key that people compare by eye:
// the first 16 bytes of SHA-256 of the key, as 8 groups of 4 hex digits.
func (p Public) Fingerprint() string {
	h := sha256.Sum256(p[:])
	x := hex.EncodeToString(h[:16])
	var b strings.Builder
	for i := 0; i < len(x); i += 4 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(x[i : i+4])
	}
	return b.String()
}

// ParsePublic parses a public key line and its optional label.
func ParsePublic(line string) (Public, string, error) {
	var p Public
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, pubPrefix) {
		return p, "", fmt.Errorf("%w: a public key line starts with %q", ErrFormat, pubPrefix)
	}
	rest := line[len(pubPrefix):]
	label := ""
	if i := strings.IndexAny(rest, " \t"); i >= 0 {
		rest, label = rest[:i], strings.TrimSpace(rest[i:])
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(b) != len(p) {
		return p, "", fmt.Errorf("%w: bad public key encoding", ErrFormat)
	}
	copy(p[:], b)
	return p, label, nil
}

// ParseSecret parses a secret key line.
func ParseSecret(line string) (*Secret, error) {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, secretPrefix) {
		return nil, fmt.Errorf("%w: a secret key line starts with %q", ErrFormat, secretPrefix)
	}
	b, err := base64.RawURLEncoding.DecodeString(line[len(secretPrefix):])
	if err != nil {
		return nil, fmt.Errorf("%w: bad secret key encoding", ErrFormat)
	}
	return FromSeed(b)
}

// LoadSecret reads a NAME.key file.
func LoadSecret(path string) (*Secret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := ParseSecret(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w (is this the .key file made by 'ferry keygen'?)", path, err)
	}
	return s, nil
}

// LoadPublic reads a NAME.pub file.
func LoadPublic(path string) (Public, string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Public{}, "", err
	}
	p, label, err := ParsePublic(string(b))
	if err != nil {
		return p, "", fmt.Errorf("%s: %w (is this the .pub file made by 'ferry keygen'?)", path, err)
	}
	return p, label, nil
}

// WriteFiles writes NAME.key (mode 0600) and NAME.pub. It refuses to
// overwrite an existing key file, so a publisher never loses a key by accident.
func WriteFiles(name string, s *Secret, label string) error {
	for _, p := range []string{name + ".key", name + ".pub"} {
		if _, err := os.Stat(p); err == nil {
			return fmt.Errorf("%s already exists: choose another name or move it away first", p)
		}
	}
	f, err := os.OpenFile(name+".key", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(s.String() + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	line := s.Public().String()
	if label != "" {
		line += " " + label
	}
	return os.WriteFile(name+".pub", []byte(line+"\n"), 0o644)
}

// LoadPublicFiles reads the public keys of the given NAME.pub files (the
// --trust files of several commands); a file may instead be the key's
// one-line text form (ferry-pub-v1:...).
func LoadPublicFiles(files []string) ([]Public, error) {
	var out []Public
	for _, f := range files {
		var p Public
		var err error
		if strings.HasPrefix(f, pubPrefix) {
			p, _, err = ParsePublic(f)
		} else {
			p, _, err = LoadPublic(f)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
