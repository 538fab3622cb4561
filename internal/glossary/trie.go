package glossary

import "sort"

// trie maps rune strings to values. The root's children are found by
// direct index (Hangul syllable or ASCII byte), deeper ones by binary
// search in a node's sorted edge list: a lookup allocates nothing.
type trie struct {
	root  []int32 // rootSlot(r) → node+1; 0 means none
	nodes []tnode
	edges []tedge

	build map[int32]map[rune]int32 // children while building; nil after freeze
}

type tnode struct {
	first, n int32  // edges[first:first+n], sorted by rune
	val      int32  // value ending here, or -1
	mask     uint64 // bit runeBit(r) set for every child rune r: most misses end here
}

func runeBit(r rune) uint64 { return 1 << ((uint32(r) ^ uint32(r)>>6) & 63) }

type tedge struct {
	r  rune
	to int32
}

const (
	hangulFirst = 0xAC00
	hangulLast  = 0xD7A3
	nHangul     = hangulLast - hangulFirst + 1
)

func isHangul(r rune) bool { return r >= hangulFirst && r <= hangulLast }

func isLatin(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

func rootSlot(r rune) int {
	switch {
	case isHangul(r):
		return int(r - hangulFirst)
	case r < 128:
		return nHangul + int(r)
	}
	return -1
}

func newTrie() trie {
	return trie{root: make([]int32, nHangul+128), build: map[int32]map[rune]int32{}}
}

// add stores v under key (replacing an earlier value). Keys must consist of
// runes rootSlot accepts for their first rune.
func (t *trie) add(key string, v int32) {
	cur := int32(-1)
	for _, r := range key {
		if cur < 0 {
			s := rootSlot(r)
			if s < 0 {
				panic("glossary: internal error: trie key starts with an unindexed rune")
			}
			if t.root[s] == 0 {
				t.nodes = append(t.nodes, tnode{val: -1})
				t.root[s] = int32(len(t.nodes))
			}
			cur = t.root[s] - 1
			continue
		}
		m := t.build[cur]
		if m == nil {
			m = map[rune]int32{}
			t.build[cur] = m
		}
		nx, ok := m[r]
		if !ok {
			t.nodes = append(t.nodes, tnode{val: -1})
			nx = int32(len(t.nodes) - 1)
			m[r] = nx
		}
		cur = nx
	}
	if cur >= 0 {
		t.nodes[cur].val = v
	}
}

// freeze turns the build maps into sorted edge lists.
func (t *trie) freeze() {
	for i := range t.nodes {
		m := t.build[int32(i)]
		if len(m) == 0 {
			continue
		}
		t.nodes[i].first = int32(len(t.edges))
		t.nodes[i].n = int32(len(m))
		for r, to := range m {
			t.edges = append(t.edges, tedge{r, to})
			t.nodes[i].mask |= runeBit(r)
		}
		es := t.edges[t.nodes[i].first:]
		sort.Slice(es, func(a, b int) bool { return es[a].r < es[b].r })
	}
	t.build = nil
}

// child returns the node reached from node cur (-1 for the root) by r, or -1.
func (t *trie) child(cur int32, r rune) int32 {
	if cur < 0 {
		s := rootSlot(r)
		if s < 0 || t.root == nil {
			return -1
		}
		return t.root[s] - 1
	}
	n := &t.nodes[cur]
	if n.mask&runeBit(r) == 0 {
		return -1
	}
	lo, hi := n.first, n.first+n.n
	for lo < hi {
		m := (lo + hi) >> 1
		if e := t.edges[m]; e.r < r {
			lo = m + 1
		} else if e.r > r {
			hi = m
		} else {
			return e.to
		}
	}
	return -1
}

// hit is a key found at a position: it ends before rune index end.
type hit struct {
	end int
	val int32
}

// prefixes writes into out the keys that are prefixes of rs[i:limit],
// shortest first, and returns how many it wrote.
func (t *trie) prefixes(rs []rune, i, limit int, out *[maxHits]hit) int {
	n := 0
	cur := int32(-1)
	for j := i; j < limit; j++ {
		cur = t.child(cur, rs[j])
		if cur < 0 {
			break
		}
		if v := t.nodes[cur].val; v >= 0 && n < maxHits {
			out[n] = hit{j + 1, v}
			n++
		}
	}
	return n
}

// maxHits bounds the keys found at one position; headwords nest far less.
const maxHits = 12
