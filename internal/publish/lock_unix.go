//go:build unix

package publish

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDir takes the channel's lock in its state folder without waiting: one
// publish of a channel at a time per state folder (the harvester's state
// and the work files are not shared). The lock ends with the process.
func lockDir(dir string) (func(), error) {
	path := filepath.Join(dir, "lock")
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(fh.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if errors.Is(err, syscall.EWOULDBLOCK) {
		fh.Close()
		return nil, fmt.Errorf("%w (%s is locked); wait for it to end", ErrLocked, path)
	}
	if err != nil {
		fh.Close()
		return nil, err
	}
	return func() { fh.Close() }, nil
}
