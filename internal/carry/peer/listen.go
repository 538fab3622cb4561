package peer

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"ferry/internal/atomicfile"
	"ferry/internal/carry/peer/channel"
	"ferry/internal/library"
)

// DefaultAddr is where a listener listens unless told otherwise: loopback,
// so that nothing on the network can reach it by accident.
const DefaultAddr = "127.0.0.1:4040"

// Listener waits for a peer and runs sync sessions with it: one that pairs
// with the one-time code it shows, or one it remembers.
type Listener struct {
	ln      net.Listener
	opts    Options
	server  *channel.Server
	pairing channel.PairingInfo
	id      channel.Identity
	known   func(channel.PeerKey) bool
	hosts   []string
}

// Listen listens on addr (host:port; empty: DefaultAddr, or a free
// loopback port if that one is taken) and draws a pairing code.
func Listen(addr string, opts Options) (*Listener, error) {
	opts = opts.withDefaults()
	if err := checkLibrary(opts.Library); err != nil {
		return nil, err
	}
	var ln net.Listener
	var err error
	if addr == "" {
		if ln, err = net.Listen("tcp", DefaultAddr); err != nil && errors.Is(err, syscall.EADDRINUSE) {
			ln, err = net.Listen("tcp", "127.0.0.1:0")
		}
	} else {
		if _, _, serr := net.SplitHostPort(addr); serr != nil {
			return nil, fmt.Errorf("peer: address %q: give HOST:PORT, e.g. 192.168.0.7:4040: %w", addr, serr)
		}
		ln, err = net.Listen("tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("peer: cannot listen: %w (choose another port with --addr)", err)
	}
	return ListenOn(ln, opts)
}

// ListenOn makes a Listener of a socket the caller opened (in another
// network namespace, say, or one a web page's server chose).
func ListenOn(ln net.Listener, opts Options) (*Listener, error) {
	opts = opts.withDefaults()
	code, err := channel.NewCode(channel.MaxCodeDigits)
	if err != nil {
		ln.Close()
		return nil, err
	}
	id, persistent, err := identity(opts.Library, opts.Remember)
	if err != nil {
		ln.Close()
		return nil, err
	}
	l := &Listener{ln: ln, opts: opts, id: id}
	if persistent {
		l.known = func(k channel.PeerKey) bool { return rememberedKey(opts.Library, k) }
	}
	l.server, err = channel.NewServer(channel.ServerConfig{Config: opts.channelConfig(id), Code: code, Known: l.known})
	if err != nil {
		ln.Close()
		return nil, err
	}
	l.hosts = reachable(ln.Addr().(*net.TCPAddr))
	l.pairing = channel.PairingInfo{Addr: l.hosts[0], Code: code}
	return l, nil
}

// reachable lists host:port forms others can dial: the address itself, or
// for an unspecified one (0.0.0.0, ::) the addresses of this machine's
// interfaces that are up, IPv4 first.
func reachable(a *net.TCPAddr) []string {
	port := fmt.Sprint(a.Port)
	if !a.IP.IsUnspecified() {
		return []string{net.JoinHostPort(a.IP.String(), port)}
	}
	var v4, v6 []string
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, ad := range addrs {
			ipn, ok := ad.(*net.IPNet)
			if !ok || ipn.IP.IsLinkLocalUnicast() {
				continue
			}
			if ipn.IP.To4() != nil {
				v4 = append(v4, net.JoinHostPort(ipn.IP.String(), port))
			} else if a.IP.To4() == nil {
				v6 = append(v6, net.JoinHostPort(ipn.IP.String(), port))
			}
		}
	}
	out := append(v4, v6...)
	if len(out) == 0 {
		out = []string{net.JoinHostPort("127.0.0.1", port)}
	}
	return out
}

// Addr is the address listened on.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Loopback reports whether only this device can connect.
func (l *Listener) Loopback() bool {
	a, ok := l.ln.Addr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

// Hosts are the host:port forms another device can dial, best first.
func (l *Listener) Hosts() []string { return append([]string(nil), l.hosts...) }

// Pairing is what the other device needs: the first reachable address and
// the one-time code.
func (l *Listener) Pairing() channel.PairingInfo { return l.pairing }

// PairingText is the pairing's text form, "FERRY-SYNC:HOST:PORT/CODE",
// which the QR code holds and 'ferry sync' accepts in place of HOST:PORT.
func (l *Listener) PairingText() string { return l.pairing.String() }

// QRPNG is the pairing's QR code as a PNG with scale pixels per module
// (0: 8), for a web page such as the reader's "share with a friend".
func (l *Listener) QRPNG(scale int) ([]byte, error) {
	q, err := l.pairing.QR()
	if err != nil {
		return nil, err
	}
	return q.PNG(scale)
}

// QRTerminal is the pairing's QR code drawn for a terminal.
func (l *Listener) QRTerminal() (string, error) {
	q, err := l.pairing.QR()
	if err != nil {
		return "", err
	}
	return q.Terminal(false), nil
}

// Close stops listening.
func (l *Listener) Close() error { return l.ln.Close() }

// Serve waits for a peer that pairs (or reconnects), runs one session with
// it and returns what it did. Connections that fail their handshake are
// dropped and waiting goes on, until the code has had its few guesses
// (channel.ErrTooManyFailures) and no remembered peer can come either.
func (l *Listener) Serve(ctx context.Context) (*Summary, error) {
	type est struct {
		c  *channel.Conn
		cc *countingConn
	}
	ctx, cancel := context.WithCancel(ctx)
	got := make(chan est)
	failed := make(chan error, 16)
	acceptErr := make(chan error, 1)
	var wg sync.WaitGroup
	tl, _ := l.ln.(*net.TCPListener)
	if tl != nil {
		tl.SetDeadline(time.Time{})
	}
	defer func() {
		cancel() // ends handshakes under way
		if tl != nil {
			tl.SetDeadline(time.Unix(1, 0)) // ends Accept; the next Serve clears it
		} else {
			l.ln.Close()
		}
		wg.Wait()
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := l.ln.Accept()
			if err != nil {
				acceptErr <- fmt.Errorf("peer: accepting: %w", err)
				return
			}
			cc := &countingConn{Conn: nc}
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := l.server.Handshake(ctx, cc)
				if err != nil {
					select {
					case failed <- err:
					default:
					}
					return
				}
				select {
				case got <- est{c, cc}:
				case <-ctx.Done():
					c.Close()
				}
			}()
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case err := <-acceptErr:
			return nil, err
		case err := <-failed:
			if l.server.Exhausted() && l.known == nil {
				if l.server.Failures() > 0 {
					return nil, channel.ErrTooManyFailures
				}
				return nil, err
			}
			if l.opts.Progress != nil && !errors.Is(err, context.Canceled) {
				l.opts.Progress(Event{Kind: EventNote, Text: "a connection failed: " + err.Error()})
			}
		case e := <-got:
			if e.c.Paired() && l.opts.Remember {
				if err := remember(l.opts.Library, e.c.Peer(), ""); err != nil {
					e.c.Close()
					return nil, err
				}
			}
			s := newSession(ctx, e.c, e.cc, false, l.opts)
			err := s.run()
			// Stop accepting while the caller decides what next; a later
			// Serve accepts again on the same listener.
			return s.sum, err
		}
	}
}

// Dial connects to a listening device at addr and runs one session: it
// pairs with code, or, without a code, reconnects to a peer remembered at
// that address.
func Dial(ctx context.Context, addr string, code channel.Code, opts Options) (*Summary, error) {
	opts = opts.withDefaults()
	if err := checkLibrary(opts.Library); err != nil {
		return nil, err
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return nil, fmt.Errorf("peer: address %q: give HOST:PORT as the other device shows it: %w", addr, err)
	}
	var peerKey channel.PeerKey
	if code == "" {
		k, ok := rememberedAt(opts.Library, addr)
		if !ok {
			return nil, fmt.Errorf("peer: no device is remembered at %s: give the code it shows (--code)", addr)
		}
		peerKey = k
	}
	id, _, err := identity(opts.Library, opts.Remember || code == "")
	if err != nil {
		return nil, err
	}
	d := net.Dialer{Timeout: opts.HandshakeTimeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("peer: cannot reach %s: %w (is 'ferry sync --listen' running there, on an address this device can reach?)", addr, err)
	}
	return dialOn(ctx, nc, addr, code, peerKey, id, opts)
}

// DialConn is Dial over a connection the caller made; without a code, the
// peer remembered at its remote address is expected.
func DialConn(ctx context.Context, nc net.Conn, code channel.Code, opts Options) (*Summary, error) {
	opts = opts.withDefaults()
	if err := checkLibrary(opts.Library); err != nil {
		nc.Close()
		return nil, err
	}
	addr := nc.RemoteAddr().String()
	var peerKey channel.PeerKey
	if code == "" {
		k, ok := rememberedAt(opts.Library, addr)
		if !ok {
			nc.Close()
			return nil, fmt.Errorf("peer: no device is remembered at %s: give the code it shows", addr)
		}
		peerKey = k
	}
	id, _, err := identity(opts.Library, opts.Remember || code == "")
	if err != nil {
		nc.Close()
		return nil, err
	}
	return dialOn(ctx, nc, addr, code, peerKey, id, opts)
}

// dialOn runs the dialling side on a connected socket.
func dialOn(ctx context.Context, nc net.Conn, addr string, code channel.Code, peerKey channel.PeerKey, id channel.Identity, opts Options) (*Summary, error) {
	var err error
	if opts.testWrap != nil {
		nc = opts.testWrap(nc)
	}
	cc := &countingConn{Conn: nc}
	var c *channel.Conn
	if code != "" {
		c, err = channel.Pair(ctx, cc, code, opts.channelConfig(id))
	} else {
		c, err = channel.Reconnect(ctx, cc, peerKey, opts.channelConfig(id))
	}
	if err != nil {
		return nil, err
	}
	if code != "" && opts.Remember {
		if err := remember(opts.Library, c.Peer(), addr); err != nil {
			c.Close()
			return nil, err
		}
	}
	s := newSession(ctx, c, cc, true, opts)
	err = s.run()
	return s.sum, err
}

// checkLibrary refuses a sealed container (a file) before anything starts.
func checkLibrary(dir string) error {
	if dir == "" {
		dir = library.DefaultDir()
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("%s: %w", dir, ErrSealed)
	}
	return nil
}

func syncPath(lib, name string) string {
	if lib == "" {
		lib = library.DefaultDir()
	}
	return filepath.Join(lib, SyncDir, name)
}

// identity returns this device's static key: the one kept in the library's
// sync folder if there is one (or keep says to make and keep one), else a
// fresh key for this session only, so that a device that remembers no one
// cannot be recognised from one meeting to the next.
func identity(lib string, keep bool) (channel.Identity, bool, error) {
	p := syncPath(lib, "identity")
	if b, err := os.ReadFile(p); err == nil {
		raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil {
			return channel.Identity{}, false, fmt.Errorf("%s: damaged (remove it to make a new one, then pair again): %w", p, err)
		}
		id, err := channel.ParseIdentity(raw)
		if err != nil {
			return channel.Identity{}, false, fmt.Errorf("%s: %w", p, err)
		}
		return id, true, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return channel.Identity{}, false, err
	}
	id, err := channel.NewIdentity()
	if err != nil {
		return channel.Identity{}, false, err
	}
	if !keep {
		return id, false, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return channel.Identity{}, false, err
	}
	if err := atomicfile.WriteFile(p, []byte(hex.EncodeToString(id.Private())+"\n"), 0o600); err != nil {
		return channel.Identity{}, false, err
	}
	return id, true, nil
}

// peersFile is the remembered peers: their keys, and for peers this
// device dialled, the address it reached them at. Nothing else (no names,
// no times).
type peersFile struct {
	Format int          `json:"format"`
	Peers  []peerRecord `json:"peers"`
}

type peerRecord struct {
	Key  string `json:"key"`
	Addr string `json:"addr,omitempty"`
}

var peersMu sync.Mutex

func loadPeers(lib string) peersFile {
	var pf peersFile
	b, err := os.ReadFile(syncPath(lib, "peers.json"))
	if err != nil || len(b) > 1<<20 || json.Unmarshal(b, &pf) != nil || pf.Format != 1 {
		return peersFile{Format: 1}
	}
	return pf
}

func rememberedKey(lib string, k channel.PeerKey) bool {
	peersMu.Lock()
	defer peersMu.Unlock()
	for _, p := range loadPeers(lib).Peers {
		if pk, err := channel.ParsePeerKey(p.Key); err == nil && pk.Equal(k) {
			return true
		}
	}
	return false
}

func rememberedAt(lib, addr string) (channel.PeerKey, bool) {
	peersMu.Lock()
	defer peersMu.Unlock()
	for _, p := range loadPeers(lib).Peers {
		if p.Addr == addr {
			if pk, err := channel.ParsePeerKey(p.Key); err == nil {
				return pk, true
			}
		}
	}
	return channel.PeerKey{}, false
}

// remember keeps a peer's key (and the address dialled, if any).
func remember(lib string, k channel.PeerKey, addr string) error {
	peersMu.Lock()
	defer peersMu.Unlock()
	pf := loadPeers(lib)
	kept := pf.Peers[:0]
	for _, p := range pf.Peers {
		if p.Key != k.String() && (addr == "" || p.Addr != addr) {
			kept = append(kept, p)
		}
	}
	pf.Peers = append(kept, peerRecord{Key: k.String(), Addr: addr})
	b, err := json.MarshalIndent(pf, "", "  ")
	if err != nil {
		return err
	}
	p := syncPath(lib, "peers.json")
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	return atomicfile.WriteFile(p, append(b, '\n'), 0o600)
}

// Forget removes every remembered peer and this device's kept identity
// from the library.
func Forget(lib string) error {
	for _, n := range []string{"peers.json", "identity"} {
		if err := os.Remove(syncPath(lib, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
