package mirror

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"testing"
)

// TestGetSOCKS5: with a socks5:// proxy every connection to the mirror
// goes through it (a minimal SOCKS5 server on loopback), and the reader
// gets the edition.
func TestGetSOCKS5(t *testing.T) {
	w := newWorld(t, 10)
	url := w.serve(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var conns atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go socks5Connect(c)
		}
	}()
	o, err := Open(context.Background(), url, OpenOptions{Proxy: "socks5://" + l.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	lib := w.reader(t, true)
	res, err := Get(context.Background(), o, GetOptions{Library: lib})
	if err != nil || presents(t, lib, "news") != 1 || conns.Load() == 0 || res.Bytes != w.ix.Edition(1).Full.Size {
		t.Fatalf("%v: edition %d, %d bytes, %d SOCKS connections", err, presents(t, lib, "news"), res.Bytes, conns.Load())
	}
	// A proxy that is not there: a clear error, nothing fetched.
	l.Close()
	o, _ = Open(context.Background(), url, OpenOptions{Proxy: "socks5://" + l.Addr().String()})
	if _, err := Get(context.Background(), o, GetOptions{Library: w.reader(t, true)}); err == nil {
		t.Fatal("a get through a closed proxy succeeded")
	}
}

// socks5Connect serves one SOCKS5 CONNECT without authentication (RFC 1928).
func socks5Connect(c net.Conn) {
	defer c.Close()
	b := make([]byte, 262)
	if _, err := io.ReadFull(c, b[:2]); err != nil || b[0] != 5 {
		return
	}
	if _, err := io.ReadFull(c, b[:b[1]]); err != nil {
		return
	}
	c.Write([]byte{5, 0})
	if _, err := io.ReadFull(c, b[:4]); err != nil || b[1] != 1 {
		return
	}
	var host string
	switch b[3] {
	case 1:
		if _, err := io.ReadFull(c, b[:4]); err != nil {
			return
		}
		host = net.IP(b[:4]).String()
	case 3:
		if _, err := io.ReadFull(c, b[:1]); err != nil {
			return
		}
		n := int(b[0])
		if _, err := io.ReadFull(c, b[:n]); err != nil {
			return
		}
		host = string(b[:n])
	default:
		return
	}
	if _, err := io.ReadFull(c, b[:2]); err != nil {
		return
	}
	port := binary.BigEndian.Uint16(b[:2])
	up, err := net.Dial("tcp", net.JoinHostPort(host, strconv.Itoa(int(port))))
	if err != nil {
		c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	defer up.Close()
	c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	go io.Copy(up, c)
	io.Copy(c, up)
}
