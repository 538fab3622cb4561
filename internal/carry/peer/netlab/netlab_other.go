//go:build !linux

package netlab

import "os/exec"

// Link is two joined network namespaces (Linux only).
type Link struct {
	A, B         string
	AddrA, AddrB string
	Kind         string
}

// New returns ErrUnavailable: network namespaces are Linux's.
func New(Shape) (*Link, error) { return nil, ErrUnavailable }

// In is not available here.
func (l *Link) In(string, func() error) error { return ErrUnavailable }

// Command is not available here.
func (l *Link) Command(string, string, ...string) *exec.Cmd { return nil }

// Close does nothing here.
func (l *Link) Close() error { return nil }

// Stats is not available here.
func (l *Link) Stats() (passed, dropped int) { return 0, 0 }
