//go:build !unix

package atomicfile

// SyncDir does nothing where folders cannot be opened for syncing
// (Windows): there a completed rename is already as durable as the system
// makes it.
func SyncDir(dir string) error { return nil }
