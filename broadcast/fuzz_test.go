package broadcast

import (
	"bytes"
	"testing"
)

// FuzzParsePacket checks that no input crashes the packet parser or the
// receiver, seeded with real packets of a real archive.
func FuzzParsePacket(f *testing.F) {
	data := testArchives(f)[:1]
	pkts := packets(f, data, SendOptions{Repair: 0.05, AnnounceEvery: 50}, 97)
	for i, p := range pkts {
		if i < 8 || i%40 == 0 {
			f.Add(p)
		}
	}
	lib := f.TempDir()
	r, err := NewReceiver(ReceiveOptions{Library: lib})
	if err != nil {
		f.Fatal(err)
	}
	// The receiver knows the archive, so fuzzed symbols reach the pools.
	for _, p := range pkts[:4] {
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
