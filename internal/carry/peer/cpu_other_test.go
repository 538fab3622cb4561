//go:build !unix && measure

package peer

import "time"

var began = time.Now()

// cpuNow falls back to wall time where getrusage is missing.
func cpuNow() time.Duration { return time.Since(began) }
