//go:build !unix

package main

import "time"

var began = time.Now()

// cpuTime falls back to wall time where getrusage is missing.
func cpuTime() time.Duration { return time.Since(began) }

// peakRSSMB is unknown here.
func peakRSSMB() float64 { return 0 }
