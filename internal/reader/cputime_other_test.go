//go:build !unix

package reader

import "time"

// processCPU is not measured here: the cpu-µs metrics read 0.
func processCPU() time.Duration { return 0 }

// threadCPU is not measured here either: the benchmark's ratios read 0.
func threadCPU() time.Duration { return 0 }
