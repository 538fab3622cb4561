package peer

import "time"

// rates estimates how fast the link brings bytes and how fast this
// processor compresses, so that the taker can choose, cluster by cluster,
// between fetching it as stored and rebuilding it (PolicyTime): it picks
// what makes the later of the two queues — the link's, the workers' —
// finish sooner. Estimates start from guesses and follow measurements.
type rates struct {
	workers int

	active   bool
	mark     time.Time
	netBytes int64
	netBusy  time.Duration

	cpuRaw  int64
	cpuTime time.Duration
}

const (
	guessNet = 4 << 20  // bytes/s before anything was measured
	guessCPU = 20 << 20 // raw bytes/s per worker at the packer's zstd level
)

func newRates(workers int) rates { return rates{workers: max(1, workers)} }

// asked is told when a GET goes out.
func (r *rates) asked(int64) {
	if !r.active {
		r.active, r.mark = true, time.Now()
	}
}

// got is told when a piece of n wire bytes arrives; busy says whether more
// are still on their way.
func (r *rates) got(n int64, busy bool) {
	now := time.Now()
	if r.active {
		r.netBusy += now.Sub(r.mark)
	}
	r.mark = now
	r.netBytes += n
	r.active = busy
}

// compressed is told how long a worker took to rebuild raw bytes with zstd.
func (r *rates) compressed(raw int64, took time.Duration) {
	if raw > 0 && took > 0 {
		r.cpuRaw += raw
		r.cpuTime += took
	}
}

func (r *rates) net() float64 {
	if r.netBytes < 64<<10 || r.netBusy <= 0 {
		return guessNet
	}
	return float64(r.netBytes) / r.netBusy.Seconds()
}

func (r *rates) cpu() float64 {
	if r.cpuRaw < 1<<20 || r.cpuTime <= 0 {
		return guessCPU
	}
	return float64(r.cpuRaw) / r.cpuTime.Seconds()
}

// rebuild decides for a cluster that can be rebuilt with gapBytes of its
// raw bytes sent: netAhead raw bytes are still to come over the link and
// cpuAhead raw bytes are waiting to be compressed.
func (r *rates) rebuild(p Policy, c clusterRec, gapBytes, netAhead, cpuAhead int64) bool {
	if p == PolicyBytes || c.codec() == codecNone {
		return true // uncompressed clusters cost the processor nothing to rebuild
	}
	net, cpu := r.net(), r.cpu()*float64(r.workers)
	wireGaps := float64(gapBytes) * float64(c.Stored) / float64(max(1, c.Raw))
	fetch := max((float64(netAhead)+float64(c.Stored))/net, float64(cpuAhead)/cpu)
	build := max((float64(netAhead)+wireGaps)/net, (float64(cpuAhead)+float64(c.Raw))/cpu)
	return build <= fetch
}

// fetchSooner decides for a compressed cluster that the workers, being
// full, cannot take now: netAhead raw bytes are still to come over the
// link, cpuAhead raw bytes are queued for the workers (copies and
// rebuilds alike: all of them hold the workers). Fetching it as stored is
// chosen when it would arrive before the workers could have rebuilt it.
func (r *rates) fetchSooner(c clusterRec, netAhead, cpuAhead int64) bool {
	fetch := (float64(netAhead) + float64(c.Stored)) / r.net()
	build := (float64(cpuAhead) + float64(c.Raw)) / (r.cpu() * float64(r.workers))
	return fetch < build
}
