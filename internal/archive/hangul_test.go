package archive

import (
	"bytes"
	"encoding/binary"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/zstd"
)

// hangulSamples are inputs for the packing tests and the fuzz seed corpus.
var hangulSamples = []string{
	"",
	"plain ASCII only, which is not packed",
	"<p>대한민국의 수도는 서울이다. 서울은 한강을 끼고 있다. 대한민국 대한민국 대한민국</p>\n",
	"가힣각 \u00e9\u4e2d\U0001F600 — 한국어와 English가 섞인 문장입니다. 힣힣 가가",
	strings.Repeat("이것은 반복되는 문장입니다. ", 400) + "끝",
	"\xea\xb0\x80\xed\x9e\xa3\xea\x80\x80", // 가, 힣 and U+A000 (a three-byte lead shared with Hangul)
}

func unpackAll(t testing.TB, packed []byte, wrap func(io.Reader) io.Reader) []byte {
	t.Helper()
	got, err := io.ReadAll(wrap(newHangulReader(bytes.NewReader(packed))))
	if err != nil {
		t.Fatalf("unpacking: %v", err)
	}
	return got
}

// TestHangulRoundTrip: packed Korean text unpacks to the same bytes, read
// at once, one byte at a time and from a source that gives one byte per
// read; text with little Hangul, or not valid UTF-8, is not packed.
func TestHangulRoundTrip(t *testing.T) {
	for _, s := range hangulSamples {
		packed, ok := hangulPack([]byte(s))
		if !ok {
			if strings.ContainsFunc(s, func(r rune) bool { return r >= 0xAC00 && r <= 0xD7A3 }) && len(s) > 40 {
				t.Errorf("%.30q: not packed", s)
			}
			continue
		}
		if len(packed) >= len(s) {
			t.Errorf("%.30q: packed %d bytes from %d", s, len(packed), len(s))
		}
		for name, wrap := range map[string]func(io.Reader) io.Reader{
			"whole":      func(r io.Reader) io.Reader { return r },
			"one out":    iotest.OneByteReader,
			"half reads": iotest.HalfReader,
		} {
			if got := unpackAll(t, packed, wrap); string(got) != s {
				t.Errorf("%.30q, %s: unpacked %.30q", s, name, got)
			}
		}
		// A source handing out one byte per read.
		got, err := io.ReadAll(newHangulReader(iotest.OneByteReader(bytes.NewReader(packed))))
		if err != nil || string(got) != s {
			t.Errorf("%.30q, one byte in: %.30q, %v", s, got, err)
		}
	}
	if _, ok := hangulPack([]byte("대한민국\xff")); ok {
		t.Error("packed invalid UTF-8")
	}
}

// TestHangulMalformed: packed streams that end inside a code, name a
// table slot past the table, or a syllable past U+D7A3 are refused.
func TestHangulMalformed(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":              {},
		"table too long":     {34},
		"table cut":          {1, 0x00},
		"table past D7A3":    {1, 0x2b, 0xa4},
		"pair cut":           {0, 0x80},
		"pair past D7A3":     {0, 0xab, 0xa4},
		"slot past table":    {1, 0x00, 0x00, 0xac, 0xad},
		"sequence cut":       {0, 'a', 0xe4, 0xb8},
		"four-byte cut":      {0, 0xf0, 0x9f, 0x98},
		"slot with no table": {0, 0xff},
	} {
		if _, err := io.ReadAll(newHangulReader(bytes.NewReader(b))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestHangulCodecInArchive: a Korean page is stored with codec 3 and read
// back whole and by prefix; with NoHangulPacking it is stored with codec 1.
func TestHangulCodecInArchive(t *testing.T) {
	page := []byte("<p>" + strings.Repeat("대한민국의 수도는 서울이다. 한강은 서울을 지난다. ", 3000) + "</p>")
	for _, off := range []bool{false, true} {
		b, _ := build(t, WriterOptions{NoHangulPacking: off}, []fileEntry{{path: "ko.html", mime: "text/html", data: page}, {path: "en.html", mime: "text/html", data: []byte("<p>hello</p>")}})
		r, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.Cat("ko.html")
		if err != nil || !bytes.Equal(got, page) {
			t.Fatalf("packing off %v: read back %d bytes, %v", off, len(got), err)
		}
		codec := clusterCodec(t, r, 0)
		if want := byte(codecZstdHangul); off && codec != codecZstd || !off && codec != want {
			t.Errorf("packing off %v: codec %d", off, codec)
		}
		if err := r.Verify(t.Context(), nil); err != nil {
			t.Fatal(err)
		}
	}
}

// FuzzHangul: whatever the input, packing then unpacking gives it back,
// and unpacking arbitrary bytes ends in bytes or an error, never a panic
// or a hang.
func FuzzHangul(f *testing.F) {
	for _, s := range hangulSamples {
		f.Add([]byte(s))
		if p, ok := hangulPack([]byte(s)); ok {
			f.Add(p)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if p, ok := hangulPack(b); ok {
			if got := unpackAll(t, p, iotest.HalfReader); !bytes.Equal(got, b) {
				t.Fatalf("round trip: %q -> %q", b, got)
			}
		}
		out, err := io.ReadAll(newHangulReader(bytes.NewReader(b)))
		if err == nil && len(out) > 4*len(b) {
			t.Fatalf("%d bytes unpacked from %d", len(out), len(b))
		}
	})
}

// clusterCodec reads the codec byte of cluster i.
func clusterCodec(t *testing.T, r *Reader, i uint32) byte {
	t.Helper()
	var rec [clusterRecordSize]byte
	if err := r.secs[secClusters].readFull(rec[:], int64(i)*clusterRecordSize); err != nil {
		t.Fatal(err)
	}
	var c [1]byte
	if _, err := r.ra.ReadAt(c[:], int64(binary.LittleEndian.Uint64(rec[:]))); err != nil {
		t.Fatal(err)
	}
	return c[0]
}

// TestHangulPackedExample: the worked example of docs/format.md, codec 3.
func TestHangulPackedExample(t *testing.T) {
	raw := []byte("가각 힣가")
	want := []byte{0x01, 0x00, 0x00, 0xAC, 0x80, 0x01, 0x20, 0xAB, 0xA3, 0xAC}
	got, ok := hangulPack(raw)
	if !ok || !bytes.Equal(got, want) {
		t.Fatalf("packed % X (%v), want % X", got, ok, want)
	}
	if back := unpackAll(t, got, func(r io.Reader) io.Reader { return r }); !bytes.Equal(back, raw) {
		t.Fatalf("unpacked %q", back)
	}
}

// TestCompressClusterMatchesWriter: CompressCluster gives the stored bytes
// a Writer with default options (Hangul packing on) wrote for a Korean cluster (peer sync rebuilds clusters
// with it and checks them against the cluster hash), and DecodeCluster
// reads them back, as it reads every codec.
func TestCompressClusterMatchesWriter(t *testing.T) {
	page := []byte("<p>" + strings.Repeat("서울은 대한민국의 수도이다. 한강이 서울을 지난다. ", 2000) + "</p>")
	b, _ := build(t, WriterOptions{}, []fileEntry{{path: "ko.html", mime: "text/html", data: page}})
	r, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var rec [clusterRecordSize]byte
	if err := r.secs[secClusters].readFull(rec[:], 0); err != nil {
		t.Fatal(err)
	}
	stored := make([]byte, binary.LittleEndian.Uint32(rec[8:]))
	if _, err := r.ra.ReadAt(stored, int64(binary.LittleEndian.Uint64(rec[:]))); err != nil {
		t.Fatal(err)
	}
	if stored[0] != codecZstdHangul {
		t.Fatalf("codec %d, want %d", stored[0], codecZstdHangul)
	}
	if got := CompressCluster(page, true); !bytes.Equal(got, stored) {
		t.Fatalf("CompressCluster gives %d bytes, the writer stored %d", len(got), len(stored))
	}
	raw, err := DecodeCluster(stored, int64(len(page)))
	if err != nil || !bytes.Equal(raw, page) {
		t.Fatalf("DecodeCluster: %d bytes, %v", len(raw), err)
	}
	if _, err := DecodeCluster(stored, int64(len(page))-1); err == nil {
		t.Error("DecodeCluster accepted a raw length one short")
	}
	if got, err := DecodeCluster(brotliEncode([]byte("abc"), 1<<20), 3); err != nil || string(got) != "abc" {
		t.Errorf("codec 2: %q, %v", got, err)
	}
	if got, err := DecodeCluster([]byte{codecNone, 'a'}, 1); err != nil || string(got) != "a" {
		t.Errorf("codec 0: %q, %v", got, err)
	}
	if _, err := DecodeCluster([]byte{9, 1, 2}, 2); err == nil {
		t.Error("accepted codec 9")
	}
}

// BenchmarkHangulUnpack measures unpacking alone (bytes/s of raw output),
// next to zstd decoding of the same cluster packed and not, on 1 MiB of
// Korean text.
func BenchmarkHangulUnpack(b *testing.B) {
	raw := []byte(strings.Repeat("<p>서울특별시는 대한민국의 수도이며 최대 도시이다. 한강이 도시를 가로지른다. Seoul 2024.</p>\n", (1<<20)/130))
	packed, ok := hangulPack(raw)
	if !ok {
		b.Fatal("not packed")
	}
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression), zstd.WithEncoderConcurrency(1))
	zPlain, zPacked := enc.EncodeAll(raw, nil), enc.EncodeAll(packed, nil)
	b.Run("unpack", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := io.ReadAll(newHangulReader(bytes.NewReader(packed))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("zstd", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := decodeZstd(zPlain, int64(len(raw)), true); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("zstd+unpack", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := decodeZstdHangul(zPacked, int64(len(raw)), true); err != nil {
				b.Fatal(err)
			}
		}
	})
}
