package archive

import "encoding/binary"

// similarityKey is the key by which Finish orders compressible entries
// before cutting them into clusters, so that entries with much content in
// common share a cluster wherever they came in the input (copies of an
// article far apart in path order, pages of one template): zstd then
// finds the repeats inside the cluster. It is a two-part MinHash of the
// entry's 8-byte windows: the high 32 bits are the top bits of the
// smallest hash of any window, the low 32 bits those of the smallest hash
// under a second hash function. Two entries get the same high half with a
// probability near the share of distinct windows they have in common
// (their Jaccard similarity), so sorting by the key puts similar entries
// side by side; windows every entry has (a site's boilerplate) tie all of
// them on a half, and the other half then decides. Entries shorter than
// 8 bytes get key 0. The key is a writer's choice, not part of the format.
func similarityKey(b []byte) uint64 {
	if len(b) < 8 {
		return 0
	}
	m1, m2 := ^uint64(0), ^uint64(0)
	for i := 0; i+8 <= len(b); i++ {
		h := mix64(binary.LittleEndian.Uint64(b[i:]))
		m1 = min(m1, h)
		m2 = min(m2, mix64(h^0x9e3779b97f4a7c15))
	}
	return m1&^0xffffffff | m2>>32
}

// mix64 is a 64-bit finaliser (MurmurHash3's fmix64): every input bit
// affects every output bit.
func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
