package seal

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Checks a command can make before it asks for passphrases, so that a
// wrong size or a missing file is reported at once instead of after the
// user typed a passphrase (and waited for the key derivation).

// CheckSize reports whether Create accepts a container of n bytes, with
// the same error Create would give (wrapping ErrSize).
func CheckSize(n int64) error {
	if n < MinSize || n > MaxSize {
		return fmt.Errorf("a %d-byte container: %w (between %d and %d bytes)", n, ErrSize, int64(MinSize), int64(MaxSize))
	}
	return nil
}

// ErrNotContainer means a path names no file that could be a container: it
// is missing, or a folder or device.
var ErrNotContainer = errors.New("seal: not a container file")

// CheckContainer reports whether path names an existing regular file that
// Unlock could open. It says nothing about whether the file is a container:
// that, by design, only a passphrase shows (a file too small to be one
// still fails only at Unlock, after the usual key derivation).
func CheckContainer(path string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %w: no such file", path, ErrNotContainer)
	case err != nil:
		return fmt.Errorf("%s: %w", path, err)
	case !st.Mode().IsRegular():
		return fmt.Errorf("%s: %w: it is a %s", path, ErrNotContainer, kindOf(st.Mode()))
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Close()
}

func kindOf(m fs.FileMode) string {
	if m.IsDir() {
		return "folder"
	}
	return "special file"
}
