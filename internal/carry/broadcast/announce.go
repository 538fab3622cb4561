package broadcast

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"ferry/internal/archive"
	"ferry/internal/key"
)

// sigPrefix is the archive format's signature message prefix
// (docs/format.md, "Signatures").
const sigPrefix = "ferry archive manifest v1\x00"

// Announcement says which archive a stream carries: its signed manifest and
// length. Receivers accept it only if a signature over the manifest verifies.
type Announcement struct {
	ID       [32]byte // SHA-256 of Manifest: the archive ID
	Length   int64    // archive file size
	Manifest []byte   // manifest bytes exactly as signed
	SigBlock []byte   // the archive's signature block: u8 n, n × (key ‖ signature)
	Signers  []key.Public
	Info     *archive.Manifest
}

// NewAnnouncement builds the announcement of archive r, opened from data.
func NewAnnouncement(r *archive.Reader, data []byte) (*Announcement, error) {
	m := r.ManifestBytes()
	size := int64(len(data))
	// Layout (docs/format.md): manifest, signatures, 32-byte trailer.
	end := size - 32
	if end < 16 {
		return nil, fmt.Errorf("%w: archive of %d bytes", archive.ErrCorrupt, size)
	}
	sLen := int64(binary.LittleEndian.Uint32(data[end+12 : end+16]))
	mOff := int64(binary.LittleEndian.Uint64(data[end : end+8]))
	if mOff+int64(len(m))+sLen != end || !bytes.Equal(data[mOff:mOff+int64(len(m))], m) {
		return nil, fmt.Errorf("%w: archive trailer does not match its manifest", archive.ErrCorrupt)
	}
	a := &Announcement{Length: size, Manifest: m, SigBlock: data[end-sLen : end]}
	body := a.Body()
	if len(body) > MaxAnnounceBody {
		return nil, fmt.Errorf("%w: the manifest and signatures take %d bytes, more than the %d an announcement carries", ErrOptions, len(body), MaxAnnounceBody)
	}
	return ParseAnnouncement(body)
}

// Body encodes the announcement: u64 length, u32 manifest length, manifest,
// signature block (all big-endian).
func (a *Announcement) Body() []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(a.Length))
	b = binary.BigEndian.AppendUint32(b, uint32(len(a.Manifest)))
	b = append(b, a.Manifest...)
	return append(b, a.SigBlock...)
}

// ParseAnnouncement decodes and checks an announcement body: lengths, the
// manifest, and at least one valid signature. Errors wrap ErrForged.
func ParseAnnouncement(body []byte) (*Announcement, error) { return parseAnnouncement(body, nil) }

// parseAnnouncement is ParseAnnouncement that, given a short ID, checks the
// manifest hash against it before any (costly) signature.
func parseAnnouncement(body []byte, short *[IDSize]byte) (*Announcement, error) {
	if len(body) < 12 {
		return nil, fmt.Errorf("%w: body of %d bytes", ErrForged, len(body))
	}
	length := binary.BigEndian.Uint64(body)
	mLen := uint64(binary.BigEndian.Uint32(body[8:]))
	if mLen == 0 || mLen > uint64(len(body)-12) {
		return nil, fmt.Errorf("%w: manifest length %d", ErrForged, mLen)
	}
	a := &Announcement{Manifest: body[12 : 12+mLen], SigBlock: body[12+mLen:]}
	a.ID = sha256.Sum256(a.Manifest)
	if short != nil && a.ShortID() != *short {
		return nil, fmt.Errorf("%w: manifest hash does not match the archive ID", ErrForged)
	}
	if len(a.SigBlock) < 1 || int(a.SigBlock[0]) == 0 || len(a.SigBlock) != 1+96*int(a.SigBlock[0]) {
		return nil, fmt.Errorf("%w: malformed signature block", ErrForged)
	}
	msg := append([]byte(sigPrefix), a.Manifest...)
	for i := 0; i < int(a.SigBlock[0]); i++ {
		var p key.Public
		rec := a.SigBlock[1+96*i:]
		copy(p[:], rec[:32])
		if p.Verify(msg, rec[32:96]) {
			a.Signers = append(a.Signers, p)
		}
	}
	if len(a.Signers) == 0 {
		return nil, fmt.Errorf("%w: no signature over the manifest verifies", ErrForged)
	}
	mp, err := archive.ParseManifest(a.Manifest)
	if err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrForged, err)
	}
	m := *mp
	if m.Format != archive.FormatVersion {
		// Genuine perhaps, but not readable here: not collected, and not
		// held against its sender.
		return nil, fmt.Errorf("%w: manifest format %d (this ferry reads %d): get a newer ferry", archive.ErrVersion, m.Format, archive.FormatVersion)
	}
	if m.FileSize <= 0 || uint64(m.FileSize) != length {
		return nil, fmt.Errorf("%w: announced length %d, manifest says %d", ErrForged, length, m.FileSize)
	}
	a.Length = int64(length)
	a.Info = &m
	return a, nil
}

// ShortID is the 16-byte ID prefix packets carry.
func (a *Announcement) ShortID() [IDSize]byte {
	var s [IDSize]byte
	copy(s[:], a.ID[:])
	return s
}

// Label names the announced archive for people: "CHANNEL edition N".
func (a *Announcement) Label() string {
	return fmt.Sprintf("%s edition %d", a.Info.Channel, a.Info.Edition)
}

// SignedBy reports whether p signed the manifest.
func (a *Announcement) SignedBy(p key.Public) bool {
	for _, s := range a.Signers {
		if s == p {
			return true
		}
	}
	return false
}
