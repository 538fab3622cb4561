package broadcast

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"ferry/internal/archive"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/packtest"
)

func airArchive(t *testing.T) []byte {
	t.Helper()
	site, err := corpus.Site(corpus.Options{Pages: 12, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	return packtest.FS(t, site, archive.Info{Channel: "radio", Edition: 1, Title: "라지오 소식"})
}

func airPackets(t *testing.T, data []byte, size int, repair float64, rounds int) [][]byte {
	t.Helper()
	var out [][]byte
	err := SendAir(data, AirOptions{PacketSize: size, Repair: repair, Rounds: rounds}, func(p []byte) error {
		if len(p) > size {
			t.Fatalf("packet of %d bytes for frames of %d", len(p), size)
		}
		out = append(out, bytes.Clone(p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestAirRoundTrip: air packets (compact symbols of the archive without
// its tail, ordinary announcement parts cut to fit a frame), lost and
// reordered, rebuild the archive byte for byte in the library; the cost
// on air is the archive plus the announcement plus 6 bytes a symbol,
// nothing of the archive sent twice.
func TestAirRoundTrip(t *testing.T) {
	data := airArchive(t)
	for _, size := range []int{122, 250, 506} {
		pkts := airPackets(t, data, size, 0.5, 2)
		k, anns, err := AirSymbols(data, size)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(size), 1))
		var kept [][]byte
		for _, p := range pkts {
			if rng.Float64() >= 0.25 {
				kept = append(kept, p)
			}
		}
		rng.Shuffle(len(kept), func(i, j int) { kept[i], kept[j] = kept[j], kept[i] })
		lib := t.TempDir()
		r := newReceiver(t, lib, "")
		feed(t, r, kept)
		r.Close()
		checkLibrary(t, lib, [][]byte{data})
		// What one round needs at least: K symbols and one announcement.
		ann, _ := NewAnnouncement(packtest.Open(t, data), data)
		onAir := k*size + anns*size
		tail := len(ann.Manifest) + len(ann.SigBlock) + trailerLen
		// The object is the archive without its tail, padded to K symbols;
		// the announcement carries the tail once.
		if limit := (len(data) - tail) + k*airHeader + (size - airHeader) + len(ann.Body()) + anns*(announceHead+crcSize) + size; onAir > limit {
			t.Errorf("frames of %d: %d bytes on air for an archive of %d (limit %d)", size, onAir, len(data), limit)
		}
	}
}

// TestAirForgedSymbols: compact symbols carry no signature; forged ones
// (right tag, random bytes) never yield content — the rebuilt archive must
// verify — and the genuine symbols of a later round still decode.
func TestAirForgedSymbols(t *testing.T) {
	data := airArchive(t)
	genuine := airPackets(t, data, 250, 0.3, 3)
	id := packtest.Open(t, data).ID()
	var tag [airTag]byte
	for i := range tag {
		tag[i] = hexByte(id[2*i:])
	}
	rng := rand.New(rand.NewPCG(5, 5))
	var mixed [][]byte
	for i, p := range genuine {
		mixed = append(mixed, p)
		if i < len(genuine)/3 && p[0] == AirSymbol {
			f := make([]byte, len(p))
			f[0] = AirSymbol
			copy(f[1:], tag[:])
			f[4], f[5] = p[4], p[5] // the same ESI as a genuine symbol, or near it
			for j := airHeader; j < len(f); j++ {
				f[j] = byte(rng.Uint32())
			}
			mixed = append(mixed, f)
		}
	}
	lib := t.TempDir()
	r := newReceiver(t, lib, "")
	feed(t, r, mixed)
	r.Close()
	checkLibrary(t, lib, [][]byte{data})
}

func hexByte(s string) byte {
	v := func(c byte) byte {
		if c >= 'a' {
			return c - 'a' + 10
		}
		return c - '0'
	}
	return v(s[0])<<4 | v(s[1])
}
