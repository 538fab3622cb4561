package peer

import (
	"sort"

	"ferry/internal/carry/peer/riblt"
)

// The plan of an update (docs/sync.md §4.6): after entry reconciliation
// the giver knows which entries of its archive the taker lacks; both sides
// then agree, cluster by cluster, on which raw bytes the taker can supply
// from its own edition and which must travel (the gaps).

// defaultEntryLimits bound entry reconciliation (riblt's defaults).
var defaultEntryLimits = riblt.DefaultLimits

// cplan is a plan, as both sides hold it.
type cplan struct {
	flags   uint64
	missing []bool           // by directory index: the taker lacks this (path, content)
	moved   map[int][16]byte // missing entries whose content the taker holds at another path (its path key)
}

// crange is one distinct content range of a cluster's raw bytes and the
// entries that point at it (several, when content is deduplicated).
type crange struct {
	off, n  int64
	members []entryRec
}

// members groups a layout's non-chunked content entries by cluster, once.
func (l *layout) members() map[uint32][]entryRec {
	l.memOnce.Do(func() {
		l.byCluster = map[uint32][]entryRec{}
		l.chunkedCluster = map[uint32]bool{}
		for _, e := range l.Entries {
			if e.Chunked {
				k := max(1, (e.Size+int64(l.M.ChunkSize)-1)/int64(l.M.ChunkSize))
				for j := int64(0); j < k; j++ {
					l.chunkedCluster[e.Cluster+uint32(j)] = true
				}
				continue
			}
			l.byCluster[e.Cluster] = append(l.byCluster[e.Cluster], e)
		}
	})
	return l.byCluster
}

// rangesOf returns the content ranges of cluster ci in offset order, or nil
// when its raw bytes are not exactly the entries' contents back to back
// (a chunk of a large entry, bytes no entry names, overlapping contents):
// such a cluster can only travel as it is.
func rangesOf(l *layout, ci int) []crange {
	mem := l.members()[uint32(ci)]
	if len(mem) == 0 || l.chunkedCluster[uint32(ci)] {
		return nil
	}
	sorted := append([]entryRec(nil), mem...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Offset != sorted[j].Offset {
			return sorted[i].Offset < sorted[j].Offset
		}
		return sorted[i].Size < sorted[j].Size
	})
	var out []crange
	at := int64(0)
	for _, e := range sorted {
		off := int64(e.Offset)
		if len(out) > 0 {
			last := &out[len(out)-1]
			if last.off == off && last.n == e.Size {
				last.members = append(last.members, e)
				continue
			}
		}
		if off != at {
			return nil
		}
		out = append(out, crange{off: off, n: e.Size, members: []entryRec{e}})
		at = off + e.Size
	}
	if at != l.Clusters[ci].Raw {
		return nil
	}
	return out
}

// source says where the taker gets a range from: the path of an entry of
// its own edition (known by path), a path key (moved), or the gaps.
func (p *cplan) source(r crange) (path string, key [16]byte, byKey, known bool) {
	for _, m := range r.members {
		if !p.missing[m.Index] {
			return m.Path, key, false, true
		}
	}
	for _, m := range r.members {
		if k, ok := p.moved[m.Index]; ok {
			return "", k, true, true
		}
	}
	return "", key, false, false
}

// gaps returns the ranges the taker cannot supply, in offset order: what
// a GET of kind gaps carries, concatenated.
func (p *cplan) gaps(rs []crange) []span {
	var out []span
	for _, r := range rs {
		if _, _, _, known := p.source(r); !known && r.n > 0 {
			out = append(out, span{r.off, r.n})
		}
	}
	return out
}
