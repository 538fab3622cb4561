//go:build windows

package publish

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// lockDir takes the channel's lock in its state folder without waiting: one
// publish of a channel at a time per state folder. The lock ends with the
// process.
func lockDir(dir string) (func(), error) {
	path := filepath.Join(dir, "lock")
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	ol := new(windows.Overlapped)
	err = windows.LockFileEx(windows.Handle(fh.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		fh.Close()
		return nil, fmt.Errorf("%w (%s is locked); wait for it to end", ErrLocked, path)
	}
	if err != nil {
		fh.Close()
		return nil, err
	}
	return func() {
		windows.UnlockFileEx(windows.Handle(fh.Fd()), 0, 1, 0, ol)
		fh.Close()
	}, nil
}
