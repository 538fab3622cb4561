package archive

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"ferry/internal/key"
)

// TestBrotliClusters: an archive written with Brotli clusters reads back
// and verifies, is smaller than with zstd on Korean text, and a stream
// that expands past its claimed length is refused.
func TestBrotliClusters(t *testing.T) {
	k, _ := key.Generate()
	page := []byte("<p>" + strings.Repeat("라지오 방송은 국경을 넘어 매일 들어옵니다. 듣는 사람은 손전화로 록음합니다. ", 40) + "</p>")
	sizes := map[bool]int{}
	for _, br := range []bool{false, true} {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, WriterOptions{Brotli: br})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5; i++ {
			p := append(bytes.Clone(page), byte('0'+i))
			if err := w.Add(Input{Path: "a" + string(rune('0'+i)) + ".html", MIME: "text/html", Article: true, Data: p}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.Finish(Info{Channel: "radio", Edition: 1}, nil, k); err != nil {
			t.Fatal(err)
		}
		r, err := Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Verify(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		got, err := r.Cat("a3.html")
		if err != nil || !bytes.Equal(got, append(bytes.Clone(page), '3')) {
			t.Fatalf("brotli=%v: read back %d bytes, %v", br, len(got), err)
		}
		sizes[br] = buf.Len()
	}
	if sizes[true] >= sizes[false] {
		t.Errorf("brotli %d bytes, zstd %d", sizes[true], sizes[false])
	}
	stream := brotliEncode(bytes.Repeat([]byte{'a'}, 1<<20), 1<<20)[1:]
	if _, err := brotliDecode(stream, 100, true); err == nil || !strings.Contains(err.Error(), "more than 100") {
		t.Fatalf("over-long stream: %v", err)
	}
}
