package peer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ferry/internal/carry/peer/channel"
	"ferry/internal/carry/peer/riblt"
	"ferry/internal/progress"
)

// Policy says how a taker trades the link against its processor when a
// cluster could be either rebuilt from entries it holds or fetched whole.
type Policy int

// Policies.
const (
	// PolicyTime (the default) rebuilds a compressed cluster when that is
	// expected to finish sooner than fetching it, from measured rates of
	// the link and of compression: on a slow link nearly everything is
	// rebuilt, on a fast one with a slow processor most is fetched.
	PolicyTime Policy = iota
	// PolicyBytes rebuilds every cluster it can: the fewest bytes on the
	// wire, at any processor cost.
	PolicyBytes
)

// Options say what a session offers and takes, and how long to wait.
type Options struct {
	// Library is the library folder.
	Library string
	// Channels, if not empty, are the channels this side offers; by
	// default every channel the library trusts and can show.
	Channels []string
	// Max caps the bytes of archives taken in one session (0: only the
	// free-space reserve applies).
	Max int64
	// Policy trades wire bytes against processor time (default PolicyTime).
	Policy Policy
	// Workers compress rebuilt clusters in parallel (default GOMAXPROCS).
	Workers int
	// Remember keeps the peer's key after pairing, so that it can
	// reconnect without a code (docs/sync.md §3.4); this device's identity
	// is then kept in the library's sync folder.
	Remember bool
	// Timeouts; zero values take the defaults in parentheses. Handshake
	// bounds the whole handshake (30 s), Read each frame (60 s), Write each
	// frame (60 s), Stall the time without any message but keepalives
	// (10 min).
	HandshakeTimeout, ReadTimeout, WriteTimeout, StallTimeout time.Duration
	// Progress, if set, is told about each archive as it goes.
	Progress func(Event)

	// testWrap, in tests, wraps the dialled connection (to cut it);
	// testChunk asks for pieces in chunks of this many bytes.
	testWrap  func(net.Conn) net.Conn
	testChunk int64
}

func (o Options) withDefaults() Options {
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = 30 * time.Second
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 60 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 60 * time.Second
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = 10 * time.Minute
	}
	return o
}

func (o Options) channelConfig(id channel.Identity) channel.Config {
	return channel.Config{Identity: id, HandshakeTimeout: o.HandshakeTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout}
}

// EventKind says what an Event reports.
type EventKind int

// Event kinds.
const (
	EventStart    EventKind = iota // an archive starts (Total is its size)
	EventProgress                  // Done bytes of it are in place (receiving) or sent
	EventDone                      // received and added to the library, or sent
	EventFailed                    // it stopped; Err says why (a partial copy is kept to resume)
	EventNote                      // Text is something the user should know
)

// Event reports progress of one archive, for a terminal or a web page.
type Event struct {
	Kind      EventKind
	Receiving bool   // this side takes the archive (else it gives it)
	Channel   string // the archive's channel and edition, from its signed manifest
	Edition   uint64
	Delta     bool   // a delta to Edition
	ID        string // the archive id, hex
	Done      int64  // bytes in place (taking) or sent (giving)
	Total     int64  // the archive's size
	Err       error  // why it failed (EventFailed)
	Text      string // the note (EventNote)
}

// Label names the archive for people: "news edition 42" or "news delta to edition 43".
func (e Event) Label() string {
	if e.Delta {
		return fmt.Sprintf("%s delta to edition %d", e.Channel, e.Edition)
	}
	return fmt.Sprintf("%s edition %d", e.Channel, e.Edition)
}

// Transfer is one archive a session received or sent.
type Transfer struct {
	Channel string
	Edition uint64
	Delta   bool
	ID      string
	Size    int64
	Err     error // for a failed one
}

// Summary is what a session did.
type Summary struct {
	Received, Sent, Failed []Transfer
	// WireRead and WireWritten are the bytes read from and written to the
	// connection, handshake and framing included (TCP/IP headers not).
	WireRead, WireWritten int64
	Duration              time.Duration
	// Transfer is the time spent receiving archives' pieces, from asking
	// for the first to having the last in place (adding each to the
	// library, which checks every byte again, comes after).
	Transfer time.Duration
	// Adding is the time library.Add took over the received archives:
	// linking (or copying) each into the library and checking every byte.
	Adding time.Duration
	Peer   channel.PeerKey
	Paired bool
	// How the received archives were put together: bytes copied from
	// archives already here, rebuilt from entries already here (with the
	// entries the peer sent), and fetched as they are.
	Local, Rebuilt, Fetched int64
	// Notes are things the user should know (a delta whose base is
	// missing, an archive too big for --max).
	Notes []string
}

// String is the one-line summary a terminal shows.
func (s *Summary) String() string {
	var in, out int64
	for _, t := range s.Received {
		in += t.Size
	}
	for _, t := range s.Sent {
		out += t.Size
	}
	line := fmt.Sprintf("received %s (%s), sent %s (%s), %s on the wire, %.1f s",
		archives(len(s.Received)), progress.Bytes(in), archives(len(s.Sent)), progress.Bytes(out),
		progress.Bytes(s.WireRead+s.WireWritten), s.Duration.Seconds())
	if len(s.Failed) > 0 {
		line += fmt.Sprintf("; %s not finished (run sync again to continue)", archives(len(s.Failed)))
	}
	return line
}

func archives(n int) string {
	if n == 1 {
		return "1 archive"
	}
	return fmt.Sprintf("%d archives", n)
}

// countingConn counts the bytes that cross the connection.
type countingConn struct {
	net.Conn
	read, written atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// inMsg is one message from the peer, or the error that ended reading.
type inMsg struct {
	typ   byte
	body  []byte
	piece piece
	last  bool // the last DATA of its PIECE
	err   error
}

// session is one sync session over an established channel.
type session struct {
	parent  context.Context
	ctx     context.Context
	cancel  context.CancelFunc
	c       *channel.Conn
	cc      *countingConn
	opts    Options
	dialler bool
	key     riblt.Key
	in      chan inMsg
	maxMsg  int

	lastWrite atomic.Int64 // unix nanoseconds
	wg        sync.WaitGroup

	hold *holding
	sum  *Summary
}

// errPeerEnded is returned when the peer ends the session with ABORT.
var errPeerEnded = errors.New("peer: the other device stopped the sync")

func newSession(ctx context.Context, c *channel.Conn, cc *countingConn, dialler bool, opts Options) *session {
	inner, cancel := context.WithCancel(ctx)
	s := &session{parent: ctx, ctx: inner, cancel: cancel, c: c, cc: cc, opts: opts.withDefaults(), dialler: dialler,
		in: make(chan inMsg, 4), maxMsg: c.MaxMessage(), sum: &Summary{Peer: c.Peer(), Paired: c.Paired()}}
	copy(s.key[:], c.Binding("riblt", 16))
	s.lastWrite.Store(time.Now().UnixNano())
	return s
}

// start runs the reader and the keepalive.
func (s *session) start() {
	s.wg.Add(2)
	go s.readLoop()
	go s.keepalive()
	// When the user stops, tell the peer (briefly: a stuck write must not
	// hold the close), then close.
	stopAbort := context.AfterFunc(s.parent, func() {
		done := make(chan struct{})
		go func() { s.c.WriteMessage(appendAbort(nil, abortCancelled)); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Second):
		}
		s.c.Close()
	})
	context.AfterFunc(s.ctx, func() {
		if stopAbort() {
			s.c.Close()
		}
	})
}

// stop ends the goroutines and the connection.
func (s *session) stop() {
	s.cancel()
	s.c.Close()
	s.wg.Wait()
}

func (s *session) send(m []byte) error {
	if err := s.c.WriteMessage(m); err != nil {
		return s.connErr(err)
	}
	s.lastWrite.Store(time.Now().UnixNano())
	return nil
}

// connErr prefers the context's error (the user stopped) to the broken
// connection that followed from it.
func (s *session) connErr(err error) error {
	if s.ctx.Err() != nil && !errors.Is(err, ErrProtocol) {
		return s.ctx.Err()
	}
	return err
}

func (s *session) sendAll(ms [][]byte) error {
	for _, m := range ms {
		if err := s.send(m); err != nil {
			return err
		}
	}
	return nil
}

// sendPiece writes a PIECE header and its data as DATA frames.
func (s *session) sendPiece(p piece, data []byte) error {
	if err := s.send(p.append(nil)); err != nil {
		return err
	}
	// Small frames: a frame is authenticated whole, so a cut loses the
	// frame it falls in; 16 KiB costs 0.1% in framing.
	step := min(s.maxMsg-1, dataFrame)
	buf := make([]byte, 0, min(len(data), step)+1)
	for len(data) > 0 {
		k := min(len(data), step)
		buf = append(append(buf[:0], msgData), data[:k]...)
		if err := s.send(buf); err != nil {
			return err
		}
		data = data[k:]
	}
	return nil
}

// keepalive sends PING when nothing was written for a while, so that the
// peer's read deadline does not fire while this side computes.
func (s *session) keepalive() {
	defer s.wg.Done()
	every := s.opts.ReadTimeout / 4
	t := time.NewTicker(every / 2)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
			if time.Since(time.Unix(0, s.lastWrite.Load())) >= every {
				if s.c.WriteMessage([]byte{msgPing}) != nil {
					return
				}
				s.lastWrite.Store(time.Now().UnixNano())
			}
		}
	}
}

// readLoop reads messages, drops keepalives, gathers each PIECE with its
// DATA, and hands the rest over in order. It ends at the first error.
func (s *session) readLoop() {
	defer s.wg.Done()
	defer close(s.in)
	useful := time.Now()
	deliver := func(m inMsg) bool {
		select {
		case s.in <- m:
			return true
		case <-s.ctx.Done():
			return false
		}
	}
	next := func() ([]byte, error) {
		for {
			m, err := s.c.ReadMessage()
			if err != nil {
				return nil, s.connErr(err)
			}
			if len(m) == 0 {
				return nil, protoErr("empty message")
			}
			if m[0] != msgPing {
				useful = time.Now()
				return m, nil
			}
			if len(m) != 1 {
				return nil, protoErr("PING with a body")
			}
			if time.Since(useful) > s.opts.StallTimeout {
				return nil, fmt.Errorf("peer: the other device sent nothing but keepalives for %v: %w", s.opts.StallTimeout, channel.ErrTimeout)
			}
		}
	}
	for {
		m, err := next()
		if err != nil {
			deliver(inMsg{err: err})
			return
		}
		switch m[0] {
		case msgData:
			deliver(inMsg{err: protoErr("DATA without a PIECE")})
			return
		case msgPiece:
			// The PIECE, then its DATA one by one, so that the taker can
			// keep each as it comes; nothing else may come in between.
			p, err := parsePiece(m[1:])
			if err != nil {
				deliver(inMsg{err: err})
				return
			}
			if !deliver(inMsg{typ: msgPiece, piece: p}) {
				return
			}
			for left := p.Wire; left > 0; {
				d, err := next()
				if err != nil {
					deliver(inMsg{err: err})
					return
				}
				if d[0] != msgData || len(d) == 1 || uint64(len(d)-1) > left {
					deliver(inMsg{err: protoErr("PIECE data malformed")})
					return
				}
				left -= uint64(len(d) - 1)
				if !deliver(inMsg{typ: msgData, body: d[1:], last: left == 0}) {
					return
				}
			}
		default:
			if !deliver(inMsg{typ: m[0], body: m[1:]}) {
				return
			}
		}
	}
}

// recv returns the next message; ABORT becomes an error.
func (s *session) recv() (inMsg, error) {
	select {
	case m, ok := <-s.in:
		if !ok {
			return inMsg{}, s.connErr(channel.ErrClosed)
		}
		if m.err != nil {
			return m, m.err
		}
		if m.typ == msgAbort {
			code, err := parseAbort(m.body)
			if err != nil {
				return m, err
			}
			return m, fmt.Errorf("%w (%s)", errPeerEnded, abortText(code))
		}
		return m, nil
	case <-s.ctx.Done():
		return inMsg{}, s.ctx.Err()
	}
}

func abortText(code uint64) string {
	switch code {
	case abortCancelled:
		return "its user stopped it"
	case abortProtocol:
		return "it says this device broke the protocol"
	case abortInternal:
		return "it had a local problem"
	}
	return fmt.Sprintf("code %d", code)
}

// expect receives a message of one of the given types.
func (s *session) expect(types ...byte) (inMsg, error) {
	m, err := s.recv()
	if err != nil {
		return m, err
	}
	for _, t := range types {
		if m.typ == t {
			return m, nil
		}
	}
	return m, protoErr("unexpected message %#02x", m.typ)
}

func (s *session) event(e Event) {
	if s.opts.Progress != nil {
		s.opts.Progress(e)
	}
}

func (s *session) note(format string, args ...any) {
	t := fmt.Sprintf(format, args...)
	s.sum.Notes = append(s.sum.Notes, t)
	s.event(Event{Kind: EventNote, Text: t})
}

// run is the whole session: HELLO both ways, reconciliation of the archive
// ids both sides offer, the dialler takes, the listener takes, BYE.
func (s *session) run() (err error) {
	start := time.Now()
	defer func() {
		s.sum.Duration = time.Since(start)
		if s.cc != nil {
			s.sum.WireRead, s.sum.WireWritten = s.cc.read.Load(), s.cc.written.Load()
		}
	}()
	h, err := openHolding(s.opts)
	if err != nil {
		return err
	}
	defer h.close()
	s.hold = h
	s.start()
	defer s.stop()
	defer func() {
		if err == nil || s.parent.Err() != nil {
			return
		}
		code := uint64(abortInternal)
		switch {
		case errors.Is(err, ErrProtocol):
			code = abortProtocol
		case errors.Is(err, errPeerEnded), errors.Is(err, channel.ErrClosed), errors.Is(err, channel.ErrTimeout):
			return
		}
		_ = s.c.WriteMessage(appendAbort(nil, code))
	}()

	if err := s.send(hello{Version: protocolVersion, Offered: uint64(len(h.offered))}.append(nil)); err != nil {
		return err
	}
	m, err := s.expect(msgHello)
	if err != nil {
		return err
	}
	hl, err := parseHello(m.body)
	if err != nil {
		return err
	}
	if hl.Version != protocolVersion {
		return fmt.Errorf("peer: the other device speaks sync session version %d, this one %d: %w", hl.Version, protocolVersion, channel.ErrVersion)
	}
	ids := h.offeredIDs()
	var theirs, mine [][32]byte // dialler: ids only the listener offers, only the dialler offers
	if s.dialler {
		if theirs, mine, err = s.decodeIDs(ids); err != nil {
			return err
		}
		if err := s.send(appendIDs(nil, msgResultTake, theirs)); err != nil {
			return err
		}
		if err := s.send(appendIDs(nil, msgResultGive, mine)); err != nil {
			return err
		}
		if err := s.take(theirs); err != nil {
			return err
		}
		if err := s.give(mine); err != nil {
			return err
		}
	} else {
		if err := s.encodeIDs(ids); err != nil {
			return err
		}
		m, err := s.expect(msgResultTake)
		if err != nil {
			return err
		}
		if theirs, err = parseIDs(m.body); err != nil {
			return err
		}
		if m, err = s.expect(msgResultGive); err != nil {
			return err
		}
		if mine, err = parseIDs(m.body); err != nil {
			return err
		}
		if err := s.give(theirs); err != nil {
			return err
		}
		if err := s.take(mine); err != nil {
			return err
		}
	}
	if err := s.send([]byte{msgBye}); err != nil {
		return err
	}
	m, err = s.expect(msgBye)
	if err != nil {
		return err
	}
	return empty("BYE", m.body)
}

// encodeIDs is the listener's half of the archive-id reconciliation: it
// codes its offered ids until the dialler has decoded.
func (s *session) encodeIDs(ids [][32]byte) error {
	items := make([][]byte, len(ids))
	for i := range ids {
		items[i] = ids[i][:]
	}
	rs, err := newReconSender(s.key, 32, s.maxMsg, items)
	if err != nil {
		return err
	}
	ms, err := rs.start()
	if err != nil {
		return err
	}
	if err := s.sendAll(ms); err != nil {
		return err
	}
	for {
		m, err := s.expect(msgReconWant, msgReconDone, msgReconStop)
		if err != nil {
			return err
		}
		if m.typ != msgReconWant {
			return rs.finish(m.typ, m.body)
		}
		ms, err := rs.want(m.body)
		if err != nil {
			return err
		}
		if err := s.sendAll(ms); err != nil {
			return err
		}
	}
}

// decodeIDs is the dialler's half: it returns the ids only the listener
// offers and those only the dialler offers.
func (s *session) decodeIDs(ids [][32]byte) (theirs, mine [][32]byte, err error) {
	items := make([][]byte, len(ids))
	for i := range ids {
		items[i] = ids[i][:]
	}
	rr, err := newReconReceiver(s.key, 32, items, riblt.Limits{MaxItems: maxIDList, MaxDiff: 2 * maxIDList, MaxSymbols: 8 * maxIDList})
	if err != nil {
		return nil, nil, err
	}
	for first := true; ; first = false {
		m, err := s.expect(msgReconStart, msgReconSymbols)
		if err != nil {
			return nil, nil, err
		}
		if (m.typ == msgReconStart) != first {
			return nil, nil, protoErr("reconciliation messages out of order")
		}
		var replies [][]byte
		var done bool
		if first {
			replies, done, err = rr.onStart(m.body)
		} else {
			replies, done, err = rr.onSymbols(m.body)
		}
		if err != nil {
			return nil, nil, err
		}
		if err := s.sendAll(replies); err != nil {
			return nil, nil, err
		}
		if done {
			break
		}
	}
	// Symbols asked for before it decoded are already on their way.
	for rr.absorbing() {
		m, err := s.expect(msgReconSymbols)
		if err != nil {
			return nil, nil, err
		}
		if _, _, err := rr.onSymbols(m.body); err != nil {
			return nil, nil, err
		}
	}
	conv := func(items [][]byte) [][32]byte {
		out := make([][32]byte, len(items))
		for i, it := range items {
			copy(out[i][:], it)
		}
		return out
	}
	theirs, mine = conv(rr.dec.Remote()), conv(rr.dec.Local())
	if len(theirs) > maxIDList || len(mine) > maxIDList {
		return nil, nil, protoErr("more than %d archives differ", maxIDList)
	}
	return theirs, mine, nil
}

// fromLabel names the peer in the library's messages.
func (s *session) fromLabel() string {
	addr := s.c.RemoteAddr().String()
	if i := strings.LastIndexByte(addr, ':'); i > 0 {
		addr = addr[:i]
	}
	return "peer " + addr
}
