package modem

import (
	"math"
	"math/bits"
)

// splitMix64 is the generator every pseudo-random choice of the waveform
// comes from (code matrices, interleaver, scrambler, pilots, preambles), so
// that docs/modem.md can specify them exactly.
type splitMix64 struct{ s uint64 }

func (g *splitMix64) next() uint64 {
	g.s += 0x9E3779B97F4A7C15
	z := g.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// intn returns next() mod n.
func (g *splitMix64) intn(n int) int { return int(g.next() % uint64(n)) }

// ldpcCode is a systematic irregular repeat-accumulate LDPC code of length
// n = k + m: a codeword is the k information bits followed by m parity
// bits. The parity-check matrix is H = [H1 | H2] with H2 the m×m
// dual-diagonal ("staircase") matrix, so parity bit i is parity bit i-1
// plus row i of H1 times the information bits. H1 has column weight 3 for
// the first columns and a higher weight for the rest (codeProfile), rows as
// even as possible, and no 4-cycles; docs/modem.md gives the construction.
type ldpcCode struct {
	k, n  int
	rows  [][]int32 // columns of each check row (H1 and H2 together)
	info  [][]int32 // for each row, the information columns only
	edges int
}

// codeProfile is the shape of an IRA code: m parity bits for k information
// bits, and the information columns j ≥ k·lowNum/lowDen have weight high
// (the others 3).
type codeProfile struct {
	m              int
	lowNum, lowDen int
	high           int
}

// rateHalf is m = k with 60% of the columns of weight 3 and 40% of weight
// 8 (the shape of DVB-S2's rate-1/2 code); rateThird is m = 2k with 75% of
// weight 3 and 25% of weight 12 (DVB-S2's rate 1/3).
func rateHalf(k int) codeProfile  { return codeProfile{m: k, lowNum: 3, lowDen: 5, high: 8} }
func rateThird(k int) codeProfile { return codeProfile{m: 2 * k, lowNum: 3, lowDen: 4, high: 12} }

// colWeight is the weight of information column j.
func (pr codeProfile) colWeight(k, j int) int {
	if j >= k*pr.lowNum/pr.lowDen {
		return pr.high
	}
	return 3
}

// newLDPC builds the code with k information bits and profile pr from seed.
func newLDPC(k int, pr codeProfile, seed uint64) *ldpcCode {
	m := pr.m
	c := &ldpcCode{k: k, n: k + m}
	rowCols := make([][]int32, m)   // all columns per row
	colRows := make([][]int32, k+m) // rows per column
	// Staircase parity part: column k+i has rows i and i+1 (the last only i).
	for i := 0; i < m; i++ {
		rowCols[i] = append(rowCols[i], int32(k+i))
		colRows[k+i] = append(colRows[k+i], int32(i))
		if i+1 < m {
			rowCols[i+1] = append(rowCols[i+1], int32(k+i))
			colRows[k+i] = append(colRows[k+i], int32(i+1))
		}
	}
	g := splitMix64{seed}
	// Rows by degree as bitsets, and the rows forbidden for the current
	// column, so that "the rows of minimal degree not forbidden, in
	// increasing order" is a few word operations per 64 rows.
	words := (m + 63) / 64
	var byDeg [][]uint64
	addRow := func(r int32) {
		d := len(rowCols[r])
		for len(byDeg) <= d {
			byDeg = append(byDeg, make([]uint64, words))
		}
		byDeg[d][r/64] |= 1 << (r % 64)
	}
	for r := range rowCols {
		addRow(int32(r))
	}
	forbidden := make([]uint64, words)
	for j := 0; j < k; j++ {
		clear(forbidden)
		for e := pr.colWeight(k, j); e > 0; e-- {
			// Rows at distance 2 from the rows already chosen would close
			// a 4-cycle; the chosen rows themselves are excluded too.
			r := int32(-1)
			for _, set := range byDeg {
				n := 0
				for w, v := range set {
					n += bits.OnesCount64(v &^ forbidden[w])
				}
				if n == 0 {
					continue
				}
				pick := g.intn(n)
				for w, v := range set {
					v &^= forbidden[w]
					if c := bits.OnesCount64(v); pick >= c {
						pick -= c
						continue
					}
					for ; pick > 0; pick-- {
						v &= v - 1
					}
					r = int32(64*w + bits.TrailingZeros64(v))
					break
				}
				break
			}
			if r < 0 {
				break // cannot happen for the sizes used; the column keeps fewer edges
			}
			byDeg[len(rowCols[r])][r/64] &^= 1 << (r % 64)
			rowCols[r] = append(rowCols[r], int32(j))
			colRows[j] = append(colRows[j], r)
			addRow(r)
			// Forbid r and every row sharing a column with r.
			for _, col := range rowCols[r] {
				for _, r2 := range colRows[col] {
					forbidden[r2/64] |= 1 << (r2 % 64)
				}
			}
		}
	}
	c.rows = rowCols
	c.info = make([][]int32, m)
	for i, cols := range rowCols {
		for _, col := range cols {
			if int(col) < k {
				c.info[i] = append(c.info[i], col)
			}
		}
		c.edges += len(cols)
	}
	return c
}

// encode returns the codeword (one bit per byte) of the k information bits.
func (c *ldpcCode) encode(info []byte) []byte {
	cw := make([]byte, c.n)
	copy(cw, info)
	var p byte
	for i := 0; i < c.n-c.k; i++ {
		for _, col := range c.info[i] {
			p ^= info[col]
		}
		cw[c.k+i] = p
	}
	return cw
}

// ldpcDecoder decodes with layered belief propagation (exact sum-product in
// the φ domain), row by row, stopping as soon as every check holds.
type ldpcDecoder struct {
	c   *ldpcCode
	msg []float32 // check-to-variable messages, per edge in row order
	llr []float32 // posterior log-likelihood ratios, positive = bit 0
	t   []float32
}

func newLDPCDecoder(c *ldpcCode) *ldpcDecoder {
	return &ldpcDecoder{c: c, msg: make([]float32, c.edges), llr: make([]float32, c.n), t: make([]float32, 64)}
}

// phi is -ln(tanh(x/2)), its own inverse. It is read from a table with
// linear interpolation above 1/64 and computed exactly below, where it is
// steep.
func phi(x float32) float32 {
	if x >= phiMax {
		return 0
	}
	if x < 1.0/phiStep {
		if x < 1e-6 {
			x = 1e-6
		}
		return phiExact(float64(x))
	}
	f := x * phiStep
	i := int(f)
	w := f - float32(i)
	return phiTable[i] + w*(phiTable[i+1]-phiTable[i])
}

const (
	phiStep = 64
	phiMax  = 20
)

var phiTable = func() []float32 {
	t := make([]float32, phiMax*phiStep+2)
	for i := 1; i < len(t); i++ {
		t[i] = phiExact(float64(i) / phiStep)
	}
	t[0] = t[1]
	return t
}()

func phiExact(x float64) float32 {
	e := math.Exp(-x)
	return float32(math.Log((1 + e) / (1 - e)))
}

// decode runs at most maxIter iterations on the channel LLRs (positive
// means bit 0) and returns the hard decisions, whether every parity check
// holds, and the iterations used.
func (d *ldpcDecoder) decode(ch []float32, maxIter int) ([]byte, bool, int) {
	c := d.c
	copy(d.llr, ch)
	for i := range d.msg {
		d.msg[i] = 0
	}
	hard := make([]byte, c.n)
	for it := 1; it <= maxIter; it++ {
		e := 0
		for _, cols := range c.rows {
			if len(cols) > len(d.t) {
				d.t = make([]float32, len(cols))
			}
			t := d.t[:len(cols)]
			var sum float32
			sign := false
			for i, col := range cols {
				v := d.llr[col] - d.msg[e+i]
				t[i] = v
				if v < 0 {
					sign = !sign
					v = -v
				}
				sum += phi(v)
			}
			for i, col := range cols {
				v := t[i]
				s := sign
				if v < 0 {
					s = !s
					v = -v
				}
				m := phi(sum - phi(v))
				if m > 40 {
					m = 40
				}
				if s {
					m = -m
				}
				d.msg[e+i] = m
				d.llr[col] = t[i] + m
			}
			e += len(cols)
		}
		for i, l := range d.llr {
			if l < 0 {
				hard[i] = 1
			} else {
				hard[i] = 0
			}
		}
		if c.check(hard) {
			return hard, true, it
		}
	}
	return hard, false, maxIter
}

// check reports whether every parity check holds.
func (c *ldpcCode) check(cw []byte) bool {
	for _, cols := range c.rows {
		var p byte
		for _, col := range cols {
			p ^= cw[col]
		}
		if p != 0 {
			return false
		}
	}
	return true
}
