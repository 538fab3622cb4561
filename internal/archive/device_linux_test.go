package archive

import (
	"syscall"
	"testing"
)

// TestDeviceMemoryLimit: the suggestion is at most a quarter of the
// memory, and an address-space limit (as `prlimit --as` sets) lowers it to
// a third of what is left.
func TestDeviceMemoryLimit(t *testing.T) {
	got := DeviceMemoryLimit()
	if total := meminfoTotal(); total > 0 && (got <= 0 || got > total/4) {
		t.Fatalf("suggested %d bytes with %d of memory", got, total)
	}
	t.Logf("suggested memory limit: %d MiB", got>>20)
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &old); err != nil {
		t.Skip(err)
	}
	lim := syscall.Rlimit{Cur: uint64(vmSize()) + 300<<20, Max: old.Max}
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
		t.Skipf("cannot lower RLIMIT_AS: %v", err)
	}
	under := DeviceMemoryLimit()
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &old); err != nil {
		t.Fatalf("restoring RLIMIT_AS: %v", err)
	}
	if under <= 0 || under > 100<<20 {
		t.Errorf("with 300 MiB of address space left: suggested %d MiB, want at most 100", under>>20)
	}
}
