package main

import (
	"strings"
	"testing"
)

// TestPackMemoryLimit: ferry pack --memory takes a size, "off" or nothing
// (the 128 MiB default, or none when GOMEMLIMIT is set: the runtime keeps
// that one), and refuses a size too small to pack or one it cannot read.
func TestPackMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"", 128 << 20}, {"off", 0}, {"OFF", 0}, {"0", 0}, {"512MiB", 512 << 20}, {"64MiB", 64 << 20},
	} {
		got, err := packMemoryLimit(c.in)
		if err != nil || got != c.want {
			t.Errorf("--memory %q: %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"63MiB", "lots", "-5MiB"} {
		if _, err := packMemoryLimit(bad); err == nil || !strings.Contains(err.Error(), "--memory") {
			t.Errorf("--memory %q: error %v, want one naming --memory", bad, err)
		}
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	if got, err := packMemoryLimit(""); err != nil || got != 0 {
		t.Errorf("with GOMEMLIMIT set: %d, %v; want 0 (the runtime's limit stays)", got, err)
	}
}
