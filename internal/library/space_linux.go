//go:build linux

package library

import (
	"os"

	"golang.org/x/sys/unix"
)

func dropCacheOS(f *os.File) { _ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED) }
