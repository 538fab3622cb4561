// Package index reads and writes the two small files that describe what a
// publisher's store holds, as specified in docs/publish.md ("Store layout"):
// the signed channel index (CHANNEL/index.json: every edition, its full
// archive, its delta, its WARCs, sizes and hashes, and the archive the next
// delta will build on) and the channel list (channels.json). It also names
// every key of the layout.
//
// Both files come from stores and mirrors nobody vouches for, so Parse and
// ParseChannels check everything before returning: sizes and counts are
// capped before anything is allocated, keys must lie where the layout puts
// them, editions must increase, and an index must carry a valid signature.
// Whether the signer is trusted is the caller's decision; the archives
// themselves are judged by the library when they arrive.
package index

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"ferry/internal/archive"
	"ferry/internal/key"
)

// Errors of this package; test with errors.Is.
var (
	// ErrFormat: the bytes are not a valid index or channel list.
	ErrFormat = errors.New("index: malformed")
	// ErrSignature: no signature of the index verifies.
	ErrSignature = errors.New("index: no valid signature")
	// ErrNewer: a format version this ferry does not know.
	ErrNewer = errors.New("index: made by a newer ferry")
)

// Limits on what Parse accepts; a real index is far below them.
const (
	MaxIndexSize    = 32 << 20 // bytes of index.json
	MaxChannelsSize = 4 << 20  // bytes of channels.json
	MaxEditions     = 100_000
	MaxWARCs        = 10_000 // per edition
	MaxChannels     = 10_000
	MaxSignatures   = 16
	maxHead         = 16<<20 + 1 + 96*255 // a manifest and its signatures, as the archive format caps them
)

// Keys of the store layout.
const (
	ChannelsKey = "channels.json"
	CatalogKey  = "catalog.opds.xml"
)

// IndexKey is the key of a channel's index.
func IndexKey(channel string) string { return channel + "/index.json" }

// EditionKey is the key of a channel's full edition n.
func EditionKey(channel string, n uint64) string {
	return fmt.Sprintf("%s/editions/%06d.ferry", channel, n)
}

// DeltaKey is the key of the delta that turns edition base into edition n.
func DeltaKey(channel string, n, base uint64) string {
	return fmt.Sprintf("%s/deltas/%06d-%06d.ferry", channel, n, base)
}

// WARCKey is the key of a WARC file kept with edition n.
func WARCKey(channel string, n uint64, name string) string {
	return fmt.Sprintf("%s/warc/%06d/%s", channel, n, name)
}

// EditionsPrefix is the prefix under which a channel's full editions are listed.
func EditionsPrefix(channel string) string { return channel + "/editions/" }

// ParseEditionKey returns the edition number of a full edition's key.
func ParseEditionKey(channel, k string) (uint64, bool) {
	rest, ok := strings.CutPrefix(k, EditionsPrefix(channel))
	if !ok {
		return 0, false
	}
	num, ok := strings.CutSuffix(rest, ".ferry")
	if !ok || len(num) < 6 || strings.Trim(num, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(num, 10, 64)
	return n, err == nil && n > 0
}

var (
	channelRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)
	warcRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.warc(\.gz)?$`)
)

// ValidChannel reports whether name can be a channel in a store: the
// channel names of a config (1–64 of a-z 0-9 . - _, starting with a letter
// or digit), other than the names of the store's own files.
func ValidChannel(name string) error {
	if !channelRE.MatchString(name) || name == ChannelsKey || name == CatalogKey {
		return fmt.Errorf("%w: %q is not a channel name (1-64 of a-z 0-9 . - _, not %s or %s)", ErrFormat, name, ChannelsKey, CatalogKey)
	}
	return nil
}

// ValidWARCName reports whether name can be a WARC file's name in the store.
func ValidWARCName(name string) bool { return warcRE.MatchString(name) }

// Index is a channel's index: what the store holds for it.
type Index struct {
	Format      int      `json:"format"`
	Channel     string   `json:"channel"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Publisher   string   `json:"publisher,omitempty"`
	Languages   []string `json:"languages,omitempty"`
	// Sequence grows by one with every change of the index, so a reader
	// can tell an index older than one it has seen (a stale or replayed
	// mirror).
	Sequence uint64    `json:"sequence"`
	Updated  time.Time `json:"updated"`
	// Latest is the newest edition: the last of Editions.
	Latest uint64 `json:"latest"`
	// Tip is the id of the archive of the latest edition that the next
	// delta will build on: a reader that holds it (with its chain) will be
	// able to update with deltas.
	Tip      string    `json:"tip"`
	Editions []Edition `json:"editions"`
}

// Edition is one published edition.
type Edition struct {
	Edition  uint64    `json:"edition"`
	Created  time.Time `json:"created"`
	Entries  int       `json:"entries"`
	Articles int       `json:"articles"`
	// Full is the edition as one archive; Delta, if any, the delta from the
	// previous edition's chain archive.
	Full  Archive  `json:"full"`
	Delta *Archive `json:"delta,omitempty"`
	WARC  []Object `json:"warc,omitempty"`
}

// Object is a stored file: its key, size and SHA-256.
type Object struct {
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Archive is a stored archive.
type Archive struct {
	Object
	// ID is the archive's id (hex SHA-256 of its manifest).
	ID string `json:"id"`
	// Base and BaseEdition: for a delta, the archive it builds on.
	Base        string `json:"base,omitempty"`
	BaseEdition uint64 `json:"base_edition,omitempty"`
	// Manifest and Signatures are the archive's signed manifest and its
	// signature block, so a reader can check what it would fetch (trust,
	// rollback) before fetching it. Kept for the archives a reader may
	// fetch to reach the latest edition; dropped from older ones.
	Manifest   []byte `json:"manifest,omitempty"`
	Signatures []byte `json:"signatures,omitempty"`
}

// Channels is channels.json: the channels a store holds.
type Channels struct {
	Format   int       `json:"format"`
	Type     string    `json:"type"`
	Updated  time.Time `json:"updated"`
	Channels []Channel `json:"channels"`
}

// Channel is one channel of the list: what its index says of its latest
// edition, enough for a catalogue entry.
type Channel struct {
	Name        string    `json:"name"`
	Title       string    `json:"title"`
	Description string    `json:"description,omitempty"`
	Publisher   string    `json:"publisher,omitempty"`
	Languages   []string  `json:"languages,omitempty"`
	Latest      uint64    `json:"latest"`
	Sequence    uint64    `json:"sequence"` // of the index this entry was made from
	Created     time.Time `json:"created"`  // of the latest edition
	Entries     int       `json:"entries"`
	Articles    int       `json:"articles"`
	Full        Object    `json:"full"`
	Delta       *Object   `json:"delta,omitempty"`
	DeltaBase   uint64    `json:"delta_base,omitempty"`
}

// ChannelOf is the channel list's entry for an index.
func ChannelOf(ix *Index) Channel {
	c := Channel{Name: ix.Channel, Title: ix.Title, Description: ix.Description, Publisher: ix.Publisher,
		Languages: ix.Languages, Latest: ix.Latest, Sequence: ix.Sequence}
	if e := ix.Edition(ix.Latest); e != nil {
		c.Created, c.Entries, c.Articles, c.Full = e.Created, e.Entries, e.Articles, e.Full.Object
		if e.Delta != nil {
			d := e.Delta.Object
			c.Delta, c.DeltaBase = &d, e.Delta.BaseEdition
		}
	}
	return c
}

// Type strings of the files.
const (
	typeIndex    = "ferry-channel-index"
	typeChannels = "ferry-channels"
	sigPrefix    = "ferry channel index v1\x00"
)

// envelope is index.json as stored: the index bytes and their signatures.
type envelope struct {
	Format     int         `json:"format"`
	Type       string      `json:"type"`
	Index      []byte      `json:"index"` // base64 of the signed JSON
	Signatures []signature `json:"signatures"`
}

type signature struct {
	Key string `json:"key"` // public key text, ferry-pub-v1:…
	Sig []byte `json:"sig"`
}

// Sign encodes ix as index.json signed by every key in signers.
func Sign(ix *Index, signers []*key.Secret) ([]byte, error) {
	if len(signers) == 0 || len(signers) > MaxSignatures {
		return nil, fmt.Errorf("index: %d signing keys (1 to %d)", len(signers), MaxSignatures)
	}
	ix.Format = 1
	if err := ix.check(); err != nil {
		return nil, err
	}
	body, err := json.Marshal(ix)
	if err != nil {
		return nil, err
	}
	env := envelope{Format: 1, Type: typeIndex, Index: body}
	msg := append([]byte(sigPrefix), body...)
	for _, s := range signers {
		env.Signatures = append(env.Signatures, signature{Key: s.Public().String(), Sig: s.Sign(msg)})
	}
	out, err := json.MarshalIndent(env, "", " ")
	if err != nil {
		return nil, err
	}
	return append(out, '\n'), nil
}

// Signed is a parsed index and the keys whose signatures verified.
type Signed struct {
	*Index
	Signers []key.Public
}

// SignedBy reports whether p signed the index.
func (s *Signed) SignedBy(p key.Public) bool {
	for _, k := range s.Signers {
		if k == p {
			return true
		}
	}
	return false
}

// Parse reads index.json and checks its signatures and content. Every
// attached signature must verify (an index is small; a bad signature on it
// means tampering, not damage).
func Parse(b []byte) (*Signed, error) {
	if len(b) > MaxIndexSize {
		return nil, fmt.Errorf("%w: %d bytes is more than an index may have (%d)", ErrFormat, len(b), MaxIndexSize)
	}
	var env envelope
	if err := strictUnmarshal(b, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if env.Type != typeIndex {
		return nil, fmt.Errorf("%w: type %q, not a channel index", ErrFormat, env.Type)
	}
	if env.Format != 1 {
		if env.Format > 1 {
			return nil, fmt.Errorf("%w: index format %d (this ferry reads format 1): get a newer ferry", ErrNewer, env.Format)
		}
		return nil, fmt.Errorf("%w: index format %d", ErrFormat, env.Format)
	}
	if len(env.Signatures) == 0 || len(env.Signatures) > MaxSignatures {
		return nil, fmt.Errorf("%w: %d signatures (1 to %d)", ErrSignature, len(env.Signatures), MaxSignatures)
	}
	msg := append([]byte(sigPrefix), env.Index...)
	s := &Signed{}
	for _, sg := range env.Signatures {
		p, _, err := key.ParsePublic(sg.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: signature key: %v", ErrFormat, err)
		}
		if !p.Verify(msg, sg.Sig) {
			return nil, fmt.Errorf("%w: the signature of %s does not verify (tampered or damaged index)", ErrSignature, p.Fingerprint())
		}
		if !s.SignedBy(p) {
			s.Signers = append(s.Signers, p)
		}
	}
	var ix Index
	if err := strictUnmarshal(env.Index, &ix); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if ix.Format != 1 {
		if ix.Format > 1 {
			return nil, fmt.Errorf("%w: index format %d: get a newer ferry", ErrNewer, ix.Format)
		}
		return nil, fmt.Errorf("%w: index format %d", ErrFormat, ix.Format)
	}
	if err := ix.check(); err != nil {
		return nil, err
	}
	s.Index = &ix
	return s, nil
}

var hexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// check is what Parse and Sign demand of an index.
func (ix *Index) check() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: channel %s: %s", ErrFormat, ix.Channel, fmt.Sprintf(format, a...))
	}
	if err := ValidChannel(ix.Channel); err != nil {
		return err
	}
	if len(ix.Editions) == 0 || len(ix.Editions) > MaxEditions {
		return bad("%d editions (1 to %d)", len(ix.Editions), MaxEditions)
	}
	if ix.Sequence == 0 {
		return bad("sequence 0")
	}
	ids := map[string]uint64{}
	var prev uint64
	for i := range ix.Editions {
		e := &ix.Editions[i]
		if e.Edition == 0 || e.Edition <= prev {
			return bad("edition %d after %d: editions must increase", e.Edition, prev)
		}
		prev = e.Edition
		if e.Entries < 0 || e.Articles < 0 {
			return bad("edition %d: negative counts", e.Edition)
		}
		if err := ix.checkArchive(&e.Full, EditionKey(ix.Channel, e.Edition), false, e.Edition, ids); err != nil {
			return err
		}
		if e.Delta != nil {
			if e.Delta.BaseEdition == 0 || e.Delta.BaseEdition >= e.Edition {
				return bad("edition %d: delta base edition %d", e.Edition, e.Delta.BaseEdition)
			}
			if err := ix.checkArchive(e.Delta, DeltaKey(ix.Channel, e.Edition, e.Delta.BaseEdition), true, e.Edition, ids); err != nil {
				return err
			}
		}
		if len(e.WARC) > MaxWARCs {
			return bad("edition %d: %d WARC files (at most %d)", e.Edition, len(e.WARC), MaxWARCs)
		}
		seen := map[string]bool{}
		for _, w := range e.WARC {
			name, ok := strings.CutPrefix(w.Key, fmt.Sprintf("%s/warc/%06d/", ix.Channel, e.Edition))
			if !ok || !ValidWARCName(name) || seen[name] {
				return bad("edition %d: WARC key %q is not CHANNEL/warc/EDITION/NAME.warc.gz or is listed twice", e.Edition, w.Key)
			}
			seen[name] = true
			if err := checkObject(w); err != nil {
				return bad("edition %d: %s: %v", e.Edition, w.Key, err)
			}
		}
	}
	if ix.Latest != prev {
		return bad("latest is %d, the last edition listed is %d", ix.Latest, prev)
	}
	last := &ix.Editions[len(ix.Editions)-1]
	if ix.Tip != last.Full.ID && (last.Delta == nil || ix.Tip != last.Delta.ID) {
		return bad("tip %.16s is not an archive of the latest edition", ix.Tip)
	}
	return nil
}

func checkObject(o Object) error {
	if o.Size <= 0 || o.Size > 1<<50 {
		return fmt.Errorf("size %d", o.Size)
	}
	if !hexRE.MatchString(o.SHA256) {
		return errors.New("sha256 is not 64 lower-case hex digits")
	}
	return nil
}

func (ix *Index) checkArchive(a *Archive, wantKey string, isDelta bool, edition uint64, ids map[string]uint64) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: channel %s edition %d: %s", ErrFormat, ix.Channel, edition, fmt.Sprintf(format, args...))
	}
	if a.Key != wantKey {
		return bad("key %q, the layout puts it at %q", a.Key, wantKey)
	}
	if err := checkObject(a.Object); err != nil {
		return bad("%s: %v", a.Key, err)
	}
	if !hexRE.MatchString(a.ID) {
		return bad("%s: id is not 64 lower-case hex digits", a.Key)
	}
	if _, dup := ids[a.ID]; dup {
		return bad("%s: id %.16s listed twice", a.Key, a.ID)
	}
	ids[a.ID] = edition
	if isDelta {
		if !hexRE.MatchString(a.Base) {
			return bad("%s: base id is not 64 lower-case hex digits", a.Key)
		}
		if be, ok := ids[a.Base]; ok && be != a.BaseEdition {
			return bad("%s: base %.16s is edition %d, not %d", a.Key, a.Base, be, a.BaseEdition)
		}
	} else if a.Base != "" || a.BaseEdition != 0 {
		return bad("%s: a full edition with a base", a.Key)
	}
	if (len(a.Manifest) == 0) != (len(a.Signatures) == 0) {
		return bad("%s: manifest without signatures or the reverse", a.Key)
	}
	if len(a.Manifest) > 0 {
		if len(a.Manifest)+len(a.Signatures) > maxHead || len(a.Signatures) < 1+96 || (len(a.Signatures)-1)%96 != 0 {
			return bad("%s: manifest or signature block of impossible size", a.Key)
		}
		if int64(len(a.Manifest)+len(a.Signatures))+headerSize+trailerSize > a.Size {
			return bad("%s: manifest larger than the archive", a.Key)
		}
		if h := sha256.Sum256(a.Manifest); hex.EncodeToString(h[:]) != a.ID {
			return bad("%s: the manifest listed is not the one of id %.16s", a.Key, a.ID)
		}
	}
	return nil
}

// Find returns the archive with this id and its edition, or nil.
func (ix *Index) Find(id string) (*Archive, *Edition) {
	for i := range ix.Editions {
		e := &ix.Editions[i]
		if e.Full.ID == id {
			return &e.Full, e
		}
		if e.Delta != nil && e.Delta.ID == id {
			return e.Delta, e
		}
	}
	return nil, nil
}

// Edition returns edition n, or nil.
func (ix *Index) Edition(n uint64) *Edition {
	for i := range ix.Editions {
		if ix.Editions[i].Edition == n {
			return &ix.Editions[i]
		}
	}
	return nil
}

// Chain returns the archives from a full edition up to the archive id,
// following bases, full edition first; nil if the chain is not complete in
// the index.
func (ix *Index) Chain(id string) []*Archive {
	var out []*Archive
	for range len(ix.Editions) * 2 {
		a, _ := ix.Find(id)
		if a == nil {
			return nil
		}
		out = append(out, a)
		if a.Base == "" {
			for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
				out[i], out[j] = out[j], out[i]
			}
			return out
		}
		id = a.Base
	}
	return nil
}

// Keys lists every object key the index names.
func (ix *Index) Keys() []Object {
	var out []Object
	for _, e := range ix.Editions {
		out = append(out, e.Full.Object)
		if e.Delta != nil {
			out = append(out, e.Delta.Object)
		}
		out = append(out, e.WARC...)
	}
	return out
}

// Names reports whether key is an object the index names.
func (ix *Index) Names(k string) (Object, bool) {
	for _, o := range ix.Keys() {
		if o.Key == k {
			return o, true
		}
	}
	return Object{}, false
}

// Archive-format constants the head reader needs (docs/format.md).
const (
	headerSize  = 16
	trailerSize = 32
)

// Open checks the archive's listed manifest and signatures without its
// bytes: it gives an archive.Reader that knows only the manifest (its
// content cannot be read), whose signers have verified. It fails if the
// index does not carry them.
func (a *Archive) Open() (*archive.Reader, error) {
	if len(a.Manifest) == 0 {
		return nil, fmt.Errorf("%w: %s: the index carries no manifest for it", ErrFormat, a.Key)
	}
	r, err := archive.Open(headOnly{a}, a.Size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Key, err)
	}
	if r.ID() != a.ID {
		return nil, fmt.Errorf("%w: %s: manifest is not that of id %.16s", ErrFormat, a.Key, a.ID)
	}
	return r, nil
}

// headOnly is an io.ReaderAt of an archive of which only the header and the
// tail (manifest, signatures, trailer) are known; every other byte reads as
// zero. archive.Open reads nothing else.
type headOnly struct{ a *Archive }

func (h headOnly) ReadAt(p []byte, off int64) (int, error) {
	size := h.a.Size
	if off < 0 || off >= size {
		return 0, io.EOF
	}
	m, s := int64(len(h.a.Manifest)), int64(len(h.a.Signatures))
	metaOff := size - trailerSize - m - s
	var hdr [headerSize]byte
	copy(hdr[:], "FERRYAR1")
	binary.LittleEndian.PutUint16(hdr[8:], archive.FormatVersion)
	var tr [trailerSize]byte
	binary.LittleEndian.PutUint64(tr[0:], uint64(metaOff))
	binary.LittleEndian.PutUint32(tr[8:], uint32(m))
	binary.LittleEndian.PutUint32(tr[12:], uint32(s))
	copy(tr[24:], "FERRYEND")
	n := 0
	for n < len(p) && off+int64(n) < size {
		pos := off + int64(n)
		var c byte
		switch {
		case pos < headerSize:
			c = hdr[pos]
		case pos >= metaOff && pos < metaOff+m:
			c = h.a.Manifest[pos-metaOff]
		case pos >= metaOff+m && pos < metaOff+m+s:
			c = h.a.Signatures[pos-metaOff-m]
		case pos >= size-trailerSize:
			c = tr[pos-(size-trailerSize)]
		}
		p[n] = c
		n++
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Head returns the manifest and signature block of an archive file (the
// bytes Archive.Manifest and Archive.Signatures keep), read from its tail.
func Head(ra io.ReaderAt, size int64) (manifest, sigs []byte, err error) {
	if size < headerSize+trailerSize {
		return nil, nil, fmt.Errorf("%w: too small for an archive", ErrFormat)
	}
	var tr [trailerSize]byte
	if _, err := ra.ReadAt(tr[:], size-trailerSize); err != nil {
		return nil, nil, err
	}
	mOff := int64(binary.LittleEndian.Uint64(tr[0:]))
	m := int64(binary.LittleEndian.Uint32(tr[8:]))
	s := int64(binary.LittleEndian.Uint32(tr[12:]))
	if string(tr[24:]) != "FERRYEND" || m+s > maxHead || mOff+m+s+trailerSize != size {
		return nil, nil, fmt.Errorf("%w: not an archive's trailer", ErrFormat)
	}
	b := make([]byte, m+s)
	if _, err := ra.ReadAt(b, mOff); err != nil {
		return nil, nil, err
	}
	return b[:m], b[m:], nil
}

// MarshalChannels encodes a channel list.
func MarshalChannels(c *Channels) ([]byte, error) {
	c.Format, c.Type = 1, typeChannels
	if err := c.check(); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(c, "", " ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// ParseChannels reads channels.json.
func ParseChannels(b []byte) (*Channels, error) {
	if len(b) > MaxChannelsSize {
		return nil, fmt.Errorf("%w: channel list of %d bytes (at most %d)", ErrFormat, len(b), MaxChannelsSize)
	}
	var c Channels
	if err := strictUnmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%w: channel list: %v", ErrFormat, err)
	}
	if c.Type != typeChannels {
		return nil, fmt.Errorf("%w: type %q, not a channel list", ErrFormat, c.Type)
	}
	if c.Format != 1 {
		if c.Format > 1 {
			return nil, fmt.Errorf("%w: channel list format %d: get a newer ferry", ErrNewer, c.Format)
		}
		return nil, fmt.Errorf("%w: channel list format %d", ErrFormat, c.Format)
	}
	if err := c.check(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (c *Channels) check() error {
	if len(c.Channels) > MaxChannels {
		return fmt.Errorf("%w: %d channels (at most %d)", ErrFormat, len(c.Channels), MaxChannels)
	}
	for i, ch := range c.Channels {
		if err := ValidChannel(ch.Name); err != nil {
			return err
		}
		if i > 0 && c.Channels[i-1].Name >= ch.Name {
			return fmt.Errorf("%w: channel list not sorted or with %q twice", ErrFormat, ch.Name)
		}
		if ch.Latest == 0 || ch.Sequence == 0 || ch.Entries < 0 || ch.Articles < 0 {
			return fmt.Errorf("%w: channel %s: no edition", ErrFormat, ch.Name)
		}
		if ch.Full.Key != EditionKey(ch.Name, ch.Latest) || checkObject(ch.Full) != nil {
			return fmt.Errorf("%w: channel %s: full edition %q is not where the layout puts it", ErrFormat, ch.Name, ch.Full.Key)
		}
		if ch.Delta != nil && (ch.DeltaBase == 0 || ch.DeltaBase >= ch.Latest ||
			ch.Delta.Key != DeltaKey(ch.Name, ch.Latest, ch.DeltaBase) || checkObject(*ch.Delta) != nil) {
			return fmt.Errorf("%w: channel %s: delta %q is not where the layout puts it", ErrFormat, ch.Name, ch.Delta.Key)
		}
	}
	return nil
}

// Find returns the named channel of the list, or nil.
func (c *Channels) Find(name string) *Channel {
	for i := range c.Channels {
		if c.Channels[i].Name == name {
			return &c.Channels[i]
		}
	}
	return nil
}

// strictUnmarshal decodes JSON refusing what could mean different things to
// different decoders: two members of one object whose names differ only in
// case (Go matches names without regard to case and keeps the last), and
// anything after the value. Unknown members are ignored, for later formats.
func strictUnmarshal(b []byte, v any) error {
	if err := checkDuplicates(b); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// checkDuplicates walks the JSON tokens, refusing case-folded duplicate
// member names and nesting deeper than 32.
func checkDuplicates(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	type frame struct {
		obj   bool
		names map[string]bool
		key   bool // the next token of an object is a name
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.key {
			name, ok := tok.(string)
			if !ok {
				if d, ok := tok.(json.Delim); ok && d == '}' {
					stack = stack[:len(stack)-1]
					if len(stack) > 0 && stack[len(stack)-1].obj {
						stack[len(stack)-1].key = true
					}
					continue
				}
				return errors.New("malformed object")
			}
			f := strings.ToLower(name)
			if top.names[f] {
				return fmt.Errorf("member %q appears twice", name)
			}
			top.names[f] = true
			top.key = false
			continue
		}
		switch d := tok.(type) {
		case json.Delim:
			switch d {
			case '{', '[':
				if len(stack) >= 32 {
					return errors.New("nested deeper than 32")
				}
				stack = append(stack, &frame{obj: d == '{', names: map[string]bool{}, key: d == '{'})
				continue
			case '}', ']':
				stack = stack[:len(stack)-1]
			}
		}
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].key = true
		}
	}
}
