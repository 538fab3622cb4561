package broadcast

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"
)

// Pacer spaces writes so that they average at most a given rate.
type Pacer struct {
	rate  float64 // bytes per second; 0 means no limit
	start time.Time
	sent  int64
}

// NewPacer returns a pacer for rate bytes per second (0: unlimited).
func NewPacer(rate int64) *Pacer { return &Pacer{rate: float64(rate), start: time.Now()} }

// Wait accounts for n bytes and sleeps until they may go out.
func (p *Pacer) Wait(ctx context.Context, n int) error {
	p.sent += int64(n)
	if p.rate <= 0 {
		return ctx.Err()
	}
	due := p.start.Add(time.Duration(float64(p.sent) / p.rate * float64(time.Second)))
	if d := time.Until(due); d > time.Millisecond {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return ctx.Err()
}

// ListenUDP opens a UDP socket on addr (host:port), joining the group when
// the host is a multicast address.
func ListenUDP(addr string) (*net.UDPConn, error) {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	var c *net.UDPConn
	if ua.IP != nil && ua.IP.IsMulticast() {
		c, err = net.ListenMulticastUDP("udp", nil, ua)
	} else {
		c, err = net.ListenUDP("udp", ua)
	}
	if err != nil {
		return nil, err
	}
	c.SetReadBuffer(8 << 20)
	return c, nil
}

// ReceiveUDP hands every datagram read from conn to r until ctx ends or,
// with untilDone, every announced archive is in the library. tick, if not
// nil, is called about every interval (for progress).
func ReceiveUDP(ctx context.Context, conn net.PacketConn, r *Receiver, untilDone bool, interval time.Duration, tick func()) error {
	buf := make([]byte, MaxPacketSize+1)
	last := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return r.Flush()
		}
		if untilDone && r.AllDone() {
			return nil
		}
		if tick != nil && interval > 0 && time.Since(last) >= interval {
			tick()
			last = time.Now()
		}
		conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			return fmt.Errorf("udp: %w", err)
		}
		if err := r.Handle(buf[:n]); err != nil {
			return err
		}
	}
}
