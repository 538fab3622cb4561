//go:build measure

// Measurements that take seconds to minutes of CPU, left out of a plain
// `go test` (the machine is shared): a paired speed comparison with
// xssnick/raptorq, failure rates at K = 10..10000, and a block of the RFC's
// largest K. Run them with
//
//	go test -tags measure -run 'PairedSpeed|FailureRateLong|MaxBlock' -v ./internal/carry/broadcast/fountain/
package fountain

import (
	"bytes"
	"ferry/internal/testkit/cpuclock"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/xssnick/raptorq"
)

// envCount reads a positive count from the environment, or gives def.
func envCount(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestPairedSpeed measures the same work as BenchmarkEncode and
// BenchmarkDecode but alternates this package and xssnick iteration by
// iteration and counts process CPU time (not wall time), so both see the
// same conditions on a loaded machine; it reports MB/s of CPU time and the
// ratio. FERRY_FOUNTAIN_BENCH sets the iteration count (default 20).
func TestPairedSpeed(t *testing.T) {
	n := envCount("FERRY_FOUNTAIN_BENCH", 20)
	data := benchData()
	esis := benchStream()
	e, err := NewBlockEncoder(data, benchT)
	if err != nil {
		t.Fatal(err)
	}
	syms := make([][]byte, len(esis))
	for i, esi := range esis {
		syms[i] = make([]byte, benchT)
		e.Symbol(esi, syms[i])
	}
	nrep := uint32(benchK * 5 / 4)
	buf := make([]byte, benchT)
	var encOurs, encTheirs, decOurs, decTheirs time.Duration
	for it := 0; it < n; it++ {
		st := cpuclock.Process()
		e, _ := NewBlockEncoder(data, benchT)
		for esi := uint32(0); esi < nrep; esi++ {
			e.Symbol(esi, buf)
		}
		encOurs += (cpuclock.Process() - st)

		st = cpuclock.Process()
		xe, _ := raptorq.NewRaptorQ(benchT).CreateEncoder(data)
		for esi := uint32(0); esi < nrep; esi++ {
			xe.GenSymbol(esi)
		}
		encTheirs += (cpuclock.Process() - st)

		st = cpuclock.Process()
		d, _ := NewBlockDecoder(benchK, benchT)
		for i, esi := range esis {
			if done, _ := d.Add(esi, syms[i]); done {
				break
			}
		}
		decOurs += (cpuclock.Process() - st)
		if !d.Done() {
			t.Fatal("not decoded")
		}

		st = cpuclock.Process()
		xd, _ := raptorq.NewRaptorQ(benchT).CreateDecoder(uint32(len(data)))
		for i, esi := range esis {
			if can, _ := xd.AddSymbol(esi, syms[i]); can {
				if ok, _, _ := xd.Decode(); ok {
					break
				}
			}
		}
		decTheirs += (cpuclock.Process() - st)
	}
	mbps := func(d time.Duration) float64 { return float64(len(data)) * float64(n) / d.Seconds() / 1e6 }
	t.Logf("K=%d T=%d, %d iterations, 20%% loss", benchK, benchT, n)
	t.Logf("encode: ferry %.1f MB/s, xssnick %.1f MB/s, ratio %.2fx", mbps(encOurs), mbps(encTheirs), encTheirs.Seconds()/encOurs.Seconds())
	t.Logf("decode: ferry %.1f MB/s, xssnick %.1f MB/s, ratio %.2fx", mbps(decOurs), mbps(decTheirs), decTheirs.Seconds()/decOurs.Seconds())
}

// TestFailureRateLong reports measured failure rates for K = 10, 100, 1000,
// 10000. FERRY_FOUNTAIN_RATES sets the trial count for K=10 (default
// 10000; larger K run proportionally fewer trials).
func TestFailureRateLong(t *testing.T) {
	n := envCount("FERRY_FOUNTAIN_RATES", 10000)
	for _, k := range []int{10, 100, 1000, 10000} {
		trials := n * 10 / k
		if trials < 100 {
			trials = 100
		}
		f := failureCounts(t, k, 4, trials, 21)
		t.Logf("K=%d trials=%d: fail@K %d (%.2g) fail@K+1 %d (%.2g) fail@K+2 %d (%.2g)", k, trials,
			f[0], float64(f[0])/float64(trials), f[1], float64(f[1])/float64(trials), f[2], float64(f[2])/float64(trials))
	}
}

// TestMaxBlock round-trips one block of K = 56403 (the RFC maximum) with
// 10% loss. It takes a few seconds.
func TestMaxBlock(t *testing.T) {
	k, T := MaxSourceSymbols, 16
	data := randomBytes(56403, k*T)
	st := time.Now()
	e, err := NewBlockEncoder(data, T)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("encoder: %v", time.Since(st))
	rng := rand.New(rand.NewPCG(3, 3))
	var esis []uint32
	for esi := 0; esi < k*6/5; esi++ {
		if rng.IntN(10) != 0 {
			esis = append(esis, uint32(esi))
		}
	}
	d, _ := NewBlockDecoder(k, T)
	st = time.Now()
	n := sendBlock(t, e, d, esis)
	t.Logf("decoder: %v, %d symbols", time.Since(st), n)
	if n == 0 {
		t.Fatal("not decoded")
	}
	if out, _ := d.Bytes(); !bytes.Equal(out, data) {
		t.Fatal("wrong data")
	}
}
