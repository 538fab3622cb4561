package store_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ferry/internal/store"
)

func newFolder(t *testing.T) store.Store {
	s, err := store.NewFolder(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFolderConformance(t *testing.T) { conformance(t, newFolder) }

func TestFolderPlainFiles(t *testing.T) {
	dir := t.TempDir()
	s, err := store.NewFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	info := mustPut(t, s, "news-ko/editions/00001.ferry", "edition one")
	// The object is an ordinary file, and its ETag is its SHA-256.
	b, err := os.ReadFile(filepath.Join(dir, "news-ko", "editions", "00001.ferry"))
	if err != nil || string(b) != "edition one" {
		t.Fatalf("file: %q, %v", b, err)
	}
	sum := sha256.Sum256(b)
	if info.ETag != hex.EncodeToString(sum[:]) {
		t.Errorf("ETag %s, want the SHA-256 %x", info.ETag, sum)
	}
	// A file changed by hand gets a new ETag although the cache has the
	// old one.
	p := filepath.Join(dir, "news-ko", "editions", "00001.ferry")
	if err := os.WriteFile(p, []byte("edition 1!!"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := s.Stat(ctx, "news-ko/editions/00001.ferry")
	sum = sha256.Sum256([]byte("edition 1!!"))
	if err != nil || st.ETag != hex.EncodeToString(sum[:]) {
		t.Errorf("after a hand edit: %+v, %v; want ETag %x", st, err, sum)
	}
	// Files put there by hand with names that are not keys are left out.
	os.WriteFile(filepath.Join(dir, "news-ko", "notes about it.txt"), []byte("x"), 0o644)
	os.WriteFile(filepath.Join(dir, ".DS_Store"), []byte("x"), 0o644)
	var keys []string
	s.List(ctx, "", func(i store.Info) error { keys = append(keys, i.Key); return nil })
	if !slices.Equal(keys, []string{"news-ko/editions/00001.ferry"}) {
		t.Errorf("List = %q", keys)
	}
}

func TestFolderKeyConflict(t *testing.T) {
	s := newFolder(t)
	mustPut(t, s, "a", "file")
	if _, err := put(t, s, "a/b", "x", store.Cond{}); err == nil {
		t.Error("put a/b over the object a")
	}
	mustPut(t, s, "c/d", "x")
	if _, err := put(t, s, "c", "x", store.Cond{}); err == nil {
		t.Error("put c over the keys under c/")
	}
	if _, err := put(t, s, "c", "x", store.Cond{IfNoneMatch: true}); err == nil {
		t.Error("create c over the keys under c/")
	}
	if got, _ := get(t, s, "a"); got != "file" {
		t.Errorf("a = %q", got)
	}
}

// A writer that died mid-upload leaves only a file under .ferry-store/tmp: it
// is never listed, and NewFolder removes it once it is a day old.
func TestFolderCrashedUpload(t *testing.T) {
	dir := t.TempDir()
	s, err := store.NewFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, ".ferry-store", "tmp")
	fresh := filepath.Join(tmp, "up-fresh")
	old := filepath.Join(tmp, "up-old")
	for _, p := range []string{fresh, old} {
		if err := os.WriteFile(p, []byte("half an edition"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-25 * time.Hour)
	os.Chtimes(old, past, past)
	n := 0
	s.List(ctx, "", func(store.Info) error { n++; return nil })
	if n != 0 {
		t.Errorf("List shows %d objects", n)
	}
	if _, err := store.NewFolder(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale upload not removed: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh upload (maybe still running) was removed: %v", err)
	}
}

func TestFolderOpenErrors(t *testing.T) {
	if _, err := store.NewFolder(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("missing folder accepted")
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := store.NewFolder(f); err == nil {
		t.Error("a file accepted as a store folder")
	}
	for _, loc := range []string{"ftp://x/y", "s3://", "s3://bucket/p?x=1"} {
		if _, err := store.Open(ctx, loc, store.Options{}); err == nil {
			t.Errorf("Open(%q) accepted", loc)
		}
	}
	if s, err := store.Open(ctx, t.TempDir(), store.Options{}); err != nil || s == nil {
		t.Errorf("Open(folder): %v", err)
	}
}

// The processes variant of the race tests: separate processes (this test
// binary, started again) share one folder store.

const helperEnv = "FERRY_STORE_TEST_HELPER"

func TestMain(m *testing.M) {
	if job := os.Getenv(helperEnv); job != "" {
		os.Exit(helper(job))
	}
	os.Exit(m.Run())
}

// helper runs one worker: "create DIR KEY ID" or "index DIR KEY ID N".
func helper(job string) int {
	f := strings.Fields(job)
	s, err := store.NewFolder(f[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	switch f[0] {
	case "create":
		data := strings.Repeat("process "+f[3]+" ", 1000)
		_, err := s.Put(ctx, f[2], strings.NewReader(data), int64(len(data)), store.Cond{IfNoneMatch: true})
		switch {
		case err == nil:
			return 0
		case errors.Is(err, store.ErrExists):
			return 1
		}
		fmt.Fprintln(os.Stderr, err)
		return 2
	case "index":
		n, _ := strconv.Atoi(f[4])
		for i := range n {
			if err := addToIndex(s, f[2], fmt.Sprintf("p%s-%d", f[3], i)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 2
			}
		}
		return 0
	}
	return 2
}

func startHelpers(t *testing.T, jobs []string) []*exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		t.Skipf("cannot start this test binary again: %v", err)
	}
	var cmds []*exec.Cmd
	for _, job := range jobs {
		c := exec.Command(exe, "-test.run=^$")
		c.Env = append(os.Environ(), helperEnv+"="+job)
		c.Stderr = os.Stderr
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	return cmds
}

func TestFolderProcessesRaceCreate(t *testing.T) {
	dir := t.TempDir()
	if _, err := store.NewFolder(dir); err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		key := fmt.Sprintf("race/edition-%d", round)
		var jobs []string
		for p := range 4 {
			jobs = append(jobs, fmt.Sprintf("create %s %s %d", dir, key, p))
		}
		winners := 0
		winner := ""
		for p, c := range startHelpers(t, jobs) {
			err := c.Wait()
			var ee *exec.ExitError
			switch {
			case err == nil:
				winners++
				winner = strconv.Itoa(p)
			case errors.As(err, &ee) && ee.ExitCode() == 1:
				// lost the race with ErrExists
			default:
				t.Errorf("process %d: %v", p, err)
			}
		}
		if winners != 1 {
			t.Fatalf("round %d: %d processes created %s, want exactly 1", round, winners, key)
		}
		s, _ := store.NewFolder(dir)
		if got, _ := get(t, s, key); got != strings.Repeat("process "+winner+" ", 1000) {
			t.Errorf("round %d: stored bytes are not the winner's", round)
		}
	}
}

func TestFolderProcessesRaceIndex(t *testing.T) {
	dir := t.TempDir()
	if _, err := store.NewFolder(dir); err != nil {
		t.Fatal(err)
	}
	const procs, each = 4, 25
	var jobs []string
	for p := range procs {
		jobs = append(jobs, fmt.Sprintf("index %s race/index.json %d %d", dir, p, each))
	}
	for p, c := range startHelpers(t, jobs) {
		if err := c.Wait(); err != nil {
			t.Errorf("process %d: %v", p, err)
		}
	}
	s, _ := store.NewFolder(dir)
	data, _ := get(t, s, "race/index.json")
	n := strings.Count(data, `"p`)
	if n != procs*each {
		t.Errorf("index has %d entries, want %d", n, procs*each)
	}
}

// TestFolderOpenFile: the file of a key, as stored; nothing for a key not
// there or not valid.
func TestFolderOpenFile(t *testing.T) {
	f := newFolder(t).(*store.Folder)
	if _, err := f.Put(ctx, "a/b.ferry", strings.NewReader("hello"), 5, store.Cond{}); err != nil {
		t.Fatal(err)
	}
	fh, info, err := f.OpenFile(ctx, "a/b.ferry")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(fh)
	fh.Close()
	if string(b) != "hello" || info.Size != 5 || info.Key != "a/b.ferry" {
		t.Fatalf("%q %+v", b, info)
	}
	for _, k := range []string{"a/c.ferry", "a", "../x", ".ferry-store/tmp"} {
		if fh, _, err := f.OpenFile(ctx, k); err == nil {
			fh.Close()
			t.Errorf("%s opened", k)
		}
	}
}
