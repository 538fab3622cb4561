//go:build !unix

package cpuclock

import "time"

// began stands in for a process start where no CPU clock is read.
var began = time.Now()

// Process falls back to the wall time since the package was loaded: this
// platform's CPU clocks are not read here.
func Process() time.Duration { return time.Since(began) }

// Thread falls back to wall time, as Process does.
func Thread() time.Duration { return time.Since(began) }
