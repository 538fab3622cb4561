//go:build windows

package store

import (
	"errors"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// lockFile takes an exclusive LockFileEx lock on path (created if needed),
// waiting for it, and returns the function that releases it.
func lockFile(path string) (func(), error) {
	fh, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	ol := new(windows.Overlapped)
	if err := windows.LockFileEx(windows.Handle(fh.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK, 0, 1, 0, ol); err != nil {
		fh.Close()
		return nil, err
	}
	return func() {
		windows.UnlockFileEx(windows.Handle(fh.Fd()), 0, 1, 0, ol)
		fh.Close()
	}, nil
}

// syncDir is a no-op: Windows cannot open a folder to flush it, and NTFS
// journals the rename itself.
func syncDir(string) error { return nil }

func identity(fh *os.File, fi fs.FileInfo) (fileID, error) {
	var d windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(windows.Handle(fh.Fd()), &d); err != nil {
		return fileID{}, err
	}
	return fileID{
		dev:   uint64(d.VolumeSerialNumber),
		ino:   uint64(d.FileIndexHigh)<<32 | uint64(d.FileIndexLow),
		size:  fi.Size(),
		mtime: fi.ModTime().UnixNano(),
	}, nil
}

func isENOTDIR(err error) bool {
	return errors.Is(err, windows.ERROR_PATH_NOT_FOUND) || errors.Is(err, windows.ERROR_DIRECTORY)
}
