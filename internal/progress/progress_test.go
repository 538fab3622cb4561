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

// TestPerSecond: slow steps show a rate that is not 0.
func TestPerSecond(t *testing.T) {
	for rate, want := range map[float64]string{1445: "1445/s", 12.4: "12/s", 2.25: "2.2/s", 0.31: "18.6/min", 0.004: "0.2/min"} {
		if got := perSecond(rate); got != want {
			t.Errorf("perSecond(%v) = %q, want %q", rate, got, want)
		}
	}
}
