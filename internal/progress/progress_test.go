package progress

import (
	"bytes"
	"strings"
	"testing"
)

func TestPlainLines(t *testing.T) {
	var buf bytes.Buffer
	b := NewTo(&buf, false, "packing", true)
	b.Update(500, 1000)
	b.Done()
	out := buf.String()
	if !strings.Contains(out, "packing") || !strings.Contains(out, "50%") || strings.Contains(out, "\r") {
		t.Fatalf("plain output %q", out)
	}
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{999: "999 B", 1500: "1.5 kB", 2_500_000: "2.5 MB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
