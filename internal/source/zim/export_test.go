package zim

// DecodeCount reports how many clusters a has decompressed.
func DecodeCount(a *Archive) int64 { return a.decodes.Load() }
