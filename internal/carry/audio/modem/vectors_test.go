package modem

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"
)

// vectors are the digests docs/modem.md publishes: of the parity-check
// matrix (for each row, its column indices ascending as u32 big-endian,
// then 0xFFFFFFFF) and of the data cells of the frame carrying "ferry"
// (each cell as the two bits b0 b1, one byte per cell: 2·b0+b1).
var vectors = map[Mode][2]string{
	Robust:   {"6197153daf5e56f92be9b829fb9037c5422d6645bb25391217b8ce98889db0fe", "60383cdc5283e1a748ac39cb2f3834c6c28f7764dcd7504cf1e618ce86f32994"},
	Standard: {"77527c9b6cf524605f4fde2cbf652fb7d78ad828151c1b72caff317ea73109ed", "7a83ba49f3f22667795293432c57e45718fed12be60b8077a9c99ade58604c01"},
	Fast:     {"c3f7ad3be352010202fde95b4cd3a508526d937e274a0056c06bd2fc39c8561b", "d7522f761e95847f4cd034ea4fcd0609b9e9535d4d41fd9a54d740df1b114fc8"},
}

func matrixDigest(c *ldpcCode) string {
	h := sha256.New()
	var b [4]byte
	for _, cols := range c.rows {
		s := append([]int32(nil), cols...)
		for i := range s { // insertion sort: rows are short
			for j := i; j > 0 && s[j] < s[j-1]; j-- {
				s[j], s[j-1] = s[j-1], s[j]
			}
		}
		for _, v := range s {
			binary.BigEndian.PutUint32(b[:], uint32(v))
			h.Write(b[:])
		}
		h.Write([]byte{0xFF, 0xFF, 0xFF, 0xFF})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func cellsDigest(l *layout, payload []byte) string {
	cells, err := l.encodeCells(payload)
	if err != nil {
		panic(err)
	}
	h := sha256.New()
	for _, c := range cells {
		var v byte
		if real(c) < 0 {
			v |= 2
		}
		if imag(c) < 0 {
			v |= 1
		}
		h.Write([]byte{v})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestVectors(t *testing.T) {
	for _, m := range Modes {
		l := m.layout()
		got := [2]string{matrixDigest(l.code), cellsDigest(l, []byte("ferry"))}
		if got != vectors[m] {
			t.Errorf("%s: digests %q, want %q (a change here changes the waveform: update docs/modem.md too)", m, got, vectors[m])
		}
		// Every information column has its weight, every parity column its
		// staircase, and the code is 4-cycle free.
		k := l.p.k
		colW := make([]int, l.code.n)
		for _, cols := range l.code.rows {
			for _, c := range cols {
				colW[c]++
			}
		}
		for j := 0; j < k; j++ {
			want := l.p.profile().colWeight(k, j)
			if colW[j] != want {
				t.Fatalf("%s: column %d has weight %d", m, j, colW[j])
			}
		}
		for j := k; j < l.code.n; j++ {
			if want := 2 - b2i(j == l.code.n-1); colW[j] != want {
				t.Fatalf("%s: parity column %d has weight %d", m, j, colW[j])
			}
		}
		seen := map[[2]int32]bool{}
		for _, cols := range l.code.rows {
			for a := range cols {
				for b := range cols {
					if cols[a] < cols[b] {
						p := [2]int32{cols[a], cols[b]}
						if seen[p] {
							t.Fatalf("%s: 4-cycle through columns %v", m, p)
						}
						seen[p] = true
					}
				}
			}
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
