//go:build unix

package cpuclock

import (
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Process returns the user and system time the process has used so far.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Thread returns the calling thread's CPU time, to the nanosecond
// (CLOCK_THREAD_CPUTIME_ID; getrusage's thread times count in ticks).
// Callers lock their goroutine to its thread around what they measure.
func Thread() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}
