// Command riblt measures set reconciliation with package riblt against
// sending the full list of ids and against the index Syncthing sends when
// two devices first connect, and prints a Markdown table.
//
//	go run ./bench/riblt            # sets of 10^3..10^5 items
//	go run ./bench/riblt -max 1e6   # up to 10^6 items (about a minute)
//
// Each row reconciles two sets of n 32-byte ids that differ in d items
// (half on each side) with the two-round-trip exchange of docs/sync.md
// ("Reconciliation"): an opening batch, then a batch sized from the
// decoder's estimate, then more only if that was short.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"time"

	"ferry/internal/carry/peer/riblt"
	"ferry/internal/testkit/cpuclock"
)

const itemSize = 32

func main() {
	maxN := flag.Float64("max", 1e5, "largest set size (powers of ten from 10^3)")
	runs := flag.Int("runs", 5, "runs per row for sets under 10^5 items (one above)")
	opening := flag.Int("opening", 16, "symbols in the opening batch")
	counts := flag.Int("counts", 1024, "counts of leading cells in the opening message (0: none)")
	mult := flag.Float64("mult", 1.48, "second batch: this many symbols per estimated difference (plus 2·sqrt(estimate) + 4)")
	flag.BoolVar(&stream, "stream", true, "from an estimate of 64, stream the second batch with credits as sessions do (docs/sync.md §5.6); false: one batch")
	flag.Parse()

	rec := syncthingRecord()
	fmt.Printf("Reconciliation of two sets of n 32-byte ids differing in d items; opening: %d counts and %d symbols; second batch %.2f x estimate + 2 sqrt(estimate) + 4", *counts, *opening, *mult)
	if stream {
		fmt.Printf(", streamed from an estimate of %d (%.2f x estimate at once, then credits of a window, up to 1.6 x estimate + 3 sqrt(estimate) + 8)", streamFrom, firmShare)
	}
	fmt.Println(".")
	fmt.Printf("Syncthing's first index exchange estimated at %d bytes per file (BEP v1 FileInfo, 40-byte name, one block; see docs/sync.md), sent by each side.\n\n", rec)
	fmt.Println("| n | d | symbols needed / d | symbols sent / d | round trips (mean, max) | bytes sent | full list (bytes) | Syncthing index (bytes) | riblt / full list | CPU per run (ms, both sides) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	r := rand.New(rand.NewPCG(1, 2))
	for n := 1000; float64(n) <= *maxN; n *= 10 {
		for d := 1; d <= 10000 && d <= n; d *= 10 {
			k := *runs
			if n >= 100000 {
				k = 1
			}
			var need, sent, bytes, rounds, maxRounds int
			var took time.Duration
			for range k {
				res := run(r, n, d, *counts, *opening, *mult)
				need += res.needed
				sent += res.sent
				bytes += res.bytes
				rounds += res.rounds
				maxRounds = max(maxRounds, res.rounds)
				took += res.took
			}
			fk := float64(k)
			full := n * itemSize
			fmt.Printf("| %d | %d | %.2f | %.2f | %.2f, %d | %d | %d | %d | %.4f | %.0f |\n",
				n, d, float64(need)/fk/float64(d), float64(sent)/fk/float64(d),
				float64(rounds)/fk, maxRounds, bytes/k, full, 2*n*rec,
				float64(bytes)/fk/float64(full), float64(took.Milliseconds())/fk)
		}
	}
}

// stream, and the constants below, are the session's (internal/carry/peer,
// recon.go): a second batch streamed with credits.
var stream bool

const (
	streamFrom = 64
	firmShare  = 1.30
)

type result struct {
	needed, sent, bytes, rounds int
	took                        time.Duration
}

// run reconciles one pair of sets as docs/sync.md says: the sender (the
// encoder) opens with a batch; the receiver (the decoder) asks for a
// second batch sized from its estimate; later batches, if any, are sized
// the same way from the cells received by then.
func run(r *rand.Rand, n, d, counts, opening int, mult float64) result {
	var key riblt.Key
	binary.LittleEndian.PutUint64(key[:], r.Uint64())
	enc, _ := riblt.NewEncoder(itemSize, key, 0)
	dec, _ := riblt.NewDecoder(itemSize, key, riblt.Limits{})
	item := make([]byte, itemSize)
	fill := func() {
		for i := 0; i < itemSize; i += 8 {
			binary.LittleEndian.PutUint64(item[i:], r.Uint64())
		}
	}
	for i := 0; i < n-(d+1)/2; i++ {
		fill()
		enc.Add(item)
		dec.Add(item)
	}
	for range d / 2 {
		fill()
		enc.Add(item)
	}
	for range (d + 1) / 2 {
		fill()
		dec.Add(item)
	}
	runtime.GC()
	start := cpuclock.Process()
	var res result
	var buf []byte
	send := func(k int) {
		syms := make([]riblt.Symbol, 0, k)
		first := enc.Index()
		for range k {
			s, err := enc.Next()
			if err != nil {
				fail(err)
			}
			syms = append(syms, s)
		}
		for len(syms) > 0 { // batches of at most MaxBatch
			m := min(len(syms), riblt.MaxBatch)
			buf = riblt.AppendBatch(buf[:0], first, syms[:m])
			res.bytes += len(buf)
			_, got, err := riblt.ParseBatch(buf, itemSize)
			if err != nil {
				fail(err)
			}
			for _, s := range got {
				if dec.Decoded() {
					break // the rest of the batch was sent in vain
				}
				if err := dec.AddSymbol(s); err != nil {
					fail(err)
				}
			}
			res.sent += m
			first += uint64(m)
			syms = syms[m:]
		}
	}
	if counts > 0 {
		c, err := enc.Counts(counts)
		if err != nil {
			fail(err)
		}
		buf = riblt.AppendCounts(buf[:0], c)
		res.bytes += len(buf)
		got, _, err := riblt.ParseCounts(buf)
		if err != nil {
			fail(err)
		}
		if err := dec.AddCounts(got); err != nil {
			fail(err)
		}
	}
	send(opening)
	res.rounds = 1
	for !dec.Decoded() {
		e := dec.Estimate()
		want := int(math.Ceil(mult*e+2*math.Sqrt(e)+4)) - dec.Symbols()
		want = max(want, dec.Symbols()/8, 8)
		res.rounds++
		if !stream || res.rounds != 2 || e < streamFrom {
			send(want)
			continue
		}
		// As a session's receiver does: a firm share at once and a window
		// more; each time no more than a window is still to come, another
		// window, up to the target. Every symbol asked for is sent (the
		// sender answers each request in full before it reads the next
		// message), so those still to come when it decodes count as sent.
		target := res.sent + max(want, int(math.Ceil(1.6*e+3*math.Sqrt(e)+8))-dec.Symbols())
		w := max(16, int(math.Ceil(0.015*e)))
		firm := min(target-res.sent, max(int(math.Ceil(firmShare*e))-dec.Symbols(), 8))
		asked := res.sent + firm + min(w, target-res.sent-firm)
		send(firm)
		for !dec.Decoded() && res.sent < asked {
			send(min(w, asked-res.sent))
			if res.sent+w >= asked && asked < target {
				asked += min(w, target-asked)
			}
		}
		res.sent = max(res.sent, asked)
	}
	res.took = cpuclock.Process() - start
	res.needed = dec.Symbols()
	if len(dec.Remote()) != d/2 || len(dec.Local()) != (d+1)/2 {
		fail(fmt.Errorf("n=%d d=%d: recovered %d+%d", n, d, len(dec.Remote()), len(dec.Local())))
	}
	return res
}

// syncthingRecord is the protobuf size of one BEP v1 FileInfo for a small
// file of one block, with the fields a scanner fills: a 40-byte name, size
// 20 KB, permissions 0644, modification time in seconds and nanoseconds,
// modified_by (a 64-bit short device id), a version vector of one counter,
// a sequence number around 10^5, block size 128 KiB, and one BlockInfo
// (offset 0 omitted, size, 32-byte SHA-256 hash). The Index message wraps
// each FileInfo in a length-delimited field.
func syncthingRecord() int {
	v := func(x uint64) int { return len(binary.AppendUvarint(nil, x)) }
	field := func(x uint64) int { return 1 + v(x) }               // tag + varint
	bytesField := func(n int) int { return 1 + v(uint64(n)) + n } // tag + length + bytes
	counter := field(math.MaxUint64>>1) + field(3)
	vector := bytesField(counter)
	block := field(20000) + bytesField(32)
	fi := bytesField(40) + field(20000) + field(0o644) + field(1_750_000_000) + field(999_999_999) +
		field(math.MaxUint64>>1) + bytesField(vector) + field(100000) + field(128<<10) + 2 + v(uint64(block)) + block
	return bytesField(fi)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "riblt bench:", err)
	os.Exit(1)
}
