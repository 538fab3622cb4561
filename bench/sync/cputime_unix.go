//go:build unix

package main

import (
	"syscall"
	"time"
)

// cpuSelf is this process's user and system time.
func cpuSelf() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
