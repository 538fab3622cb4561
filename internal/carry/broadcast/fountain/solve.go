package fountain

import (
	"errors"
	"math/bits"
)

// The solver finds the L intermediate symbols C of RFC 6330 section 5.3.3
// from a set of equations, by inactivation decoding (section 5.4 describes
// one schedule; any schedule that solves the same system gives the same C):
//
//  1. Peeling. Only the binary sparse rows (LDPC rows and one LT row per
//     received symbol) take part; the P "PI" columns start inactive. A row
//     with one remaining column solves that column; when none is left, the
//     row of smallest degree keeps one column and its others are
//     inactivated. The pivot rows, in order, are lower triangular on their
//     pivot columns.
//  2. Each pivot column is written as (symbol) + (binary combination of the
//     u inactive columns) by forward substitution.
//  3. The rows not used as pivots and the H HDPC rows become a dense u-column
//     system over GF(256). The HDPC rows are the product MT*GAMMA (section
//     5.3.3.3); GAMMA is applied as the recurrence w_j = alpha*w_(j-1) + c_j,
//     which costs one pass over the columns instead of H.
//  4. Gauss-Jordan elimination solves the inactive columns; extra rows must
//     come out zero, or the symbols are inconsistent.
//  5. Back substitution through the original sparse pivot rows gives the
//     other columns.
//
// Steps 1-4 on coefficients form a plan that depends only on which
// equations are present; executing it touches symbols only. The encoder
// caches the plan of each K' (its equations are always ISIs 0..K'-1).

var (
	// errSingular means the equations do not determine the block yet:
	// more symbols are needed.
	errSingular = errors.New("fountain: not enough independent symbols yet")
)

// denseOp is one row operation of the dense phase: row dst ^= c * row src,
// or, when src < 0, row dst *= c.
type denseOp struct {
	dst, src int32
	c        byte
}

// plan is the symbol-independent part of a solve.
type plan struct {
	c        *code
	rowStart []int32 // CSR sparse rows: row r has columns cols[rowStart[r]:rowStart[r+1]]
	cols     []int32
	pivRow   []int32     // pivot rows in elimination order
	pivCol   []int32     // and the column each one solves
	colPiv   []int32     // column -> index into pivRow, or -1 when inactive
	inact    []int32     // inactive columns; position = dense column
	leftover []int32     // sparse rows that are not pivots (dense rows 0..)
	ops      []denseOp   // all dense row operations, in elimination order
	fwd      [][]denseOp // ops grouped by target row: forward phase (scale last)
	back     [][]denseOp // and back substitution
	order    []int32     // dense pivot rows in elimination order
	hdpc     []int32     // the two HDPC rows of each column j < K'+S-1 (MT)
	denseRow []int32     // dense column i -> dense row holding its value after ops
	check    []int32     // dense rows that must end up zero
	nRows    int         // sparse rows
	// The sparse passes of execute as XOR programs (see runProg): fwdProg
	// computes the symbol part of every pivot column and the right-hand
	// sides of the leftover rows, backProg the final pivot columns.
	fwdProg, backProg []int32
}

func (p *plan) row(r int32) []int32 { return p.cols[p.rowStart[r]:p.rowStart[r+1]] }

// newSparseRows builds the CSR rows: the S LDPC rows then one LT row per ISI.
func newSparseRows(c *code, isis []uint32) (rowStart, cols []int32) {
	ldpc := c.ldpcRows()
	n := len(ldpc) + len(isis)
	rowStart = make([]int32, 1, n+1)
	cols = make([]int32, 0, n*8)
	for _, r := range ldpc {
		cols = append(cols, r...)
		rowStart = append(rowStart, int32(len(cols)))
	}
	for _, isi := range isis {
		cols = c.appendRow(cols, isi)
		rowStart = append(rowStart, int32(len(cols)))
	}
	return rowStart, cols
}

// buildPlan runs steps 1-4 on coefficients for the sparse rows given.
func buildPlan(c *code, rowStart, cols []int32) (*plan, error) {
	p := &plan{c: c, rowStart: rowStart, cols: cols}
	nR := len(rowStart) - 1
	W, L := c.w, c.l

	// column -> rows index, for the LT columns (< W) only
	colStart := make([]int32, W+1)
	for _, col := range cols {
		if int(col) < W {
			colStart[col+1]++
		}
	}
	for i := 0; i < W; i++ {
		colStart[i+1] += colStart[i]
	}
	colRows := make([]int32, colStart[W])
	fill := make([]int32, W)
	copy(fill, colStart[:W])
	deg := make([]int32, nR)
	maxDeg := int32(0)
	for r := 0; r < nR; r++ {
		for _, col := range p.row(int32(r)) {
			if int(col) < W {
				colRows[fill[col]] = int32(r)
				fill[col]++
				deg[r]++
			}
		}
		if deg[r] > maxDeg {
			maxDeg = deg[r]
		}
	}

	const (
		remaining = iota
		pivoted
		inactive
	)
	state := make([]uint8, L)
	for i := W; i < L; i++ {
		state[i] = inactive
	}
	used := make([]bool, nR)
	queue := make([]int32, 0, 64)
	buckets := make([][]int32, maxDeg+1)
	push := func(r int32) {
		d := deg[r]
		if d == 1 {
			queue = append(queue, r)
		} else if d >= 2 {
			buckets[d] = append(buckets[d], r)
		}
	}
	for r := 0; r < nR; r++ {
		push(int32(r))
	}
	var dynInact []int32
	drop := func(col int32) { // col leaves the remaining set
		for _, x := range colRows[colStart[col]:colStart[col+1]] {
			if !used[x] {
				deg[x]--
				push(x)
			}
		}
	}
	inactivate := func(col int32) {
		state[col] = inactive
		dynInact = append(dynInact, col)
		drop(col)
	}
	colPiv := make([]int32, L)
	for i := range colPiv {
		colPiv[i] = -1
	}
	left := W
	for left > 0 {
		r := int32(-1)
		for len(queue) > 0 {
			x := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			if !used[x] && deg[x] == 1 {
				r = x
				break
			}
		}
		if r < 0 {
			// No degree-one row: take a row of least degree and inactivate
			// all but one of its columns. Among a few such rows, prefer
			// the one whose busiest column is in the most unused rows:
			// inactivating it lowers the most degrees, so the peeling
			// goes on longest.
			var cands []int32
			for d := int32(2); d <= maxDeg && len(cands) == 0; d++ {
				for len(buckets[d]) > 0 && len(cands) < 64 {
					x := buckets[d][len(buckets[d])-1]
					buckets[d] = buckets[d][:len(buckets[d])-1]
					if !used[x] && deg[x] == d {
						cands = append(cands, x)
					}
				}
			}
			if len(cands) == 0 {
				// No row reaches the remaining columns: leave them to
				// the dense phase (it fails if nothing determines them).
				for col := 0; col < W; col++ {
					if state[col] == remaining {
						inactivate(int32(col))
						left--
					}
				}
				break
			}
			active := func(col int32) int {
				n := 0
				for _, x := range colRows[colStart[col]:colStart[col+1]] {
					if !used[x] {
						n++
					}
				}
				return n
			}
			bestRow, bestScore := cands[0], -1
			for _, x := range cands {
				score := 0
				for _, col := range p.row(x) {
					if int(col) < W && state[col] == remaining {
						score = max(score, active(col))
					}
				}
				if score > bestScore {
					bestRow, bestScore = x, score
				}
			}
			r = bestRow
			for _, x := range cands {
				if x != r {
					push(x) // back in its bucket for later
				}
			}
			keep, best := int32(-1), 1<<30
			for _, col := range p.row(r) {
				if int(col) < W && state[col] == remaining {
					if n := active(col); n < best {
						keep, best = col, n
					}
				}
			}
			for _, col := range p.row(r) {
				if int(col) < W && state[col] == remaining && col != keep {
					inactivate(col)
					left--
				}
			}
		}
		// r has exactly one remaining column
		var pc int32 = -1
		for _, col := range p.row(r) {
			if int(col) < W && state[col] == remaining {
				pc = col
				break
			}
		}
		used[r] = true
		state[pc] = pivoted
		colPiv[pc] = int32(len(p.pivRow))
		p.pivRow = append(p.pivRow, r)
		p.pivCol = append(p.pivCol, pc)
		left--
		drop(pc)
	}
	p.colPiv = colPiv

	// inactive columns: the PI columns, then those inactivated above
	colIdx := make([]int32, L)
	for i := range colIdx {
		colIdx[i] = -1
	}
	for col := W; col < L; col++ {
		colIdx[col] = int32(len(p.inact))
		p.inact = append(p.inact, int32(col))
	}
	for _, col := range dynInact {
		colIdx[col] = int32(len(p.inact))
		p.inact = append(p.inact, col)
	}
	u := len(p.inact)
	nw := (u + 63) / 64

	// step 2: binary inactive combination of each pivot column
	bitsOf := make([]uint64, len(p.pivRow)*nw)
	for k, r := range p.pivRow {
		b := bitsOf[k*nw : (k+1)*nw]
		for _, col := range p.row(r) {
			if i := colIdx[col]; i >= 0 {
				b[i>>6] ^= 1 << (uint(i) & 63)
			} else if j := colPiv[col]; int(j) != k {
				for w, v := range bitsOf[int(j)*nw : (int(j)+1)*nw] {
					b[w] ^= v
				}
			}
		}
	}
	// expand adds the bit vector v (nw words) into the byte row dst,
	// scaled by 2^shift.
	expand := func(dst []byte, v []uint64, shift uint) {
		for w, x := range v {
			for x != 0 {
				t := bits.TrailingZeros64(x)
				dst[w*64+t] ^= 1 << shift
				x &= x - 1
			}
		}
	}
	xorWords := func(dst, src []uint64) {
		for i, v := range src {
			dst[i] ^= v
		}
	}

	// step 3: the dense system
	for r := 0; r < nR; r++ {
		if !used[r] {
			p.leftover = append(p.leftover, int32(r))
		}
	}
	nl := len(p.leftover)
	mD := nl + c.h
	if mD < u {
		return nil, errSingular
	}
	m := make([]byte, mD*u)
	drow := func(i int) []byte { return m[i*u : (i+1)*u] }
	vec := make([]uint64, nw)
	for i, r := range p.leftover {
		clear(vec)
		for _, col := range p.row(r) {
			if j := colIdx[col]; j >= 0 {
				vec[j>>6] ^= 1 << (uint(j) & 63)
			} else {
				k := int(colPiv[col])
				xorWords(vec, bitsOf[k*nw:(k+1)*nw])
			}
		}
		expand(drow(i), vec, 0)
	}
	// The HDPC recurrence acc = alpha*acc + e_j runs on bit planes: plane
	// b holds bit b of every coefficient, so multiplying by alpha shifts
	// the planes and folds plane 7 back by the polynomial (0x1D = bits
	// 0, 2, 3, 4), all a word at a time.
	p.hdpc = make([]int32, 0, 2*(c.kp+c.s))
	pl := make([]uint64, 8*nw)
	plane := func(b int) []uint64 { return pl[b*nw : (b+1)*nw] }
	hp := make([]uint64, c.h*8*nw)
	top := make([]uint64, nw)
	ks := c.kp + c.s
	for j := 0; j < ks; j++ {
		copy(top, plane(7))
		copy(pl[nw:], pl[:7*nw])
		copy(plane(0), top)
		xorWords(plane(2), top)
		xorWords(plane(3), top)
		xorWords(plane(4), top)
		if i := colIdx[j]; i >= 0 {
			plane(0)[i>>6] ^= 1 << (uint(i) & 63)
		} else {
			k := int(colPiv[j])
			xorWords(plane(0), bitsOf[k*nw:(k+1)*nw])
		}
		if j < ks-1 {
			h1, h2 := c.hdpcPair(j)
			p.hdpc = append(p.hdpc, int32(h1), int32(h2))
			xorWords(hp[h1*8*nw:(h1+1)*8*nw], pl)
			xorWords(hp[h2*8*nw:(h2+1)*8*nw], pl)
		}
	}
	acc := make([]byte, u)
	for b := 0; b < 8; b++ {
		expand(acc, plane(b), uint(b))
	}
	for h := 0; h < c.h; h++ {
		d := drow(nl + h)
		for b := 0; b < 8; b++ {
			expand(d, hp[(h*8+b)*nw:(h*8+b+1)*nw], uint(b))
		}
		mulAddInto(d, acc, octExp[h]) // last column of MT: alpha^h
		d[colIdx[ks+h]] ^= 1
	}

	// step 4: elimination. The binary rows pivot first, so they are only
	// ever combined with binary rows (XOR); GF(256) products are confined
	// to the H HDPC rows. Forward elimination, then back substitution
	// from the last pivot, leaves every pivot row a unit row.
	isPiv := make([]bool, mD)
	p.denseRow = make([]int32, u)
	colDone := make([]bool, u)
	var order []int32 // dense pivot rows in elimination order
	var orderCol []int32
	for r := 0; r < mD; r++ {
		pr := drow(r)
		col := -1
		for j, v := range pr {
			if v != 0 {
				col = j
				break
			}
		}
		if col < 0 {
			continue // all zero: must have a zero right-hand side
		}
		if colDone[col] {
			panic("fountain: internal error: pivot column reused")
		}
		colDone[col] = true
		isPiv[r] = true
		p.denseRow[col] = int32(r)
		order = append(order, int32(r))
		orderCol = append(orderCol, int32(col))
		if v := pr[col]; v != 1 {
			inv := gfInv(v)
			scaleInPlace(pr, inv)
			p.ops = append(p.ops, denseOp{dst: int32(r), src: -1, c: inv})
		}
		for r2 := r + 1; r2 < mD; r2++ {
			if f := m[r2*u+col]; f != 0 {
				mulAddInto(drow(r2), pr, f)
				p.ops = append(p.ops, denseOp{dst: int32(r2), src: int32(r), c: f})
			}
		}
	}
	if len(order) < u {
		return nil, errSingular
	}
	nFwd := len(p.ops)
	for i := len(order) - 1; i >= 0; i-- {
		r, col := order[i], int(orderCol[i])
		for _, q := range order[:i] {
			if f := m[int(q)*u+col]; f != 0 {
				m[int(q)*u+col] = 0
				p.ops = append(p.ops, denseOp{dst: q, src: r, c: f})
			}
		}
	}
	// Group the operations by target row: a row's forward operations only
	// read rows that precede it, in their final forward state, and its
	// back-substitution operations only read rows later in the elimination
	// order, already final; so each row's operations can run together,
	// XORs batched into one pass.
	p.order = order
	p.fwd = make([][]denseOp, mD)
	p.back = make([][]denseOp, mD)
	for i, op := range p.ops {
		if i < nFwd {
			p.fwd[op.dst] = append(p.fwd[op.dst], op)
		} else {
			p.back[op.dst] = append(p.back[op.dst], op)
		}
	}
	for r := 0; r < mD; r++ {
		if !isPiv[r] {
			p.check = append(p.check, int32(r))
		}
	}
	p.compile()
	return p, nil
}

// compile writes the sparse passes of execute as XOR programs over the
// symbol table of execute: entries 0..L-1 are the intermediate symbols
// (slots), L..L+mD-1 the dense right-hand sides, then the received symbol
// of each sparse row. An instruction is dst, n, pf, src1..srcn: dst = the
// XOR of the n sources; pf (or -1) is a symbol to prefetch for a later
// instruction. The S LDPC rows have no symbol (always zero), so they are
// left out of the source lists.
func (p *plan) compile() {
	c := p.c
	L, mD := c.l, len(p.leftover)+c.h
	p.nRows = len(p.rowStart) - 1
	symIdx := func(r int32) int32 { return int32(L+mD) + r }
	var prog []int32
	var rows []int32 // sparse row of each instruction
	emit := func(dst, r int32, skip int32, pivotedOnly bool) {
		at := len(prog)
		prog = append(prog, dst, 0, -1)
		rows = append(rows, r)
		if int(r) >= c.s {
			prog = append(prog, symIdx(r))
		}
		for _, col := range p.row(r) {
			if col == skip || (pivotedOnly && p.colPiv[col] < 0) {
				continue
			}
			prog = append(prog, col)
		}
		prog[at+1] = int32(len(prog) - at - 3)
	}
	// Each instruction also names the received symbol of the instruction
	// prefetchAhead places later, to prefetch: those symbols are read in
	// pivot order, not memory order, and are usually not in cache.
	prefetch := func(prog []int32) {
		var at []int
		for i := 0; i < len(prog); i += 3 + int(prog[i+1]) {
			at = append(at, i)
		}
		for j, i := range at {
			if j+prefetchAhead < len(at) {
				if r := rows[j+prefetchAhead]; int(r) >= c.s {
					prog[i+2] = symIdx(r)
				}
			}
		}
	}
	for k, r := range p.pivRow {
		emit(p.pivCol[k], r, p.pivCol[k], true)
	}
	for i, r := range p.leftover {
		emit(int32(L+i), r, -1, true)
	}
	prefetch(prog)
	p.fwdProg = prog
	prog, rows = nil, nil
	for k, r := range p.pivRow {
		emit(p.pivCol[k], r, p.pivCol[k], false)
	}
	prefetch(prog)
	p.backProg = prog
}

// prefetchAhead is how many instructions ahead of its use a received
// symbol is prefetched: enough to cover a load from memory (in the paired
// benchmark 4 to 32 were equally fast, 0 about 15% slower).
const prefetchAhead = 8

// errInconsistent is returned by execute when the extra equations
// contradict the others.
var errInconsistent = errors.New("fountain: symbols are inconsistent")

// execute runs the plan on symbols: syms[r] is the right-hand side of
// sparse row r (nil for zero; the S LDPC rows are always zero). It returns
// the L intermediate symbols, each t bytes, in one slice.
func (p *plan) execute(syms [][]byte, t int) ([]byte, error) {
	c := p.c
	L := c.l
	slots := make([]byte, L*t)
	slot := func(col int32) []byte { return slots[int(col)*t : int(col+1)*t] }

	nl := len(p.leftover)
	mD := nl + c.h
	rhs := make([]byte, mD*t)
	rrow := func(i int32) []byte { return rhs[int(i)*t : int(i+1)*t] }

	// the symbol table of the XOR programs (see compile)
	views := make([][]byte, L+mD+p.nRows)
	for i := 0; i < L; i++ {
		views[i] = slot(int32(i))
	}
	for i := 0; i < mD; i++ {
		views[L+i] = rrow(int32(i))
	}
	var zero []byte
	for r, s := range syms {
		if s == nil && r >= c.s {
			if zero == nil {
				zero = make([]byte, t)
			}
			s = zero
		}
		views[L+mD+r] = s
	}

	// forward substitution: slot[pivCol[k]] = symbol part of that column,
	// and the right-hand sides of the leftover rows
	runProg(views, p.fwdProg, t)

	acc := make([]byte, t)
	ks := c.kp + c.s
	for j := 0; j < ks; j++ {
		if j < ks-1 {
			var src []byte
			if p.colPiv[j] >= 0 {
				src = slot(int32(j))
			}
			hdpcStep(acc, src, rrow(int32(nl)+p.hdpc[2*j]), rrow(int32(nl)+p.hdpc[2*j+1]))
			continue
		}
		if p.colPiv[j] >= 0 {
			mulAlphaXor(acc, slot(int32(j)))
		} else {
			mulAlphaInPlace(acc)
		}
		for h := 0; h < c.h; h++ {
			mulAddInto(rrow(int32(nl+h)), acc, octExp[h])
		}
	}

	var srcs [][]byte
	apply := func(r int32, ops []denseOp) {
		d := rrow(r)
		srcs = append(srcs[:0], d)
		for _, op := range ops {
			if op.src >= 0 && op.c == 1 {
				srcs = append(srcs, rrow(op.src))
			}
		}
		if len(srcs) > 1 {
			xorSum(d, srcs)
		}
		for _, op := range ops {
			switch {
			case op.src < 0:
				scaleInPlace(d, op.c) // last of a row's forward ops
			case op.c != 1:
				mulAddInto(d, rrow(op.src), op.c)
			}
		}
	}
	for r := range p.fwd {
		apply(int32(r), p.fwd[r])
	}
	for i := len(p.order) - 1; i >= 0; i-- {
		apply(p.order[i], p.back[p.order[i]])
	}
	for _, r := range p.check {
		for _, b := range rrow(r) {
			if b != 0 {
				return nil, errInconsistent
			}
		}
	}
	for i, col := range p.inact {
		copy(slot(col), rrow(p.denseRow[i]))
	}

	runProg(views, p.backProg, t)
	return slots, nil
}

// runProg runs an XOR program (see compile) on the symbol table views,
// whose symbols are t bytes long.
func runProg(views [][]byte, prog []int32, t int) {
	done := 0
	if useAVX2 && t >= 32 {
		done = t &^ 31
		xorProgAVX2(views, prog, done)
	}
	if done < t {
		xorProgGeneric(views, prog, done, t)
	}
}

// xorProgGeneric runs prog on bytes lo..hi of every symbol.
func xorProgGeneric(views [][]byte, prog []int32, lo, hi int) {
	var buf [64][]byte
	for i := 0; i < len(prog); {
		dst, n := prog[i], int(prog[i+1])
		srcs := buf[:0]
		for _, s := range prog[i+3 : i+3+n] {
			srcs = append(srcs, views[s][lo:hi])
		}
		xorSum(views[dst][lo:hi], srcs)
		i += 3 + n
	}
}

// encodeSymbol writes to dst the encoding symbol with internal symbol
// identifier isi, computed from the intermediate symbols.
func (c *code) encodeSymbol(dst []byte, inter []byte, isi uint32, scratch []int32) []int32 {
	t := len(dst)
	scratch = c.appendRow(scratch[:0], isi)
	var buf [40][]byte // d + d1 <= 33 terms
	srcs := buf[:0]
	for _, col := range scratch {
		srcs = append(srcs, inter[int(col)*t:int(col+1)*t])
	}
	xorSum(dst, srcs)
	return scratch
}
