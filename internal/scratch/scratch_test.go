package scratch

import (
	"os"
	"testing"
)

func TestNothingLeft(t *testing.T) {
	dir := t.TempDir()
	f, err := New(dir, "x-*.tmp")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("spilled"); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 7)
	if _, err := f.ReadAt(b, 0); err != nil || string(b) != "spilled" {
		t.Fatalf("read back %q, %v", b, err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("%d files left in the folder after Close", len(left))
	}
}

func TestNewFails(t *testing.T) {
	if _, err := New(t.TempDir()+"/missing", "x-*"); err == nil {
		t.Fatal("a temporary file was made in a folder that does not exist")
	}
}
