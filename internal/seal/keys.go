package seal

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"runtime/debug"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/text/unicode/norm"
)

// Labels for HKDF-SHA256 (info strings); docs/seal.md lists them.
const (
	labelSuper  = "ferry/v1/seal/superblock"
	labelData   = "ferry/v1/seal/data"
	labelSlots  = "ferry/v1/seal/slots"
	labelVolume = "ferry/v1/seal/volume-id"
)

// kdfParams are the Argon2id parameters. They are fixed by the format and
// never stored in the file. Only tests replace them with cheap ones (in
// TestMain); no production code writes this variable.
var kdfParams = struct {
	time    uint32
	memKiB  uint32
	threads uint8
}{time: 3, memKiB: 64 * 1024, threads: 1}

// Fixed Argon2id parameters of the format (docs/seal.md).
const (
	// KDFTime is the Argon2id number of passes.
	KDFTime = 3
	// KDFMemoryKiB is the Argon2id memory in KiB (64 MiB).
	KDFMemoryKiB = 64 * 1024
	// KDFThreads is the Argon2id parallelism.
	KDFThreads = 1
)

// masterKey derives the 32-byte master key of one passphrase. The
// passphrase is brought to Unicode NFC first, so that the same Korean
// passphrase typed in a browser or a terminal (which may compose Hangul
// differently) gives the same key.
func masterKey(pass string, salt []byte) [32]byte {
	var m [32]byte
	pb := []byte(norm.NFC.String(pass))
	defer clear(pb)
	k := argon2.IDKey(pb, salt, kdfParams.time, kdfParams.memKiB, kdfParams.threads, 32)
	copy(m[:], k)
	clear(k)
	// Argon2id's 64 MiB are garbage now. Return them to the system at once:
	// otherwise the heap goal lets a second derivation (UnlockBoth, Create,
	// or a retry) allocate another 64 MiB first, doubling the peak on phones
	// that have little memory to spare. (Not for the tests' tiny parameters:
	// a forced collection per unlock would dominate them.)
	if kdfParams.memKiB >= 1<<10 {
		debug.FreeOSMemory()
	}
	return m
}

// keys holds everything derived from one volume's master key.
type keys struct {
	master    [32]byte
	super     cipher.AEAD // seals the superblock
	data      cipher.AEAD // seals file blocks
	volID     [16]byte    // bound into every block's associated data
	candidate [numCandidates]int64
}

func derive(master [32]byte, label string, n int) []byte {
	k, err := hkdf.Key(sha256.New, master[:], nil, label, n)
	if err != nil {
		panic("seal: internal error: hkdf: " + err.Error())
	}
	return k
}

func newKeys(master [32]byte) *keys {
	k := &keys{master: master}
	var err error
	sk := derive(master, labelSuper, chacha20poly1305.KeySize)
	dk := derive(master, labelData, chacha20poly1305.KeySize)
	if k.super, err = chacha20poly1305.NewX(sk); err != nil {
		panic("seal: internal error: " + err.Error())
	}
	if k.data, err = chacha20poly1305.NewX(dk); err != nil {
		panic("seal: internal error: " + err.Error())
	}
	clear(sk)
	clear(dk)
	copy(k.volID[:], derive(master, labelVolume, 16))
	s := derive(master, labelSlots, 8*numCandidates)
	for i := range k.candidate {
		k.candidate[i] = 1 + int64(binary.LittleEndian.Uint64(s[8*i:])%slotArea)
	}
	return k
}

// slotsOf returns the two superblock slots of a volume whose candidates are
// c, skipping the blocks in taken (the outer volume's slots, for the hidden
// one). ok is false when fewer than two usable distinct candidates exist;
// Create then picks a new salt.
func slotsOf(c [numCandidates]int64, taken [2]int64) (s [2]int64, ok bool) {
	n := 0
	for _, b := range c {
		if b == taken[0] || b == taken[1] || (n == 1 && b == s[0]) {
			continue
		}
		s[n] = b
		n++
		if n == 2 {
			return s, true
		}
	}
	return s, false
}

// Block kinds in the associated data.
const (
	kindSuper = 1
	kindData  = 2
)

// superAAD is the associated data of a superblock at block index idx.
func superAAD(k *keys, idx int64) []byte {
	a := make([]byte, 0, 16+1+8)
	a = append(a, k.volID[:]...)
	a = append(a, kindSuper)
	return binary.LittleEndian.AppendUint64(a, uint64(idx))
}

// dataAAD is the associated data of chunk number chunk of file id stored at
// block index idx.
func dataAAD(buf []byte, k *keys, idx int64, id [16]byte, chunk int64) []byte {
	a := buf[:0]
	a = append(a, k.volID[:]...)
	a = append(a, kindData)
	a = binary.LittleEndian.AppendUint64(a, uint64(idx))
	a = append(a, id[:]...)
	return binary.LittleEndian.AppendUint64(a, uint64(chunk))
}

// sealBlock encrypts plain (exactly payloadSize bytes) into dst (exactly
// BlockSize bytes) with a fresh random nonce.
func sealBlock(dst []byte, aead cipher.AEAD, plain, aad []byte) {
	if len(plain) != payloadSize || len(dst) != BlockSize {
		panic("seal: internal error: bad block buffer")
	}
	nonce := dst[:nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		panic("seal: internal error: no randomness: " + err.Error())
	}
	aead.Seal(dst[nonceSize:nonceSize], nonce, plain, aad)
}

// openBlock authenticates and decrypts blk (BlockSize bytes) into dst
// (payloadSize bytes). It reports false when the block does not authenticate.
func openBlock(dst []byte, aead cipher.AEAD, blk, aad []byte) bool {
	_, err := aead.Open(dst[:0], blk[:nonceSize], blk[nonceSize:], aad)
	return err == nil
}
