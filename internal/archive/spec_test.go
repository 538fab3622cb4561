package archive

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"ferry/internal/key"
)

// Tests of what docs/format.md says a reader MUST reject, on archives made
// here and changed, then signed again, as a hostile publisher could.

func specArchive(t *testing.T, paths ...string) ([]byte, *key.Secret) {
	t.Helper()
	k, err := key.Generate()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range paths {
		if err := w.Add(Input{Path: p, MIME: "text/html", Title: fmt.Sprintf("Page %d", i), Article: true, Data: []byte("<p>" + p + "</p>")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.Finish(Info{Channel: "spec", Edition: 1}, nil, k); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), k
}

// withManifest replaces the manifest bytes of b by edit's result (exactly
// those bytes, as signed), fixing file_size, and signs it with k.
func withManifest(t *testing.T, b []byte, k *key.Secret, edit func(string) string) []byte {
	t.Helper()
	tr := b[len(b)-trailerSize:]
	mOff := binary.LittleEndian.Uint64(tr[0:])
	mLen := binary.LittleEndian.Uint32(tr[8:])
	// Compact the writer's indented JSON so edits can match "name":value.
	var compact bytes.Buffer
	if err := json.Compact(&compact, b[mOff:mOff+uint64(mLen)]); err != nil {
		t.Fatal(err)
	}
	m := edit(compact.String())
	size := regexp.MustCompile(`"file_size":\d+`)
	for {
		n := int(mOff) + len(m) + 97 + trailerSize
		next := size.ReplaceAllString(m, fmt.Sprintf(`"file_size":%d`, n))
		if next == m {
			break
		}
		m = next
	}
	out := append(bytes.Clone(b[:mOff]), m...)
	out = append(out, 1)
	p := k.Public()
	out = append(out, p[:]...)
	out = append(out, k.Sign(signedMessage([]byte(m)))...)
	var t2 [trailerSize]byte
	binary.LittleEndian.PutUint64(t2[0:], mOff)
	binary.LittleEndian.PutUint32(t2[8:], uint32(len(m)))
	binary.LittleEndian.PutUint32(t2[12:], 97)
	copy(t2[24:], trailerMagic)
	return append(out, t2[:]...)
}

func openBytes(b []byte) (*Reader, error) { return Open(bytes.NewReader(b), int64(len(b))) }

// TestManifestOneMeaning: duplicate members and members spelled in another
// case are refused (Go's decoder took the last one, case-insensitively, so
// two readers could see different editions in the same signed bytes).
func TestManifestOneMeaning(t *testing.T) {
	b, k := specArchive(t, "a.html")
	if _, err := openBytes(withManifest(t, b, k, func(m string) string { return m })); err != nil {
		t.Fatalf("unchanged manifest refused: %v", err)
	}
	for name, edit := range map[string]func(string) string{
		"duplicate edition":      func(m string) string { return strings.Replace(m, `"edition":1`, `"edition":1,"edition":9`, 1) },
		"differently cased":      func(m string) string { return strings.Replace(m, `"edition":1`, `"edition":1,"Edition":9`, 1) },
		"cased alone":            func(m string) string { return strings.Replace(m, `"edition":1`, `"EDITION":9`, 1) },
		"duplicate in counts":    func(m string) string { return strings.Replace(m, `"articles":1`, `"articles":1,"articles":0`, 1) },
		"duplicate section":      func(m string) string { return strings.Replace(m, `"sections":{`, `"sections":{"docs":{},`, 1) },
		"trailing data":          func(m string) string { return m + ` {}` },
		"duplicate inside extra": func(m string) string { return strings.Replace(m, `"format":1`, `"format":1,"extra":{"x":1,"X":2}`, 1) },
	} {
		_, err := openBytes(withManifest(t, b, k, edit))
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want corrupt", name, err)
		}
	}
	// Unknown members are ignored (the format grows by adding them).
	if _, err := openBytes(withManifest(t, b, k, func(m string) string { return strings.Replace(m, `"format":1`, `"format":1,"later":{"a":1}`, 1) })); err != nil {
		t.Errorf("unknown member refused: %v", err)
	}
}

// TestReaderPathRules: a reader refuses entry paths the writer may not
// write ("../x", "/abs", control bytes), so no caller names a file with one.
func TestReaderPathRules(t *testing.T) {
	for _, bad := range []string{"../x.html", "/abs.html", "a/\x01b", "c\\..\\d"} {
		good := strings.Repeat("q", len(bad))
		b, k := specArchive(t, good)
		r0, err := openBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		strs := r0.secs[secStrings].s
		i := bytes.Index(b[strs.Offset:strs.Offset+strs.Length], []byte(good))
		if i < 0 {
			t.Fatal("path not found in the strings section")
		}
		copy(b[strs.Offset+int64(i):], bad)
		rb := Resign(b, k)
		r, err := Open(bytes.NewReader(rb), int64(len(rb)))
		if err == nil {
			if _, err = r.EntryAt(0); err == nil {
				err = r.Verify(context.Background(), nil)
			}
		}
		if !errors.Is(err, ErrCorrupt) || !strings.Contains(fmt.Sprint(err), "path") {
			t.Errorf("path %q: %v", bad, err)
		}
	}
	if ValidPath("a\x1fb") || ValidPath("a\x7fb") || !ValidPath("한글/é.html") {
		t.Error("ValidPath and control bytes")
	}
}

// TestOverlongVarint: one value, one encoding.
func TestOverlongVarint(t *testing.T) {
	for _, c := range []struct {
		in []byte
		ok bool
	}{{[]byte{0x05}, true}, {[]byte{0x80, 0x01}, true}, {[]byte{0x85, 0x00}, false}, {[]byte{0x80, 0x80, 0x00}, false}, {[]byte{0x00}, true}} {
		_, n := uvarint(c.in)
		if (n > 0) != c.ok {
			t.Errorf("% x: n = %d", c.in, n)
		}
	}
}

// TestVerifyTitleOrder: a title index out of order (suggestions would miss
// titles) fails the full check.
func TestVerifyTitleOrder(t *testing.T) {
	b, k := specArchive(t, "a.html", "b.html", "c.html")
	r, err := openBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	sec := r.secs[secTitles].s
	// Swap the first two u32 entry indexes of the title index.
	x := b[sec.Offset : sec.Offset+8]
	var first [4]byte
	copy(first[:], x[:4])
	copy(x[:4], x[4:8])
	copy(x[4:8], first[:])
	r, err = openBytes(Resign(b, k))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Verify(context.Background(), nil); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "title index") {
		t.Fatalf("verify: %v", err)
	}
}

// TestRemovedCapBeforeAllocating: a removed list longer than the format
// allows is refused before anything is allocated or read for it (a
// hostile delta could otherwise claim gigabytes).
func TestRemovedCapBeforeAllocating(t *testing.T) {
	r := &Reader{secs: map[string]*section{}}
	r.secs[secRemoved] = &section{r: r, name: secRemoved, s: Section{Length: maxRemoved + 1, BlockSize: 1 << 16}}
	var err error
	allocs := testing.AllocsPerRun(3, func() { _, err = r.Removed() })
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("a removed list of %d bytes: %v", int64(maxRemoved+1), err)
	}
	if allocs > 10 {
		t.Errorf("%v allocations before refusing it", allocs)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	r.Removed()
	runtime.ReadMemStats(&ms)
	if grew := ms.TotalAlloc - before; grew > 1<<20 {
		t.Errorf("%d bytes allocated before refusing the list", grew)
	}
}
