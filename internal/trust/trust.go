// Package trust decides whether a library may show an archive: whether its
// signer is a key the reader chose to trust, directly or through a
// certificate signed by the publisher's root key(s), and whether that key
// has been revoked. Certificates and revocations are small signed
// statements that travel inside every archive's manifest (members
// "certificates" and "revocations" of "extra"), so a device that only knows
// a publisher's root keys accepts a new signing key offline. The formats
// are specified in docs/library.md.
package trust

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"ferry/internal/key"
)

// Errors of this package; test with errors.Is.
var (
	// ErrFormat reports a malformed certificate or revocation.
	ErrFormat = errors.New("trust: malformed statement")
	// ErrUntrusted reports an archive signed by no trusted, unrevoked key.
	ErrUntrusted = errors.New("trust: not signed by a trusted key")
)

// Statement kinds and the prefixes of their signed messages. Each kind has
// its own prefix, and none equals the archive manifest's, so a signature
// made for one purpose is never valid for another.
const (
	KindCertificate = "ferry-certificate"
	KindRevocation  = "ferry-revocation"

	certPrefix   = "ferry key certificate v1\x00"
	revokePrefix = "ferry key revocation v1\x00"

	// ExtraCertificates and ExtraRevocations are the manifest extra members.
	ExtraCertificates = "certificates"
	ExtraRevocations  = "revocations"

	maxStatements = 256
	maxBody       = 4096
	maxSigs       = 16
)

// Anchor is a publisher identity the reader trusts: one key (Threshold 1)
// or n root keys of which Threshold must agree.
type Anchor struct {
	Label     string       `json:"label"`
	Keys      []key.Public `json:"-"`
	Threshold int          `json:"threshold"`
}

type anchorJSON struct {
	Label     string   `json:"label"`
	Keys      []string `json:"keys"`
	Threshold int      `json:"threshold"`
}

// MarshalJSON writes keys in their public key file form.
func (a Anchor) MarshalJSON() ([]byte, error) {
	j := anchorJSON{Label: a.Label, Threshold: a.Threshold}
	for _, k := range a.Keys {
		j.Keys = append(j.Keys, k.String())
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (a *Anchor) UnmarshalJSON(b []byte) error {
	var j anchorJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if len(j.Keys) == 0 || len(j.Keys) > maxSigs || j.Threshold < 1 || j.Threshold > len(j.Keys) {
		return fmt.Errorf("%w: anchor %q has %d keys and threshold %d", ErrFormat, j.Label, len(j.Keys), j.Threshold)
	}
	*a = Anchor{Label: j.Label, Threshold: j.Threshold}
	for _, s := range j.Keys {
		k, _, err := key.ParsePublic(s)
		if err != nil {
			return err
		}
		a.Keys = append(a.Keys, k)
	}
	return nil
}

// Fingerprint names the anchor: its key's fingerprint, or for k-of-n roots
// the fingerprint of the first key.
func (a Anchor) Fingerprint() string {
	if len(a.Keys) == 0 {
		return ""
	}
	return a.Keys[0].Fingerprint()
}

func (a Anchor) has(k key.Public) bool {
	for _, x := range a.Keys {
		if x == k {
			return true
		}
	}
	return false
}

// Sig is one signature on a statement.
type Sig struct {
	Key key.Public
	Sig []byte
}

// Statement is a signed certificate or revocation. Body holds the exact
// signed JSON bytes.
type Statement struct {
	Body []byte
	Sigs []Sig

	body body
}

// body is the signed JSON object.
type body struct {
	Type   string `json:"type"`
	Key    string `json:"key"`
	Label  string `json:"label,omitempty"`
	Reason string `json:"reason,omitempty"`
}

type statementJSON struct {
	Body       string    `json:"body"`
	Signatures []sigJSON `json:"signatures"`
}

type sigJSON struct {
	Key string `json:"key"`
	Sig string `json:"sig"`
}

// Kind returns KindCertificate or KindRevocation.
func (s Statement) Kind() string { return s.body.Type }

// Subject returns the key the statement certifies or revokes.
func (s Statement) Subject() key.Public {
	k, _, _ := key.ParsePublic(s.body.Key)
	return k
}

// Label is the certificate's name for the key, Reason the revocation's.
func (s Statement) Label() string  { return s.body.Label }
func (s Statement) Reason() string { return s.body.Reason }

// MarshalJSON writes the wire form (docs/library.md).
func (s Statement) MarshalJSON() ([]byte, error) {
	j := statementJSON{Body: base64.StdEncoding.EncodeToString(s.Body), Signatures: []sigJSON{}}
	for _, g := range s.Sigs {
		j.Signatures = append(j.Signatures, sigJSON{Key: g.Key.String(), Sig: base64.StdEncoding.EncodeToString(g.Sig)})
	}
	return json.Marshal(j)
}

// UnmarshalJSON parses the wire form and checks its shape (not its
// signatures: see Valid).
func (s *Statement) UnmarshalJSON(b []byte) error {
	var j statementJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("%w: %v", ErrFormat, err)
	}
	bb, err := base64.StdEncoding.Strict().DecodeString(j.Body)
	if err != nil || len(bb) == 0 || len(bb) > maxBody {
		return fmt.Errorf("%w: body is not base64 of 1..%d bytes", ErrFormat, maxBody)
	}
	if len(j.Signatures) == 0 || len(j.Signatures) > maxSigs {
		return fmt.Errorf("%w: %d signatures (1..%d allowed)", ErrFormat, len(j.Signatures), maxSigs)
	}
	st := Statement{Body: bb}
	if err := json.Unmarshal(bb, &st.body); err != nil {
		return fmt.Errorf("%w: body: %v", ErrFormat, err)
	}
	if st.body.Type != KindCertificate && st.body.Type != KindRevocation {
		return fmt.Errorf("%w: unknown type %q", ErrFormat, st.body.Type)
	}
	if _, _, err := key.ParsePublic(st.body.Key); err != nil {
		return fmt.Errorf("%w: subject key: %v", ErrFormat, err)
	}
	for _, g := range j.Signatures {
		k, _, err := key.ParsePublic(g.Key)
		if err != nil {
			return fmt.Errorf("%w: signature key: %v", ErrFormat, err)
		}
		sig, err := base64.StdEncoding.Strict().DecodeString(g.Sig)
		if err != nil || len(sig) != 64 {
			return fmt.Errorf("%w: signature is not 64 bytes of base64", ErrFormat)
		}
		st.Sigs = append(st.Sigs, Sig{k, sig})
	}
	*s = st
	return nil
}

func (s Statement) message() []byte {
	p := certPrefix
	if s.body.Type == KindRevocation {
		p = revokePrefix
	}
	return append([]byte(p), s.Body...)
}

// ValidUnder reports whether at least a.Threshold distinct keys of a signed
// the statement with valid signatures.
func (s Statement) ValidUnder(a Anchor) bool {
	msg := s.message()
	seen := map[key.Public]bool{}
	for _, g := range s.Sigs {
		if !seen[g.Key] && a.has(g.Key) && g.Key.Verify(msg, g.Sig) {
			seen[g.Key] = true
		}
	}
	return len(seen) >= a.Threshold
}

func sign(b body, roots []*key.Secret) (Statement, error) {
	if len(roots) == 0 || len(roots) > maxSigs {
		return Statement{}, fmt.Errorf("trust: give 1..%d root keys to sign with", maxSigs)
	}
	raw, err := json.Marshal(b)
	if err != nil {
		return Statement{}, err
	}
	s := Statement{Body: raw, body: b}
	for _, r := range roots {
		s.Sigs = append(s.Sigs, Sig{r.Public(), r.Sign(s.message())})
	}
	return s, nil
}

// Certify makes a certificate, signed by the root keys, saying that
// signing is a signing key of their publisher.
func Certify(signing key.Public, label string, roots ...*key.Secret) (Statement, error) {
	return sign(body{Type: KindCertificate, Key: signing.String(), Label: label}, roots)
}

// Revoke makes a notice, signed by the root keys, that signing must no
// longer be trusted (for example because it was stolen).
func Revoke(signing key.Public, reason string, roots ...*key.Secret) (Statement, error) {
	return sign(body{Type: KindRevocation, Key: signing.String(), Reason: reason}, roots)
}

// Extra returns the manifest extra members carrying the statements, to put
// in archive.Info.Extra (or pack.Options.Info.Extra).
func Extra(stmts ...Statement) (map[string]json.RawMessage, error) {
	var certs, revs []Statement
	for _, s := range stmts {
		if s.Kind() == KindRevocation {
			revs = append(revs, s)
		} else {
			certs = append(certs, s)
		}
	}
	if len(certs) > maxStatements || len(revs) > maxStatements {
		return nil, fmt.Errorf("trust: at most %d certificates and %d revocations per archive", maxStatements, maxStatements)
	}
	out := map[string]json.RawMessage{}
	for name, list := range map[string][]Statement{ExtraCertificates: certs, ExtraRevocations: revs} {
		if len(list) == 0 {
			continue
		}
		b, err := json.Marshal(list)
		if err != nil {
			return nil, err
		}
		out[name] = b
	}
	return out, nil
}

// ReadFile reads one statement file (as written by 'ferry trust certify'
// or 'ferry trust revoke').
func ReadFile(path string) (Statement, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Statement{}, err
	}
	if len(b) > 64<<10 {
		return Statement{}, fmt.Errorf("%s: %w: file too large", path, ErrFormat)
	}
	var s Statement
	if err := json.Unmarshal(b, &s); err != nil {
		return Statement{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ExtraFromFiles reads statement files and returns the manifest extra
// members carrying them: what 'ferry pack --cert FILE' puts in an archive.
func ExtraFromFiles(paths ...string) (map[string]json.RawMessage, error) {
	var stmts []Statement
	for _, p := range paths {
		s, err := ReadFile(p)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, s)
	}
	return Extra(stmts...)
}

// FromExtra parses the statements carried in a manifest's extra members.
func FromExtra(extra map[string]json.RawMessage) (certs, revs []Statement, err error) {
	for _, name := range []string{ExtraCertificates, ExtraRevocations} {
		raw, ok := extra[name]
		if !ok {
			continue
		}
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, nil, fmt.Errorf("%w: extra %q is not a list: %v", ErrFormat, name, err)
		}
		if len(list) > maxStatements {
			return nil, nil, fmt.Errorf("%w: extra %q has %d statements (at most %d)", ErrFormat, name, len(list), maxStatements)
		}
		want := KindCertificate
		if name == ExtraRevocations {
			want = KindRevocation
		}
		for i, item := range list {
			var s Statement
			if err := json.Unmarshal(item, &s); err != nil {
				return nil, nil, fmt.Errorf("extra %q item %d: %w", name, i, err)
			}
			if s.Kind() != want {
				return nil, nil, fmt.Errorf("%w: extra %q item %d is a %s", ErrFormat, name, i, s.Kind())
			}
			if want == KindCertificate {
				certs = append(certs, s)
			} else {
				revs = append(revs, s)
			}
		}
	}
	return certs, revs, nil
}

// Store is what a reader trusts: anchors, and the revocations seen so far.
type Store struct {
	Anchors []Anchor    `json:"anchors"`
	Revoked []Statement `json:"revoked"`
}

// Add trusts an anchor. Adding keys already trusted under another anchor
// is refused, so labels stay unambiguous.
func (s *Store) Add(a Anchor) error {
	if len(a.Keys) == 0 || a.Threshold < 1 || a.Threshold > len(a.Keys) {
		return fmt.Errorf("trust: %d keys with threshold %d: the threshold must be between 1 and the number of keys", len(a.Keys), a.Threshold)
	}
	for _, k := range a.Keys {
		for _, b := range s.Anchors {
			if b.has(k) {
				return fmt.Errorf("trust: key %s is already trusted (as %q)", k.Fingerprint(), b.Label)
			}
		}
	}
	s.Anchors = append(s.Anchors, a)
	return nil
}

// Remove drops every anchor whose label equals name or one of whose keys
// has the fingerprint name (spaces ignored), and returns what it removed.
func (s *Store) Remove(name string) []Anchor {
	fp := strings.ReplaceAll(name, " ", "")
	var kept, gone []Anchor
	for _, a := range s.Anchors {
		match := a.Label == name
		for _, k := range a.Keys {
			match = match || (fp != "" && strings.ReplaceAll(k.Fingerprint(), " ", "") == fp)
		}
		if match {
			gone = append(gone, a)
		} else {
			kept = append(kept, a)
		}
	}
	s.Anchors = kept
	return gone
}

// IsRevoked reports whether k is revoked by a remembered notice that is
// valid under a trusted anchor.
func (s *Store) IsRevoked(k key.Public) bool {
	for _, r := range s.Revoked {
		if r.Subject() == k && s.validAnchor(r) != nil {
			return true
		}
	}
	return false
}

func (s *Store) validAnchor(st Statement) *Anchor {
	for i := range s.Anchors {
		if st.ValidUnder(s.Anchors[i]) {
			return &s.Anchors[i]
		}
	}
	return nil
}

// Decision is the outcome of Check.
type Decision struct {
	Trusted bool
	// Anchor is the label of the identity that vouches for the archive.
	Anchor string
	// Signer is the key that made it trusted; Certified says it was
	// certified by the anchor's roots rather than trusted directly.
	Signer    key.Public
	Certified bool
	// NewRevocations are valid revocations the archive carried that the
	// store did not know yet; the caller remembers them (Remember).
	NewRevocations []Statement
	// Reason says why the archive is not trusted.
	Reason string
}

// Check decides whether an archive signed by signers, with the given
// manifest extra, is trusted. It does not change the store.
func (s *Store) Check(signers []key.Public, extra map[string]json.RawMessage) (Decision, error) {
	certs, revs, err := FromExtra(extra)
	if err != nil {
		return Decision{}, err
	}
	var d Decision
	revoked := map[key.Public]bool{}
	for _, r := range s.Revoked {
		if s.validAnchor(r) != nil {
			revoked[r.Subject()] = true
		}
	}
	for _, r := range revs {
		if s.validAnchor(r) == nil {
			continue
		}
		if !revoked[r.Subject()] {
			d.NewRevocations = append(d.NewRevocations, r)
		}
		revoked[r.Subject()] = true
	}
	// Directly trusted keys: enough distinct signers of one anchor.
	for _, a := range s.Anchors {
		var n int
		var by key.Public
		for _, k := range dedup(signers) {
			if a.has(k) && !revoked[k] {
				n++
				by = k
			}
		}
		if n >= a.Threshold {
			d.Trusted, d.Anchor, d.Signer = true, a.Label, by
			return d, nil
		}
	}
	// Signing keys certified by an anchor's roots.
	for _, c := range certs {
		a := s.validAnchor(c)
		if a == nil {
			continue
		}
		sub := c.Subject()
		if revoked[sub] {
			continue
		}
		for _, k := range signers {
			if k == sub {
				d.Trusted, d.Anchor, d.Signer, d.Certified = true, a.Label, k, true
				return d, nil
			}
		}
	}
	var fps, rv []string
	for _, k := range dedup(signers) {
		fps = append(fps, k.Fingerprint())
		if revoked[k] {
			rv = append(rv, k.Fingerprint())
		}
	}
	switch {
	case len(rv) > 0:
		d.Reason = fmt.Sprintf("signing key %s was revoked by its publisher", strings.Join(rv, ", "))
	default:
		d.Reason = fmt.Sprintf("signed by %s, which is not a trusted key nor certified by one", strings.Join(fps, ", "))
	}
	return d, nil
}

// Remember stores revocations (deduplicated by body).
func (s *Store) Remember(revs ...Statement) {
	for _, r := range revs {
		dup := false
		for _, o := range s.Revoked {
			dup = dup || string(o.Body) == string(r.Body)
		}
		if !dup {
			s.Revoked = append(s.Revoked, r)
		}
	}
}

func dedup(ks []key.Public) []key.Public {
	out := append([]key.Public(nil), ks...)
	sort.Slice(out, func(i, j int) bool { return string(out[i][:]) < string(out[j][:]) })
	n := 0
	for i, k := range out {
		if i == 0 || k != out[n-1] {
			out[n] = k
			n++
		}
	}
	return out[:n]
}
