package archive_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/golden"
)

var update = golden.Update // -update rewrites testdata/vectors from the generator

// vectorDir holds the committed test vectors: good.ferry, a small archive
// signed by the vector key, and damaged copies of it, each with the error
// class a reader must give (vectors.txt lists them for other readers).
const vectorDir = "testdata/vectors"

// vectorKey is the key the good vector is signed with. Its seed is public
// on purpose: it proves nothing about who made an archive.
func vectorKey(tb testing.TB) *key.Secret {
	seed := sha256.Sum256([]byte("ferry archive test vectors v1"))
	k, err := key.FromSeed(seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// vectorSite is the good vector's content: two short pages of our own,
// one Korean, one English, and a redirect-free text file.
var vectorSite = fstest.MapFS{
	"ko.html":  {Data: []byte("<!DOCTYPE html>\n<html lang=\"ko\"><head><meta charset=\"utf-8\"><title>시험 벡터</title></head><body><p>이 자료묶음은 시험을 위해 만든 것입니다. 바뀐 바이트 하나도 알아내야 합니다.</p></body></html>\n")},
	"en.html":  {Data: []byte("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Test vector</title></head><body><p>This archive was made for tests. A reader must notice any changed byte.</p></body></html>\n")},
	"note.txt": {Data: []byte("plain text of our own\n")},
}

// A damaged vector: made from the good archive by damage, with the
// error class Open must return and, when Open succeeds, the one Verify
// (and reading every entry) must return.
type vector struct {
	name   string
	damage func(good []byte, m *archive.Manifest) []byte
	open   error // nil: Open succeeds
	verify error // with open nil: the error of Verify (nil: it passes)
	why    string
}

// flip returns good with the byte at off XORed with 0x01.
func flip(good []byte, off int64) []byte {
	b := bytes.Clone(good)
	b[off] ^= 0x01
	return b
}

// trailer returns the manifest offset and length and the signatures
// length from good's trailer.
func trailer(good []byte) (mOff, mLen, sLen int64) {
	t := good[len(good)-32:]
	return int64(binary.LittleEndian.Uint64(t)), int64(binary.LittleEndian.Uint32(t[8:])), int64(binary.LittleEndian.Uint32(t[12:]))
}

func vectors() []vector {
	return []vector{
		{"empty", func(g []byte, _ *archive.Manifest) []byte { return nil }, archive.ErrNotArchive, nil,
			"no bytes at all: too small to be an archive"},
		{"bad-magic", func(g []byte, _ *archive.Manifest) []byte { return flip(g, 0) }, archive.ErrNotArchive, nil,
			"header magic GERRYAR1"},
		{"version-2", func(g []byte, _ *archive.Manifest) []byte {
			b := bytes.Clone(g)
			binary.LittleEndian.PutUint16(b[8:], 2)
			return b
		}, archive.ErrVersion, nil, "header version 2: made by a newer ferry"},
		{"reserved-header", func(g []byte, _ *archive.Manifest) []byte { return flip(g, 10) }, archive.ErrCorrupt, nil,
			"a reserved header byte is not zero"},
		{"cut-last-byte", func(g []byte, _ *archive.Manifest) []byte { return g[:len(g)-1] }, archive.ErrTruncated, nil,
			"an interrupted copy: the trailer magic is missing"},
		{"cut-half", func(g []byte, _ *archive.Manifest) []byte { return g[:len(g)/2] }, archive.ErrTruncated, nil,
			"half the file"},
		{"trailing-byte", func(g []byte, _ *archive.Manifest) []byte { return append(bytes.Clone(g), 0) }, archive.ErrTruncated, nil,
			"a zero byte after the trailer: the last 8 bytes are no trailer magic"},
		{"trailer-magic", func(g []byte, _ *archive.Manifest) []byte { return flip(g, int64(len(g))-1) }, archive.ErrTruncated, nil,
			"the trailer magic's last byte changed"},
		{"trailer-reserved", func(g []byte, _ *archive.Manifest) []byte { return flip(g, int64(len(g))-32+16) }, archive.ErrCorrupt, nil,
			"a reserved trailer byte is not zero"},
		{"manifest-byte", func(g []byte, _ *archive.Manifest) []byte {
			mOff, mLen, _ := trailer(g)
			return flip(g, mOff+mLen/2)
		}, archive.ErrSignature, nil, "a byte in the middle of the signed manifest"},
		{"signature-byte", func(g []byte, _ *archive.Manifest) []byte {
			mOff, mLen, _ := trailer(g)
			return flip(g, mOff+mLen+1+32+10)
		}, archive.ErrSignature, nil, "a byte of the Ed25519 signature"},
		{"signer-key", func(g []byte, _ *archive.Manifest) []byte {
			mOff, mLen, _ := trailer(g)
			return flip(g, mOff+mLen+1+5)
		}, archive.ErrSignature, nil, "a byte of the signer's public key"},
		{"cluster-byte", func(g []byte, m *archive.Manifest) []byte { return flip(g, m.Data.Offset+m.Data.Length/2) }, nil, archive.ErrCorrupt,
			"a byte of the data region: the cluster's hash no longer matches"},
		{"entries-byte", func(g []byte, m *archive.Manifest) []byte {
			s := m.Sections["entries"]
			return flip(g, s.Offset+s.Length/2)
		}, nil, archive.ErrCorrupt, "a byte of the entries section: its block hash no longer matches"},
		{"titles-hash-list", func(g []byte, m *archive.Manifest) []byte { return flip(g, m.Sections["titles"].HashesOffset) }, nil, archive.ErrCorrupt,
			"a byte of the titles section's hash list: its root no longer matches"},
		{"search-byte", func(g []byte, m *archive.Manifest) []byte {
			s := m.Sections["search"]
			return flip(g, s.Offset+s.Length-1)
		}, nil, archive.ErrCorrupt, "the last byte of the search index"},
	}
}

// errName is the name of an error class in vectors.txt.
func errName(err error) string {
	for _, c := range []struct {
		err  error
		name string
	}{{archive.ErrNotArchive, "ErrNotArchive"}, {archive.ErrVersion, "ErrVersion"}, {archive.ErrTruncated, "ErrTruncated"},
		{archive.ErrCorrupt, "ErrCorrupt"}, {archive.ErrSignature, "ErrSignature"}} {
		if errors.Is(err, c.err) {
			return c.name
		}
	}
	if err == nil {
		return "ok"
	}
	return "other: " + err.Error()
}

// TestVectors checks the committed vectors: the good archive opens,
// verifies and holds the vector site; each damaged copy is what the
// generator makes from it and fails with its error class. With -update
// the good archive is packed again and every file rewritten.
func TestVectors(t *testing.T) {
	goodPath := filepath.Join(vectorDir, "good.ferry")
	if *update {
		k := vectorKey(t)
		var buf bytes.Buffer
		info := archive.Info{Channel: "vectors", Edition: 1, Title: "Test vectors", Languages: []string{"ko", "en"},
			Created: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		if _, err := pack.Pack(context.Background(), &buf, pack.Options{Info: info, Signers: []*key.Secret{k},
			Sources: []pack.Source{{Source: folder.NewFS(vectorSite)}}}); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(vectorDir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(goodPath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(vectorDir, "good.pub"), []byte(k.Public().String()+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	good, err := os.ReadFile(goodPath)
	if err != nil {
		t.Fatalf("%v (run go test -run TestVectors -update to make the vectors)", err)
	}
	r, err := archive.Open(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatalf("good vector: %v", err)
	}
	if !r.SignedBy(vectorKey(t).Public()) {
		t.Fatal("good vector is not signed by the vector key")
	}
	if err := r.Verify(context.Background(), nil); err != nil {
		t.Fatalf("good vector does not verify: %v", err)
	}
	if r.NumEntries() != len(vectorSite) {
		t.Fatalf("good vector has %d entries, want %d", r.NumEntries(), len(vectorSite))
	}
	for p, f := range vectorSite {
		if got, err := r.Cat(p); err != nil || !bytes.Equal(got, f.Data) {
			t.Fatalf("good vector: %s: %v", p, err)
		}
	}
	m := r.Manifest()

	var list strings.Builder
	list.WriteString("# ferry archive test vectors (internal/archive/vectors_test.go; go test -run TestVectors -update rewrites them).\n")
	list.WriteString("# Each damaged file is good.ferry with one change. Columns: file, error class of opening it, error class of\n")
	list.WriteString("# a full check (ferry verify) when it opens, what was changed. Classes are the archive package's sentinels.\n")
	list.WriteString("good.ferry\tok\tok\tsigned by the key in good.pub; holds ko.html, en.html, note.txt\n")
	for _, v := range vectors() {
		name := v.name + ".ferry"
		want := v.damage(good, m)
		fmt.Fprintf(&list, "%s\t%s\t%s\t%s\n", name, errName(v.open), map[bool]string{true: errName(v.verify), false: "-"}[v.open == nil], v.why)
		p := filepath.Join(vectorDir, name)
		if *update {
			if err := os.WriteFile(p, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Run(v.name, func(t *testing.T) {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("the committed %s is not what the generator makes from good.ferry (run with -update)", name)
			}
			r, err := archive.Open(bytes.NewReader(b), int64(len(b)))
			if v.open != nil {
				if !errors.Is(err, v.open) {
					t.Fatalf("Open: %v; want %s", err, errName(v.open))
				}
				return
			}
			if err != nil {
				t.Fatalf("Open: %v; want it to open (the damage is found later)", err)
			}
			if err := r.Verify(context.Background(), nil); !errors.Is(err, v.verify) {
				t.Fatalf("Verify: %v; want %s", err, errName(v.verify))
			}
			// Reading every entry gives the good bytes or an error.
			for p, f := range vectorSite {
				if got, err := r.Cat(p); err == nil && !bytes.Equal(got, f.Data) {
					t.Errorf("%s: wrong content returned without error", p)
				}
			}
		})
	}
	listPath := filepath.Join(vectorDir, "vectors.txt")
	if *update {
		if err := os.WriteFile(listPath, []byte(list.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if b, err := os.ReadFile(listPath); err != nil || string(b) != list.String() {
		t.Errorf("%s is not what the generator writes (run with -update): %v", listPath, err)
	}
}
