package broadcast

import (
	"bytes"
	"testing"
)

// FuzzParsePacket checks that no input crashes the packet parser or the
// receiver, seeded with packets of an archive of our own pages.
func FuzzParsePacket(f *testing.F) {
	data := testArchives(f)[:1]
	pkts := packets(f, data, SendOptions{Repair: 0.05, AnnounceEvery: 50}, 97)
	for i, p := range pkts {
		if i < 8 || i%40 == 0 {
			f.Add(p)
		}
	}
	// Air packets: compact symbols, announcement parts and parity parts.
	air := testAirPackets(f)
	for i, p := range air {
		if i < 20 || i%25 == 0 {
			f.Add(p)
		}
	}
	lib := f.TempDir()
	r := bareReceiver(f, ReceiveOptions{State: lib}, nil)
	// The receiver knows the archive, so fuzzed symbols reach the pools.
	for _, p := range pkts[:4] {
		r.Handle(p)
	}
	// It holds part of an air announcement too, so fuzzed parts and
	// parity parts reach the recovery.
	for _, p := range air[:3] {
		r.Handle(p)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePacket(b)
		if err == nil {
			switch p.Kind {
			case KindSymbol:
				if len(p.Payload) != int(p.Params.T) {
					t.Fatal("payload size differs from T")
				}
				p.VerifySender()
			case KindAnnounce:
				ParseAnnouncement(p.Payload)
			case KindParity:
				if int(p.Part) >= MaxParity(int(p.Parts)) {
					t.Fatal("parity index out of range")
				}
			}
		}
		if err := r.Handle(b); err != nil {
			t.Fatal(err)
		}
		var s bytes.Buffer
		WriteStreamPacket(&s, b)
		ReadStream(bytes.NewReader(append(b, s.Bytes()...)), func([]byte) error { return nil })
	})
}

// TestAnnouncementCuts feeds announcement parts of many different cuts for
// one ID: none may be confused with another.
func TestAnnouncementCuts(t *testing.T) {
	r := bareReceiver(t, ReceiveOptions{}, nil)
	defer r.Close()
	var id [IDSize]byte
	for parts := uint16(1); parts < 40; parts++ {
		for _, n := range []uint32{uint32(parts) * 3, uint32(parts)<<16 ^ 77, 1 << 20} {
			for i := uint16(0); i < parts; i++ {
				lo, hi, ok := partRange(n, parts, i)
				if !ok {
					break
				}
				if err := r.Handle(AppendAnnounce(nil, id, i, parts, n, make([]byte, hi-lo))); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if len(r.Status()) != 0 || r.Stats().Accepted+r.Stats().Forged+r.Stats().Foreign+r.Stats().Damaged != r.Stats().Packets {
		t.Errorf("stats %+v", r.Stats())
	}
}

// testAirPackets is an air broadcast of a small archive in robust-sized
// frames, two rounds (so parity parts are among them).
func testAirPackets(tb testing.TB) [][]byte {
	var out [][]byte
	err := SendAir(testArchives(tb)[0], AirOptions{PacketSize: 122, Repair: 0.2, Rounds: 2}, func(p []byte) error {
		out = append(out, bytes.Clone(p))
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}
