package broadcast

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"ferry/internal/archive"
	"ferry/internal/carry/broadcast/fountain"
	"ferry/internal/key"
)

// SendOptions control how a Sender cuts and orders packets.
type SendOptions struct {
	// SymbolSize is T in bytes (default 1024).
	SymbolSize int
	// Repair is the repair overhead per pass as a fraction of K (0.5 = 50%).
	Repair float64
	// Rounds is the number of carousel passes (default 1). Round 0 sends the
	// K source symbols and Repair*K repair symbols of every block; each later
	// round sends K+Repair*K fresh repair symbols.
	Rounds int
	// AnnounceEvery repeats the announcement after this many symbol packets;
	// it is also sent at the start of every round. Default: an eighth of a
	// round's symbol packets, clamped to 32..256, so even a short stream
	// carries the announcement about eight times per round.
	AnnounceEvery int
	// Key signs every symbol packet; nil means a fresh key for this run.
	// Receivers keep the symbols of each signing key apart, so an injected
	// packet cannot mix with genuine ones; use the same key for every
	// broadcast of an archive so recordings of different runs combine.
	Key *key.Secret
}

// ErrOptions reports bad sender options.
var ErrOptions = errors.New("broadcast: bad options")

// Source is one archive ready to be broadcast.
type Source struct {
	Ann    *Announcement
	Params fountain.Params
	enc    *fountain.Encoder
	parts  [][]byte // announcement packets
}

// NewSource opens the archive in data (checking its signature) and prepares
// its encoder with symbols of symbolSize bytes.
func NewSource(data []byte, symbolSize int) (*Source, error) {
	return NewSourceWith(data, symbolSize, 0)
}

// NewSourceWith is NewSource with a bound on the bytes of one source block
// (RFC 6330 WS; <= 0 means fountain.DefaultMaxBlockSize): smaller blocks let
// receivers with little memory decode, at the cost of more blocks to collect.
func NewSourceWith(data []byte, symbolSize, maxBlockSize int) (*Source, error) {
	if symbolSize < 1 || symbolSize > 65535 {
		return nil, fmt.Errorf("%w: symbol size %d not in 1..65535", ErrOptions, symbolSize)
	}
	r, err := archive.Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	ann, err := NewAnnouncement(r, data)
	if err != nil {
		return nil, err
	}
	p, err := fountain.NewParams(uint64(len(data)), symbolSize, maxBlockSize)
	if err != nil {
		return nil, err
	}
	enc, err := fountain.NewEncoder(data, p)
	if err != nil {
		return nil, err
	}
	s := &Source{Ann: ann, Params: p, enc: enc}
	body := ann.Body()
	parts := (len(body) + symbolSize - 1) / symbolSize
	for {
		if _, _, ok := partRange(uint32(len(body)), uint16(parts), 0); ok {
			break
		}
		parts--
	}
	if parts > 65535 {
		return nil, fmt.Errorf("%w: announcement of %d bytes needs more than 65535 parts: use larger symbols", ErrOptions, len(body))
	}
	for i := 0; i < parts; i++ {
		lo, hi, _ := partRange(uint32(len(body)), uint16(parts), uint16(i))
		s.parts = append(s.parts, AppendAnnounce(nil, ann.ShortID(), uint16(i), uint16(parts), uint32(len(body)), body[lo:hi]))
	}
	return s, nil
}

// Send produces the whole packet stream of sources in carousel order and
// calls emit with each packet (emit must not keep it).
func Send(sources []*Source, opts SendOptions, emit func(pkt []byte) error) error {
	if opts.Rounds == 0 {
		opts.Rounds = 1
	}
	if opts.Rounds < 0 || opts.Repair < 0 || opts.Repair > 1000 || opts.AnnounceEvery < 0 {
		return fmt.Errorf("%w: rounds %d, repair %g", ErrOptions, opts.Rounds, opts.Repair)
	}
	// One lane per (source, block); lanes are interleaved packet by packet.
	type lane struct {
		s     *Source
		sbn   uint8
		k     int
		perR  int // symbols per round
		count int // symbols sent this round
	}
	var lanes []*lane
	for _, s := range sources {
		for b := 0; b < s.Params.SourceBlocks(); b++ {
			k := s.Params.SourceSymbols(b)
			per := k + int(float64(k)*opts.Repair+0.999999)
			if uint64(per)*uint64(opts.Rounds) > 1<<24 {
				return fmt.Errorf("%w: %d rounds of %d symbols exceed the 2^24 encoding symbol IDs", ErrOptions, opts.Rounds, per)
			}
			lanes = append(lanes, &lane{s: s, sbn: uint8(b), k: k, perR: per})
		}
	}
	if opts.Key == nil {
		k, err := key.Generate()
		if err != nil {
			return err
		}
		opts.Key = k
	}
	if opts.AnnounceEvery == 0 {
		per := 0
		for _, l := range lanes {
			per += l.perR
		}
		opts.AnnounceEvery = min(256, max(32, per/8))
	}
	// Packets are queued in batches so that signing runs on all CPUs;
	// they are emitted in order.
	const batchN = 128
	type item struct {
		pkt  []byte
		sign bool
	}
	var queue []item
	bufs := make([][]byte, batchN)
	nsym := 0
	pub := opts.Key.Public()
	workers := runtime.GOMAXPROCS(0)
	flush := func() error {
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(queue); i += workers {
					if queue[i].sign {
						queue[i].pkt = finishSymbol(queue[i].pkt, 0, opts.Key)
					}
				}
			}()
		}
		wg.Wait()
		for _, it := range queue {
			if err := emit(it.pkt); err != nil {
				return err
			}
		}
		queue, nsym = queue[:0], 0
		return nil
	}
	announce := func() {
		for _, s := range sources {
			for _, p := range s.parts {
				queue = append(queue, item{pkt: p})
			}
		}
	}
	var sym []byte
	sent := 0
	for r := 0; r < opts.Rounds; r++ {
		announce()
		for _, l := range lanes {
			l.count = 0
		}
		for active := len(lanes); active > 0; {
			active = 0
			for _, l := range lanes {
				if l.count >= l.perR {
					continue
				}
				active++
				esi := uint32(r*l.perR + l.count)
				l.count++
				t := int(l.s.Params.T)
				if cap(sym) < t {
					sym = make([]byte, t)
				}
				sym = sym[:t]
				if err := l.s.enc.Symbol(l.sbn, esi, sym); err != nil {
					return err
				}
				if cap(bufs[nsym]) < t+symbolHeader+sigSize+crcSize {
					bufs[nsym] = make([]byte, 0, t+symbolHeader+sigSize+crcSize)
				}
				bufs[nsym] = appendSymbolBody(bufs[nsym][:0], l.s.Ann.ShortID(), l.s.Params.Encode(), l.sbn, esi, sym, pub)
				queue = append(queue, item{pkt: bufs[nsym], sign: true})
				nsym++
				sent++
				if opts.AnnounceEvery > 0 && sent%opts.AnnounceEvery == 0 {
					announce()
				}
				if nsym == batchN {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
	}
	return flush()
}

func newEncoder(data []byte, p fountain.Params) (*fountain.Encoder, error) {
	return fountain.NewEncoder(data, p)
}
