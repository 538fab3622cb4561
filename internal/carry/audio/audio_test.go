package audio

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"ferry/internal/archive"
	"ferry/internal/carry/audio/audiofile"
	"ferry/internal/carry/audio/channel"
	"ferry/internal/carry/audio/modem"
	"ferry/internal/carry/broadcast"
	"ferry/internal/key"
	"ferry/internal/library"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/corpus"
	"ferry/internal/testkit/packtest"
	"ferry/internal/trust"
)

// radioArchive packs a few made-up Korean pages with the radio profile.
func radioArchive(t *testing.T, pages int) []byte {
	t.Helper()
	site, err := corpus.Site(corpus.Options{Pages: pages, Seed: 21})
	if err != nil {
		t.Fatal(err)
	}
	ko := fstest.MapFS{}
	for p, f := range site {
		if p != "index.html" {
			ko[p] = f
		}
	}
	var buf bytes.Buffer
	if _, err := pack.Pack(context.Background(), &buf, pack.Options{Info: archive.Info{Channel: "radio-ko", Edition: 1},
		Signers: []*key.Secret{packtest.Key(t)}, Sources: []pack.Source{{Source: folder.NewFS(ko)}}, Profile: pack.ProfileRadio}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// receiverInto makes a broadcast receiver that ends in a library trusting
// the test key.
func receiverInto(t *testing.T, lib string) *broadcast.Receiver {
	t.Helper()
	l, err := library.Load(lib, true)
	if err != nil {
		t.Fatal(err)
	}
	l.State.Trust.Add(trust.Anchor{Label: "radio", Keys: []key.Public{packtest.Key(t).Public()}, Threshold: 1})
	if err := l.Save(); err != nil {
		t.Fatal(err)
	}
	want, deliver := broadcast.IntoLibrary(context.Background(), lib, nil, func(m string) { t.Log(m) })
	r, err := broadcast.NewReceiver(broadcast.ReceiveOptions{State: filepath.Join(lib, ".broadcast"), Want: want, Deliver: deliver, Log: func(m string) { t.Log(m) }})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func inLibrary(t *testing.T, lib string, data []byte) bool {
	t.Helper()
	l, err := library.Load(lib, false)
	if err != nil {
		t.Fatal(err)
	}
	rec, ok := l.Record(packtest.Open(t, data).ID())
	if !ok {
		return false
	}
	got, err := os.ReadFile(l.Path(rec))
	return err == nil && bytes.Equal(got, data)
}

func encode(t *testing.T, data []byte, opts EncodeOptions) ([]float32, *Summary) {
	t.Helper()
	var wav bytes.Buffer
	sum, err := Encode(context.Background(), &wav, [][]byte{data}, opts)
	if err != nil {
		t.Fatal(err)
	}
	s, err := audiofile.ReadWAV(&wav)
	if err != nil {
		t.Fatal(err)
	}
	x, err := audiofile.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	return x, sum
}

type sliceStream struct {
	x    []float32
	rate int
}

func (s *sliceStream) SampleRate() int { return s.rate }
func (s *sliceStream) Close() error    { return nil }
func (s *sliceStream) Read(p []float32) (int, error) {
	if len(s.x) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.x)
	s.x = s.x[n:]
	return n, nil
}

// TestRadioIntoLibrary: a radio edition encoded as sound, through a noisy
// channel with a mistuned receiver and a recorder whose clock runs fast,
// is decoded into the library byte for byte, searchable.
func TestRadioIntoLibrary(t *testing.T) {
	data := radioArchive(t, 3)
	x, sum := encode(t, data, EncodeOptions{Mode: modem.Fast, Rate: 8000, Repair: 0.5})
	if sum.Frames == 0 || sum.PayloadRate < 1000 {
		t.Fatalf("summary %+v", sum)
	}
	y, err := channel.Apply(x, 8000, channel.Options{SNR: 8, Offset: 40, Drift: 5000, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	lib := t.TempDir()
	rx := receiverInto(t, lib)
	st, err := Decode(context.Background(), &sliceStream{y, 8000}, rx, nil)
	rx.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !inLibrary(t, lib, data) {
		t.Fatalf("not in the library after decoding (%+v)", st)
	}
	o, err := library.Open(lib, library.OpenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if hits, _, err := o.Channel("radio-ko").View.Search(corpus.Keyword(0), 0, 1); err != nil || len(hits) != 1 {
		t.Fatalf("the radio edition is not searchable: %v %v", hits, err)
	}
}

// TestTwoShortRecordings: two recordings of one broadcast on different
// days, each too short to decode alone, decode together (the receiver's
// state keeps the first one's symbols).
func TestTwoShortRecordings(t *testing.T) {
	data := radioArchive(t, 12)
	x, sum := encode(t, data, EncodeOptions{Mode: modem.Fast, Rate: 8000, Repair: 0.5})
	n := len(x)
	// Each holds about 0.55 × 1.5 K symbols: not enough alone.
	first, second := x[:n*55/100], x[n*45/100:]
	lib := t.TempDir()
	for day, rec := range [][]float32{first, second} {
		rx := receiverInto(t, lib)
		st, err := Decode(context.Background(), &sliceStream{rec, 8000}, rx, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("recording %d: %+v, receiver %+v %+v", day+1, st, rx.Stats(), rx.Status())
		rx.Close()
		if got := inLibrary(t, lib, data); got != (day == 1) {
			t.Fatalf("after recording %d: in the library = %v (K = %d symbols, %d frames sent)", day+1, got, sum.Needed[0].Symbols, sum.Frames)
		}
	}
}
