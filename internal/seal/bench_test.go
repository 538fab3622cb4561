package seal

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// productionKDF switches a benchmark to the real Argon2id parameters.
func productionKDF(b *testing.B) {
	saved := kdfParams
	kdfParams.time, kdfParams.memKiB, kdfParams.threads = KDFTime, KDFMemoryKiB, KDFThreads
	b.Cleanup(func() { kdfParams = saved })
}

// BenchmarkArgon2id measures one key derivation with the fixed parameters
// (64 MiB, t=3, p=1): the cost of every unlock attempt.
func BenchmarkArgon2id(b *testing.B) {
	productionKDF(b)
	salt := make([]byte, saltSize)
	for b.Loop() {
		masterKey("correct horse battery staple", salt)
	}
}

// BenchmarkUnlock measures a whole unlock of a container file on disk with
// the production key derivation; a failing unlock does the same work.
func BenchmarkUnlock(b *testing.B) {
	path := filepath.Join(b.TempDir(), "c")
	if err := Create(context.Background(), path, MinSize, outerPass, ""); err != nil { // cheap KDF for setup
		b.Fatal(err)
	}
	productionKDF(b)
	for _, c := range []struct{ name, pass string }{{"absent", hiddenPass}, {"wrong", "wrong"}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Unlock(path, c.pass); err != ErrNoVolume {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAdd measures writing a 16 MiB file into a container file on disk
// (encryption, chaff and the directory commit, with fsync).
func BenchmarkAdd(b *testing.B) {
	const size = 16 << 20
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(b.TempDir(), "c")
	if err := Create(context.Background(), path, 64<<20, outerPass, hiddenPass); err != nil {
		b.Fatal(err)
	}
	v, err := UnlockBoth(path, outerPass, hiddenPass)
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	b.SetBytes(size)
	for b.Loop() {
		if err := v.Add("f", bytes.NewReader(data), size); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead measures reading a stored 16 MiB file sequentially in
// 32 KiB pieces, as an HTTP server would.
func BenchmarkRead(b *testing.B) {
	const size = 16 << 20
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(b.TempDir(), "c")
	if err := Create(context.Background(), path, 32<<20, outerPass, ""); err != nil {
		b.Fatal(err)
	}
	v, err := Unlock(path, outerPass)
	if err != nil {
		b.Fatal(err)
	}
	defer v.Close()
	if err := v.Add("f", bytes.NewReader(data), size); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	buf := make([]byte, 32<<10)
	for b.Loop() {
		ra, n, err := v.Open("f")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, io.NewSectionReader(ra, 0, n), buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCreate measures making a 64 MiB container (random fill and, here,
// the cheap test key derivation; add two Argon2id runs for the real cost).
func BenchmarkCreate(b *testing.B) {
	path := filepath.Join(b.TempDir(), "c")
	b.SetBytes(64 << 20)
	for b.Loop() {
		if err := Create(context.Background(), path, 64<<20, outerPass, hiddenPass); err != nil {
			b.Fatal(err)
		}
		os.Remove(path)
	}
}

// BenchmarkBlockOpen measures authenticating and decrypting one 64 KiB block
// in memory: the ceiling for BenchmarkRead.
func BenchmarkBlockOpen(b *testing.B) {
	var master [32]byte
	k := newKeys(master)
	plain := make([]byte, payloadSize)
	blk := make([]byte, BlockSize)
	aad := superAAD(k, 1)
	sealBlock(blk, k.data, plain, aad)
	b.SetBytes(payloadSize)
	for b.Loop() {
		if !openBlock(plain, k.data, blk, aad) {
			b.Fatal("does not open")
		}
	}
}
