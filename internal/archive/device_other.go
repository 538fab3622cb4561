//go:build !linux

package archive

// DeviceMemoryLimit suggests the memory a process that serves archives
// should stay within on this device (see the Linux version); elsewhere
// nothing is known and it returns 0.
func DeviceMemoryLimit() int64 { return 0 }
