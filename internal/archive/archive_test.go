package archive

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"ferry/internal/key"
)

type fileEntry struct {
	path, mime, title string
	data              []byte
	redirect          string
	article           bool
}

// build writes an archive of the given entries into memory.
func build(t testing.TB, opts WriterOptions, entries []fileEntry) ([]byte, *key.Secret) {
	t.Helper()
	k, err := key.Generate()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		in := Input{Path: e.path, MIME: e.mime, Title: e.title, Article: e.article, Redirect: e.redirect}
		if len(e.data) >= 100<<10 {
			d := e.data
			in.Size = int64(len(d))
			in.Open = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(d)), nil }
		} else {
			in.Data = e.data
		}
		if err := w.Add(in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(Info{Channel: "test", Edition: 1, Title: "Test", Languages: []string{"en"}}, nil, k); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), k
}

func sampleEntries() []fileEntry {
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 1<<20+12345)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	var es []fileEntry
	for i := 0; i < 300; i++ {
		body := fmt.Sprintf("<html><title>Page %d</title><p>%s</p></html>", i, strings.Repeat("word ", i%50))
		es = append(es, fileEntry{path: fmt.Sprintf("a/page%03d.html", i), mime: "text/html", title: fmt.Sprintf("Page %d", i), data: []byte(body), article: true})
	}
	es = append(es,
		fileEntry{path: "media/video.mp4", mime: "video/mp4", data: big},
		fileEntry{path: "media/copy.mp4", mime: "video/mp4", data: big},
		fileEntry{path: "img/x.png", mime: "image/png", data: big[:5000]},
		fileEntry{path: "img/dup.png", mime: "image/png", data: big[:5000]},
		fileEntry{path: "empty.txt", mime: "text/plain", data: []byte{}},
		fileEntry{path: "go", redirect: "a/page007.html", title: "Go to seven"},
		fileEntry{path: "go2", redirect: "go"},
	)
	return es
}

func TestRoundTrip(t *testing.T) {
	es := sampleEntries()
	for _, opts := range []WriterOptions{{}, {ClusterSize: 4096, ChunkSize: 4096, Workers: 3}} {
		b, k := build(t, opts, es)
		r, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if !r.SignedBy(k.Public()) {
			t.Fatal("not signed by the packing key")
		}
		if err := r.Verify(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			en, err := r.Lookup(e.path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.ReadAll(en)
			if err != nil {
				t.Fatal(err)
			}
			want := e.data
			if e.redirect != "" {
				want = []byte(fmt.Sprintf("<html><title>Page %d</title><p>%s</p></html>", 7, strings.Repeat("word ", 7)))
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: content differs (%d vs %d bytes)", e.path, len(got), len(want))
			}
		}
		// Range reads inside a chunked entry.
		en, _ := r.Lookup("media/video.mp4")
		sr, _ := r.Open(en)
		for _, off := range []int64{0, 4095, 4096, 262143, 262144, 1<<20 + 12000} {
			p := make([]byte, 300)
			n, err := sr.ReadAt(p, off)
			if err != nil && err != io.EOF {
				t.Fatal(err)
			}
			if !bytes.Equal(p[:n], es[300].data[off:off+int64(n)]) {
				t.Fatalf("range at %d differs", off)
			}
		}
		if _, err := r.Lookup("nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing lookup: %v", err)
		}
		s, err := r.SuggestTitles("page 1", 5)
		if err != nil || len(s) != 5 || s[0].Title != "Page 1" {
			t.Fatalf("suggest: %v %v", s, err)
		}
		if m := r.Manifest(); m.Counts.Articles != 300 || m.Counts.Redirects != 2 {
			t.Fatalf("counts %+v", m.Counts)
		}
	}
}

func TestDedup(t *testing.T) {
	es := sampleEntries()
	b, _ := build(t, WriterOptions{}, es)
	// two 1 MiB random copies and two images: stored once each
	if len(b) > 1<<20+12345+200000 {
		t.Fatalf("archive is %d bytes: duplicate content was stored twice", len(b))
	}
}

func TestRejectsBadInput(t *testing.T) {
	var buf bytes.Buffer
	w, _ := NewWriter(&buf, WriterOptions{})
	for _, p := range []string{"", "/abs", "a/../b", "a//b", "dir/", "a\\b", "\xff"} {
		if err := w.Add(Input{Path: p, Data: []byte("x")}); err == nil {
			t.Errorf("accepted path %q", p)
		}
	}
	if err := w.Add(Input{Path: "a", Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := w.Add(Input{Path: "a", Data: []byte("y")}); err == nil {
		t.Error("accepted duplicate path")
	}
}

// TestVerifyEmptySections checks an archive whose title and search-free
// sections are empty: empty parts share offsets with the next part, which
// once made Verify's layout check depend on map order.
func TestVerifyEmptySections(t *testing.T) {
	b, _ := build(t, WriterOptions{}, []fileEntry{{path: "img.png", mime: "image/png", data: []byte("\x89PNG fake")}})
	for i := 0; i < 50; i++ {
		r, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Verify(context.Background(), nil); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
}

// TestPartialClusters reads the entries of large zstd clusters in orders
// that make the reader extend a decompressed prefix, start from a cold
// cache and mix whole-cluster reads: every read returns the stored bytes.
func TestPartialClusters(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var es []fileEntry
	want := map[string][]byte{}
	for i := 0; i < 400; i++ {
		words := make([]string, 200+rng.IntN(2000))
		for j := range words {
			words[j] = fmt.Sprintf("w%d", rng.IntN(5000))
		}
		body := []byte(fmt.Sprintf("<p>%d %s</p>", i, strings.Join(words, " ")))
		p := fmt.Sprintf("a/%04d.html", i)
		es = append(es, fileEntry{path: p, mime: "text/html", data: body, article: true})
		want[p] = body
	}
	b, _ := build(t, WriterOptions{ClusterSize: 1 << 20}, es)
	for _, order := range []string{"forward", "backward", "random"} {
		r, err := OpenWith(bytes.NewReader(b), int64(len(b)), ReaderOptions{CacheBytes: 4 << 20})
		if err != nil {
			t.Fatal(err)
		}
		if r.nCluster < 2 {
			t.Fatalf("%d clusters: the test needs several", r.nCluster)
		}
		idx := rng.Perm(len(es))
		switch order {
		case "forward":
			slices.Sort(idx)
		case "backward":
			slices.Sort(idx)
			slices.Reverse(idx)
		}
		for k, i := range idx {
			got, err := r.Cat(es[i].path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want[es[i].path]) {
				t.Fatalf("%s: %s read wrong bytes", order, es[i].path)
			}
			if k%97 == 0 {
				if _, err := r.cluster(uint32(k % int(r.nCluster))); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// TestBigClusterStreamed reads a compressible entry bigger than the cache
// can keep in 32 KiB pieces, as http.ServeContent does: the cluster is
// decompressed a few times over in all, not once per piece.
func TestBigClusterStreamed(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var sb strings.Builder
	for sb.Len() < 12<<20 {
		fmt.Fprintf(&sb, "line %d of a long log %d\n", sb.Len(), rng.IntN(1000))
	}
	want := []byte(sb.String())
	b, _ := build(t, WriterOptions{}, []fileEntry{{path: "big.txt", mime: "text/plain", data: want}})
	r, err := OpenWith(bytes.NewReader(b), int64(len(b)), ReaderOptions{CacheBytes: 4 << 20})
	if err != nil {
		t.Fatal(err)
	}
	e, err := r.Lookup("big.txt")
	if err != nil {
		t.Fatal(err)
	}
	sr, err := r.Open(e)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 32<<10)
	for {
		n, err := sr.Read(buf)
		got = append(got, buf[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatal("wrong bytes")
	}
	if d := r.decoded.Load(); d > 4*int64(len(want)) {
		t.Errorf("decompressed %d bytes to read %d", d, len(want))
	}
}
