package key

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	s, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	name := filepath.Join(dir, "pub")
	if err := WriteFiles(name, s, "Test News"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(name + ".key")
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("secret key mode %v, want 0600", st.Mode().Perm())
	}
	s2, err := LoadSecret(name + ".key")
	if err != nil {
		t.Fatal(err)
	}
	p, label, err := LoadPublic(name + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if p != s.Public() || s2.Public() != p || label != "Test News" {
		t.Fatalf("round trip mismatch: %v %v %q", p, s2.Public(), label)
	}
	msg := []byte("edition 42")
	sig := s2.Sign(msg)
	if !p.Verify(msg, sig) {
		t.Fatal("signature does not verify")
	}
	sig[0] ^= 1
	if p.Verify(msg, sig) {
		t.Fatal("tampered signature verifies")
	}
	if err := WriteFiles(name, s, ""); err == nil {
		t.Fatal("WriteFiles overwrote an existing key")
	}
	if len(p.Fingerprint()) != 39 {
		t.Errorf("fingerprint %q", p.Fingerprint())
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{"", "ferry-pub-v1:", "ferry-pub-v1:AAAA", "ssh-ed25519 AAAA", "ferry-secret-v1:AAAA"} {
		if _, _, err := ParsePublic(in); err == nil {
			t.Errorf("ParsePublic(%q) accepted", in)
		}
	}
	for _, in := range []string{"", "ferry-secret-v1:", "ferry-secret-v1:!!", "ferry-pub-v1:AAAA"} {
		if _, err := ParseSecret(in); err == nil {
			t.Errorf("ParseSecret(%q) accepted", in)
		}
	}
}
