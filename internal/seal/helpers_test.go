package seal

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
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
	if err := create(context.Background(), m, size, outer, hidden); err != nil {
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

// ownFiles returns content of our own making, of the kinds and sizes a
// library holds, built from the pages of ferry's built-in sample library
// (internal/sample/content, written for ferry): a JSON of questions and
// answers (about 1.5 MiB, several hundred blocks' worth of text), an EPUB
// (a ZIP of the pages, partly deflated), Korean text, and a gzip stream
// (random-looking bytes).
func ownFiles(t testing.TB) map[string][]byte {
	t.Helper()
	ownOnce.Do(func() { ownData, ownErr = makeOwnFiles() })
	if ownErr != nil {
		t.Fatal(ownErr)
	}
	out := make(map[string][]byte, len(ownData))
	for k, v := range ownData {
		out[k] = v
	}
	return out
}

var (
	ownOnce sync.Once
	ownData map[string][]byte
	ownErr  error
)

func makeOwnFiles() (map[string][]byte, error) {
	root := filepath.Join("..", "sample", "content")
	pages := map[string][]byte{}
	var names []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		pages[filepath.ToSlash(rel)] = b
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sample library: %w", err)
	}
	if len(names) < 10 {
		return nil, fmt.Errorf("sample library in %s: only %d files", root, len(names))
	}
	sort.Strings(names)
	out := map[string][]byte{}

	var ko bytes.Buffer
	for _, n := range names {
		if strings.HasPrefix(n, "ko/") {
			ko.Write(pages[n])
		}
	}
	out["law.txt"] = ko.Bytes()

	type qa struct {
		ID       int    `json:"id"`
		Page     string `json:"page"`
		Question string `json:"question"`
		Context  string `json:"context"`
	}
	var recs []qa
	for i := 0; len(recs) == 0 || len(recs[len(recs)-1].Context)*len(recs) < 1500<<10; i++ {
		n := names[i%len(names)]
		if !strings.HasSuffix(n, ".html") {
			continue
		}
		recs = append(recs, qa{ID: i, Page: n, Question: fmt.Sprintf("What does page %s say (%d)?", n, i), Context: string(pages[n])})
	}
	js, err := json.Marshal(recs)
	if err != nil {
		return nil, err
	}
	out["answers.json"] = js

	var book bytes.Buffer
	zw := zip.NewWriter(&book)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			return nil, err
		}
		w.Write(pages[n])
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	out["book.epub"] = book.Bytes()

	var gz bytes.Buffer
	gw := gzip.NewWriter(&gz)
	for _, n := range names {
		gw.Write(pages[n])
	}
	gw.Close()
	out["site.gz"] = gz.Bytes()
	return out, nil
}
