package channel

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

func identity(t testing.TB) Identity {
	t.Helper()
	id, err := NewIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

type result struct {
	c   *Conn
	err error
}

// serve accepts one connection on l and runs s.Handshake on it.
func serve(t testing.TB, l net.Listener, s *Server) <-chan result {
	ch := make(chan result, 1)
	go func() {
		nc, err := l.Accept()
		if err != nil {
			ch <- result{nil, err}
			return
		}
		c, err := s.Handshake(context.Background(), nc)
		ch <- result{c, err}
	}()
	return ch
}

func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return nc
}

func quick(id Identity) Config {
	return Config{Identity: id, HandshakeTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}
}

func newServer(t testing.TB, cfg ServerConfig) *Server {
	t.Helper()
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// exchange checks that messages pass both ways.
func exchange(t *testing.T, a, b *Conn) {
	t.Helper()
	msgs := [][]byte{[]byte("hello"), {}, bytes.Repeat([]byte{7}, a.MaxMessage())}
	errc := make(chan error, 1)
	go func() {
		for _, m := range msgs {
			if err := a.WriteMessage(m); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for _, m := range msgs {
		got, err := b.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, m) {
			t.Fatalf("message of %d bytes came as %d bytes", len(m), len(got))
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	// And the stream view, the other way.
	data := bytes.Repeat([]byte("ferry "), 30000) // several frames
	go func() { _, err := b.Write(data); errc <- err }()
	got := make([]byte, len(data))
	if _, err := io.ReadFull(a, got); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil || !bytes.Equal(got, data) {
		t.Fatalf("stream: %v", err)
	}
}

func TestPairAndReconnect(t *testing.T) {
	l := listen(t)
	sid, cid := identity(t), identity(t)
	code, err := NewCode(8)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	known := map[PeerKey]bool{}
	s := newServer(t, ServerConfig{Config: quick(sid), Code: code, Known: func(k PeerKey) bool {
		mu.Lock()
		defer mu.Unlock()
		return known[k]
	}})
	sr := serve(t, l, s)
	c, err := Pair(context.Background(), dial(t, l.Addr().String()), code, quick(cid))
	if err != nil {
		t.Fatal(err)
	}
	r := <-sr
	if r.err != nil {
		t.Fatal(r.err)
	}
	if c.Peer() != sid.Public() || r.c.Peer() != cid.Public() || !c.Paired() || !r.c.Paired() {
		t.Fatal("peers do not see each other's static keys")
	}
	if !bytes.Equal(c.Binding("riblt", 16), r.c.Binding("riblt", 16)) ||
		bytes.Equal(c.Binding("riblt", 16), c.Binding("other", 16)) {
		t.Error("bindings differ between ends, or between labels")
	}
	exchange(t, c, r.c)
	exchange(t, r.c, c)
	c.Close()
	r.c.Close()
	if !s.Exhausted() {
		t.Error("the code is still usable after a successful pairing")
	}

	// The code is spent: a second pairing is refused.
	sr = serve(t, l, s)
	if _, err := Pair(context.Background(), dial(t, l.Addr().String()), code, quick(identity(t))); !errors.Is(err, ErrRefused) {
		t.Errorf("second pairing, dialler: %v", err)
	}
	if r := <-sr; !errors.Is(r.err, ErrCodeUsed) {
		t.Errorf("second pairing, listener: %v", r.err)
	}

	// Before the listener remembers the dialler, reconnection is refused.
	sr = serve(t, l, s)
	if _, err := Reconnect(context.Background(), dial(t, l.Addr().String()), sid.Public(), quick(cid)); !errors.Is(err, ErrRefused) {
		t.Errorf("unknown dialler: %v", err)
	}
	if r := <-sr; !errors.Is(r.err, ErrUnknownPeer) {
		t.Errorf("unknown dialler, listener: %v", r.err)
	}

	mu.Lock()
	known[cid.Public()] = true
	mu.Unlock()
	sr = serve(t, l, s)
	c, err = Reconnect(context.Background(), dial(t, l.Addr().String()), sid.Public(), quick(cid))
	if err != nil {
		t.Fatal(err)
	}
	r = <-sr
	if r.err != nil {
		t.Fatal(r.err)
	}
	if c.Paired() || r.c.Paired() || r.c.Peer() != cid.Public() || c.Peer() != sid.Public() {
		t.Error("reconnection reports the wrong peers")
	}
	exchange(t, c, r.c)
	c.Close()
	r.c.Close()

	// A dialler that remembers the wrong key for the listener fails.
	sr = serve(t, l, s)
	if _, err := Reconnect(context.Background(), dial(t, l.Addr().String()), identity(t).Public(), quick(cid)); err == nil {
		t.Error("reconnection to an impostor's key succeeded")
	}
	if r := <-sr; !errors.Is(r.err, ErrHandshake) {
		t.Errorf("wrong listener key, listener: %v", r.err)
	}
	// An impostor listener with a different key is refused by the dialler.
	imp := newServer(t, ServerConfig{Config: quick(identity(t)), Known: func(PeerKey) bool { return true }})
	sr = serve(t, l, imp)
	if _, err := Reconnect(context.Background(), dial(t, l.Addr().String()), sid.Public(), quick(cid)); err == nil {
		t.Error("impostor listener accepted")
	}
	<-sr
}

func TestWrongCode(t *testing.T) {
	l := listen(t)
	s := newServer(t, ServerConfig{Config: quick(identity(t)), Code: "12345678", MaxFailures: 3})
	for i := range 3 {
		sr := serve(t, l, s)
		_, err := Pair(context.Background(), dial(t, l.Addr().String()), "12345679", quick(identity(t)))
		if !errors.Is(err, ErrPairing) {
			t.Errorf("attempt %d, dialler: %v", i, err)
		}
		if r := <-sr; !errors.Is(r.err, ErrPairing) {
			t.Errorf("attempt %d, listener: %v", i, r.err)
		}
		if s.Failures() != i+1 {
			t.Errorf("failures %d after %d attempts", s.Failures(), i+1)
		}
	}
	// Now even the right code is refused.
	sr := serve(t, l, s)
	if _, err := Pair(context.Background(), dial(t, l.Addr().String()), "12345678", quick(identity(t))); !errors.Is(err, ErrRefused) {
		t.Errorf("after the limit, dialler: %v", err)
	}
	if r := <-sr; !errors.Is(r.err, ErrTooManyFailures) {
		t.Errorf("after the limit, listener: %v", r.err)
	}
}

// proxy forwards between a dialler and l's real server, passing each
// direction's bytes through mangle (offset counted per direction).
func proxy(t *testing.T, target string, mangle func(toServer bool, off int, b []byte) []byte) string {
	t.Helper()
	pl := listen(t)
	go func() {
		for {
			a, err := pl.Accept()
			if err != nil {
				return
			}
			b, err := net.Dial("tcp", target)
			if err != nil {
				a.Close()
				return
			}
			pipe := func(dst, src net.Conn, toServer bool) {
				defer dst.Close()
				defer src.Close()
				off := 0
				buf := make([]byte, 4096)
				for {
					n, err := src.Read(buf)
					if n > 0 {
						out := mangle(toServer, off, append([]byte(nil), buf[:n]...))
						off += n
						if out == nil {
							return
						}
						if _, err := dst.Write(out); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}
			go pipe(b, a, true)
			go pipe(a, b, false)
		}
	}()
	return pl.Addr().String()
}

// handshakeBytes of each direction, frame headers included.
var handshakeBytes = map[string][2]int{
	"pair":  {2 + pairHelloLen + 2 + pairMsg2Len + 2 + confirmLen, 2 + pairReplyLen + 2 + pairMsg3Len},
	"known": {2 + knownHelloLen + 2 + confirmLen, 2 + knownReplyLen},
}

// TestTamper flips one bit of every handshake byte in turn, both
// directions, both modes: neither side may then complete.
func TestTamper(t *testing.T) {
	if testing.Short() {
		t.Skip("tampers with ~600 handshakes")
	}
	l := listen(t)
	sid, cid := identity(t), identity(t)
	cfg := func(id Identity) Config {
		return Config{Identity: id, HandshakeTimeout: 300 * time.Millisecond}
	}
	for _, mode := range []string{"pair", "known"} {
		for dir := 0; dir < 2; dir++ {
			for k := 0; k < handshakeBytes[mode][dir]; k++ {
				target := k
				addr := proxy(t, l.Addr().String(), func(toServer bool, off int, b []byte) []byte {
					if toServer == (dir == 0) && target >= off && target < off+len(b) {
						b[target-off] ^= 0x10
					}
					return b
				})
				s := newServer(t, ServerConfig{Config: cfg(sid), Code: "246810", MaxFailures: 1000,
					Known: func(k PeerKey) bool { return k == cid.Public() }})
				sr := serve(t, l, s)
				var err error
				var c *Conn
				if mode == "pair" {
					c, err = Pair(context.Background(), dial(t, addr), "246810", cfg(cid))
				} else {
					c, err = Reconnect(context.Background(), dial(t, addr), sid.Public(), cfg(cid))
				}
				r := <-sr
				if r.err == nil {
					t.Errorf("%s, byte %d of direction %d flipped: the listener completed", mode, k, dir)
					r.c.Close()
				}
				if err == nil {
					// The dialler finishes first in IK and in pairing's last
					// flight; its connection must then be dead on first use.
					if _, rerr := c.ReadMessage(); rerr == nil {
						t.Errorf("%s, byte %d of direction %d flipped: the dialler has a working connection", mode, k, dir)
					}
					c.Close()
				}
			}
		}
	}
}

// TestReplay: a recorded reconnection replayed to the listener does not
// give a connection; a transport frame replayed inside a session is refused.
func TestReplay(t *testing.T) {
	l := listen(t)
	sid, cid := identity(t), identity(t)
	s := newServer(t, ServerConfig{Config: quick(sid), Known: func(k PeerKey) bool { return k == cid.Public() }})
	var mu sync.Mutex
	var rec []byte
	addr := proxy(t, l.Addr().String(), func(toServer bool, off int, b []byte) []byte {
		if toServer {
			mu.Lock()
			rec = append(rec, b...)
			mu.Unlock()
		}
		return b
	})
	sr := serve(t, l, s)
	c, err := Reconnect(context.Background(), dial(t, addr), sid.Public(), quick(cid))
	if err != nil {
		t.Fatal(err)
	}
	r := <-sr
	if r.err != nil {
		t.Fatal(r.err)
	}
	if err := c.WriteMessage([]byte("once")); err != nil {
		t.Fatal(err)
	}
	if m, err := r.c.ReadMessage(); err != nil || string(m) != "once" {
		t.Fatal(m, err)
	}
	c.Close()
	r.c.Close()
	time.Sleep(50 * time.Millisecond) // let the proxy record the last bytes
	mu.Lock()
	recorded := append([]byte(nil), rec...)
	mu.Unlock()

	// Replay the whole dialler side to a fresh connection.
	sr = serve(t, l, s)
	raw := dial(t, l.Addr().String())
	raw.Write(recorded)
	if r := <-sr; r.err == nil {
		t.Fatal("replayed reconnection accepted")
	} else if !errors.Is(r.err, ErrHandshake) {
		t.Errorf("replay: %v", r.err)
	}
	raw.Close()

	// Inside a session: the same frame twice.
	var dup bool
	addr = proxy(t, l.Addr().String(), func(toServer bool, off int, b []byte) []byte {
		mu.Lock()
		defer mu.Unlock()
		if toServer && off >= handshakeBytes["known"][0] && !dup {
			dup = true
			return append(b, b...)
		}
		return b
	})
	sr = serve(t, l, s)
	c, err = Reconnect(context.Background(), dial(t, addr), sid.Public(), quick(cid))
	if err != nil {
		t.Fatal(err)
	}
	r = <-sr
	if r.err != nil {
		t.Fatal(r.err)
	}
	c.WriteMessage([]byte("pay me once"))
	if m, err := r.c.ReadMessage(); err != nil || string(m) != "pay me once" {
		t.Fatal(m, err)
	}
	if _, err := r.c.ReadMessage(); !errors.Is(err, ErrDecrypt) {
		t.Errorf("replayed frame: %v", err)
	}
	c.Close()
}

func pairedConns(t *testing.T, scfg, ccfg Config) (*Conn, *Conn) {
	t.Helper()
	l := listen(t)
	s := newServer(t, ServerConfig{Config: scfg, Code: "135790"})
	sr := serve(t, l, s)
	c, err := Pair(context.Background(), dial(t, l.Addr().String()), "135790", ccfg)
	if err != nil {
		t.Fatal(err)
	}
	r := <-sr
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { c.Close(); r.c.Close() })
	return c, r.c
}

// TestStalls: a peer that says nothing, or trickles bytes, is dropped.
func TestStalls(t *testing.T) {
	l := listen(t)
	s := newServer(t, ServerConfig{Config: Config{Identity: identity(t), HandshakeTimeout: 200 * time.Millisecond}, Code: "111111"})
	sr := serve(t, l, s)
	raw := dial(t, l.Addr().String())
	defer raw.Close()
	if r := <-sr; !errors.Is(r.err, ErrTimeout) {
		t.Errorf("silent dialler: %v", r.err)
	}
	// A listener that never answers.
	ln := listen(t)
	go func() {
		nc, err := ln.Accept()
		if err == nil {
			io.Copy(io.Discard, nc)
		}
	}()
	if _, err := Pair(context.Background(), dial(t, ln.Addr().String()), "111111",
		Config{Identity: identity(t), HandshakeTimeout: 200 * time.Millisecond}); !errors.Is(err, ErrTimeout) {
		t.Errorf("silent listener: %v", err)
	}
	// Cancelling the context ends a handshake at once.
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(50 * time.Millisecond); cancel() }()
	if _, err := Pair(ctx, dial(t, ln.Addr().String()), "111111", quick(identity(t))); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}

	// After the handshake: silence, then a trickle.
	short := func() Config {
		return Config{Identity: identity(t), ReadTimeout: 200 * time.Millisecond, HandshakeTimeout: 5 * time.Second}
	}
	a, _ := pairedConns(t, short(), short())
	if _, err := a.ReadMessage(); !errors.Is(err, ErrTimeout) {
		t.Errorf("silent peer: %v", err)
	}
	if _, err := a.ReadMessage(); !errors.Is(err, ErrTimeout) {
		t.Errorf("error not sticky: %v", err)
	}
	a, b := pairedConns(t, short(), short())
	go func() {
		// A frame header claiming 1000 bytes, then a byte every 50 ms.
		b.nc.Write([]byte{0x03, 0xe8})
		for range 20 {
			time.Sleep(50 * time.Millisecond)
			if _, err := b.nc.Write([]byte{0}); err != nil {
				return
			}
		}
	}()
	if _, err := a.ReadMessage(); !errors.Is(err, ErrTimeout) {
		t.Errorf("trickling peer: %v", err)
	}
}

func TestFrameLimits(t *testing.T) {
	small := quick(identity(t))
	small.MaxFrame = 1024
	a, b := pairedConns(t, small, quick(identity(t))) // b: the listener, small frames
	if err := b.WriteMessage(make([]byte, 1024)); !errors.Is(err, ErrMessageTooLarge) {
		t.Errorf("oversized write: %v", err)
	}
	if err := a.WriteMessage(make([]byte, 2000)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ReadMessage(); !errors.Is(err, ErrFrameTooLarge) {
		t.Errorf("oversized frame: %v", err)
	}
	// Garbage frames after the handshake.
	a, b = pairedConns(t, quick(identity(t)), quick(identity(t)))
	a.nc.Write([]byte{0, 0})
	if _, err := b.ReadMessage(); !errors.Is(err, ErrFrame) {
		t.Errorf("zero-length frame: %v", err)
	}
	a, b = pairedConns(t, quick(identity(t)), quick(identity(t)))
	a.nc.Write([]byte{0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20})
	if _, err := b.ReadMessage(); !errors.Is(err, ErrDecrypt) {
		t.Errorf("forged frame: %v", err)
	}
}

func TestBadHello(t *testing.T) {
	l := listen(t)
	s := newServer(t, ServerConfig{Config: quick(identity(t)), Code: "123456"})
	for name, c := range map[string]struct {
		frame []byte
		want  error
	}{
		"unknown mode": {[]byte{0x11, 1, 2, 3}, ErrVersion},
		"short pair":   {[]byte{modePair, 0x20}, ErrFrame},
		"short known":  {[]byte{modeKnown, 1}, ErrFrame},
		"identity Ya":  {append([]byte{modePair, 0x20}, make([]byte, 33)...), ErrPairing},
		"huge frame":   {make([]byte, 300), ErrFrameTooLarge},
		"garbage IK":   {append([]byte{modeKnown}, make([]byte, knownHelloLen-1)...), ErrHandshake},
	} {
		sr := serve(t, l, s)
		raw := dial(t, l.Addr().String())
		writeFrame(raw, c.frame, time.Second)
		if r := <-sr; !errors.Is(r.err, c.want) {
			t.Errorf("%s: %v, want %v", name, r.err, c.want)
		}
		raw.Close()
	}
	if s.Failures() != 0 {
		t.Errorf("malformed hellos counted as %d guesses", s.Failures())
	}
}

func TestCodes(t *testing.T) {
	seen := map[Code]bool{}
	for range 50 {
		c, err := NewCode(6)
		if err != nil || len(c) != 6 {
			t.Fatal(c, err)
		}
		if _, err := ParseCode(string(c)); err != nil {
			t.Fatal(err)
		}
		seen[c] = true
	}
	if len(seen) < 45 {
		t.Errorf("only %d distinct codes of 50", len(seen))
	}
	for _, bad := range []string{"12345", "123456789", "12a456", ""} {
		if _, err := ParseCode(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if c, err := ParseCode(" 1234-5678 "); err != nil || c != "12345678" || c.Display() != "1234 5678" {
		t.Errorf("typed code: %q %v", c, err)
	}
	if _, err := NewCode(5); err == nil {
		t.Error("5-digit code made")
	}
	id := identity(t)
	id2, err := ParseIdentity(id.Private())
	if err != nil || id2.Public() != id.Public() {
		t.Error("identity does not round-trip")
	}
	k, err := ParsePeerKey(id.Public().String())
	if err != nil || !k.Equal(id.Public()) {
		t.Error("peer key does not round-trip")
	}
}
