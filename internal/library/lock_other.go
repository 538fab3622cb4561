//go:build !unix

package library

import "context"

// lockDir is a no-op where folders cannot be locked: two ferry processes
// changing one library at once may lose one's update of the state file.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) { return func() {}, nil }
