package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"io"
	"runtime"
	"strings"
	"testing"

	"ferry/internal/key"
)

// TestStoredClusterLengthCapped: a signed archive whose data section is
// 5 GiB (a hole of zeros after the real clusters) and whose first cluster
// record claims 4 GiB of stored bytes is refused, naming the stored length,
// before anything of that size is allocated (the reader allocated what the
// record claimed, up to 4 GiB, and only then checked the hash).
func TestStoredClusterLengthCapped(t *testing.T) {
	k, _ := key.Generate()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(Input{Path: "a.html", MIME: "text/html", Article: true, Data: []byte("<title>가</title><p>나다라</p>")}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(Info{Channel: "hole", Edition: 1}, nil, k); err != nil {
		t.Fatal(err)
	}
	for _, claim := range []uint32{maxClusterRaw + 2, 1<<32 - 1} {
		ra, size := withHole(t, buf.Bytes(), k, 5<<30, func(rec []byte) { binary.LittleEndian.PutUint32(rec[8:], claim) })
		r, err := Open(ra, size)
		if err != nil {
			t.Fatalf("the archive with a hole: %v", err)
		}
		e, err := r.Lookup("a.html")
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, err = r.ReadAll(e)
		runtime.ReadMemStats(&after)
		if err == nil || !strings.Contains(err.Error(), "stored length") {
			t.Errorf("claim %d: err %v, want one naming the stored length", claim, err)
		}
		if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
			t.Errorf("claim %d: %d MiB allocated to refuse it", claim, n>>20)
		}
	}
}

// withHole returns archive b with n zero bytes inserted after its data
// section (which grows by n), every section moved past them, the cluster
// table's first record edited by patch, and everything signed again by k;
// the zeros are never held in memory.
func withHole(t *testing.T, b []byte, k *key.Secret, n int64, patch func(rec []byte)) (io.ReaderAt, int64) {
	t.Helper()
	tr := b[len(b)-trailerSize:]
	mOff := int64(binary.LittleEndian.Uint64(tr[0:]))
	mLen := int64(binary.LittleEndian.Uint32(tr[8:]))
	var m Manifest
	if err := json.Unmarshal(b[mOff:mOff+mLen], &m); err != nil {
		t.Fatal(err)
	}
	dataEnd := m.Data.Offset + m.Data.Length
	tail := append([]byte{}, b[dataEnd:mOff]...) // sections, at offset dataEnd+n from now on
	at := func(off int64) int64 { return off - dataEnd - n }
	cs := m.Sections[secClusters]
	cs.Offset += n
	patch(tail[at(cs.Offset):][:clusterRecordSize])
	m.Sections[secClusters] = cs
	for name, s := range m.Sections {
		if name != secClusters {
			s.Offset += n
		}
		s.HashesOffset += n
		var list []byte
		for i := int64(0); i < s.blocks(); i++ {
			st := at(s.Offset) + i*int64(s.BlockSize)
			h := sha256.Sum256(tail[st:min(st+int64(s.BlockSize), at(s.Offset)+s.Length)])
			list = append(list, h[:]...)
		}
		copy(tail[at(s.HashesOffset):], list)
		root := sha256.Sum256(list)
		s.Root = hex.EncodeToString(root[:])
		m.Sections[name] = s
	}
	m.Data.Length += n
	var mb []byte
	for guess := 0; ; {
		m.FileSize = dataEnd + n + int64(len(tail)) + int64(guess) + 97 + trailerSize
		mb, _ = json.Marshal(&m)
		if len(mb) == guess {
			break
		}
		guess = len(mb)
	}
	end := append(append([]byte{}, tail...), mb...)
	end = append(end, 1)
	p := k.Public()
	end = append(end, p[:]...)
	end = append(end, k.Sign(signedMessage(mb))...)
	var t2 [trailerSize]byte
	binary.LittleEndian.PutUint64(t2[0:], uint64(dataEnd+n+int64(len(tail))))
	binary.LittleEndian.PutUint32(t2[8:], uint32(len(mb)))
	binary.LittleEndian.PutUint32(t2[12:], 97)
	copy(t2[24:], trailerMagic)
	end = append(end, t2[:]...)
	return holed{head: b[:dataEnd], hole: n, end: end}, dataEnd + n + int64(len(end))
}

// holed reads head, then hole zero bytes, then end.
type holed struct {
	head []byte
	hole int64
	end  []byte
}

func (h holed) ReadAt(p []byte, off int64) (int, error) {
	size := int64(len(h.head)) + h.hole + int64(len(h.end))
	if off < 0 || off >= size {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && off < size {
		var c int
		switch {
		case off < int64(len(h.head)):
			c = copy(p[n:], h.head[off:])
		case off < int64(len(h.head))+h.hole:
			c = int(min(int64(len(p)-n), int64(len(h.head))+h.hole-off))
			clear(p[n : n+c])
		default:
			c = copy(p[n:], h.end[off-int64(len(h.head))-h.hole:])
		}
		n += c
		off += int64(c)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
