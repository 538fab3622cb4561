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
	for _, k := range []int{1024, 2048, 4096} {
		t0 := time.Now()
		c := newLDPC(k, 1)
		t.Logf("k=%d build %v edges %d", k, time.Since(t0), c.edges)
		d := newLDPCDecoder(c)
		rng := rand.New(rand.NewSource(1))
		for _, eb := range []float64{1.0, 1.5, 2.0} {
			sigma := math.Sqrt(1 / (2 * 0.5 * math.Pow(10, eb/10)))
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
			t.Logf("k=%d Eb/N0 %.1f dB: FER %d/%d, mean iters %.1f, %v/frame", k, eb, fails, N, float64(iters)/float64(N), time.Since(t1)/time.Duration(N))
		}
	}
}
