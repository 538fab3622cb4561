package seal

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync"
	"testing"
)

// TestMain makes the key derivation cheap for every test. Benchmarks of the
// key derivation set the production parameters themselves.
func TestMain(m *testing.M) {
	kdfParams.time, kdfParams.memKiB, kdfParams.threads = 1, 64, 1
	os.Exit(m.Run())
}

// memStore is a container in memory.
type memStore struct {
	mu sync.Mutex
	b  []byte
	// failAt makes the failAt-th WriteAt (1-based) write half its bytes and
	// fail, and every later write fail: a crash. 0 disables.
	failAt, writes int
}

var errCrash = errors.New("simulated crash")

func (m *memStore) ReadAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if off < 0 || off >= int64(len(m.b)) {
		return 0, io.EOF
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (m *memStore) WriteAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if off < 0 || off+int64(len(p)) > int64(len(m.b)) {
		return 0, errors.New("memStore: write outside the container")
	}
	m.writes++
	if m.failAt > 0 && m.writes >= m.failAt {
		if m.writes == m.failAt {
			copy(m.b[off:], p[:len(p)/2])
		}
		return 0, errCrash
	}
	return copy(m.b[off:], p), nil
}

func (m *memStore) Sync() error { return nil }

// Close does nothing: several Volumes share one memStore in tests.
func (m *memStore) Close() error { return nil }

// snapshot copies the bytes into a fresh store.
func (m *memStore) snapshot() *memStore {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &memStore{b: bytes.Clone(m.b)}
}

func newMem(t testing.TB, size int64, outer, hidden string) *memStore {
	t.Helper()
	m := &memStore{b: make([]byte, size)}
	if err := create(m, size, outer, hidden); err != nil {
		t.Fatal(err)
	}
	return m
}

func unlockMem(m *memStore, pass string) (*Volume, error) {
	return unlock(m, int64(len(m.b))/BlockSize, m.b[:saltSize:saltSize], pass)
}

func unlockBothMem(m *memStore, outer, hidden string) (*Volume, error) {
	return unlockBoth(m, int64(len(m.b))/BlockSize, m.b[:saltSize:saltSize], outer, hidden)
}

func mustUnlock(t testing.TB, m *memStore, pass string) *Volume {
	t.Helper()
	v, err := unlockMem(m, pass)
	if err != nil {
		t.Fatalf("unlock: %v", err)
	}
	return v
}

func mustAdd(t testing.TB, v *Volume, name string, data []byte) {
	t.Helper()
	if err := v.Add(name, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("add %s: %v", name, err)
	}
}

// readAll reads a stored file through ReadAt in uneven pieces.
func readAll(v *Volume, name string) ([]byte, error) {
	ra, size, err := v.Open(name)
	if err != nil {
		return nil, err
	}
	out := make([]byte, size)
	step := 40000
	for off := 0; off < len(out); off += step {
		end := min(off+step, len(out))
		n, err := ra.ReadAt(out[off:end], int64(off))
		if n != end-off {
			return nil, err
		}
		if err != nil && !(err == io.EOF && end == len(out)) {
			return nil, err
		}
	}
	return out, nil
}

// pseudo returns n deterministic non-random-looking bytes (text-like), so
// that structure in the plaintext would show if it leaked.
func pseudo(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = "abcdefgh ijklmnop\n"[(i+int(seed))%18]
	}
	return b
}
