package archive

import "slices"

// keyIndex maps 64-bit keys to 32-bit values in about 12 bytes a key: a
// sorted pair of arrays holds all but the newest keys, which wait in a
// small map until it holds a sixteenth as many as the arrays (or 16,384)
// and are merged in (the map takes ~30 bytes a key: at an eighth it
// was ~4 bytes an entry more). The Writer keeps its per-entry lookups (content
// hash → entry, path hashes) in two of these instead of Go maps, which
// take three to four times the space and grew the pack's memory with the
// entry count (docs/benchmarks.md, issue 15).
type keyIndex struct {
	keys   []uint64 // sorted, no repeats
	vals   []uint32
	recent map[uint64]uint32
}

// keyIndexMinRecent is the smallest size the map of new keys is merged at.
const keyIndexMinRecent = 1 << 14

func (x *keyIndex) get(k uint64) (uint32, bool) {
	if v, ok := x.recent[k]; ok {
		return v, true
	}
	if i, ok := slices.BinarySearch(x.keys, k); ok {
		return x.vals[i], true
	}
	return 0, false
}

// add records k → v; k must not be in the index (check with get first).
func (x *keyIndex) add(k uint64, v uint32) {
	if x.recent == nil {
		x.recent = make(map[uint64]uint32)
	}
	x.recent[k] = v
	if len(x.recent) >= max(keyIndexMinRecent, len(x.keys)/16) {
		x.merge()
	}
}

// merge moves the new keys into the sorted arrays, sized exactly.
func (x *keyIndex) merge() {
	nk := make([]uint64, 0, len(x.recent))
	for k := range x.recent {
		nk = append(nk, k)
	}
	slices.Sort(nk)
	keys := make([]uint64, len(x.keys)+len(nk))
	vals := make([]uint32, len(keys))
	i, j := 0, 0
	for o := range keys {
		if j == len(nk) || i < len(x.keys) && x.keys[i] < nk[j] {
			keys[o], vals[o] = x.keys[i], x.vals[i]
			i++
		} else {
			keys[o], vals[o] = nk[j], x.recent[nk[j]]
			j++
		}
	}
	x.keys, x.vals = keys, vals
	clear(x.recent) // keeps its table for the next keys
}
