package fountain

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/xssnick/raptorq"
)

// xssnick/raptorq v1.4.0 takes P1 as the smallest prime *greater than* P,
// while RFC 6330 section 5.3.3.3 says "greater than or equal to P". The two
// agree except for the K' whose P is prime, so the byte-for-byte comparison
// runs on the others, and TestInteropPrimeP shows the prime-P difference
// is exactly that one parameter.
func xssnickAgrees(k int) bool { c := newCode(k); return !isPrime(c.p) }

func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 99))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// TestInteropSymbols: our encoding symbols equal xssnick's for the same
// data, K and T, source and repair.
func TestInteropSymbols(t *testing.T) {
	ks := []int{1, 2, 3, 10, 11, 12, 13, 26, 100, 101, 500, 1000, 1002, 1003, 4000}
	checked := 0
	for _, k := range ks {
		if !xssnickAgrees(k) {
			continue
		}
		checked++
		T := 48
		data := randomBytes(uint64(k), k*T-T/3)
		xe, err := raptorq.NewRaptorQ(uint32(T)).CreateEncoder(data)
		if err != nil {
			t.Fatal(err)
		}
		e, err := NewBlockEncoder(data, T)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, T)
		esis := []uint32{0, uint32(k - 1)}
		for i := uint32(0); i < 40; i++ {
			esis = append(esis, uint32(k)+i)
		}
		esis = append(esis, uint32(k)*3+7, 1<<20, MaxESI)
		for _, esi := range esis {
			if err := e.Symbol(esi, buf); err != nil {
				t.Fatal(err)
			}
			if want := xe.GenSymbol(esi); !bytes.Equal(buf, want) {
				t.Fatalf("K=%d ESI=%d: symbols differ\n ours %x\n xssnick %x", k, esi, buf, want)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d K values compared", checked)
	}
}

// TestInteropPrimeP shows the only disagreement: with P1 moved to the next
// prime above P, as xssnick does, our symbols equal its symbols.
func TestInteropPrimeP(t *testing.T) {
	for _, k := range []int{49, 55, 69} {
		c := newCode(k)
		if !isPrime(c.p) {
			t.Fatalf("K=%d: P=%d expected prime", k, c.p)
		}
		T := 8
		data := randomBytes(uint64(k), k*T)
		xe, _ := raptorq.NewRaptorQ(uint32(T)).CreateEncoder(data)
		e, err := NewBlockEncoder(data, T)
		if err != nil {
			t.Fatal(err)
		}
		// our RFC symbols differ from xssnick's for some repair ESI
		buf := make([]byte, T)
		differ := false
		for esi := uint32(k); esi < uint32(k)+20; esi++ {
			e.Symbol(esi, buf)
			differ = differ || !bytes.Equal(buf, xe.GenSymbol(esi))
		}
		if !differ {
			t.Errorf("K=%d: expected xssnick to differ (P1=P rule)", k)
		}
		// same computation with xssnick's P1
		alt := c
		alt.p1 = c.p + 1
		for !isPrime(alt.p1) {
			alt.p1++
		}
		isis := make([]uint32, alt.kp)
		syms := make([][]byte, alt.s, alt.s+alt.kp)
		for i := range isis {
			isis[i] = uint32(i)
			if i < k {
				syms = append(syms, data[i*T:(i+1)*T])
			} else {
				syms = append(syms, nil)
			}
		}
		rs, cols := newSparseRows(&alt, isis)
		p, err := buildPlan(&alt, rs, cols)
		if err != nil {
			t.Fatal(err)
		}
		inter, err := p.execute(syms, T)
		if err != nil {
			t.Fatal(err)
		}
		for esi := uint32(k); esi < uint32(k)+20; esi++ {
			alt.encodeSymbol(buf, inter, esi+uint32(alt.kp-k), nil)
			if !bytes.Equal(buf, xe.GenSymbol(esi)) {
				t.Fatalf("K=%d ESI=%d: differs even with xssnick's P1", k, esi)
			}
		}
	}
}

// TestInteropDecodeXssnick decodes xssnick's repair-symbol streams (with
// source symbols lost) with our decoder.
func TestInteropDecodeXssnick(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for _, k := range []int{10, 100, 1000} {
		if !xssnickAgrees(k) {
			t.Fatalf("K=%d: pick a K with composite P", k)
		}
		T := 64
		data := randomBytes(uint64(k)+1, k*T-5)
		xe, _ := raptorq.NewRaptorQ(uint32(T)).CreateEncoder(data)
		d, _ := NewBlockDecoder(k, T)
		// every third source symbol, then repair symbols in random order
		var esis []uint32
		for i := 0; i < k; i += 3 {
			esis = append(esis, uint32(i))
		}
		for _, i := range rng.Perm(k) {
			esis = append(esis, uint32(k+i))
		}
		done := false
		for _, esi := range esis {
			var err error
			if done, err = d.Add(esi, xe.GenSymbol(esi)); err != nil {
				t.Fatal(err)
			}
			if done {
				break
			}
		}
		out, err := d.Bytes()
		if err != nil || !done {
			t.Fatalf("K=%d: not decoded: %v", k, err)
		}
		if !bytes.Equal(out[:len(data)], data) {
			t.Fatalf("K=%d: wrong data", k)
		}
	}
}
