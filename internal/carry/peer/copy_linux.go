//go:build linux

package peer

import (
	"os"

	"golang.org/x/sys/unix"
)

// copyRange copies n bytes at off in src to dst at at, inside the kernel
// where it can (copy_file_range), else through memory.
func copyRange(src *os.File, off int64, dst *os.File, at, n int64) error {
	for n > 0 {
		k, err := unix.CopyFileRange(int(src.Fd()), &off, int(dst.Fd()), &at, int(n), 0)
		if err != nil || k == 0 {
			return copyThrough(src, off, dst, at, n)
		}
		n -= int64(k)
	}
	return nil
}
