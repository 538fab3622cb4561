//go:build !unix

package peer

// freeSpace is unknown here; the library checks again when it copies.
func freeSpace(string) (int64, bool) { return 0, false }

// lockSync does not lock where flock is missing.
func lockSync(string) (func(), error) { return func() {}, nil }
