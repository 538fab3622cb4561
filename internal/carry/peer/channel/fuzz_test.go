package channel

import (
	"bytes"
	"context"
	"image/png"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"ferry/internal/carry/peer/cpace"

	"github.com/flynn/noise"
)

// fakeConn reads the fuzzer's bytes and swallows what is written.
type fakeConn struct {
	r *bytes.Reader
}

func (f *fakeConn) Read(p []byte) (int, error)         { return f.r.Read(p) }
func (f *fakeConn) Write(p []byte) (int, error)        { return len(p), nil }
func (f *fakeConn) Close() error                       { return nil }
func (f *fakeConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (f *fakeConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (f *fakeConn) SetDeadline(t time.Time) error      { return nil }
func (f *fakeConn) SetReadDeadline(t time.Time) error  { return nil }
func (f *fakeConn) SetWriteDeadline(t time.Time) error { return nil }

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 3, 1, 2, 3, 0, 1, 9})
	f.Add([]byte{0, 0})
	f.Add([]byte{0xff, 0xff, 1})
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		total := 0
		for {
			fr, err := readFrame(r, 1000)
			if err != nil {
				break
			}
			if len(fr) == 0 || len(fr) > 1000 {
				t.Fatalf("frame of %d bytes returned", len(fr))
			}
			total += 2 + len(fr)
		}
		if total > len(b) {
			t.Fatal("read more than was there")
		}
	})
}

func frame(b []byte) []byte { return append(appendFrameHeader(nil, len(b)), b...) }

// FuzzServerHandshake feeds arbitrary dialler bytes to the listening side:
// it must fail cleanly (no panic, no hang on a finite input) and never
// hand out a connection.
func FuzzServerHandshake(f *testing.F) {
	sid := identity(f)
	p, err := cpace.New(cpace.Initiator, []byte("123456"), []byte(cpaceCI), nil, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(frame(append([]byte{modePair}, p.Message()...)))
	hs, err := noise.NewHandshakeState(noise.Config{CipherSuite: suite, Pattern: noise.HandshakeIK, Initiator: true,
		Prologue: knownPrologue(), StaticKeypair: keypair(identity(f)), PeerStatic: sid.pub[:]})
	if err != nil {
		f.Fatal(err)
	}
	m1, _, _, _ := hs.WriteMessage([]byte{modeKnown}, nil)
	f.Add(append(frame(m1), frame(make([]byte, confirmLen))...))
	f.Add(frame([]byte{0x03}))
	f.Add([]byte{0, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := NewServer(ServerConfig{Config: Config{Identity: sid}, Code: "123456",
			Known: func(PeerKey) bool { return true }})
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.Handshake(context.Background(), &fakeConn{bytes.NewReader(b)})
		if err == nil {
			c.Close()
			t.Fatal("handshake completed with forged bytes")
		}
	})
}

func TestPairingInfo(t *testing.T) {
	p := PairingInfo{Addr: "192.168.0.7:4040", Code: "12345678"}
	if s := p.String(); s != "FERRY-SYNC:192.168.0.7:4040/12345678" {
		t.Errorf("text %q", s)
	}
	for _, s := range []string{p.String(), strings.ToLower(p.String()), " " + p.String() + "\n"} {
		q, err := ParsePairingInfo(s)
		if err != nil || q != p && !strings.EqualFold(q.Addr, p.Addr) {
			t.Errorf("%q: %+v %v", s, q, err)
		}
	}
	v6 := PairingInfo{Addr: "[fe80::1]:4040", Code: "123456"}
	if q, err := ParsePairingInfo(v6.String()); err != nil || q != v6 {
		t.Errorf("IPv6: %+v %v", q, err)
	}
	for _, bad := range []string{"", "FERRY-SYNC:", "FERRY-SYNC:host/123456", "FERRY-SYNC:h:1/12", "HTTP:h:1/123456"} {
		if _, err := ParsePairingInfo(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestQR(t *testing.T) {
	p := PairingInfo{Addr: "192.168.0.7:4040", Code: "12345678"}
	q, err := p.QR()
	if err != nil {
		t.Fatal(err)
	}
	n := q.Size()
	txt := q.Terminal(false)
	lines := strings.Split(strings.TrimSuffix(txt, "\n"), "\n")
	if len(lines) != (n+1)/2 {
		t.Errorf("%d lines for %d modules", len(lines), n)
	}
	for _, l := range lines {
		if len([]rune(l)) != n {
			t.Fatalf("line of %d cells, want %d", len([]rune(l)), n)
		}
	}
	// The margin is light: the top line is all full blocks when light
	// modules are drawn, all spaces when inverted.
	if strings.Trim(lines[0], "█") != "" || strings.TrimSpace(strings.Split(q.Terminal(true), "\n")[0]) != "" {
		t.Error("quiet zone not light")
	}
	// Read the half blocks back into modules: they must be the code's.
	for _, inv := range []bool{false, true} {
		for row, l := range strings.Split(strings.TrimSuffix(q.Terminal(inv), "\n"), "\n") {
			for x, r := range []rune(l) {
				top := r == '█' || r == '▀'
				bot := r == '█' || r == '▄'
				y := 2 * row
				if top != (q.dark(x, y) == inv) || (y+1 < n && bot != (q.dark(x, y+1) == inv)) {
					t.Fatalf("invert=%v: cell (%d,%d) %q does not match the modules", inv, x, row, r)
				}
			}
		}
	}
	b, err := q.PNG(4)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != n*4 {
		t.Errorf("PNG %d px wide, want %d", img.Bounds().Dx(), n*4)
	}
	// Where a QR reader is installed (Debian's zbar-tools), read it back.
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Log("zbarimg not installed: the PNG's content is not read back")
		return
	}
	path := t.TempDir() + "/qr.png"
	if err := writeFile(path, b); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(zbar, "--raw", "-q", path).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != p.String() {
		t.Errorf("QR reads %q, want %q", got, p.String())
	}
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }

// FuzzClientHandshake feeds arbitrary listener bytes to the dialling side,
// pairing with a code and reconnecting to a known key: it must fail
// cleanly and never hand out a connection.
func FuzzClientHandshake(f *testing.F) {
	resp, err := cpace.New(cpace.Responder, []byte("123456"), []byte(cpaceCI), nil, nil, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(append(frame(append(resp.Message(), make([]byte, 48)...)), frame(make([]byte, pairMsg3Len))...))
	f.Add(frame(make([]byte, pairReplyLen)))
	f.Add(frame(make([]byte, 48)))
	f.Add([]byte{0, 1, 0})
	f.Add([]byte{})
	id, known := identity(f), identity(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := Pair(context.Background(), &fakeConn{bytes.NewReader(b)}, "123456", Config{Identity: id}); err == nil {
			c.Close()
			t.Fatal("pairing completed with forged bytes")
		}
		if c, err := Reconnect(context.Background(), &fakeConn{bytes.NewReader(b)}, known.Public(), Config{Identity: id}); err == nil {
			c.Close()
			t.Fatal("reconnection completed with forged bytes")
		}
	})
}

// FuzzParsePairingInfo: the text of a scanned QR code parses or is
// refused, and what parses prints back to text that parses the same.
func FuzzParsePairingInfo(f *testing.F) {
	for _, s := range []string{"FERRY-SYNC:192.168.0.7:4040/12345678", "ferry-sync:[fe80::1]:4040/123456", "FERRY-SYNC:h:1/12", "", "FERRY-SYNC:/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePairingInfo(s)
		if err != nil {
			return
		}
		q, err := ParsePairingInfo(p.String())
		if err != nil || q != p {
			t.Fatalf("%q parsed to %+v, which prints as %q and parses to %+v (%v)", s, p, p.String(), q, err)
		}
		if _, err := ParseCode(string(p.Code)); err != nil {
			t.Fatalf("%q: code %q does not parse: %v", s, p.Code, err)
		}
	})
}
