//go:build !linux

package peer

import "os"

// copyRange copies n bytes at off in src to dst at at.
func copyRange(src *os.File, off int64, dst *os.File, at, n int64) error {
	return copyThrough(src, off, dst, at, n)
}
