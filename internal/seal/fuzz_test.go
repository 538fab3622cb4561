package seal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"testing"
)

var (
	fuzzOnce  sync.Once
	fuzzBase  *memStore
	fuzzFiles map[string][]byte
)

// fuzzContainer builds, once, a small container with a few short files of
// our own in both libraries (a few KiB each, so that reading them all back
// is cheap for every input).
func fuzzContainer(t testing.TB) (*memStore, map[string][]byte) {
	fuzzOnce.Do(func() {
		own := ownFiles(t)
		files := map[string][]byte{
			"o-law":  own["law.txt"][:3000],
			"h-json": own["answers.json"][:payloadSize+500], // two blocks
			"o-gz":   own["site.gz"][:2000],
		}
		m := newMem(t, MinSize, outerPass, hiddenPass)
		o, err := unlockBothMem(m, outerPass, hiddenPass)
		if err != nil {
			t.Fatal(err)
		}
		h := mustUnlock(t, m, hiddenPass)
		for name, b := range files {
			v := o
			if name[0] == 'h' {
				v = h
			}
			mustAdd(t, v, name, b)
		}
		fuzzBase, fuzzFiles = m, files
	})
	if fuzzBase == nil {
		t.Fatal("fuzz container could not be built")
	}
	return fuzzBase, fuzzFiles
}

// sparseStore is a container of size bytes whose first bytes are b and the
// rest zeros, without holding the zeros: FuzzUnlockRaw's inputs reach the
// slot reads of a full-size container at the cost of their own length.
type sparseStore struct {
	b    []byte
	size int64
}

func (s sparseStore) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= s.size {
		return 0, io.EOF
	}
	n := min(int64(len(p)), s.size-off)
	clear(p[:n])
	if off < int64(len(s.b)) {
		copy(p[:n], s.b[off:])
	}
	if n < int64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

func (sparseStore) WriteAt([]byte, int64) (int, error) {
	return 0, errors.New("sparseStore: read only")
}
func (sparseStore) Sync() error  { return nil }
func (sparseStore) Close() error { return nil }

// FuzzUnlock runs the whole unlock and read path on damaged containers. The
// input is a list of patches (4-byte little-endian offset, 1 byte XOR) on a
// real container; every read must return the original bytes or an error.
func FuzzUnlock(f *testing.F) {
	base, _ := fuzzContainer(f)
	o := mustUnlock(f, base, outerPass)
	h := mustUnlock(f, base, hiddenPass)
	f.Add([]byte{})
	for _, blk := range []int64{0, o.slot, h.slot, o.sb.files[0].ext[0].start, h.sb.files[0].ext[0].start} {
		for _, off := range []int64{0, 5, nonceSize + 3, BlockSize - 1} {
			f.Add(binary.LittleEndian.AppendUint32(nil, uint32(blk*BlockSize+off)))
		}
	}
	f.Fuzz(func(t *testing.T, patch []byte) {
		m, want := fuzzContainer(t)
		// Patch the shared container in place and undo afterwards: the
		// fuzz function runs one input at a time per process, and copying
		// 8 MiB per input would dominate.
		type flip struct {
			off int
			x   byte
		}
		var flips []flip
		for ; len(patch) >= 5; patch = patch[5:] {
			fl := flip{int(binary.LittleEndian.Uint32(patch)) % len(m.b), patch[4]}
			if fl.x == 0 {
				fl.x = 0x80
			}
			m.b[fl.off] ^= fl.x
			flips = append(flips, fl)
		}
		defer func() {
			for _, fl := range flips {
				m.b[fl.off] ^= fl.x
			}
		}()
		for _, pass := range []string{outerPass, hiddenPass, "wrong"} {
			v, err := unlockMem(m, pass)
			if err != nil {
				if !errors.Is(err, ErrNoVolume) && !errors.Is(err, ErrCorrupt) {
					t.Fatalf("unlock: unexpected error %v", err)
				}
				continue
			}
			for _, fl := range v.List() {
				got, err := readAll(v, fl.Name)
				if err != nil {
					if !errors.Is(err, ErrCorrupt) {
						t.Fatalf("%s: unexpected error %v", fl.Name, err)
					}
					continue
				}
				if !bytes.Equal(got, want[fl.Name]) {
					t.Fatalf("%s: wrong content returned", fl.Name)
				}
			}
		}
	})
}

// FuzzParseSuper feeds arbitrary decrypted directories to the parser: it
// must not panic, and what it accepts must encode back to the same bytes
// (one encoding per directory).
func FuzzParseSuper(f *testing.F) {
	base, _ := fuzzContainer(f)
	nBlocks := int64(len(base.b)) / BlockSize
	for _, pass := range []string{outerPass, hiddenPass} {
		v := mustUnlock(f, base, pass)
		p := make([]byte, payloadSize)
		if err := v.sb.encode(p); err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.TrimRight(p, "\x00"))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > payloadSize {
			return
		}
		p := make([]byte, payloadSize)
		copy(p, b)
		sb, err := parseSuper(p, nBlocks)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		q := make([]byte, payloadSize)
		if err := sb.encode(q); err != nil {
			t.Fatalf("accepted directory does not encode: %v", err)
		}
		if !bytes.Equal(p, q) {
			t.Fatal("accepted directory encodes differently")
		}
	})
}

// FuzzUnlockRaw unlocks arbitrary bytes as a container: the input is the
// start of a container whose other bytes are zeros, at least MinSize long
// when the input's first byte is even (so that short inputs also reach the
// slot reads) and as long as the input otherwise. It must never open and
// never panic.
func FuzzUnlockRaw(f *testing.F) {
	base, _ := fuzzContainer(f)
	f.Add(base.b[:saltSize])                // a real salt
	f.Add(base.b[:saltSize+256])            // and the start of block 0
	f.Add([]byte("not a sealed container")) // odd first byte: stays short
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 64<<10 {
			return
		}
		size := int64(len(b))
		if len(b) > 0 && b[0]%2 == 0 {
			size = MinSize
		}
		st := sparseStore{b: b, size: size}
		salt := make([]byte, saltSize)
		st.ReadAt(salt, 0)
		for _, pass := range []string{outerPass, hiddenPass} {
			if v, err := unlock(st, size/BlockSize, salt, pass); err != ErrNoVolume {
				t.Fatalf("arbitrary bytes: unlock gave %v, %v", v, err)
			}
		}
	})
}
