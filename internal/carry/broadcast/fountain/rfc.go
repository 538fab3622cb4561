package fountain

import (
	"slices"
	"sort"
)

// MaxSourceSymbols is the largest number of source symbols in one source
// block (K'max of RFC 6330 section 5.1.2).
const MaxSourceSymbols = 56403

// code holds the derived parameters of RFC 6330 section 5.3.3.3 for one
// source block of K source symbols (extended to K' with padding symbols).
type code struct {
	k, kp    int // source symbols, extended source symbols K'
	j        uint32
	s, h, w  int // LDPC, HDPC and LT symbol counts
	l, p, p1 int // L = K'+S+H intermediate symbols, P = L-W PI symbols, P1 prime >= P
	b        int // B = W-S
}

// newCode returns the parameters for a block of k source symbols,
// 1 <= k <= MaxSourceSymbols.
func newCode(k int) code {
	i := sort.Search(len(systematicIndices), func(i int) bool { return int(systematicIndices[i].kp) >= k })
	e := systematicIndices[i]
	c := code{k: k, kp: int(e.kp), j: uint32(e.j), s: int(e.s), h: int(e.h), w: int(e.w)}
	c.l = c.kp + c.s + c.h
	c.p = c.l - c.w
	c.b = c.w - c.s
	c.p1 = c.p
	for !isPrime(c.p1) {
		c.p1++
	}
	return c
}

func isPrime(n int) bool {
	if n < 2 {
		return false
	}
	for d := 2; d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

// rnd is Rand[y, i, m] of RFC 6330 section 5.3.5.1.
func rnd(y uint32, i uint32, m uint32) uint32 {
	x0 := byte(y) + byte(i)
	x1 := byte(y>>8) + byte(i)
	x2 := byte(y>>16) + byte(i)
	x3 := byte(y>>24) + byte(i)
	return (randTables[0][x0] ^ randTables[1][x1] ^ randTables[2][x2] ^ randTables[3][x3]) % m
}

// degreeTable is f[d] of the degree generator Deg[v], RFC 6330 section 5.3.5.2.
var degreeTable = [31]uint32{
	0, 5243, 529531, 704294, 791675, 844104, 879057, 904023, 922747, 937311, 948962,
	958494, 966438, 973160, 978921, 983914, 988283, 992138, 995565, 998631, 1001391,
	1003887, 1006157, 1008229, 1010129, 1011876, 1013490, 1014983, 1016370, 1017662, 1048576,
}

// deg is Deg[v] for 0 <= v < 2^20.
func (c *code) deg(v uint32) int {
	d := 1
	for v >= degreeTable[d] {
		d++
	}
	if d > c.w-2 {
		return c.w - 2
	}
	return d
}

// appendRow appends the intermediate-symbol indices whose sum is the
// encoding symbol with internal symbol identifier isi: Tuple[K', X]
// (section 5.3.5.4) expanded as in Enc[] (section 5.3.5.3). Indices are
// distinct.
func (c *code) appendRow(dst []int32, isi uint32) []int32 {
	a0 := 53591 + c.j*997
	if a0%2 == 0 {
		a0++
	}
	b0 := 10267 * (c.j + 1)
	y := b0 + isi*a0
	v := rnd(y, 0, 1<<20)
	d := c.deg(v)
	a := 1 + rnd(y, 1, uint32(c.w-1))
	b := rnd(y, 2, uint32(c.w))
	d1 := 2
	if d < 4 {
		d1 = 2 + int(rnd(isi, 3, 2))
	}
	a1 := 1 + rnd(isi, 4, uint32(c.p1-1))
	b1 := rnd(isi, 5, uint32(c.p1))

	w, p, p1 := uint32(c.w), uint32(c.p), uint32(c.p1)
	dst = append(dst, int32(b))
	for i := 1; i < d; i++ {
		b = (b + a) % w
		dst = append(dst, int32(b))
	}
	for b1 >= p {
		b1 = (b1 + a1) % p1
	}
	start := len(dst)
	dst = append(dst, int32(w+b1))
	for i := 1; i < d1; i++ {
		b1 = (b1 + a1) % p1
		for b1 >= p {
			b1 = (b1 + a1) % p1
		}
		// With a tiny P the PI walk could revisit a column; two equal
		// terms cancel in GF(2).
		dup := -1
		for k := start; k < len(dst); k++ {
			if dst[k] == int32(w+b1) {
				dup = k
			}
		}
		if dup >= 0 {
			dst = append(dst[:dup], dst[dup+1:]...)
			continue
		}
		dst = append(dst, int32(w+b1))
	}
	return dst
}

// ldpcRows returns the columns of each of the S LDPC rows (RFC 6330
// section 5.3.3.3), sorted, with repeated terms cancelled as in GF(2).
func (c *code) ldpcRows() [][]int32 {
	s, p, w := c.s, c.p, c.w
	rows := make([][]int32, s)
	per := 3*c.b/s + 6
	for i := range rows {
		rows[i] = make([]int32, 0, per)
	}
	for i := 0; i < c.b; i++ {
		a := 1 + i/s
		b := i % s
		rows[b] = append(rows[b], int32(i))
		b = (b + a) % s
		rows[b] = append(rows[b], int32(i))
		b = (b + a) % s
		rows[b] = append(rows[b], int32(i))
	}
	for i := 0; i < s; i++ {
		rows[i] = append(rows[i], int32(c.b+i), int32(w+i%p), int32(w+(i+1)%p))
	}
	for i, r := range rows {
		slices.Sort(r)
		out := r[:0]
		for j := 0; j < len(r); {
			k := j
			for k < len(r) && r[k] == r[j] {
				k++
			}
			if (k-j)%2 == 1 {
				out = append(out, r[j])
			}
			j = k
		}
		rows[i] = out
	}
	return rows
}

// hdpcPair returns the two HDPC rows that column j (< K'+S-1) of the matrix
// MT of RFC 6330 section 5.3.3.3 has a one in.
func (c *code) hdpcPair(j int) (int, int) {
	h := uint32(c.h)
	r1 := rnd(uint32(j+1), 6, h)
	r2 := (r1 + rnd(uint32(j+1), 7, h-1) + 1) % h
	return int(r1), int(r2)
}
