package broadcast

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"ferry/internal/testkit/packtest"
)

// TestParityAnyP: for bodies cut into 1 … 255 parts, any P of the
// 256 data and parity parts give the body back byte for byte; a parity
// part that is not the genuine one gives no body or a different one.
func TestParityAnyP(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct{ n, P int }{{1, 1}, {5, 2}, {1234, 14}, {1235, 14}, {3000, 7}, {999, 100}, {765, 255}} {
		body := make([]byte, tc.n)
		for i := range body {
			body[i] = byte(rng.Uint32())
		}
		P := uint16(tc.P)
		if _, _, ok := partRange(uint32(tc.n), P, 0); !ok {
			t.Fatalf("cut %d/%d not valid", tc.n, tc.P)
		}
		all := make([][]byte, P)
		for i := range all {
			lo, hi, _ := partRange(uint32(tc.n), P, uint16(i))
			all[i] = body[lo:hi]
		}
		for j := 0; j < MaxParity(tc.P); j++ {
			q, err := ParityPart(body, P, j)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, q)
		}
		if len(all) != annIndices {
			t.Fatalf("%d parts in all for P %d", len(all), tc.P)
		}
		for trial := 0; trial < 20; trial++ {
			have := rng.Perm(len(all))[:tc.P]
			got := make([][]byte, len(have))
			for k, i := range have {
				got[k] = all[i]
			}
			b, ok := recoverBody(uint32(tc.n), P, have, got)
			if !ok || !bytes.Equal(b, body) {
				t.Fatalf("n %d P %d from parts %v: ok %v, body equal %v", tc.n, tc.P, have, ok, bytes.Equal(b, body))
			}
			// One wrong byte in a parity part used must not give the body.
			for k, i := range have {
				if i >= tc.P {
					bad := bytes.Clone(got[k])
					bad[0] ^= 0x5a
					got[k] = bad
					if b, ok := recoverBody(uint32(tc.n), P, have, got); ok && bytes.Equal(b, body) {
						t.Fatalf("n %d P %d: a damaged parity part still gave the body", tc.n, tc.P)
					}
					break
				}
			}
		}
	}
	if MaxParity(256) != 0 || MaxParity(300) != 0 {
		t.Error("MaxParity of 256 parts or more must be 0")
	}
	if _, err := ParityPart(make([]byte, 10), 2, 254); err == nil {
		t.Error("parity index 254 of a 2-part cut accepted")
	}
}

// TestParityPacketParse: parity packets round-trip through ParsePacket,
// and out-of-range indices, cuts and lengths are refused as malformed.
func TestParityPacketParse(t *testing.T) {
	var id [IDSize]byte
	id[0] = 7
	q := make([]byte, 90) // C of a 1250-byte body in 14 parts
	p, err := ParsePacket(AppendParity(nil, id, 3, 14, 1250, q))
	if err != nil || p.Kind != KindParity || p.Part != 3 || p.Parts != 14 || p.BodyLen != 1250 || len(p.Payload) != 90 {
		t.Fatalf("parsed %+v, %v", p, err)
	}
	for _, bad := range [][]byte{
		AppendParity(nil, id, 242, 14, 1250, q),            // j ≥ 256 − P
		AppendParity(nil, id, 0, 0, 1250, q),               // P = 0
		AppendParity(nil, id, 0, 14, 1250, q[:89]),         // not C bytes
		AppendParity(nil, id, 0, 14, 0, q),                 // empty body
		AppendParity(nil, id, 0, 300, 400, q[:2]),          // P ≥ 256: no parity
		AppendParity(nil, id, 0, 14, MaxAnnounceBody+1, q), // too large
	} {
		if _, err := ParsePacket(bad); err == nil {
			t.Errorf("parity packet %x accepted", bad[22:30])
		}
	}
}

// TestAirAnnouncementFromAnyParts: the announcement copies of an air
// broadcast carry different parts (data, then parity), so a receiver that
// lost most of every copy, and every data part, still gets the
// announcement from any P parts and rebuilds the archive.
func TestAirAnnouncementFromAnyParts(t *testing.T) {
	data := airArchive(t)
	const size = 122 // robust frames: many parts
	pkts := airPackets(t, data, size, 0.5, 2)
	_, P, err := AirSymbols(data, size)
	if err != nil {
		t.Fatal(err)
	}
	var syms, parity [][]byte
	seen := map[uint16]bool{}
	for _, p := range pkts {
		if p[0] == AirSymbol {
			syms = append(syms, p)
			continue
		}
		pp, err := ParsePacket(p)
		if err != nil {
			t.Fatal(err)
		}
		if pp.Kind == KindParity {
			if seen[pp.Part] {
				t.Fatalf("parity part %d sent twice in two rounds", pp.Part)
			}
			seen[pp.Part] = true
			parity = append(parity, p)
		}
	}
	// Three copies a round, two rounds: the first copy data, five of parity.
	if P < 2 || len(parity) < 3*P {
		t.Fatalf("%d parts, %d parity packets sent", P, len(parity))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	rng.Shuffle(len(parity), func(i, j int) { parity[i], parity[j] = parity[j], parity[i] })
	lib := t.TempDir()
	r := newReceiver(t, lib, "")
	feed(t, r, append(append([][]byte(nil), syms...), parity[:P]...))
	r.Close()
	checkLibrary(t, lib, [][]byte{data})

	// P − 1 parts are not enough: nothing is announced, nothing decodes.
	lib2 := t.TempDir()
	r2 := newReceiver(t, lib2, "")
	feed(t, r2, append(append([][]byte(nil), syms...), parity[:P-1]...))
	if len(r2.Status()) != 0 {
		t.Errorf("announced from %d of %d parts: %+v", P-1, P, r2.Status())
	}
	r2.Close()
}

// TestJunkParityForGenuineID: parity parts of random bytes under the
// genuine ID and cut, sent before the genuine announcement (and junk
// standing in for data parts), never yield an announcement of their own
// and do not keep out the genuine one, which comes from its parity parts.
func TestJunkParityForGenuineID(t *testing.T) {
	data := airArchive(t)
	ann, err := NewAnnouncement(packtest.Open(t, data), data)
	if err != nil {
		t.Fatal(err)
	}
	body := ann.Body()
	pkts := airPackets(t, data, 122, 0.5, 1)
	var syms, datap, parity [][]byte
	var P uint16
	for _, p := range pkts {
		if p[0] == AirSymbol {
			syms = append(syms, p)
			continue
		}
		pp, _ := ParsePacket(p)
		P = pp.Parts
		if pp.Kind == KindParity {
			parity = append(parity, p)
		} else {
			datap = append(datap, p)
		}
	}
	_, c, _ := partRange(uint32(len(body)), P, 0)
	rng := rand.New(rand.NewPCG(8, 9))
	var junk [][]byte
	for j := 0; j < MaxParity(int(P)); j++ {
		q := make([]byte, c)
		for i := range q {
			q[i] = byte(rng.Uint32())
		}
		junk = append(junk, AppendParity(nil, ann.ShortID(), uint16(j), P, uint32(len(body)), q))
	}
	// Junk in place of data part 0 as well: all data parts are then held
	// with one of them wrong.
	lo, hi, _ := partRange(uint32(len(body)), P, 0)
	fake := bytes.Clone(body[lo:hi])
	fake[0] ^= 1
	junk = append(junk, AppendAnnounce(nil, ann.ShortID(), 0, P, uint32(len(body)), fake))
	got := 0
	r := bareReceiver(t, ReceiveOptions{Log: func(string) {}}, &got)
	defer r.Close()
	feed(t, r, junk)
	if len(r.Status()) != 0 {
		t.Fatalf("junk announced an archive: %+v", r.Status())
	}
	// The genuine data parts but part 0, then the genuine parity parts.
	feed(t, r, datap[1:])
	feed(t, r, parity)
	feed(t, r, syms)
	if got != 1 {
		t.Fatalf("after junk parity, the genuine broadcast decoded %d archives (stats %+v)", got, r.Stats())
	}
}

// TestParityVector: the vectors docs/broadcast.md publishes (computed
// with a separate implementation of its formula): the body 0, 1, …, 39 in
// three parts, parity parts 0 and 252 (the last).
func TestParityVector(t *testing.T) {
	body := make([]byte, 40)
	for i := range body {
		body[i] = byte(i)
	}
	for j, want := range map[int]string{0: "1b60e398dea52a51dca72c570973", 252: "f5898cf00a76176b5c2096eaf073"} {
		q, err := ParityPart(body, 3, j)
		if err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(q); got != want {
			t.Errorf("parity part %d: %s, want %s", j, got, want)
		}
	}
}
