// Package netlab joins two network namespaces by a shaped link, for the
// tests and benchmarks of device-to-device sync: the network between two
// devices that meet, with its delay, loss and rate, on one machine. Both
// ends are ordinary kernel TCP/IP stacks.
//
// It uses a veth pair shaped with tc netem where the kernel has netem, and
// otherwise two TUN devices with a netem-like emulator in this process
// (some kernels are built without sch_netem). It needs root and iproute2
// on Linux; elsewhere, or without them, New returns ErrUnavailable, and
// callers skip with a message.
package netlab

import (
	"errors"
	"fmt"
	"time"
)

// ErrUnavailable says the link cannot be made here.
var ErrUnavailable = errors.New("netlab: network namespaces cannot be made here")

// Shape is a link's character, as tc netem takes it: one-way delay,
// random loss and a rate, with a queue that drops what overflows it.
type Shape struct {
	Delay time.Duration
	Loss  float64 // 0..1
	Rate  float64 // bits per second; 0: unlimited
	Queue int     // bytes one direction may hold waiting to be sent
}

// Netem is the shape as tc netem arguments.
func (s Shape) Netem() string {
	out := fmt.Sprintf("delay %dms", s.Delay.Milliseconds())
	if s.Loss > 0 {
		out += fmt.Sprintf(" loss %g%%", s.Loss*100)
	}
	if s.Rate > 0 {
		out += fmt.Sprintf(" rate %dkbit", int(s.Rate/1000))
	}
	return out + fmt.Sprintf(" limit %d", max(1000, s.Queue/1500))
}
