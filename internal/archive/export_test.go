package archive

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"

	"ferry/internal/key"
)

// Resign makes a fuzzed archive pass every hash and signature check: it
// recomputes cluster hashes, section block hashes and roots, and signs the
// manifest with k. The fuzzer can then reach the structure parsers behind
// the checks, as a hostile publisher with a key of their own could.
func Resign(b []byte, k *key.Secret) []byte {
	if len(b) < headerSize+trailerSize {
		return b
	}
	tr := b[len(b)-trailerSize:]
	mOff := binary.LittleEndian.Uint64(tr[0:])
	mLen := uint64(binary.LittleEndian.Uint32(tr[8:]))
	if mOff < headerSize || mOff > uint64(len(b)) || mLen > uint64(len(b))-mOff {
		return b
	}
	var m Manifest
	if json.Unmarshal(b[mOff:mOff+mLen], &m) != nil {
		return b
	}
	body := append([]byte{}, b[:mOff]...)
	in := func(off, n int64) bool {
		return off >= 0 && n >= 0 && off <= int64(len(body)) && n <= int64(len(body))-off
	}
	if cs, ok := m.Sections[secClusters]; ok && in(cs.Offset, cs.Length) {
		for r := cs.Offset; r+clusterRecordSize <= cs.Offset+cs.Length; r += clusterRecordSize {
			off := int64(binary.LittleEndian.Uint64(body[r:]))
			n := int64(binary.LittleEndian.Uint32(body[r+8:]))
			if in(off, n) {
				h := sha256.Sum256(body[off : off+n])
				copy(body[r+16:], h[:])
			}
		}
	}
	for name, s := range m.Sections {
		if s.BlockSize <= 0 || s.BlockSize > maxBlockSize || !in(s.Offset, s.Length) || !in(s.HashesOffset, s.blocks()*32) {
			continue
		}
		var list []byte
		for i := int64(0); i < s.blocks(); i++ {
			st := s.Offset + i*int64(s.BlockSize)
			h := sha256.Sum256(body[st:min(st+int64(s.BlockSize), s.Offset+s.Length)])
			list = append(list, h[:]...)
		}
		copy(body[s.HashesOffset:], list)
		root := sha256.Sum256(list)
		s.Root = hex.EncodeToString(root[:])
		m.Sections[name] = s
	}
	var mb []byte
	for guess := 0; ; {
		m.FileSize = int64(len(body)) + int64(guess) + 97 + trailerSize
		mb, _ = json.Marshal(&m)
		if len(mb) == guess {
			break
		}
		guess = len(mb)
	}
	out := append(body, mb...)
	out = append(out, 1)
	p := k.Public()
	out = append(out, p[:]...)
	out = append(out, k.Sign(signedMessage(mb))...)
	var t [trailerSize]byte
	binary.LittleEndian.PutUint64(t[0:], uint64(len(body)))
	binary.LittleEndian.PutUint32(t[8:], uint32(len(mb)))
	binary.LittleEndian.PutUint32(t[12:], 97)
	copy(t[24:], trailerMagic)
	return append(out, t[:]...)
}
