package netlab

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestNetem(t *testing.T) {
	for _, c := range []struct {
		sh   Shape
		want string
	}{
		{Shape{Delay: 15 * time.Millisecond}, "delay 15ms limit 1000"},
		{Shape{Delay: 30 * time.Millisecond, Loss: 0.01, Rate: 20e6, Queue: 4 << 20}, "delay 30ms loss 1% rate 20000kbit limit 2796"},
	} {
		if got := c.sh.Netem(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.sh, got, c.want)
		}
	}
}

// TestLink makes a link, carries bytes across it in both directions, and
// checks that Close removes the namespaces.
func TestLink(t *testing.T) {
	l, err := New(Shape{Delay: 5 * time.Millisecond, Rate: 50e6, Queue: 256 << 10})
	if errors.Is(err, ErrUnavailable) {
		t.Skipf("%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			l.Close()
		}
	}()
	var ln net.Listener
	if err := l.In(l.A, func() (err error) { ln, err = net.Listen("tcp", l.AddrA+":4050"); return }); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c) // echo
	}()
	// B reaches A only over the link: A's address is not B's own.
	var c net.Conn
	if err := l.In(l.B, func() (err error) { c, err = net.DialTimeout("tcp", l.AddrA+":4050", 10*time.Second); return }); err != nil {
		t.Fatalf("over %s: %v", l.Kind, err)
	}
	defer c.Close()
	msg := bytes.Repeat([]byte("ferry sync over a shaped link. "), 20000)
	go c.Write(msg)
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo over %s: %v", l.Kind, err)
	}
	if passed, _ := l.Stats(); strings.HasPrefix(l.Kind, "TUN") && passed == 0 {
		t.Errorf("the emulator passed no packets")
	}
	// Both namespaces exist while the link is up.
	if out, err := exec.Command("ip", "netns", "list").Output(); err != nil || !strings.Contains(string(out), l.A) {
		t.Errorf("namespace %s not listed: %v %s", l.A, err, out)
	}
	c.Close()
	ln.Close()
	closed = true
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if out, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(out), l.A) || strings.Contains(string(out), l.B) {
		t.Errorf("namespaces left after Close: %s", out)
	}
}
