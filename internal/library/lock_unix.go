//go:build unix

package library

import (
	"os"
	"syscall"
)

// lockDir takes an exclusive advisory lock on the folder dir, waiting for
// another holder to finish. The lock is released by unlock or when the
// process ends, and leaves no file behind.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return func() { syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
