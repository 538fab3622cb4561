package seal

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

const (
	formatVersion = 1
	roleOuter     = 0
	roleHidden    = 1
	superHeader   = 64
	entryFixed    = 2 + 8 + 16 + 4 // name length, size, id, extent count (plus the name)
	extentSize    = 16
)

// superblock is the decrypted directory of one library.
type superblock struct {
	gen         uint64
	role        byte
	nBlocks     int64
	outerMaster [32]byte // hidden library only: the outer library's master key
	files       []fileEntry
}

// fileEntry is one stored file.
type fileEntry struct {
	name string
	size int64
	id   [16]byte // random per write; bound into each block's associated data
	ext  []extent
}

// extent is a run of count consecutive blocks starting at block start.
type extent struct {
	start, count int64
}

func chunksFor(size int64) int64 { return (size + payloadSize - 1) / payloadSize }

// encodedLen is the size of the directory (after the 64-byte header).
func (sb *superblock) encodedLen() int {
	n := 0
	for _, e := range sb.files {
		n += entryFixed + len(e.name) + extentSize*len(e.ext)
	}
	return n
}

// encode writes sb into p (payloadSize bytes); the rest of p is zero.
func (sb *superblock) encode(p []byte) error {
	l := sb.encodedLen()
	if superHeader+l > len(p) {
		return fmt.Errorf("writing directory: %w: directory needs %d bytes, room for %d", ErrFull, l, len(p)-superHeader)
	}
	clear(p)
	le := binary.LittleEndian
	le.PutUint32(p[0:], formatVersion)
	p[4] = sb.role
	le.PutUint64(p[8:], sb.gen)
	le.PutUint64(p[16:], uint64(sb.nBlocks))
	copy(p[24:56], sb.outerMaster[:])
	le.PutUint32(p[56:], uint32(len(sb.files)))
	le.PutUint32(p[60:], uint32(l))
	o := superHeader
	for _, e := range sb.files {
		le.PutUint16(p[o:], uint16(len(e.name)))
		o += 2
		o += copy(p[o:], e.name)
		le.PutUint64(p[o:], uint64(e.size))
		o += 8
		o += copy(p[o:], e.id[:])
		le.PutUint32(p[o:], uint32(len(e.ext)))
		o += 4
		for _, x := range e.ext {
			le.PutUint64(p[o:], uint64(x.start))
			le.PutUint64(p[o+8:], uint64(x.count))
			o += extentSize
		}
	}
	return nil
}

func corrupt(format string, a ...any) error {
	return fmt.Errorf("%w: directory: %s", ErrCorrupt, fmt.Sprintf(format, a...))
}

// parseSuper decodes and checks an authenticated superblock payload of a
// container of nBlocks blocks. Every rule here is a MUST-reject in
// docs/seal.md; the checks never trust a count before comparing it with the
// bytes present.
func parseSuper(p []byte, nBlocks int64) (*superblock, error) {
	if len(p) != payloadSize {
		return nil, corrupt("payload is %d bytes", len(p))
	}
	le := binary.LittleEndian
	if v := le.Uint32(p[0:]); v != formatVersion {
		return nil, fmt.Errorf("%w: directory version %d is not supported by this ferry (a newer ferry may open it)", ErrCorrupt, v)
	}
	sb := &superblock{role: p[4], gen: le.Uint64(p[8:])}
	if sb.role != roleOuter && sb.role != roleHidden {
		return nil, corrupt("unknown role %d", sb.role)
	}
	if p[5] != 0 || p[6] != 0 || p[7] != 0 {
		return nil, corrupt("reserved bytes set")
	}
	if n := le.Uint64(p[16:]); n != uint64(nBlocks) {
		return nil, corrupt("made for %d blocks, file has %d (truncated or extended copy?)", n, nBlocks)
	}
	sb.nBlocks = nBlocks
	copy(sb.outerMaster[:], p[24:56])
	if (sb.role == roleOuter) != (sb.outerMaster == [32]byte{}) {
		return nil, corrupt("outer key field does not match the role")
	}
	count := le.Uint32(p[56:])
	l := le.Uint32(p[60:])
	if uint64(l) > uint64(len(p)-superHeader) {
		return nil, corrupt("length %d exceeds the block", l)
	}
	body := p[superHeader : superHeader+int(l)]
	for _, b := range p[superHeader+int(l):] {
		if b != 0 {
			return nil, corrupt("padding not zero")
		}
	}
	// Each entry takes at least entryFixed+1 bytes, which bounds count.
	if uint64(count) > uint64(len(body))/(entryFixed+1) {
		return nil, corrupt("%d files cannot fit in %d bytes", count, len(body))
	}
	used := newBitmap(nBlocks)
	names := make(map[string]bool, count)
	sb.files = make([]fileEntry, 0, count)
	for i := uint32(0); i < count; i++ {
		var e fileEntry
		if len(body) < 2 {
			return nil, corrupt("entry %d truncated", i)
		}
		nl := int(le.Uint16(body))
		body = body[2:]
		if len(body) < nl+entryFixed-2 {
			return nil, corrupt("entry %d truncated", i)
		}
		e.name = string(body[:nl])
		body = body[nl:]
		if err := checkName(e.name); err != nil {
			return nil, corrupt("entry %d: %v", i, err)
		}
		if names[e.name] {
			return nil, corrupt("name %q twice", e.name)
		}
		names[e.name] = true
		sz := le.Uint64(body)
		if sz > uint64(nBlocks)*payloadSize {
			return nil, corrupt("%q: size %d larger than the container", e.name, sz)
		}
		e.size = int64(sz)
		copy(e.id[:], body[8:24])
		ne := le.Uint32(body[24:])
		body = body[28:]
		if uint64(ne) > uint64(len(body))/extentSize {
			return nil, corrupt("%q: %d extents cannot fit", e.name, ne)
		}
		e.ext = make([]extent, ne)
		var total int64
		for j := range e.ext {
			s, c := le.Uint64(body), le.Uint64(body[8:])
			body = body[extentSize:]
			if c == 0 || s < firstData || s >= uint64(nBlocks) || c > uint64(nBlocks)-s {
				return nil, corrupt("%q: extent %d (%d+%d) outside the data area", e.name, j, s, c)
			}
			for b := int64(s); b < int64(s+c); b++ {
				if used.get(b) {
					return nil, corrupt("%q: block %d used twice", e.name, b)
				}
				used.set(b)
			}
			e.ext[j] = extent{int64(s), int64(c)}
			total += int64(c)
		}
		if total != chunksFor(e.size) {
			return nil, corrupt("%q: %d blocks for %d bytes", e.name, total, e.size)
		}
		sb.files = append(sb.files, e)
	}
	if len(body) != 0 {
		return nil, corrupt("%d bytes after the last entry", len(body))
	}
	return sb, nil
}

// checkName enforces the file name rules (docs/seal.md).
func checkName(name string) error {
	if name == "" || len(name) > MaxNameLen || !utf8.ValidString(name) || strings.ContainsAny(name, "/\\") || name == "." || name == ".." {
		return fmt.Errorf("%w: %q (1 to %d bytes of UTF-8, no slashes)", ErrBadName, name, MaxNameLen)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %q contains a control character", ErrBadName, name)
		}
	}
	return nil
}

// bitmap marks blocks.
type bitmap []uint64

func newBitmap(n int64) bitmap    { return make(bitmap, (n+63)/64) }
func (m bitmap) get(i int64) bool { return m[i/64]&(1<<(i%64)) != 0 }
func (m bitmap) set(i int64)      { m[i/64] |= 1 << (i % 64) }

// mark sets every block of sb's files.
func (m bitmap) mark(sb *superblock) {
	for _, e := range sb.files {
		for _, x := range e.ext {
			for b := x.start; b < x.start+x.count; b++ {
				m.set(b)
			}
		}
	}
}
