// Package atomicfile writes files so that a crash, a power cut or a failed
// write leaves either the old file or the new one under the name, never a
// half: the bytes go to a temporary file beside the target, which is
// synced, closed, renamed over the target, and then the folder is synced so
// the rename itself survives a power cut (the order restic's local backend
// uses; the file is closed before the rename because Windows does not
// rename open files). Every ferry writer of files that matter — archives,
// library state, keys, inventories, broadcast state, scrubbed files — goes
// through this package.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// tempPattern names temporary files neutrally: a file left by a power cut
// says neither what it was for nor which file it would have replaced.
const tempPattern = ".tmp-*"

// File is a file being written; Commit puts it in place, Abort (or a failed
// Commit) removes it. A File is not safe for concurrent use.
type File struct {
	f       *os.File
	path    string
	perm    fs.FileMode
	modTime time.Time
	done    bool
}

// Create starts writing the file that will replace path (or create it).
// The folder must exist. The file gets mode 0o644 unless SetMode says
// otherwise.
func Create(path string) (*File, error) {
	f, err := os.CreateTemp(filepath.Dir(path), tempPattern)
	if err != nil {
		return nil, err
	}
	return &File{f: f, path: path, perm: 0o644}, nil
}

// SetMode sets the permissions the file will have.
func (f *File) SetMode(perm fs.FileMode) { f.perm = perm }

// SetModTime sets the modification (and access) time the file will have,
// e.g. the replaced file's own, so that a rewrite does not show when it
// happened.
func (f *File) SetModTime(t time.Time) { f.modTime = t }

// Write writes to the temporary file.
func (f *File) Write(p []byte) (int, error) { return f.f.Write(p) }

// Commit syncs and closes the file, renames it over the target and syncs
// the folder. On error the temporary file is removed and the target is
// left as it was (unless the error came from syncing the folder after the
// rename, when the new file is in place but may not survive a power cut).
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: file already committed or aborted")
	}
	f.done = true
	tmp := f.f.Name()
	err := f.f.Sync()
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, f.perm)
	}
	if err == nil && !f.modTime.IsZero() {
		err = os.Chtimes(tmp, f.modTime, f.modTime)
	}
	if err == nil {
		err = os.Rename(tmp, f.path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(filepath.Dir(f.path))
}

// Abort closes and removes the temporary file; the target is untouched.
// It does nothing after Commit, so it can be deferred.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.f.Close()
	os.Remove(f.f.Name())
}

// WriteFile replaces path with data, atomically and durably.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	f.SetMode(perm)
	if _, err := f.Write(data); err != nil {
		return err
	}
	return f.Commit()
}

// Write replaces path with what write writes (through a 1 MiB buffer),
// atomically and durably; if write fails, path is left as it was.
func Write(path string, perm fs.FileMode, write func(io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	f.SetMode(perm)
	bw := bufio.NewWriterSize(f, 1<<20)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Commit()
}

// ErrNotFolder reports a folder to write into that is a symbolic link (or
// a file): a card or a copied library may hold one leading elsewhere.
var ErrNotFolder = errors.New("not a real folder (a link?); refusing to write through it")

// MkdirReal makes the folder dir (and its parents) if missing, then checks
// that dir itself is a folder and not a symbolic link to one: what is
// written into a card's folders must land on the card.
func MkdirReal(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s: %w", dir, ErrNotFolder)
	}
	return nil
}
