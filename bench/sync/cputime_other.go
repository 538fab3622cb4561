//go:build !unix

package main

import "time"

var began = time.Now()

// cpuSelf falls back to wall time where getrusage is missing.
func cpuSelf() time.Duration { return time.Since(began) }
