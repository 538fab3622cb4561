//go:build unix

package library

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestImportFIFO: a FIFO named *.ferry on a card is refused, not waited on.
func TestImportFIFO(t *testing.T) {
	card := t.TempDir()
	p := filepath.Join(card, "x.ferry")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	l, _ := Load(t.TempDir(), true)
	done := make(chan error, 1)
	go func() {
		paths, _ := filepath.Glob(filepath.Join(card, "*.ferry"))
		_, err := l.AddFiles(context.Background(), paths, AddOptions{})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a FIFO was imported")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("import blocked on a FIFO")
	}
}
