//go:build unix

package fountain

import (
	"syscall"
	"time"
)

//lint:ignore U1000 used by measure_test.go (build tag measure)

// processCPU returns the CPU time the whole process has used (all threads,
// garbage collector included). Unlike wall time it does not grow while the
// process waits for a busy machine, which keeps paired comparisons fair.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
