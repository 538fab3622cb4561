//go:build unix

package search

import "syscall"

// cpuSeconds is the process's user+system CPU time, so that benchmarks can
// report CPU cost per operation even on a machine shared with other work.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
