package mirror

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ferry/internal/key"
	"ferry/internal/store"
)

// TestPullResume: a pull cut half way through an object keeps the bytes
// that came; the next pull asks only for the rest, so the two together
// download every object's bytes exactly once, and the mirror then holds
// each object as its index names it, with nothing left in its pull folder.
func TestPullResume(t *testing.T) {
	w := newWorld(t, 30)
	w.edit(t, 1)
	url := w.serve(t)
	cut := w.ix.Edition(2).Full
	w.cutKey = cut.Key
	mdir := filepath.Join(t.TempDir(), "mirror")

	first, err := Pull(context.Background(), open(t, url), mdir, PullOptions{Trust: []key.Public{w.pub}})
	if !errors.Is(err, ErrCut) || !strings.Contains(err.Error(), "resume") {
		t.Fatalf("cut pull: %v", err)
	}
	part, err := os.Stat(filepath.Join(mdir, PullDir, cut.SHA256+".part"))
	if err != nil || part.Size() <= 0 || part.Size() >= cut.Size {
		t.Fatalf("the cut download kept %v bytes of %d: %v", part, cut.Size, err)
	}
	if _, err := os.Stat(filepath.Join(mdir, "news", "index.json")); !os.IsNotExist(err) {
		t.Fatal("a cut pull wrote the index, naming an object the mirror lacks")
	}

	second, err := Pull(context.Background(), open(t, url), mdir, PullOptions{Trust: []key.Public{w.pub}})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, o := range w.ix.Keys() {
		total += o.Size
	}
	if first.Bytes+second.Bytes != total {
		t.Errorf("downloaded %d + %d bytes for objects of %d bytes", first.Bytes, second.Bytes, total)
	}
	mst, err := store.NewFolder(mdir)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range w.ix.Keys() {
		if info, err := mst.Stat(context.Background(), o.Key); err != nil || info.Size != o.Size || info.ETag != o.SHA256 {
			t.Fatalf("the mirror's %s: %+v %v", o.Key, info, err)
		}
	}
	if ents, _ := os.ReadDir(filepath.Join(mdir, PullDir)); len(ents) != 0 {
		t.Errorf("the pull folder holds %d files", len(ents))
	}
	if b, _ := os.ReadFile(filepath.Join(mdir, "news", "index.json")); len(b) == 0 {
		t.Error("no index after the resumed pull")
	}
}

// TestGetStaleMirror: a library at edition 2 that meets a mirror still at
// edition 1 (or an old index replayed) fetches nothing and keeps edition 2;
// the reader is told the mirror is stale, and what get learned still knows
// edition 2. A library that holds nothing takes edition 1 there, and later
// edition 2 from a current mirror, never going back.
func TestGetStaleMirror(t *testing.T) {
	w := newWorld(t, 20)
	stale := filepath.Join(t.TempDir(), "stale")
	if _, err := Pull(context.Background(), open(t, w.store), stale, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	w.edit(t, 1)
	current := w.serve(t)
	staleURL := (&world{store: stale}).serve(t)

	lib := w.reader(t, true)
	if _, err := Get(context.Background(), open(t, current), GetOptions{Library: lib}); err != nil || presents(t, lib, "news") != 2 {
		t.Fatalf("get from the current mirror: %v", err)
	}
	var logs []string
	res, err := Get(context.Background(), open(t, staleURL), GetOptions{Library: lib, Log: func(s string) { logs = append(logs, s) }})
	if err != nil || res.Bytes != 0 || !res.Channels[0].UpToDate {
		t.Fatalf("get from the stale mirror: %v %+v", err, res.Channels)
	}
	if presents(t, lib, "news") != 2 {
		t.Fatal("the stale mirror rolled the library back")
	}
	if len(logs) != 1 || !strings.Contains(logs[0], "stale") {
		t.Errorf("the reader was told %q", logs)
	}
	k, err := ReadKnown(lib)
	if err != nil {
		t.Fatal(err)
	}
	if kc := k.Channels["news"]; kc.Latest != 2 || kc.Sequence != w.ix.Sequence {
		t.Errorf("known after the stale mirror: %+v", kc)
	}

	fresh := w.reader(t, true)
	if _, err := Get(context.Background(), open(t, staleURL), GetOptions{Library: fresh}); err != nil || presents(t, fresh, "news") != 1 {
		t.Fatalf("a new library from the stale mirror: %v", err)
	}
	if _, newer := mustKnown(t, fresh).Newer("news", 1); newer {
		t.Error("the stale mirror made edition 2 known")
	}
	if _, err := Get(context.Background(), open(t, current), GetOptions{Library: fresh}); err != nil || presents(t, fresh, "news") != 2 {
		t.Fatalf("then from the current one: %v", err)
	}
}

func mustKnown(t *testing.T, lib string) *Known {
	t.Helper()
	k, err := ReadKnown(lib)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestPullHostile: a mirror that sends other bytes than the index names
// gets them thrown away with a clear error, and the pulled mirror names
// nothing it lacks; pulled again from a good mirror it is complete.
func TestPullHostile(t *testing.T) {
	w := newWorld(t, 20)
	st, err := store.NewFolder(w.store)
	if err != nil {
		t.Fatal(err)
	}
	good := Handler(st, ServeOptions{})
	full := w.ix.Edition(1).Full
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/"+full.Key {
			b, _ := os.ReadFile(filepath.Join(w.store, filepath.FromSlash(full.Key)))
			b[len(b)/3] ^= 0x40
			rw.Header().Set("Content-Length", fmt.Sprint(len(b)))
			rw.Write(b)
			return
		}
		good.ServeHTTP(rw, r)
	}))
	defer srv.Close()
	mdir := filepath.Join(t.TempDir(), "mirror")
	_, err = Pull(context.Background(), open(t, srv.URL), mdir, PullOptions{})
	if err == nil || !strings.Contains(err.Error(), "does not match its signed index") {
		t.Fatalf("pull from a mirror sending other bytes: %v", err)
	}
	for _, p := range []string{filepath.Join("news", "index.json"), filepath.FromSlash(full.Key), filepath.Join(PullDir, full.SHA256+".part")} {
		if _, err := os.Stat(filepath.Join(mdir, p)); !os.IsNotExist(err) {
			t.Errorf("%s is in the pulled mirror after the bad pull", p)
		}
	}
	if _, err := Pull(context.Background(), open(t, w.serve(t)), mdir, PullOptions{}); err != nil {
		t.Fatal(err)
	}
	mst, _ := store.NewFolder(mdir)
	if info, err := mst.Stat(context.Background(), full.Key); err != nil || info.ETag != full.SHA256 {
		t.Fatalf("after a good pull: %v", err)
	}
}
