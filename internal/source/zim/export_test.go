package zim

// DecodeCount is how many clusters a has decompressed (for tests).
func DecodeCount(a *Archive) int64 { return a.decodes.Load() }

// StreamAbove sets the size over which o's clusters are streamed.
func StreamAbove(o Options, n int64) Options { o.streamAbove = n; return o }
