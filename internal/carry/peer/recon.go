package peer

import (
	"math"
	"time"

	"ferry/internal/carry/peer/riblt"
)

// Reconciliation over the session (docs/sync.md §5.6): the encoding side
// streams coded symbols, the decoding side asks for more until it has
// peeled the difference. Both halves are message-driven so that they can
// run inside the giver's and the taker's loops, between pieces.

const (
	// openingSymbols is how many symbols RECON_START carries.
	openingSymbols = 16
	// maxReconSymbols caps what one run may send (riblt's symbol cap).
	maxReconSymbols = 1 << 18
)

// countCells is how many leading cell counts to announce for a set of n
// items: all 1024 when the set is large enough for them to carry
// information, fewer for small sets, whose later cells are nearly all 0.
func countCells(n int) int { return min(riblt.MaxCounts, 2*n+32) }

// reconSender is the encoding side of one run.
type reconSender struct {
	enc    *riblt.Encoder
	size   int
	maxMsg int
	sent   int
	done   bool
}

func newReconSender(key riblt.Key, size, maxMsg int, items [][]byte) (*reconSender, error) {
	enc, err := riblt.NewEncoder(size, key, 0)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if err := enc.Add(it); err != nil {
			return nil, err
		}
	}
	return &reconSender{enc: enc, size: size, maxMsg: maxMsg}, nil
}

// start returns RECON_START (and RECON_SYMBOLS if the opening batch does
// not fit beside the counts).
func (s *reconSender) start() ([][]byte, error) {
	counts, err := s.enc.Counts(countCells(s.enc.Len()))
	if err != nil {
		return nil, err
	}
	head := []byte{msgReconStart, byte(s.size)}
	head = riblt.AppendCounts(head, counts)
	return s.batches(head, openingSymbols)
}

// want answers RECON_WANT.
func (s *reconSender) want(body []byte) ([][]byte, error) {
	r := reader{b: body}
	n := r.small("RECON_WANT count", maxReconSymbols)
	if err := r.end("RECON_WANT"); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, protoErr("RECON_WANT of 0 symbols")
	}
	if s.done || s.sent+int(n) > maxReconSymbols+openingSymbols {
		return nil, protoErr("RECON_WANT beyond %d symbols", maxReconSymbols)
	}
	return s.batches(nil, int(n))
}

// batches codes n more symbols into messages of at most maxMsg bytes; the
// first message starts with prefix (a RECON_START) if given.
func (s *reconSender) batches(prefix []byte, n int) ([][]byte, error) {
	var out [][]byte
	var syms []byte
	var count int
	first := s.enc.Index()
	flush := func() {
		var m []byte
		if prefix != nil {
			m, prefix = prefix, nil
		} else {
			m = []byte{msgReconSymbols}
		}
		m = appendUvarint(m, first)
		m = appendUvarint(m, uint64(count))
		out = append(out, append(m, syms...))
		first += uint64(count)
		syms, count = syms[:0:0], 0
	}
	limit := s.maxMsg - len(prefix) - 2*10 - 1
	for i := 0; i < n; i++ {
		sym, err := s.enc.Next()
		if err != nil {
			return nil, err
		}
		enc := riblt.AppendSymbol(nil, sym)
		if count > 0 && (len(syms)+len(enc) > limit || count == riblt.MaxBatch) {
			flush()
			limit = s.maxMsg - 2*10 - 1
		}
		syms = append(syms, enc...)
		count++
	}
	if count > 0 {
		flush()
	}
	s.sent += n
	return out, nil
}

// stopped handles RECON_DONE and RECON_STOP: the run is over.
func (s *reconSender) finish(typ byte, body []byte) error {
	if s.done {
		return protoErr("reconciliation ended twice")
	}
	s.done = true
	if typ == msgReconStop {
		return empty("RECON_STOP", body)
	}
	r := reader{b: body}
	used := r.uvarint("RECON_DONE count")
	if err := r.end("RECON_DONE"); err != nil {
		return err
	}
	if used > uint64(s.sent) {
		return protoErr("RECON_DONE names %d symbols, %d were sent", used, s.sent)
	}
	return nil
}

// reconReceiver is the decoding side of one run.
type reconReceiver struct {
	dec     *riblt.Decoder
	size    int
	next    uint64 // index of the next symbol expected
	pending int    // symbols asked for and not yet received
	started bool
	done    bool
	// stop, if set, is asked after the opening whether to give up, given
	// the estimated difference and the peer's set size.
	stop    func(estimate float64, peerItems int64) bool
	stopped bool
	// rounds counts the round trips waited for: the opening, and each
	// request sent when nothing was on its way. Requests sent while
	// symbols are still coming (credits) overlap the stream.
	rounds int
	// The stream after the opening: asked is every symbol requested so
	// far, target what today's margin would ask for at once (credits
	// never go past it), and the times and count that measure how many
	// symbols travel during one round trip.
	asked, target int
	firstAt       time.Time // when the first symbols of the stream came
	since         int       // symbols received since then
	creditAt      time.Time // when the first credit was sent
	creditIdx     uint64    // the index of its first symbol
	rtt           time.Duration
	win           int // the largest window so far: it never shrinks, or the stream could pause
}

func newReconReceiver(key riblt.Key, size int, items [][]byte, lim riblt.Limits) (*reconReceiver, error) {
	dec, err := riblt.NewDecoder(size, key, lim)
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		if err := dec.Add(it); err != nil {
			return nil, err
		}
	}
	return &reconReceiver{dec: dec, size: size}, nil
}

// onStart takes RECON_START; replies are the messages to send, in order.
// done reports that the run is over (decoded, or given up: stopped).
func (r *reconReceiver) onStart(body []byte) (replies [][]byte, done bool, err error) {
	if r.started {
		return nil, false, protoErr("RECON_START twice")
	}
	r.started = true
	if len(body) < 1 || int(body[0]) != r.size {
		return nil, false, protoErr("reconciliation of items of another size")
	}
	counts, k, err := riblt.ParseCounts(body[1:])
	if err != nil {
		return nil, false, protoErr("RECON_START counts: %v", err)
	}
	if err := r.dec.AddCounts(counts); err != nil {
		return nil, false, protoErr("RECON_START counts: %v", err)
	}
	r.pending, r.asked = openingSymbols, openingSymbols
	if r.stop != nil && len(counts) > 0 && r.stop(r.dec.Estimate(), counts[0]) {
		// The opening batch is still consumed: it is part of RECON_START.
		r.stopped, r.done, r.pending = true, true, 0
		return [][]byte{{msgReconStop}}, true, nil
	}
	return r.batch(body[1+k:])
}

// onSymbols takes RECON_SYMBOLS.
func (r *reconReceiver) onSymbols(body []byte) (replies [][]byte, done bool, err error) {
	if !r.started || (r.done && r.pending == 0) {
		return nil, false, protoErr("RECON_SYMBOLS out of place")
	}
	return r.batch(body)
}

// absorbing reports whether symbols asked for before the run was decoded
// are still to come; they are dropped as they arrive.
func (r *reconReceiver) absorbing() bool { return r.done && r.pending > 0 }

func (r *reconReceiver) batch(b []byte) ([][]byte, bool, error) {
	first, syms, err := riblt.ParseBatch(b, r.size)
	if err != nil {
		return nil, false, protoErr("reconciliation batch: %v", err)
	}
	if first != r.next {
		return nil, false, protoErr("reconciliation batch starts at symbol %d, expected %d", first, r.next)
	}
	if len(syms) > r.pending {
		return nil, false, protoErr("reconciliation batch larger than asked")
	}
	r.next += uint64(len(syms))
	r.pending -= len(syms)
	if r.done {
		return nil, false, nil // asked for before it decoded: dropped
	}
	switch {
	case r.target == 0:
	case r.firstAt.IsZero():
		r.firstAt = time.Now()
	default:
		r.since += len(syms)
	}
	if !r.creditAt.IsZero() && r.rtt == 0 && r.next > r.creditIdx {
		// The answer to the first credit: it came a round trip after it
		// was sent (plus what was still queued before it, at most a
		// window).
		r.rtt = max(time.Since(r.creditAt), time.Microsecond)
	}
	for _, s := range syms {
		if r.dec.Decoded() {
			break // the rest of the request was sent in vain
		}
		if err := r.dec.AddSymbol(s); err != nil {
			return nil, false, protoErr("reconciliation: %v", err)
		}
	}
	if r.dec.Decoded() {
		// Symbols still on their way (credits) arrive and are dropped.
		r.done = true
		r.rounds++ // the wait for the last request (or the opening) ends
		return [][]byte{appendUvarint([]byte{msgReconDone}, uint64(r.dec.Symbols()))}, true, nil
	}
	if r.pending > 0 {
		return r.credit()
	}
	r.rounds++
	e := r.dec.Estimate()
	n := int(math.Ceil(1.48*e+2*math.Sqrt(e)+4)) - r.dec.Symbols()
	n = max(n, r.dec.Symbols()/8, 8)
	n = min(n, maxReconSymbols-r.dec.Symbols())
	if n <= 0 {
		return nil, false, protoErr("reconciliation did not decode within %d symbols", maxReconSymbols)
	}
	r.target = 0
	wants := []int{n}
	if r.rounds == 1 && e >= streamFrom {
		// Ask at once for a share most differences of this size need
		// more than, then a window more, and the rest as credits while the
		// stream runs (docs/sync.md §5.6): the decoder then stops it close
		// to where it decodes instead of at the margin for the estimate's
		// error.
		// Credits cost only when the decoder needs them, so they may go
		// further than the one request would (fewer third round trips).
		n = min(max(n, int(math.Ceil(1.6*e+3*math.Sqrt(e)+8))-r.dec.Symbols()), maxReconSymbols-r.dec.Symbols())
		r.target = r.dec.Symbols() + n
		firm := min(n, max(int(math.Ceil(firmShare*e))-r.dec.Symbols(), 8))
		wants = []int{firm}
		if w := min(r.window(e), n-firm); w > 0 {
			wants = append(wants, w)
		}
	}
	var out [][]byte
	for _, k := range wants {
		r.pending += k
		r.asked += k
		out = append(out, appendUvarint([]byte{msgReconWant}, uint64(k)))
	}
	return out, false, nil
}

const (
	// streamFrom is the estimated difference from which the request after
	// the opening is streamed with credits.
	streamFrom = 64
	// firmShare is what that request asks for at once, per estimated
	// item: below what nearly every difference of 64 items or more needs
	// to decode (1.35 to 1.45 per item).
	firmShare = 1.30
)

// window is how many symbols to keep asked for ahead of those received:
// what arrives during a round trip (measured once the stream runs), and at
// least 1.5% of the estimated difference.
func (r *reconReceiver) window(e float64) int {
	w := max(16, int(math.Ceil(0.015*e)), r.win)
	if r.rtt > 0 && r.since > 0 {
		if el := time.Since(r.firstAt); el > 0 {
			w = max(w, int(math.Ceil(1.25*float64(r.since)*r.rtt.Seconds()/el.Seconds())))
		}
	}
	r.win = w
	return w
}

// credit asks for more symbols while some are still coming, so that the
// stream does not stop, as long as the run stays within its target: when
// what is still to come falls to a window (the symbols that travel during
// a round trip, measured, and at least 1.5% of the estimate), another
// window is asked for.
func (r *reconReceiver) credit() ([][]byte, bool, error) {
	if r.target <= r.asked {
		return nil, false, nil
	}
	w := r.window(r.dec.Estimate())
	if r.pending > w {
		return nil, false, nil
	}
	n := min(w, r.target-r.asked, maxReconSymbols-int(r.next)-r.pending)
	if n <= 0 {
		return nil, false, nil
	}
	if r.creditAt.IsZero() {
		r.creditAt, r.creditIdx = time.Now(), uint64(r.asked)
	}
	r.pending += n
	r.asked += n
	return [][]byte{appendUvarint([]byte{msgReconWant}, uint64(n))}, false, nil
}
