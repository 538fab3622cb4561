package peer

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"net"
	"testing"
	"time"

	"ferry/internal/archive"
	"ferry/internal/carry/peer/channel"
	"ferry/internal/carry/peer/riblt"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/packtest"
)

// FuzzMessages feeds every session message parser: a parse either fails
// or gives a value that encodes back to exactly the input (one encoding
// per message).
func FuzzMessages(f *testing.F) {
	var st planState
	seeds := [][]byte{
		hello{Version: 1, Offered: 3}.append(nil),
		appendAbort(nil, abortCancelled),
		appendIDs(nil, msgResultTake, [][32]byte{{1}, {2}}),
		head{Slot: 2, Size: 1000, Manifest: []byte(`{"format":1}`), Sigs: make([]byte, 97)}.append(nil),
		appendHeadsEnd(nil, 4),
		take{Slot: 1, Mode: modeUpdate}.append(nil),
		planChunk{Slot: 1, Final: true, Flags: planRebuildZstd, Missing: []uint64{0, 5, 6}, Moved: []moved{{Entry: 5, Path: [16]byte{3}}}}.append(nil, &st),
		get{Slot: 1, Kind: kindCluster, Index: 7, Offset: 4096, Length: 1000}.append(nil),
		piece{Slot: 1, Kind: kindSection, Index: 2, Offset: 0, Enc: encZstd, Raw: 5000, Wire: 300}.append(nil),
		appendSkip(nil, get{Slot: 1, Kind: kindGaps, Index: 3, Length: 10}),
		appendFinished(nil, 1, resultAdded),
		{msgReconWant, 0x80, 0x01},
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, m []byte) {
		if len(m) == 0 {
			return
		}
		body := m[1:]
		var again []byte
		switch m[0] {
		case msgHello:
			if h, err := parseHello(body); err == nil {
				again = h.append(nil)
			}
		case msgAbort:
			if c, err := parseAbort(body); err == nil {
				again = appendAbort(nil, c)
			}
		case msgResultTake, msgResultGive:
			if ids, err := parseIDs(body); err == nil {
				again = appendIDs(nil, m[0], ids)
			}
		case msgHead:
			if h, err := parseHead(body); err == nil {
				again = h.append(nil)
			}
		case msgHeadsEnd:
			if n, err := parseHeadsEnd(body); err == nil {
				again = appendHeadsEnd(nil, int(n))
			}
		case msgTake:
			if x, err := parseTake(body); err == nil {
				again = x.append(nil)
			}
		case msgPlan:
			var a, b planState
			if p, err := parsePlan(body, &a, 1<<20); err == nil {
				again = p.append(nil, &b)
			}
		case msgGet:
			if g, err := parseGet(body); err == nil {
				again = g.append(nil)
			}
		case msgPiece:
			if p, err := parsePiece(body); err == nil {
				again = p.append(nil)
			}
		case msgSkip:
			if g, err := parseSkip(body); err == nil {
				again = appendSkip(nil, g)
			}
		case msgFinished:
			if s, r, err := parseFinished(body); err == nil {
				again = appendFinished(nil, s, r)
			}
		default:
			return
		}
		if again != nil && !bytes.Equal(again, m) {
			t.Fatalf("%x parses, but encodes back as %x", m, again)
		}
	})
}

// FuzzRecon feeds a reconciliation decoder a RECON_START and symbol
// batches of arbitrary bytes: it must fail cleanly or go on.
func FuzzRecon(f *testing.F) {
	var key riblt.Key
	items := [][]byte{bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)}
	rs, _ := newReconSender(key, 32, 65000, append(items, bytes.Repeat([]byte{3}, 32)))
	ms, _ := rs.start()
	f.Add(ms[0][1:], []byte{})
	f.Add([]byte{32, 0, 0, 1}, []byte{0, 1})
	f.Fuzz(func(t *testing.T, start, more []byte) {
		rr, err := newReconReceiver(key, 32, items, riblt.Limits{MaxItems: 64, MaxDiff: 64, MaxSymbols: 256})
		if err != nil {
			t.Fatal(err)
		}
		rr.stop = func(est float64, theirs int64) bool { return est > 1e6 }
		if _, done, err := rr.onStart(start); err != nil || done {
			return
		}
		rr.onSymbols(more)
	})
}

// FuzzLayout feeds the layout checks a manifest and tables of arbitrary
// bytes, as a giver with a key of its own could send them.
func FuzzLayout(f *testing.F) {
	_, b := site(f, corpus.Options{Pages: 4, Seed: 41}, "news", 1)
	r := packtest.Open(f, b)
	m := r.Manifest()
	sec := func(name string) []byte {
		s := m.Sections[name]
		return b[s.Offset : s.Offset+s.Length]
	}
	f.Add(r.ManifestBytes(), sec("clusters"), sec("entries"), sec("strings"), uint32(len(sigBlock(b))))
	f.Fuzz(func(t *testing.T, manifest, table, entries, strs []byte, sLen uint32) {
		var m archive.Manifest
		if json.Unmarshal(manifest, &m) != nil {
			return
		}
		l, err := newLayout([32]byte{}, &m, len(manifest), int(sLen%(1<<16)))
		if err != nil {
			return
		}
		if len(table)%clusterRecordSize != 0 || l.setClusters(table) != nil {
			return
		}
		if len(entries)%entryRecordSize != 0 || l.setEntries(entries, strs) != nil {
			return
		}
		for i := range l.Clusters {
			rangesOf(l, i)
		}
	})
}

// FuzzSession runs an honest taker against a peer that, once paired,
// sends the fuzzer's messages (each a 2-byte length and its bytes) and
// hangs up: the session must end, with or without an error, and take
// nothing that does not verify.
func FuzzSession(f *testing.F) {
	frame := func(ms ...[]byte) []byte {
		var out []byte
		for _, m := range ms {
			out = binary.BigEndian.AppendUint16(out, uint16(len(m)))
			out = append(out, m...)
		}
		return out
	}
	f.Add(frame(hello{Version: 1}.append(nil)))
	f.Add(frame(hello{Version: 1, Offered: 1}.append(nil), []byte{msgReconStart, 32, 0, 0, 1}))
	f.Add(frame(hello{Version: 1}.append(nil), piece{Kind: 1, Raw: 10, Wire: 10}.append(nil), []byte{msgData, 1}))
	lib := newLib(f)
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) > 1<<16 {
			return
		}
		a, b := net.Pipe()
		code, _ := channel.NewCode(6)
		id1, _ := channel.NewIdentity()
		id2, _ := channel.NewIdentity()
		srv, _ := channel.NewServer(channel.ServerConfig{Config: channel.Config{Identity: id1}, Code: code})
		go func() {
			c, err := srv.Handshake(context.Background(), a)
			if err != nil {
				return
			}
			defer c.Close()
			for len(script) >= 2 {
				n := int(binary.BigEndian.Uint16(script))
				script = script[2:]
				if n > len(script) {
					n = len(script)
				}
				if c.WriteMessage(script[:n]) != nil {
					return
				}
				script = script[n:]
			}
		}()
		opts := Options{Library: lib, ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond, StallTimeout: time.Second}
		c, err := channel.Pair(context.Background(), b, code, opts.channelConfig(id2))
		if err != nil {
			t.Fatal(err)
		}
		s := newSession(context.Background(), c, nil, true, opts)
		s.run()
		if len(s.sum.Received) != 0 {
			t.Fatal("took an archive from fuzz bytes")
		}
	})
}
