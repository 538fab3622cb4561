package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"ferry/internal/store"
)

// conformance runs the same checks on any Store: each backend's test calls it
// with a function that gives a fresh, empty store.
func conformance(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"PutGet", testPutGet},
		{"NotFound", testNotFound},
		{"Range", testRange},
		{"Empty", testEmpty},
		{"CreateIfAbsent", testCreateIfAbsent},
		{"ReplaceIfMatch", testReplaceIfMatch},
		{"ShortReader", testShortReader},
		{"FailedUploadInvisible", testFailedUploadInvisible},
		{"CancelledPut", testCancelledPut},
		{"LargeConditional", testLargeConditional},
		{"List", testList},
		{"Delete", testDelete},
		{"InvalidKeys", testInvalidKeys},
		{"RaceCreate", testRaceCreate},
		{"RaceCreateLarge", testRaceCreateLarge},
		{"RaceIndex", testRaceIndex},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var ctx = context.Background()

func put(t *testing.T, s store.Store, key, data string, cond store.Cond) (store.Info, error) {
	t.Helper()
	return s.Put(ctx, key, strings.NewReader(data), int64(len(data)), cond)
}

func mustPut(t *testing.T, s store.Store, key, data string) store.Info {
	t.Helper()
	info, err := put(t, s, key, data, store.Cond{})
	if err != nil {
		t.Fatalf("Put %s: %v", key, err)
	}
	return info
}

func get(t *testing.T, s store.Store, key string) (string, store.Info) {
	t.Helper()
	rc, info, err := s.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get %s: %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s: %v", key, err)
	}
	return string(b), info
}

func testPutGet(t *testing.T, s store.Store) {
	data := "한국어 text\x00\xff binary"
	pi := mustPut(t, s, "news-ko/editions/00001.ferry", data)
	if pi.ETag == "" || pi.Size != int64(len(data)) || pi.Key != "news-ko/editions/00001.ferry" {
		t.Errorf("Put info = %+v", pi)
	}
	got, gi := get(t, s, "news-ko/editions/00001.ferry")
	if got != data {
		t.Errorf("Get = %q, want %q", got, data)
	}
	if gi.ETag != pi.ETag || gi.Size != pi.Size {
		t.Errorf("Get info %+v, Put info %+v", gi, pi)
	}
	si, err := s.Stat(ctx, "news-ko/editions/00001.ferry")
	if err != nil || si.ETag != pi.ETag || si.Size != pi.Size || si.ModTime.IsZero() {
		t.Errorf("Stat = %+v, %v; Put info %+v", si, err, pi)
	}
	// Same content, same ETag; different content, different ETag.
	again := mustPut(t, s, "other", data)
	if again.ETag != pi.ETag {
		t.Errorf("same content, ETags %q and %q", again.ETag, pi.ETag)
	}
	diff := mustPut(t, s, "other", data+"!")
	if diff.ETag == pi.ETag {
		t.Error("different content, same ETag")
	}
}

func testNotFound(t *testing.T, s store.Store) {
	if _, _, err := s.Get(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get missing: %v", err)
	}
	if _, _, err := s.GetRange(ctx, "dir/missing", 5, 5); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRange missing: %v", err)
	}
	if _, err := s.Stat(ctx, "missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Stat missing: %v", err)
	}
	if err := s.Delete(ctx, "missing"); err != nil {
		t.Errorf("Delete missing: %v", err)
	}
	// A key that is only a "folder" of other keys is not an object.
	mustPut(t, s, "d/x", "1")
	if _, err := s.Stat(ctx, "d"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Stat of a key's parent: %v", err)
	}
}

func testRange(t *testing.T, s store.Store) {
	var b strings.Builder
	for i := range 1000 {
		b.WriteByte(byte('a' + i%26))
	}
	data := b.String()
	pi := mustPut(t, s, "r", data)
	cases := []struct {
		off, n int64
		want   string
	}{
		{0, -1, data},
		{10, 20, data[10:30]},
		{0, 1, data[:1]},
		{990, 100, data[990:]}, // cut at the end
		{500, -1, data[500:]},
		{999, -1, data[999:]},
		{1000, -1, ""}, // at the very end: empty, like a file
		{1000, 5, ""},
		{3, 0, ""},
	}
	for _, c := range cases {
		rc, info, err := s.GetRange(ctx, "r", c.off, c.n)
		if err != nil {
			t.Errorf("GetRange(%d, %d): %v", c.off, c.n, err)
			continue
		}
		got, err := io.ReadAll(rc)
		rc.Close()
		if err != nil || string(got) != c.want {
			t.Errorf("GetRange(%d, %d) = %d bytes %q…, %v; want %d bytes", c.off, c.n, len(got), trunc(got), err, len(c.want))
		}
		if info.Size != 1000 || info.ETag != pi.ETag {
			t.Errorf("GetRange(%d, %d) info = %+v, want size 1000 etag %s", c.off, c.n, info, pi.ETag)
		}
	}
	for _, off := range []int64{1001, 5000} {
		if _, _, err := s.GetRange(ctx, "r", off, 1); !errors.Is(err, store.ErrRange) {
			t.Errorf("GetRange(%d, 1) past the end: %v", off, err)
		}
	}
	if _, _, err := s.GetRange(ctx, "r", -1, 1); err == nil {
		t.Error("negative offset accepted")
	}
}

func trunc(b []byte) []byte {
	if len(b) > 20 {
		return b[:20]
	}
	return b
}

func testEmpty(t *testing.T, s store.Store) {
	info := mustPut(t, s, "empty", "")
	if info.Size != 0 {
		t.Errorf("size %d", info.Size)
	}
	if got, gi := get(t, s, "empty"); got != "" || gi.Size != 0 || gi.ETag != info.ETag {
		t.Errorf("Get empty = %q, %+v", got, gi)
	}
	rc, _, err := s.GetRange(ctx, "empty", 0, -1)
	if err != nil {
		t.Fatalf("GetRange empty: %v", err)
	}
	rc.Close()
}

func testCreateIfAbsent(t *testing.T, s store.Store) {
	first, err := put(t, s, "ch/editions/00042.ferry", "first", store.Cond{IfNoneMatch: true})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	_, err = put(t, s, "ch/editions/00042.ferry", "second", store.Cond{IfNoneMatch: true})
	if !errors.Is(err, store.ErrExists) || !errors.Is(err, store.ErrPreconditionFailed) {
		t.Fatalf("second create: %v, want ErrExists (an ErrPreconditionFailed)", err)
	}
	if got, info := get(t, s, "ch/editions/00042.ferry"); got != "first" || info.ETag != first.ETag {
		t.Errorf("after a failed create: %q", got)
	}
	// Both conditions at once make no sense.
	if _, err := put(t, s, "x", "x", store.Cond{IfNoneMatch: true, IfMatch: first.ETag}); err == nil {
		t.Error("both conditions accepted")
	}
}

func testReplaceIfMatch(t *testing.T, s store.Store) {
	v1 := mustPut(t, s, "index.json", `{"v":1}`)
	v2, err := put(t, s, "index.json", `{"v":2}`, store.Cond{IfMatch: v1.ETag})
	if err != nil {
		t.Fatalf("replace with the current ETag: %v", err)
	}
	if v2.ETag == v1.ETag {
		t.Error("ETag unchanged by a replace")
	}
	_, err = put(t, s, "index.json", `{"v":3}`, store.Cond{IfMatch: v1.ETag})
	if !errors.Is(err, store.ErrPreconditionFailed) || errors.Is(err, store.ErrExists) {
		t.Errorf("replace with a stale ETag: %v, want ErrPreconditionFailed", err)
	}
	if got, _ := get(t, s, "index.json"); got != `{"v":2}` {
		t.Errorf("after a failed replace: %q", got)
	}
	_, err = put(t, s, "never-was", "x", store.Cond{IfMatch: v1.ETag})
	if !errors.Is(err, store.ErrPreconditionFailed) {
		t.Errorf("replace of an absent key: %v, want ErrPreconditionFailed", err)
	}
	if _, err := s.Stat(ctx, "never-was"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("failed replace created the key: %v", err)
	}
}

func testShortReader(t *testing.T, s store.Store) {
	_, err := s.Put(ctx, "short", strings.NewReader("only 17 bytes ..."), 100, store.Cond{})
	if err == nil {
		t.Fatal("Put with a short reader succeeded")
	}
	if _, err := s.Stat(ctx, "short"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a short upload is visible: %v", err)
	}
	mustPut(t, s, "keep", "old")
	if _, err := s.Put(ctx, "keep", strings.NewReader("new"), 10, store.Cond{}); err == nil {
		t.Fatal("short overwrite succeeded")
	}
	if got, _ := get(t, s, "keep"); got != "old" {
		t.Errorf("a failed overwrite changed the object: %q", got)
	}
}

// failingReader gives n bytes, then an error, like a source that breaks off.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("source broke off")
	}
	p = p[:min(len(p), f.n)]
	for i := range p {
		p[i] = byte(i)
	}
	f.n -= len(p)
	return len(p), nil
}

func testFailedUploadInvisible(t *testing.T, s store.Store) {
	// 12 MiB fails at 8 MiB: past the first part of a multipart upload.
	const size = 12 << 20
	_, err := s.Put(ctx, "big", &failingReader{n: 8 << 20}, size, store.Cond{})
	if err == nil {
		t.Fatal("Put from a failing reader succeeded")
	}
	if _, err := s.Stat(ctx, "big"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed upload is visible: %v", err)
	}
	n := 0
	s.List(ctx, "", func(store.Info) error { n++; return nil })
	if n != 0 {
		t.Errorf("List shows %d objects after a failed upload", n)
	}
}

func testCancelledPut(t *testing.T, s store.Store) {
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Put(c, "cancelled", strings.NewReader("x"), 1, store.Cond{}); err == nil {
		t.Error("Put with a cancelled context succeeded")
	}
	if _, err := s.Stat(ctx, "cancelled"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("cancelled Put is visible: %v", err)
	}
}

func testLargeConditional(t *testing.T, s store.Store) {
	// Large enough for a multipart upload on S3 (the test store's part
	// size is 5 MiB): the condition must hold there too.
	big := bytes.Repeat([]byte("0123456789abcdef"), 11<<20/16)
	first, err := s.Put(ctx, "large", bytes.NewReader(big), int64(len(big)), store.Cond{IfNoneMatch: true})
	if err != nil {
		t.Fatalf("large create: %v", err)
	}
	other := bytes.Repeat([]byte("x"), len(big))
	if _, err := s.Put(ctx, "large", bytes.NewReader(other), int64(len(other)), store.Cond{IfNoneMatch: true}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second large create: %v, want ErrExists", err)
	}
	if _, err := s.Put(ctx, "large", bytes.NewReader(other), int64(len(other)), store.Cond{IfMatch: "0123"}); !errors.Is(err, store.ErrPreconditionFailed) {
		t.Fatalf("large replace with a wrong ETag: %v, want ErrPreconditionFailed", err)
	}
	rc, info, err := s.GetRange(ctx, "large", 5<<20-3, 6)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, big[5<<20-3:5<<20+3]) || info.ETag != first.ETag || info.Size != int64(len(big)) {
		t.Errorf("range across a part boundary: %q, %+v", got, info)
	}
	if _, err := s.Put(ctx, "large", bytes.NewReader(other), int64(len(other)), store.Cond{IfMatch: first.ETag}); err != nil {
		t.Fatalf("large replace with the right ETag: %v", err)
	}
}

func testList(t *testing.T, s store.Store) {
	for _, k := range []string{"l/a", "l/b/c", "l/b-d", "l2/x", "m", "l/b/e/f"} {
		mustPut(t, s, k, k)
	}
	list := func(prefix string) []string {
		t.Helper()
		var keys []string
		err := s.List(ctx, prefix, func(i store.Info) error {
			if i.Size != int64(len(i.Key)) || i.ETag == "" {
				t.Errorf("List info %+v", i)
			}
			keys = append(keys, i.Key)
			return nil
		})
		if err != nil {
			t.Fatalf("List %q: %v", prefix, err)
		}
		return keys
	}
	cases := map[string][]string{
		"":        {"l/a", "l/b-d", "l/b/c", "l/b/e/f", "l2/x", "m"}, // byte order: '-' < '/'
		"l/":      {"l/a", "l/b-d", "l/b/c", "l/b/e/f"},
		"l":       {"l/a", "l/b-d", "l/b/c", "l/b/e/f", "l2/x"},
		"l/b":     {"l/b-d", "l/b/c", "l/b/e/f"},
		"l/b/":    {"l/b/c", "l/b/e/f"},
		"l/b/e/f": {"l/b/e/f"},
		"nope/":   nil,
		"l/zz/":   nil,
		"m/":      nil,
	}
	for prefix, want := range cases {
		if got := list(prefix); !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, want %q", prefix, got, want)
		}
	}
	stop := errors.New("stop")
	n := 0
	if err := s.List(ctx, "", func(store.Info) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("List did not stop at the callback's error: %v after %d", err, n)
	}
	if err := s.List(ctx, "../", func(store.Info) error { return nil }); err == nil {
		t.Error("List accepted prefix ../")
	}
}

func testDelete(t *testing.T, s store.Store) {
	mustPut(t, s, "del/a", "a")
	mustPut(t, s, "del/b", "b")
	if err := s.Delete(ctx, "del/a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat(ctx, "del/a"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted object: %v", err)
	}
	var keys []string
	s.List(ctx, "del/", func(i store.Info) error { keys = append(keys, i.Key); return nil })
	if !slices.Equal(keys, []string{"del/b"}) {
		t.Errorf("after delete, List = %q", keys)
	}
	// The key can be created again.
	if _, err := put(t, s, "del/a", "again", store.Cond{IfNoneMatch: true}); err != nil {
		t.Errorf("create after delete: %v", err)
	}
}

func testInvalidKeys(t *testing.T, s store.Store) {
	for _, k := range []string{"", "/a", "a/", "a//b", "../x", "a/../b", "./a", ".hidden", "a/.b", `a\b`, "a b", "a\x00b", "a:b", "a?b", "\xff", strings.Repeat("a", 1025)} {
		if _, err := put(t, s, k, "x", store.Cond{}); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("Put(%q): %v, want ErrInvalidKey", k, err)
		}
		if _, _, err := s.Get(ctx, k); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("Get(%q): %v, want ErrInvalidKey", k, err)
		}
	}
	// Allowed: Korean, digits, the listed punctuation.
	mustPut(t, s, "채널/판-1_2.3~4+5=6,7@8", "ok")
}

// testRaceCreate: 4 writers create one key at once; exactly one wins and its
// bytes are what is stored.
func testRaceCreate(t *testing.T, s store.Store) { raceCreate(t, s, 3, 1000) }

// testRaceCreateLarge races multipart uploads on S3 (6 MiB, part size 5 MiB).
func testRaceCreateLarge(t *testing.T, s store.Store) { raceCreate(t, s, 1, 6<<20/9) }

func raceCreate(t *testing.T, s store.Store, rounds, repeat int) {
	for round := range rounds {
		key := fmt.Sprintf("race/edition-%d", round)
		var wg sync.WaitGroup
		errs := make([]error, 4)
		start := make(chan struct{})
		for w := range 4 {
			wg.Go(func() {
				<-start
				data := strings.Repeat(fmt.Sprintf("worker %d ", w), repeat)
				_, errs[w] = s.Put(ctx, key, strings.NewReader(data), int64(len(data)), store.Cond{IfNoneMatch: true})
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Errorf("round %d: workers %d and %d both created %s", round, winner, w, key)
				}
				winner = w
			case !errors.Is(err, store.ErrExists):
				t.Errorf("round %d: worker %d: %v, want ErrExists", round, w, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody created %s", round, key)
		}
		got, _ := get(t, s, key)
		if want := strings.Repeat(fmt.Sprintf("worker %d ", winner), repeat); got != want {
			t.Errorf("round %d: stored bytes are not the winner's", round)
		}
	}
}

// testRaceIndex: 4 writers each add 10 entries to one index object by
// read-modify-write with If-Match; no entry is lost.
func testRaceIndex(t *testing.T, s store.Store) {
	const workers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				if err := addToIndex(s, "race/index.json", fmt.Sprintf("w%d-%d", w, i)); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	data, _ := get(t, s, "race/index.json")
	var list []string
	if err := json.Unmarshal([]byte(data), &list); err != nil {
		t.Fatal(err)
	}
	slices.Sort(list)
	if len(list) != workers*each || len(slices.Compact(list)) != workers*each {
		t.Errorf("index has %d distinct entries, want %d: %q", len(list), workers*each, list)
	}
}

// addToIndex is the read-modify-write loop a publisher runs on its index.
func addToIndex(s store.Store, key, entry string) error {
	for attempt := 0; attempt < 1000; attempt++ {
		var list []string
		var cond store.Cond
		rc, info, err := s.Get(ctx, key)
		switch {
		case errors.Is(err, store.ErrNotFound):
			cond = store.Cond{IfNoneMatch: true}
		case err != nil:
			return err
		default:
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				return err
			}
			if err := json.Unmarshal(b, &list); err != nil {
				return fmt.Errorf("index %q: %w", b, err)
			}
			cond = store.Cond{IfMatch: info.ETag}
		}
		list = append(list, entry)
		b, _ := json.Marshal(list)
		_, err = s.Put(ctx, key, bytes.NewReader(b), int64(len(b)), cond)
		if errors.Is(err, store.ErrPreconditionFailed) {
			continue // someone else wrote first: read again
		}
		return err
	}
	return errors.New("addToIndex: 1000 attempts lost the race")
}
