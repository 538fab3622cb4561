package channel

import (
	"context"
	"io"
	"testing"
)

// BenchmarkPair: one pairing handshake (CPace and Noise XXpsk0, both
// sides) over loopback TCP.
func BenchmarkPair(b *testing.B) {
	l := listen(b)
	sid, cid := identity(b), identity(b)
	for b.Loop() {
		s := newServer(b, ServerConfig{Config: quick(sid), Code: "12345678"})
		sr := serve(b, l, s)
		c, err := Pair(context.Background(), dial(b, l.Addr().String()), "12345678", quick(cid))
		if err != nil {
			b.Fatal(err)
		}
		r := <-sr
		if r.err != nil {
			b.Fatal(r.err)
		}
		c.Close()
		r.c.Close()
	}
}

// BenchmarkReconnect: one Noise IK handshake with confirmation.
func BenchmarkReconnect(b *testing.B) {
	l := listen(b)
	sid, cid := identity(b), identity(b)
	s := newServer(b, ServerConfig{Config: quick(sid), Known: func(k PeerKey) bool { return k == cid.Public() }})
	for b.Loop() {
		sr := serve(b, l, s)
		c, err := Reconnect(context.Background(), dial(b, l.Addr().String()), sid.Public(), quick(cid))
		if err != nil {
			b.Fatal(err)
		}
		r := <-sr
		if r.err != nil {
			b.Fatal(r.err)
		}
		c.Close()
		r.c.Close()
	}
}

// BenchmarkStream: bulk data through the stream view (frames of 64 KiB).
func BenchmarkStream(b *testing.B) {
	l := listen(b)
	sid, cid := identity(b), identity(b)
	s := newServer(b, ServerConfig{Config: quick(sid), Code: "12345678"})
	sr := serve(b, l, s)
	c, err := Pair(context.Background(), dial(b, l.Addr().String()), "12345678", quick(cid))
	if err != nil {
		b.Fatal(err)
	}
	r := <-sr
	if r.err != nil {
		b.Fatal(r.err)
	}
	defer c.Close()
	defer r.c.Close()
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	done := make(chan error, 1)
	go func() {
		_, err := io.CopyN(io.Discard, r.c, int64(b.N)*int64(len(buf)))
		done <- err
	}()
	for range b.N { // b.N, not b.Loop: the reader must know the total up front
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}
