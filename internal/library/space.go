package library

// FreeSpace returns the bytes an unprivileged user may still write in dir,
// and false where the system does not tell.
func FreeSpace(dir string) (int64, bool) { return freeSpaceOf(dir) }
