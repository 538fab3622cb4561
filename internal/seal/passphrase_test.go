package seal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// TestRatePassphrase (issue 13 item 8): weak passphrases are called weak,
// with a reason a person can act on; word passphrases and random ones are
// not.
func TestRatePassphrase(t *testing.T) {
	cases := []struct {
		pass   string
		want   Strength
		reason string // part of one piece of advice ("" for strong)
	}{
		{"password", Weak, "common password"},
		{"password123", Weak, "common password"},
		{"P@ssw0rd2024", Weak, "common password"},
		{"qwerty123456", Weak, "common password"},
		{"asdfghjkl;'", Weak, "sequence"},
		{"abcdefghijklmnop", Weak, "sequence"},
		{"aaaaaaaaaaaaaaaaaaaa", Weak, "repeated"},
		{"19870412kimchol", Weak, "dates"},
		{"Tr0ub4dor&3", Weak, ""},
		{"x7#Kq9", Weak, "6 characters"},
		{"사랑해요사랑해요", Weak, "common password"},
		{"봄날은 간다", Weak, "characters long"},
		{"ㅂㅈㄷㄱㅅㅛ1234", Weak, "sequence"},
		{"correct horse battery staple", Fair, ""},
		{"x7#Kq9!vLm2@", Fair, ""},
		{"correct horse battery staple ferry", Strong, ""},
		{"봄날은 간다 우리 마을 저녁 7시", Strong, ""},
		{"w9$Ra!2kP0zq#Lx7", Strong, ""},
	}
	for _, c := range cases {
		r := RatePassphrase(c.pass)
		if r.Strength != c.want {
			t.Errorf("%q: %s (%.1f bits), want %s; advice %q", c.pass, r.Strength, r.Bits, c.want, r.Advice)
			continue
		}
		if r.Strength == Strong {
			if len(r.Advice) != 0 {
				t.Errorf("%q: strong with advice %q", c.pass, r.Advice)
			}
			continue
		}
		if len(r.Advice) == 0 || (c.reason != "" && !strings.Contains(strings.Join(r.Advice, "\n"), c.reason)) {
			t.Errorf("%q: advice %q lacks %q", c.pass, r.Advice, c.reason)
		}
	}
	// The same passphrase typed composed or as conjoining jamo rates the
	// same (it unlocks the same library).
	if a, b := RatePassphrase("봄날은 간다 우리 마을"), RatePassphrase("\u1107\u1169\u11b7날은 간다 우리 마을"); a.Bits != b.Bits {
		t.Errorf("NFC: %.1f vs %.1f bits", a.Bits, b.Bits)
	}
	if r := RatePassphrase(""); r.Strength != Weak || r.Bits != 0 {
		t.Errorf("empty: %+v", r)
	}
}

func TestCheckSize(t *testing.T) {
	for _, n := range []int64{MinSize, 256 << 20, MaxSize} {
		if err := CheckSize(n); err != nil {
			t.Errorf("%d: %v", n, err)
		}
	}
	for _, n := range []int64{-1, 0, 2 << 20, MinSize - 1, MaxSize + 1} {
		if err := CheckSize(n); !errors.Is(err, ErrSize) {
			t.Errorf("%d: %v", n, err)
		}
	}
}

// FuzzRatePassphrase: any text rates without a panic, in bounded work, to
// a non-negative estimate; a passphrase of fewer than minRunes characters
// is always weak.
func FuzzRatePassphrase(f *testing.F) {
	for _, s := range []string{"password", "correct horse battery staple", "봄날은 간다 7시", "Tr0ub4dor&3", "ㅂㅈㄷㄱ", "\xff\xfe", "19870412"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := RatePassphrase(s)
		if r.Bits < 0 || r.Bits != r.Bits {
			t.Fatalf("bits %v", r.Bits)
		}
		if utf8.RuneCountInString(norm.NFC.String(s)) < minRunes && r.Strength != Weak {
			t.Fatalf("%q: %s", s, r.Strength)
		}
	})
}

func TestCheckContainer(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "c")
	if err := os.WriteFile(p, []byte("anything"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := CheckContainer(p); err != nil {
		t.Errorf("existing file: %v", err)
	}
	for _, bad := range []string{filepath.Join(dir, "missing"), dir} {
		if err := CheckContainer(bad); !errors.Is(err, ErrNotContainer) || !strings.Contains(err.Error(), bad) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
