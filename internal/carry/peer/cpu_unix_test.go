//go:build unix && measure

package peer

import (
	"syscall"
	"time"
)

// cpuNow is this process's user and system time.
func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
