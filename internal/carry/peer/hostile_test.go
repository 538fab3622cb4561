package peer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ferry/internal/carry/peer/channel"
	"ferry/internal/carry/peer/riblt"
	"ferry/internal/key"
	"ferry/internal/library"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/packtest"
)

// hostile is a scripted peer: it listens, pairs, and then does whatever
// script says over the encrypted channel. The honest side dials it.
func hostile(t *testing.T, script func(c *channel.Conn, key riblt.Key)) (addr string, code channel.Code, done chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	code, _ = channel.NewCode(8)
	id, _ := channel.NewIdentity()
	srv, err := channel.NewServer(channel.ServerConfig{Config: channel.Config{Identity: id}, Code: code})
	if err != nil {
		t.Fatal(err)
	}
	done = make(chan struct{})
	go func() {
		defer close(done)
		defer ln.Close()
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		c, err := srv.Handshake(context.Background(), nc)
		if err != nil {
			return
		}
		defer c.Close()
		var k riblt.Key
		copy(k[:], c.Binding("riblt", 16))
		script(c, k)
	}()
	return ln.Addr().String(), code, done
}

// quick are short timeouts, so that stalls end the test soon.
func quick(lib string) Options {
	o := testOpts(lib)
	o.ReadTimeout, o.StallTimeout = time.Second, 3*time.Second
	return o
}

// snapshot lists every file of a library with its contents' hash (the
// sync folder left out), to show a session changed nothing.
func snapshot(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == SyncDir {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			b, _ := os.ReadFile(p)
			out[p] = sha256.Sum256(b)
		}
		return nil
	})
	return out
}

func sameFiles(t *testing.T, before, after map[string][32]byte) {
	t.Helper()
	if len(before) != len(after) {
		t.Errorf("library files: %d before, %d after", len(before), len(after))
	}
	for p, h := range before {
		if after[p] != h {
			t.Errorf("%s changed", p)
		}
	}
}

// read reads the next message that is not a keepalive.
func read(c *channel.Conn) ([]byte, error) {
	for {
		m, err := c.ReadMessage()
		if err != nil || len(m) == 0 || m[0] != msgPing {
			return m, err
		}
	}
}

// openAsListener plays the listener up to the offer: HELLO, then codes the
// given ids, then reads the dialler's two result lists.
func openAsListener(t *testing.T, c *channel.Conn, k riblt.Key, ids [][32]byte) (take, give [][32]byte, ok bool) {
	if _, err := read(c); err != nil { // HELLO
		return nil, nil, false
	}
	c.WriteMessage(hello{Version: 1, Offered: uint64(len(ids))}.append(nil))
	var items [][]byte
	for i := range ids {
		items = append(items, ids[i][:])
	}
	rs, _ := newReconSender(k, 32, c.MaxMessage(), items)
	ms, err := rs.start()
	if err != nil {
		t.Errorf("hostile: %v", err)
		return nil, nil, false
	}
	for _, m := range ms {
		c.WriteMessage(m)
	}
	for {
		m, err := read(c)
		if err != nil {
			return nil, nil, false
		}
		switch m[0] {
		case msgReconWant:
			ms, _ := rs.want(m[1:])
			for _, x := range ms {
				c.WriteMessage(x)
			}
			continue
		case msgReconDone:
		default:
			t.Errorf("unexpected %#x", m[0])
			return nil, nil, false
		}
		break
	}
	m1, err1 := read(c)
	m2, err2 := read(c)
	if err1 != nil || err2 != nil {
		return nil, nil, false
	}
	take, _ = parseIDs(m1[1:])
	give, _ = parseIDs(m2[1:])
	return take, give, true
}

// TestForgedHeads: a peer offers archives whose signatures do not verify,
// signed by a key the library does not trust, and a manifest that is not
// the id it claims. Nothing is taken and the session ends cleanly.
func TestForgedHeads(t *testing.T) {
	_, good := site(t, corpus.Options{Pages: 8, Seed: 21}, "news", 5)
	r := packtest.Open(t, good)
	man := append([]byte(nil), r.ManifestBytes()...)
	sigs := sigBlock(good)
	badSig := append([]byte(nil), sigs...)
	badSig[len(badSig)-1] ^= 1
	// A manifest signed by a key of its own (valid signature, untrusted).
	other, _ := key.Generate()
	otherMan := bytes.Replace(bytes.Replace(man, []byte(`"edition": 5`), []byte(`"edition": 7`), 1), []byte(`"edition":5`), []byte(`"edition":7`), 1)
	if bytes.Equal(otherMan, man) {
		t.Fatal("could not make another manifest")
	}
	op := other.Public()
	otherSig := append(append([]byte{1}, op[:]...), other.Sign(append([]byte(sigPrefix), otherMan...))...)
	heads := []head{
		{Size: uint64(len(good)), Manifest: man, Sigs: badSig},
		{Size: uint64(len(good)), Manifest: otherMan, Sigs: otherSig},
	}
	ids := [][32]byte{sha256.Sum256(man), sha256.Sum256(otherMan)}
	b := newLib(t)
	before := snapshot(t, b)
	addr, code, done := hostile(t, func(c *channel.Conn, k riblt.Key) {
		take, _, ok := openAsListener(t, c, k, ids)
		if !ok {
			return
		}
		n := 0
		for slot, id := range take {
			for i := range ids {
				if ids[i] == id {
					h := heads[i]
					h.Slot = uint64(slot)
					c.WriteMessage(h.append(nil))
					n++
				}
			}
		}
		c.WriteMessage(appendHeadsEnd(nil, n))
		read(c) // TAKE_END: nothing taken
		read(c) // the dialler gives nothing: HEADS_END
		c.WriteMessage([]byte{msgTakeEnd})
		c.WriteMessage([]byte{msgBye})
		read(c)
	})
	sum, err := Dial(context.Background(), addr, code, quick(b))
	<-done
	if err != nil {
		t.Fatalf("session: %v", err)
	}
	if len(sum.Received) != 0 || len(sum.Notes) < 2 {
		t.Errorf("summary %+v", sum)
	}
	t.Logf("notes: %q", sum.Notes)
	sameFiles(t, before, snapshot(t, b))
}

// sigBlock returns an archive's signature block.
func sigBlock(b []byte) []byte {
	tr := b[len(b)-trailerSize:]
	sLen := int(binary.LittleEndian.Uint32(tr[12:]))
	return append([]byte(nil), b[len(b)-trailerSize-sLen:len(b)-trailerSize]...)
}

// TestTamperedGiver: the giver's copy of an archive was changed on its
// disk after it was imported (or the giver lies): the taker's checks
// refuse every bad piece, keeps nothing of it in its library, and the
// session goes on.
func TestTamperedGiver(t *testing.T) {
	_, e1 := site(t, corpus.Options{Pages: 60, Seed: 23, Pictures: true}, "news", 1)
	_, e2 := site(t, corpus.Options{Pages: 20, Seed: 24}, "books", 1)
	a, b := newLib(t), newLib(t)
	addTo(t, a, e1, e2)
	// Flip a byte in the data region of the news archive on a's disk.
	p := filepath.Join(a, library.ArchiveDir, idHex(t, e1)+".ferry")
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	var x [1]byte
	f.ReadAt(x[:], 400)
	x[0] ^= 0x55
	f.WriteAt(x[:], 400)
	f.Close()
	before := snapshot(t, b)
	_, sb, ea, eb := pairSync(t, testOpts(a), testOpts(b))
	if ea != nil || eb != nil {
		t.Fatalf("the session should go on past the bad archive: %v / %v", ea, eb)
	}
	hb := held(t, b)
	if _, ok := hb[idHex(t, e1)]; ok {
		t.Fatal("a tampered archive was kept")
	}
	if !bytes.Equal(hb[idHex(t, e2)], e2) || len(sb.Failed) != 1 {
		t.Errorf("the good archive should arrive and the bad one fail: %s", sb)
	}
	after := snapshot(t, b)
	delete(after, filepath.Join(b, library.ArchiveDir, idHex(t, e2)+".ferry"))
	delete(after, filepath.Join(b, library.StateFile))
	delete(before, filepath.Join(b, library.StateFile))
	sameFiles(t, before, after)
}

// TestGarbage: after pairing, a peer sends malformed messages, lies about
// sizes, or sends random bytes: the honest side stops with a protocol
// error and its library is unchanged.
func TestGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	random := make([]byte, 3000)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	cases := map[string][][]byte{
		"unknown type":        {{0x7f, 1, 2}},
		"empty message":       {{}},
		"hello with trailing": {{msgHello, 1, 0, 0}},
		"huge offer":          {{msgHello, 1, 0xff, 0xff, 0x03}},
		"random":              {random},
		"data first":          {{msgData, 1, 2, 3}},
		"non-minimal varint":  {{msgHello, 0x81, 0x00, 0}},
	}
	for name, msgs := range cases {
		t.Run(name, func(t *testing.T) {
			b := newLib(t)
			before := snapshot(t, b)
			addr, code, done := hostile(t, func(c *channel.Conn, k riblt.Key) {
				for _, m := range msgs {
					c.WriteMessage(m)
				}
				c.ReadMessage()
				c.ReadMessage()
				time.Sleep(100 * time.Millisecond)
			})
			_, err := Dial(context.Background(), addr, code, quick(b))
			<-done
			if !errors.Is(err, ErrProtocol) && !errors.Is(err, channel.ErrVersion) {
				t.Errorf("got %v, want a protocol error", err)
			}
			sameFiles(t, before, snapshot(t, b))
		})
	}
}

// TestLyingPieces: a peer offers a genuine, trusted archive and then sends
// pieces that do not answer what was asked, claim sizes over the limits,
// or carry more DATA than announced.
func TestLyingPieces(t *testing.T) {
	_, good := site(t, corpus.Options{Pages: 12, Seed: 25}, "news", 3)
	id := sha256.Sum256(packtest.Open(t, good).ManifestBytes())
	man := packtest.Open(t, good).ManifestBytes()
	lies := map[string]func(g get) [][]byte{
		"wrong index": func(g get) [][]byte {
			p := piece{Slot: g.Slot, Kind: g.Kind, Index: g.Index + 1, Offset: g.Offset, Raw: 48, Wire: 48}
			return [][]byte{p.append(nil), append([]byte{msgData}, make([]byte, 48)...)}
		},
		"huge piece": func(g get) [][]byte {
			return [][]byte{appendUvarint(appendUvarint(append(append(appendUvarint(appendUvarint(append(appendUvarint([]byte{msgPiece}, g.Slot), g.Kind), g.Index), g.Offset), encRaw), 0xff, 0xff, 0xff, 0xff, 0x0f), 1<<40), 1<<40)}
		},
		"too much data": func(g get) [][]byte {
			p := piece{Slot: g.Slot, Kind: g.Kind, Index: g.Index, Offset: g.Offset, Raw: 48, Wire: 48}
			return [][]byte{p.append(nil), append([]byte{msgData}, make([]byte, 60)...)}
		},
		"zstd bomb": func(g get) [][]byte {
			z := wireEncoder().EncodeAll(make([]byte, 8<<20), nil)
			p := piece{Slot: g.Slot, Kind: g.Kind, Index: g.Index, Offset: g.Offset, Enc: encZstd, Raw: 48, Wire: uint64(min(len(z), 47))}
			return [][]byte{p.append(nil), append([]byte{msgData}, z[:p.Wire]...)}
		},
		"wrong bytes": func(g get) [][]byte {
			p := piece{Slot: g.Slot, Kind: g.Kind, Index: g.Index, Offset: g.Offset, Raw: 48, Wire: 48}
			return [][]byte{p.append(nil), append([]byte{msgData}, bytes.Repeat([]byte{7}, 48)...)}
		},
	}
	for name, lie := range lies {
		t.Run(name, func(t *testing.T) {
			b := newLib(t)
			before := snapshot(t, b)
			addr, code, done := hostile(t, func(c *channel.Conn, k riblt.Key) {
				take, _, ok := openAsListener(t, c, k, [][32]byte{id})
				if !ok || len(take) != 1 {
					return
				}
				c.WriteMessage(head{Size: uint64(len(good)), Manifest: man, Sigs: sigBlock(good)}.append(nil))
				c.WriteMessage(appendHeadsEnd(nil, 1))
				read(c) // TAKE
				m, err := read(c)
				if err != nil || m[0] != msgGet {
					return
				}
				g, _ := parseGet(m[1:])
				for _, x := range lie(g) {
					c.WriteMessage(x)
				}
				for { // read until the honest side hangs up
					if _, err := c.ReadMessage(); err != nil {
						return
					}
				}
			})
			sum, err := Dial(context.Background(), addr, code, quick(b))
			<-done
			if err == nil && (sum == nil || len(sum.Received) != 0) {
				t.Fatalf("the lie was taken: %v", sum)
			}
			t.Logf("ended with: %v", err)
			sameFiles(t, before, snapshot(t, b))
		})
	}
}

// TestStall: a peer that pairs and then says nothing, or only keepalives,
// is dropped: the honest side returns instead of waiting forever.
func TestStall(t *testing.T) {
	for _, name := range []string{"silent", "keepalives only"} {
		t.Run(name, func(t *testing.T) {
			b := newLib(t)
			stop := make(chan struct{})
			addr, code, done := hostile(t, func(c *channel.Conn, k riblt.Key) {
				c.ReadMessage()
				c.WriteMessage(hello{Version: 1}.append(nil))
				for {
					select {
					case <-stop:
						return
					case <-time.After(200 * time.Millisecond):
					}
					if name != "silent" {
						if c.WriteMessage([]byte{msgPing}) != nil {
							return
						}
					}
				}
			})
			_, err := Dial(context.Background(), addr, code, quick(b))
			close(stop)
			<-done
			if !errors.Is(err, channel.ErrTimeout) {
				t.Errorf("got %v, want a timeout", err)
			}
		})
	}
}

// TestHostileTaker: a peer that takes asks for what it may not (pieces
// outside the archive, archives never offered, gaps without a plan): the
// giver stops with a protocol error and writes nothing to its library.
func TestHostileTaker(t *testing.T) {
	_, e1 := site(t, corpus.Options{Pages: 12, Seed: 26}, "news", 1)
	id := sha256.Sum256(packtest.Open(t, e1).ManifestBytes())
	asks := map[string][][]byte{
		"section beyond":   {take{Slot: 0}.append(nil), get{Kind: kindSection, Index: 99, Length: 1}.append(nil)},
		"cluster beyond":   {take{Slot: 0}.append(nil), get{Kind: kindCluster, Index: 1 << 20, Length: 1}.append(nil)},
		"unaligned":        {take{Slot: 0}.append(nil), get{Kind: kindSection, Index: 0, Offset: 3, Length: 1}.append(nil)},
		"get before take":  {get{Kind: kindCluster, Length: 1}.append(nil)},
		"gaps, no plan":    {take{Slot: 0, Mode: modeUpdate}.append(nil), get{Kind: kindGaps, Length: 1}.append(nil)},
		"slot not offered": {take{Slot: 1}.append(nil)},
		"taken twice":      {take{Slot: 0}.append(nil), appendFinished(nil, 0, resultAdded), take{Slot: 0}.append(nil)},
	}
	for name, msgs := range asks {
		t.Run(name, func(t *testing.T) {
			a := newLib(t)
			addTo(t, a, e1)
			before := snapshot(t, a)
			l, err := Listen("127.0.0.1:0", quick(a))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			errc := make(chan error, 1)
			go func() { _, err := l.Serve(context.Background()); errc <- err }()
			nc, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			myID, _ := channel.NewIdentity()
			c, err := channel.Pair(context.Background(), nc, l.Pairing().Code, channel.Config{Identity: myID})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.WriteMessage(hello{Version: 1}.append(nil))
			c.ReadMessage() // HELLO
			c.ReadMessage() // RECON_START
			c.WriteMessage(appendUvarint([]byte{msgReconDone}, 1))
			var other [32]byte
			other[0] = 9
			c.WriteMessage(appendIDs(nil, msgResultTake, [][32]byte{id, other}))
			c.WriteMessage(appendIDs(nil, msgResultGive, nil))
			for _, m := range msgs {
				c.WriteMessage(m)
			}
			for {
				if _, err := c.ReadMessage(); err != nil {
					break
				}
			}
			if err := <-errc; !errors.Is(err, ErrProtocol) {
				t.Errorf("giver ended with %v, want a protocol error", err)
			}
			sameFiles(t, before, snapshot(t, a))
		})
	}
}
