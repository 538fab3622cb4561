//go:build measure

package modem

import (
	"math"
	"math/rand"
	"os"
	"testing"
	"time"
)

// TestLDPCSim is a quick FER curve on BPSK/AWGN, only with FERRY_LDPC_SIM=1.
func TestLDPCSim(t *testing.T) {
	if os.Getenv("FERRY_LDPC_SIM") == "" {
		t.Skip("set FERRY_LDPC_SIM=1")
	}
	for _, cs := range []struct {
		k     int
		third bool
		ebs   []float64
	}{{1024, false, []float64{1.0, 1.5, 2.0}}, {2048, false, []float64{1.0, 1.5, 2.0}}, {4096, false, []float64{1.0, 1.5, 2.0}}, {4096, true, []float64{0.5, 1.0, 1.5}}} {
		k := cs.k
		pr, rate := rateHalf(k), 0.5
		if cs.third {
			pr, rate = rateThird(k), 1.0/3
		}
		t0 := time.Now()
		c := newLDPC(k, pr, 1)
		t.Logf("k=%d n=%d build %v edges %d", k, c.n, time.Since(t0), c.edges)
		d := newLDPCDecoder(c)
		rng := rand.New(rand.NewSource(1))
		for _, eb := range cs.ebs {
			sigma := math.Sqrt(1 / (2 * rate * math.Pow(10, eb/10)))
			fails, iters := 0, 0
			N := 100
			t1 := time.Now()
			for f := 0; f < N; f++ {
				info := make([]byte, k)
				for i := range info {
					info[i] = byte(rng.Intn(2))
				}
				cw := c.encode(info)
				if !c.check(cw) {
					t.Fatal("encode")
				}
				ch := make([]float32, c.n)
				for i, b := range cw {
					x := 1.0
					if b == 1 {
						x = -1
					}
					y := x + sigma*rng.NormFloat64()
					ch[i] = float32(2 * y / (sigma * sigma))
				}
				h, ok, it := d.decode(ch, 50)
				iters += it
				if !ok {
					fails++
					continue
				}
				for i := 0; i < k; i++ {
					if h[i] != info[i] {
						fails++
						break
					}
				}
			}
			t.Logf("k=%d n=%d Eb/N0 %.1f dB: FER %d/%d, mean iters %.1f, %v/frame", k, c.n, eb, fails, N, float64(iters)/float64(N), time.Since(t1)/time.Duration(N))
		}
	}
}
