package zim

// DecodeCount is how many clusters a has decompressed (for tests).
func DecodeCount(a *Archive) int64 { return a.decodes.Load() }
