//go:build unix

package release

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"ferry/internal/key"
)

// TestFIFOList: a FIFO named programs.sha256 on a card is refused at once
// instead of blocking the import (and the library's lock) forever.
func TestFIFOList(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, ListFile), 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	os.WriteFile(filepath.Join(dir, SigFile), []byte(sigHead+"\n"), 0o644)
	done := make(chan error, 1)
	go func() {
		_, err := Verify(dir, func([]key.Public, map[string]json.RawMessage) bool { return true })
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, ErrList) {
			t.Errorf("a FIFO as the list: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Verify blocks on a FIFO")
	}
}
