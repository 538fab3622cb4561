package fountain

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestTables checks the RFC 6330 tables against facts taken from the RFC
// text independently of how tables.go was produced: sizes, end values,
// and the sum and XOR of every V table.
func TestTables(t *testing.T) {
	want := [4]struct{ first, last, sum, xor uint32 }{
		{251291136, 1358307511, 331395769, 2200914733},
		{807385413, 4135048896, 3270332586, 3069643552},
		{1629829892, 3497665928, 1176160967, 620986173},
		{1191369816, 3432275192, 3374522247, 1772968547},
	}
	for i, v := range randTables {
		var sum, x uint32
		for _, e := range v {
			sum += e
			x ^= e
		}
		if v[0] != want[i].first || v[255] != want[i].last || sum != want[i].sum || x != want[i].xor {
			t.Errorf("V%d: first %d last %d sum %d xor %d, want %+v", i, v[0], v[255], sum, x, want[i])
		}
	}
	if got := systematicIndices[0]; got != (struct{ kp, j, s, h, w uint16 }{10, 254, 7, 10, 17}) {
		t.Errorf("first row %v", got)
	}
	if got := systematicIndices[476]; got != (struct{ kp, j, s, h, w uint16 }{56403, 471, 907, 16, 56951}) {
		t.Errorf("last row %v", got)
	}
	for i, e := range systematicIndices {
		if i > 0 && e.kp <= systematicIndices[i-1].kp {
			t.Errorf("row %d: K' %d not increasing", i, e.kp)
		}
		if !isPrime(int(e.s)) || !isPrime(int(e.w)) || e.j > 1023 || e.h < 10 || e.h > 16 {
			t.Errorf("row %d (K'=%d): S=%d W=%d must be prime, J=%d < 1024, H=%d in 10..16", i, e.kp, e.s, e.w, e.j, e.h)
		}
	}
	// OCT_EXP / OCT_LOG of section 5.7.3
	if octExp[0] != 1 || octExp[8] != 29 || octExp[254] != 142 || octExp[255] != 1 || octLog[2] != 1 || octLog[29] != 8 {
		t.Errorf("OCT tables wrong: exp[8]=%d exp[254]=%d log[29]=%d", octExp[8], octExp[254], octLog[29])
	}
	for a := 1; a < 256; a++ {
		if gfMul(byte(a), gfInv(byte(a))) != 1 {
			t.Fatalf("inverse of %d", a)
		}
	}
	// degree table of section 5.3.5.2
	if degreeTable[1] != 5243 || degreeTable[30] != 1<<20 {
		t.Errorf("degree table ends %d %d", degreeTable[1], degreeTable[30])
	}
}

// TestWordOps checks the word-wide helpers against the byte tables.
func TestWordOps(t *testing.T) {
	src := make([]byte, 100)
	for i := range src {
		src[i] = byte(i*37 + 11)
	}
	for _, c := range []byte{0, 1, 2, 3, 0x8e, 255} {
		dst := make([]byte, len(src))
		mulAddInto(dst, src, c)
		for i := range src {
			if dst[i] != gfMul(c, src[i]) {
				t.Fatalf("mulAddInto c=%d byte %d", c, i)
			}
		}
	}
	for _, n := range []int{0, 5, 32, 67, 100} {
		acc := append([]byte(nil), src[:n]...)
		x := make([]byte, n)
		for i := range x {
			x[i] = byte(i * 91)
		}
		mulAlphaXor(acc, x)
		for i := range acc {
			if acc[i] != gfMul(2, src[i])^x[i] {
				t.Fatalf("mulAlphaXor n=%d byte %d", n, i)
			}
		}
	}
	for _, c := range []byte{1, 2, 0x8e, 255} {
		buf := append([]byte(nil), src...)
		scaleInPlace(buf, c)
		for i := range src {
			if buf[i] != gfMul(c, src[i]) {
				t.Fatalf("scaleInPlace c=%d byte %d", c, i)
			}
		}
	}
	buf := append([]byte(nil), src...)
	mulAlphaInPlace(buf)
	for i := range src {
		if buf[i] != gfMul(2, src[i]) {
			t.Fatalf("mulAlphaInPlace byte %d", i)
		}
	}
}

// TestXorSum checks the multi-source XOR against byte loops, over lengths
// around the 256-byte kernel step.
func TestXorSum(t *testing.T) {
	for _, n := range []int{0, 1, 31, 255, 256, 257, 300, 1000, 1024, 2100} {
		for ns := 0; ns <= 5; ns++ {
			srcs := make([][]byte, ns)
			want := make([]byte, n)
			for i := range srcs {
				srcs[i] = make([]byte, n)
				for j := range srcs[i] {
					srcs[i][j] = byte(j*31 + i*7 + n)
					want[j] ^= srcs[i][j]
				}
			}
			dst := make([]byte, n)
			for j := range dst {
				dst[j] = 0xAA
			}
			xorSum(dst, srcs)
			for j := range dst {
				if dst[j] != want[j] {
					t.Fatalf("n=%d sources=%d: byte %d", n, ns, j)
				}
			}
		}
	}
}

// TestXorProg runs random XOR programs (see plan.compile) with the AVX2
// kernel, where present, and with the portable loop, against byte loops,
// for symbol sizes around the kernel's 32- and 256-byte steps.
func TestXorProg(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 31, 32, 33, 64, 255, 256, 288, 300, 1024, 1060} {
		const nsym = 50
		var prog []int32
		for range 60 {
			dst := int32(rng.IntN(nsym))
			k := rng.IntN(40)
			pf := int32(-1)
			if rng.IntN(2) == 0 {
				pf = int32(rng.IntN(nsym))
			}
			prog = append(prog, dst, int32(k), pf)
			for range k { // any symbols but dst (as in real programs)
				prog = append(prog, (dst+1+int32(rng.IntN(nsym-1)))%nsym)
			}
		}
		fresh := func() [][]byte {
			views := make([][]byte, nsym)
			for i := range views {
				views[i] = make([]byte, n)
				for j := range views[i] {
					views[i][j] = byte(rng.Uint32())
				}
			}
			return views
		}
		want := fresh()
		init := make([][]byte, nsym)
		for i := range want {
			init[i] = append([]byte(nil), want[i]...)
		}
		for i := 0; i < len(prog); {
			dst, k := prog[i], int(prog[i+1])
			sum := make([]byte, n)
			for _, s := range prog[i+3 : i+3+k] {
				for j := range sum {
					sum[j] ^= want[s][j]
				}
			}
			copy(want[dst], sum)
			i += 3 + k
		}
		check := func(name string, run func(views [][]byte)) {
			views := make([][]byte, nsym)
			for i := range init {
				views[i] = append([]byte(nil), init[i]...)
			}
			run(views)
			for i := range views {
				if !bytes.Equal(views[i], want[i]) {
					t.Fatalf("%s n=%d: symbol %d differs", name, n, i)
				}
			}
		}
		check("runProg", func(v [][]byte) { runProg(v, prog, n) })
		check("generic", func(v [][]byte) { xorProgGeneric(v, prog, 0, n) })
		if useAVX2 && n >= 32 {
			check("avx2", func(v [][]byte) {
				xorProgAVX2(v, prog, n&^31)
				xorProgGeneric(v, prog, n&^31, n)
			})
		}
	}
}

// TestHdpcStep checks the fused HDPC step against the separate helpers.
func TestHdpcStep(t *testing.T) {
	for _, n := range []int{1, 31, 32, 48, 100, 1024} {
		for _, withSrc := range []bool{false, true} {
			mk := func(seed int) []byte {
				b := make([]byte, n)
				for i := range b {
					b[i] = byte(i*seed + seed*13)
				}
				return b
			}
			acc, r1, r2 := mk(3), mk(5), mk(7)
			var src []byte
			if withSrc {
				src = mk(11)
			}
			wacc, wr1, wr2 := bytes.Clone(acc), bytes.Clone(r1), bytes.Clone(r2)
			mulAlphaXor(wacc, src)
			xorInto(wr1, wacc)
			xorInto(wr2, wacc)
			hdpcStep(acc, src, r1, r2)
			if !bytes.Equal(acc, wacc) || !bytes.Equal(r1, wr1) || !bytes.Equal(r2, wr2) {
				t.Fatalf("n=%d src=%v: differs", n, withSrc)
			}
		}
	}
}
