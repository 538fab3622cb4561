package seal

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestIndependentReader has testdata/sealcheck.py, a second implementation
// written from docs/seal.md alone, read a container written by this package
// with the production key derivation. Skipped without python3 and its
// cryptography package.
func TestIndependentReader(t *testing.T) {
	if err := exec.Command("python3", "-c", "from cryptography.hazmat.primitives.kdf.argon2 import Argon2id").Run(); err != nil {
		t.Skip("python3 with the cryptography package (>= 44) not available")
	}
	law := ownFiles(t)["law.txt"]
	saved := kdfParams
	kdfParams.time, kdfParams.memKiB, kdfParams.threads = KDFTime, KDFMemoryKiB, KDFThreads
	defer func() { kdfParams = saved }()
	dir := t.TempDir()
	path := filepath.Join(dir, "c")
	if err := Create(context.Background(), path, MinSize, outerPass, hiddenPass); err != nil {
		t.Fatal(err)
	}
	v, err := Unlock(path, hiddenPass)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{"법.txt": law, "big": pseudo(2*payloadSize+77, 3), "empty": nil}
	for n, b := range want {
		mustAdd(t, v, n, b)
	}
	v.Close()
	out := filepath.Join(dir, "out")
	os.Mkdir(out, 0o700)
	cmd := exec.Command("python3", "testdata/sealcheck.py", path, hiddenPass, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sealcheck.py: %v\n%s", err, b)
	}
	for n, b := range want {
		got, err := os.ReadFile(filepath.Join(out, n))
		if err != nil || !bytes.Equal(got, b) {
			t.Errorf("%s: independent reader got %d bytes (%v), want %d", n, len(got), err, len(b))
		}
	}
	// A wrong passphrase opens nothing there either.
	err = exec.Command("python3", "testdata/sealcheck.py", path, "wrong", out).Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("wrong passphrase: %v", err)
	}
}
