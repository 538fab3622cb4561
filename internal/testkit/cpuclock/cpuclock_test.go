package cpuclock

import (
	"runtime"
	"testing"
)

// TestClocksAdvance: spinning moves both clocks forward where they exist.
func TestClocksAdvance(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no CPU clock read on this platform")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p0, t0 := Process(), Thread()
	x := 0
	for i := 0; i < 50_000_000; i++ {
		x += i ^ x
	}
	if x == 42 {
		t.Log(x)
	}
	if Process() <= p0 || Thread() <= t0 {
		t.Errorf("clocks did not advance: process %v -> %v, thread %v -> %v", p0, Process(), t0, Thread())
	}
}
