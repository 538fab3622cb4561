package archive

import (
	"ferry/internal/budget"
	"sync/atomic"
)

// Memory the package's Readers use together, process-wide. The defaults
// suit a desktop; SetMemoryLimit scales them down for a phone.
const (
	defaultCacheBytes  = 16 << 20
	defaultDecodeBytes = 256 << 20
)

var (
	// sharedCache holds verified blocks and decompressed cluster prefixes
	// of every Reader opened without ReaderOptions.CacheBytes.
	sharedCache = newCache(defaultCacheBytes)
	// decodeBudget bounds the bytes all readers of the process hold for
	// clusters being read and decompressed at once (compressed and raw).
	// Requests beyond it wait; one request larger than the whole budget
	// (a 64 MiB cluster under a small limit) takes it all, alone.
	decodeBudget = budget.New(defaultDecodeBytes)
	readerIDs    atomic.Uint64
)

// SetMemoryLimit sizes what the package's Readers hold together, for a
// process that should stay within limit bytes (ferry serve --memory):
// the shared cache of verified blocks and decompressed clusters gets
// limit/16 (at most 16 MiB, at least 1 MiB) and the bytes of clusters
// being decoded at once limit/4 (at most 256 MiB, at least 4 MiB). A
// limit of 0 or less restores the defaults (16 MiB and 256 MiB). Readers
// opened with their own ReaderOptions.CacheBytes keep that cache.
//
// The rest of a process's memory is the Go heap around it (Readers, HTTP
// buffers, search state), which the runtime's own limit
// (runtime/debug.SetMemoryLimit, GOMEMLIMIT) should bound at about the
// same figure; docs/benchmarks.md ("Memory") has measurements.
func SetMemoryLimit(limit int64) {
	cacheBytes, decodeBytes := int64(defaultCacheBytes), int64(defaultDecodeBytes)
	if limit > 0 {
		cacheBytes = min(cacheBytes, max(1<<20, limit/16))
		decodeBytes = min(decodeBytes, max(4<<20, limit/4))
	}
	sharedCache.resize(int(cacheBytes))
	decodeBudget.SetLimit(decodeBytes)
}

// MemoryLimits reports the current shared cache and decode budget, in
// bytes (for the command's --memory report and tests).
func MemoryLimits() (cacheBytes, decodeBytes int64) {
	sharedCache.mu.Lock()
	cacheBytes = int64(sharedCache.max)
	sharedCache.mu.Unlock()
	decodeBytes = decodeBudget.Limit()
	return
}
