package seal

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
)

// Layout constants (docs/seal.md, "Layout").
const (
	// BlockSize is the size of one encrypted block on disk.
	BlockSize = 64 << 10
	// nonceSize is the XChaCha20 nonce stored at the start of each block.
	nonceSize = 24
	// payloadSize is the plaintext carried by one block.
	payloadSize = BlockSize - nonceSize - 16
	// saltSize is the Argon2id salt at offset 0 of the file.
	saltSize = 32
	// slotArea is the number of blocks (1..slotArea) where superblocks live.
	slotArea = 32
	// firstData is the first block that may hold file data.
	firstData = 1 + slotArea
	// numCandidates is the number of superblock positions every unlock tries.
	numCandidates = 4
	// chaffBlocks is the number of unused blocks rewritten with fresh random
	// bytes on every change, to blur which blocks a change touched.
	chaffBlocks = 16
	// chaffSlots of the chaff blocks are taken in the slot area.
	chaffSlots = 2

	// MinSize is the smallest container Create makes (128 blocks, 8 MiB).
	MinSize = 128 * BlockSize
	// MaxSize is the largest container Create makes (2 TiB, the largest SDXC
	// card); it keeps the in-memory block maps at most 4 MiB.
	MaxSize = 1 << 41
	// MaxNameLen is the longest file name, in bytes.
	MaxNameLen = 255
)

// Errors. Test with errors.Is.
var (
	// ErrNoVolume means the passphrase opens no library in this file: the
	// passphrase is wrong, or there is no such library. The two cases are
	// indistinguishable by design.
	ErrNoVolume = errors.New("seal: no library opens with this passphrase (check the passphrase)")
	// ErrCorrupt means a block failed authentication or a directory is
	// inconsistent: the container was damaged or tampered with.
	ErrCorrupt = errors.New("seal: container damaged or tampered with")
	// ErrFull means there is not enough free space (or directory room) left.
	ErrFull = errors.New("seal: container full (remove something or create a larger container)")
	// ErrNotFound means no file of that name is in the library.
	ErrNotFound = errors.New("seal: no such file in the library")
	// ErrBadName means a file name is empty, too long, not UTF-8 or contains
	// a slash, backslash or control character.
	ErrBadName = errors.New("seal: invalid file name")
	// ErrSize means a container size is outside [MinSize, MaxSize].
	ErrSize = errors.New("seal: container size out of range")
	// ErrPassphrase means a passphrase given to Create is unusable: empty, or
	// the hidden passphrase equals the outer one.
	ErrPassphrase = errors.New("seal: unusable passphrase")
	// ErrShortInput means Add's reader ended before the announced size.
	ErrShortInput = errors.New("seal: input shorter than its announced size")
	// ErrReadOnly means the container could only be opened for reading (a
	// write-protected card or a read-only file), so it cannot be changed.
	ErrReadOnly = errors.New("seal: container is read-only (write-protected card or file?)")
	// ErrClosed means the volume was closed.
	ErrClosed = errors.New("seal: volume closed")
)

// storage is where a container lives: an *os.File, or memory in tests.
type storage interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
	Close() error
}

// Create makes a new container of exactly size bytes at path, which must not
// exist. The file is filled with random bytes and holds an empty outer
// library for outer and, when hidden is not empty, an empty hidden library.
// It runs the Argon2id key derivation once per passphrase. Cancelling ctx
// stops the filling and removes the file.
func Create(ctx context.Context, path string, size int64, outer, hidden string) error {
	if size < MinSize || size > MaxSize {
		return fmt.Errorf("creating %d-byte container: %w (between %d and %d bytes)", size, ErrSize, int64(MinSize), int64(MaxSize))
	}
	if outer == "" {
		return fmt.Errorf("creating container: %w: the outer passphrase is empty", ErrPassphrase)
	}
	if hidden == outer {
		return fmt.Errorf("creating container: %w: the hidden passphrase must differ from the outer one", ErrPassphrase)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("creating container: %w", err)
	}
	err = create(ctx, f, size, outer, hidden)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("creating container: %w", cerr)
	}
	if err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// create fills st (size bytes) with random bytes and writes the empty
// libraries' superblocks.
func create(ctx context.Context, st storage, size int64, outer, hidden string) error {
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(buf)) {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(int64(len(buf)), size-off)
		rand.Read(buf[:n])
		if _, err := st.WriteAt(buf[:n], off); err != nil {
			return fmt.Errorf("filling container with random bytes: %w", err)
		}
	}
	nBlocks := size / BlockSize
	// A salt whose derived superblock positions collide is replaced; this
	// happens with probability about 1e-4 with a hidden library.
	for {
		salt := make([]byte, saltSize)
		rand.Read(salt)
		ok, err := createWithSalt(st, nBlocks, salt, outer, hidden)
		if err != nil {
			return err
		}
		if ok {
			return st.Sync()
		}
	}
}

func createWithSalt(st storage, nBlocks int64, salt []byte, outer, hidden string) (bool, error) {
	ok := newKeys(masterKey(outer, salt))
	oslots, good := slotsOf(ok.candidate, [2]int64{-1, -1})
	if !good {
		return false, nil
	}
	var hk *keys
	var hslots [2]int64
	if hidden != "" {
		hk = newKeys(masterKey(hidden, salt))
		if hslots, good = slotsOf(hk.candidate, oslots); !good {
			return false, nil
		}
	}
	if _, err := st.WriteAt(salt, 0); err != nil {
		return false, fmt.Errorf("writing salt: %w", err)
	}
	osb := &superblock{gen: 1, role: roleOuter, nBlocks: nBlocks}
	if err := writeSuper(st, ok, oslots[0], osb); err != nil {
		return false, err
	}
	if hk != nil {
		hsb := &superblock{gen: 1, role: roleHidden, nBlocks: nBlocks, outerMaster: ok.master}
		if err := writeSuper(st, hk, hslots[0], hsb); err != nil {
			return false, err
		}
	}
	return true, nil
}

// writeSuper encrypts sb into block idx.
func writeSuper(st storage, k *keys, idx int64, sb *superblock) error {
	plain := make([]byte, payloadSize)
	if err := sb.encode(plain); err != nil {
		return err
	}
	blk := make([]byte, BlockSize)
	sealBlock(blk, k.super, plain, superAAD(k, idx))
	clear(plain)
	if _, err := st.WriteAt(blk, idx*BlockSize); err != nil {
		return fmt.Errorf("writing directory: %w", err)
	}
	return nil
}

// findSuper tries every candidate slot of k, always all of them (so the
// work does not depend on what is found), and returns the valid superblock
// with the highest generation and its slot. tried counts trial decryptions.
func findSuper(st storage, nBlocks int64, k *keys) (sb *superblock, slot int64, tried int, err error) {
	blk := make([]byte, BlockSize)
	plain := make([]byte, payloadSize)
	defer clear(plain)
	var readErr error
	for _, idx := range k.candidate {
		tried++
		if _, err := st.ReadAt(blk, idx*BlockSize); err != nil {
			// Still run the decryption on whatever was read, to keep the
			// work constant; the block will not authenticate.
			readErr = err
		}
		if !openBlock(plain, k.super, blk, superAAD(k, idx)) {
			continue
		}
		s, perr := parseSuper(plain, nBlocks)
		if perr != nil {
			err = fmt.Errorf("reading directory in block %d: %w", idx, perr)
			continue
		}
		if sb == nil || s.gen > sb.gen {
			sb, slot = s, idx
		}
	}
	if sb != nil {
		return sb, slot, tried, nil
	}
	if err != nil {
		return nil, 0, tried, err
	}
	if readErr != nil && !errors.Is(readErr, io.EOF) {
		return nil, 0, tried, fmt.Errorf("reading container: %w", readErr)
	}
	return nil, 0, tried, ErrNoVolume
}

// Unlock opens the library that pass unlocks in the container at path: the
// outer or the hidden one. It returns ErrNoVolume, after the same work in
// both cases, when the passphrase is wrong or names no library.
//
// A hidden library opened this way knows the outer library's key (stored in
// its encrypted directory) and never writes over outer blocks. An outer
// library opened alone knows nothing of a hidden one: writing to it may
// destroy hidden data (use UnlockBoth). Only one Volume per container should
// write at a time. A container that cannot be opened for writing is opened
// read-only, and Add and Remove then return ErrReadOnly.
func Unlock(path, pass string) (*Volume, error) {
	f, nBlocks, salt, ro, err := openFile(path)
	if err != nil {
		return nil, err
	}
	v, err := unlock(f, nBlocks, salt, pass)
	if err != nil {
		f.Close()
		return nil, err
	}
	v.readOnly = ro
	return v, nil
}

// UnlockBoth opens the outer library with outer and also unlocks the hidden
// library with hidden, so that writes to the returned outer Volume avoid every
// hidden block. It fails with ErrNoVolume when either passphrase opens
// nothing, or when they do not name an outer and a hidden library.
func UnlockBoth(path, outer, hidden string) (*Volume, error) {
	f, nBlocks, salt, ro, err := openFile(path)
	if err != nil {
		return nil, err
	}
	v, err := unlockBoth(f, nBlocks, salt, outer, hidden)
	if err != nil {
		f.Close()
		return nil, err
	}
	v.readOnly = ro
	return v, nil
}

// openFile opens the container for reading and writing, or only for reading
// when writing is refused (readOnly is then true).
func openFile(path string) (f *os.File, nBlocks int64, salt []byte, readOnly bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		var rerr error
		if f, rerr = os.Open(path); rerr != nil {
			return nil, 0, nil, false, fmt.Errorf("opening container: %w", err)
		}
		readOnly = true
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, nil, false, fmt.Errorf("opening container: %w", err)
	}
	salt = make([]byte, saltSize)
	if _, err := f.ReadAt(salt, 0); err != nil && st.Size() >= saltSize {
		f.Close()
		return nil, 0, nil, false, fmt.Errorf("opening container: %w", err)
	}
	return f, st.Size() / BlockSize, salt, readOnly, nil
}

// unlock is Unlock on an opened storage. A container too small to be one
// still costs a full key derivation before failing.
func unlock(st storage, nBlocks int64, salt []byte, pass string) (*Volume, error) {
	k := newKeys(masterKey(pass, salt))
	if nBlocks < MinSize/BlockSize {
		return nil, ErrNoVolume
	}
	sb, slot, _, err := findSuper(st, nBlocks, k)
	if err != nil {
		return nil, err
	}
	v := &Volume{st: st, nBlocks: nBlocks, k: k, sb: sb, slot: slot}
	if sb.role == roleHidden {
		v.other = newKeys(sb.outerMaster)
		v.otherIsOuter = true
	}
	if err := v.initSlots(); err != nil {
		return nil, err
	}
	return v, nil
}

func unlockBoth(st storage, nBlocks int64, salt []byte, outer, hidden string) (*Volume, error) {
	ok := newKeys(masterKey(outer, salt))
	hk := newKeys(masterKey(hidden, salt))
	if nBlocks < MinSize/BlockSize {
		return nil, ErrNoVolume
	}
	osb, oslot, _, oerr := findSuper(st, nBlocks, ok)
	hsb, _, _, herr := findSuper(st, nBlocks, hk)
	if oerr != nil {
		return nil, oerr
	}
	if herr != nil {
		return nil, herr
	}
	if osb.role != roleOuter || hsb.role != roleHidden || hsb.outerMaster != ok.master {
		return nil, ErrNoVolume
	}
	v := &Volume{st: st, nBlocks: nBlocks, k: ok, sb: osb, slot: oslot, other: hk}
	if err := v.initSlots(); err != nil {
		return nil, err
	}
	return v, nil
}
