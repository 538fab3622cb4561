package peer

import (
	"crypto/sha256"
	"encoding"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// How the pieces a giver sends are taken in: each DATA frame is placed as
// it arrives, after the checks docs/sync.md §4.4 lists.

var (
	wireDecOnce sync.Once
	wireDec     *zstd.Decoder
)

// wireDecoder decodes compressed chunks; it refuses to make more than a
// chunk from one frame.
func wireDecoder() *zstd.Decoder {
	wireDecOnce.Do(func() {
		var err error
		wireDec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(chunkLimit),
			zstd.WithDecoderMaxWindow(chunkLimit))
		if err != nil {
			panic("peer: internal error: zstd decoder: " + err.Error())
		}
	})
	return wireDec
}

// inPiece is the piece whose DATA is arriving.
type inPiece struct {
	p      piece
	stream *chunkStream // a compressed section chunk, decoded as it comes
	carry  []byte       // section bytes short of a whole block
	buf    []byte       // a piece kept whole (gaps)
	raw    int64        // raw bytes taken so far
}

// onPiece takes the header of the answer to the oldest GET.
func (t *tArchive) onPiece(p piece) error {
	if len(t.out) == 0 || t.cur != nil {
		return protoErr("PIECE nobody asked for")
	}
	want := t.out[0]
	if p.Slot != want.g.Slot || p.Kind != want.g.Kind || p.Index != want.g.Index || p.Offset != want.g.Offset || int64(p.Raw) != want.raw {
		return protoErr("PIECE does not answer the GET")
	}
	if p.Kind == kindCluster && p.Enc != encRaw {
		return protoErr("a stored cluster must travel as it is")
	}
	t.out = t.out[1:]
	t.outRaw -= want.raw
	t.cur = &inPiece{p: p}
	if p.Kind == kindSection {
		if st := t.part.st.Sections[p.Index]; st.Done || st.Offset != int64(p.Offset) {
			return fail("internal: section chunk at %d, %d in place", p.Offset, st.Offset)
		}
		if p.Enc == encZstd {
			t.cur.stream = newChunkStream(int64(p.Raw))
		}
	}
	return nil
}

// onData takes DATA of the current piece: stored clusters and sections are
// written as they come (so a cut keeps them), gaps are kept until whole.
func (t *tArchive) onData(d []byte, last bool) error {
	in := t.cur
	if in == nil {
		return protoErr("DATA without a PIECE")
	}
	p := in.p
	t.rate.got(int64(len(d)), !last || len(t.out) > 0)
	var err error
	switch p.Kind {
	case kindCluster:
		err = t.storedBytes(int(p.Index), int64(p.Offset)+in.raw, d, last)
		in.raw += int64(len(d))
	case kindSection:
		if in.stream != nil {
			if err = in.stream.write(d); err == nil && last {
				err = in.stream.close()
			}
			if err != nil {
				in.stream.abort()
				return fail("%s: a section chunk from the other device does not decompress: %v", label(t.h), err)
			}
			d = in.stream.take()
		}
		err = t.sectionBytes(in, d, last)
	case kindGaps:
		in.buf = append(in.buf, d...)
		if last {
			err = t.gapsIn(in)
		}
	}
	if last || err != nil {
		if in.stream != nil {
			in.stream.abort()
		}
		t.cur = nil
	}
	return err
}

// dropPiece ends a piece cut off in the middle: what was decoded is in
// place, the rest will be asked for again.
func (t *tArchive) dropPiece() {
	if t.cur != nil && t.cur.stream != nil {
		t.cur.stream.abort()
	}
	t.cur = nil
}

// gapsIn hands a complete gaps piece to a rebuild.
func (t *tArchive) gapsIn(in *inPiece) error {
	i := int(in.p.Index)
	raw := in.buf
	if in.p.Enc == encZstd {
		var err error
		raw, err = wireDecoder().DecodeAll(in.buf, make([]byte, 0, in.p.Raw))
		if err != nil || uint64(len(raw)) != in.p.Raw {
			return fail("%s: gaps from the other device do not decompress", label(t.h))
		}
	} else if uint64(len(raw)) != in.p.Raw {
		return protoErr("gaps of the wrong length")
	}
	gr, ok := t.gapReq[i]
	if !ok {
		return protoErr("gaps of cluster %d nobody asked for", i)
	}
	delete(t.gapReq, i)
	t.jobs <- func() jobResult { return t.rebuild(i, gr.rs, gr.gaps, raw) }
	return nil
}

// sectionBytes places decoded section bytes block by block: whole blocks
// are hashed and written at once, a short last block only at the end of
// the section. The root is checked once all of the section is in.
func (t *tArchive) sectionBytes(in *inPiece, d []byte, last bool) error {
	i := int(in.p.Index)
	s := t.lay.Secs[i]
	st := &t.part.st.Sections[i]
	in.carry = append(in.carry, d...)
	in.raw += int64(len(d))
	if in.raw > int64(in.p.Raw) {
		return fail("%s: a section chunk from the other device is too long", label(t.h))
	}
	bs := int64(s.BlockSize)
	n := int64(len(in.carry)) / bs * bs
	end := st.Offset+int64(len(in.carry)) == s.Length
	if end {
		n = int64(len(in.carry))
	}
	if n > 0 {
		for b := int64(0); b < n; b += bs {
			h := sha256.Sum256(in.carry[b:min(n, b+bs)])
			st.Hashes = append(st.Hashes, h[:]...)
		}
		if err := t.part.writeAt(in.carry[:n], s.Offset+st.Offset); err != nil {
			return err
		}
		st.Offset += n
		t.s.sum.Fetched += n
		in.carry = append(in.carry[:0], in.carry[n:]...)
	}
	if last && in.raw != int64(in.p.Raw) {
		return fail("%s: a section chunk from the other device is too short", label(t.h))
	}
	if st.Offset < s.Length {
		return nil
	}
	return t.sectionIn(i, st.Hashes)
}

// sectionIn checks a complete section's hash list and writes it.
func (t *tArchive) sectionIn(i int, hl []byte) error {
	s := t.lay.Secs[i]
	st := &t.part.st.Sections[i]
	if sha256.Sum256(hl) != root(s) {
		*st = secProgress{}
		t.secReq[i] = 0
		t.part.dirty = true
		if t.resumedS[i] {
			t.resumedS[i] = false
			return nil // asked for again, from the start
		}
		return fail("%s: section %s from the other device does not verify", label(t.h), t.lay.Names[i])
	}
	if err := t.part.writeAt(hl, s.HashesOffset); err != nil {
		return err
	}
	*st = secProgress{Done: true}
	t.part.dirty = true
	return nil
}

// storedBytes places bytes of a stored cluster as they arrive, keeping
// the hash state so that a cut loses none of them.
func (t *tArchive) storedBytes(i int, off int64, d []byte, last bool) error {
	c := t.lay.Clusters[i]
	h := t.hashes[i]
	if h == nil {
		return fail("internal: no hash for cluster %d", i)
	}
	if err := t.part.writeAt(d, c.Off+off); err != nil {
		return err
	}
	h.Write(d)
	t.s.sum.Fetched += int64(len(d))
	end := off + int64(len(d))
	if end < c.Stored {
		st, _ := h.(encoding.BinaryMarshaler).MarshalBinary()
		t.part.st.Partial[i] = clusterProgress{Offset: end, State: st}
		t.part.dirty = true
		return nil
	}
	delete(t.hashes, i)
	t.cBusy[i] = false
	var sum [32]byte
	h.Sum(sum[:0])
	if sum != c.Hash {
		delete(t.part.st.Partial, i)
		t.part.dirty = true
		if t.resumedC[i] {
			delete(t.resumedC, i)
			t.retry = append(t.retry, i)
			return nil
		}
		return fail("%s: cluster %d from the other device does not verify", label(t.h), i)
	}
	t.part.setClusterDone(i, true)
	return nil
}
