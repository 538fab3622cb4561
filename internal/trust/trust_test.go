package trust

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/corpus"
)

func newKey(t testing.TB) *key.Secret {
	k, err := key.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// packSite packs a few pages of our own writing (package corpus) signed by
// signer with the statements in its manifest, and returns the opened
// archive. What the pages say does not matter to trust: only the signers
// and the manifest's statements do.
func packSite(t testing.TB, edition uint64, signer *key.Secret, stmts ...Statement) *archive.Reader {
	t.Helper()
	site, err := corpus.Site(corpus.Options{Pages: 4, Seed: edition})
	if err != nil {
		t.Fatal(err)
	}
	src := folder.NewFS(site)
	extra, err := Extra(stmts...)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	info := archive.Info{Channel: "test", Edition: edition, Extra: extra}
	if _, err := pack.Pack(context.Background(), &buf, pack.Options{Info: info, Signers: []*key.Secret{signer},
		Sources: []pack.Source{{Source: src}}, NoIndex: true}); err != nil {
		t.Fatal(err)
	}
	r, err := archive.Open(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func check(t *testing.T, s *Store, r *archive.Reader) Decision {
	t.Helper()
	d, err := s.Check(r.Signers(), r.Manifest().Extra)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRotationAndRevocation(t *testing.T) {
	root, old, next, stranger := newKey(t), newKey(t), newKey(t), newKey(t)
	s := &Store{}
	if err := s.Add(Anchor{Label: "NGO", Keys: []key.Public{root.Public()}, Threshold: 1}); err != nil {
		t.Fatal(err)
	}
	certOld, _ := Certify(old.Public(), "2025 key", root)
	certNext, _ := Certify(next.Public(), "2026 key", root)

	// A device that knows only the root accepts both certified keys.
	if d := check(t, s, packSite(t, 1, old, certOld)); !d.Trusted || !d.Certified || d.Anchor != "NGO" {
		t.Fatalf("certified old key: %+v", d)
	}
	if d := check(t, s, packSite(t, 2, next, certNext, certOld)); !d.Trusted || d.Signer != next.Public() {
		t.Fatalf("certified new key: %+v", d)
	}
	// The root signing directly is trusted too.
	if d := check(t, s, packSite(t, 2, root)); !d.Trusted || d.Certified {
		t.Fatalf("root-signed: %+v", d)
	}
	// Uncertified key, and a certificate signed by someone else.
	d := check(t, s, packSite(t, 3, stranger))
	if d.Trusted || !strings.Contains(d.Reason, stranger.Public().Fingerprint()) {
		t.Fatalf("uncertified key: %+v", d)
	}
	selfCert, _ := Certify(stranger.Public(), "me", stranger)
	if d := check(t, s, packSite(t, 3, stranger, selfCert)); d.Trusted {
		t.Fatalf("self-certified key accepted: %+v", d)
	}

	// The old key is stolen: the root revokes it in the next edition.
	rev, _ := Revoke(old.Public(), "stolen", root)
	withRev := packSite(t, 4, next, certNext, rev)
	d = check(t, s, withRev)
	if !d.Trusted || len(d.NewRevocations) != 1 {
		t.Fatalf("edition with revocation: %+v", d)
	}
	s.Remember(d.NewRevocations...)
	if !s.IsRevoked(old.Public()) {
		t.Fatal("revocation not remembered")
	}
	// A later archive signed by the stolen key, carrying its old
	// certificate and no revocation, is refused.
	d = check(t, s, packSite(t, 5, old, certOld))
	if d.Trusted || !strings.Contains(d.Reason, "revoked") {
		t.Fatalf("revoked key accepted: %+v", d)
	}
	// The store survives a round trip through JSON (the library state).
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var s2 Store
	if err := json.Unmarshal(b, &s2); err != nil {
		t.Fatal(err)
	}
	if !s2.IsRevoked(old.Public()) || len(s2.Anchors) != 1 {
		t.Fatalf("store after JSON: %s", b)
	}
	// A revocation signed by the stolen key itself, or by a stranger, is ignored.
	fake, _ := Revoke(next.Public(), "", stranger)
	if d := check(t, s, packSite(t, 6, next, certNext, fake)); !d.Trusted || len(d.NewRevocations) != 0 {
		t.Fatalf("forged revocation: %+v", d)
	}
	if got := s.Remove("NGO"); len(got) != 1 || len(s.Anchors) != 0 {
		t.Fatalf("Remove by label: %v", got)
	}
}

func TestThreshold(t *testing.T) {
	r1, r2, r3, signer := newKey(t), newKey(t), newKey(t), newKey(t)
	s := &Store{}
	if err := s.Add(Anchor{Label: "board", Keys: []key.Public{r1.Public(), r2.Public(), r3.Public()}, Threshold: 2}); err != nil {
		t.Fatal(err)
	}
	one, _ := Certify(signer.Public(), "", r1)
	two, _ := Certify(signer.Public(), "", r1, r3)
	same, _ := Certify(signer.Public(), "", r2)
	same.Sigs = append(same.Sigs, same.Sigs[0]) // one root twice counts once
	if d := check(t, s, packSite(t, 1, signer, one)); d.Trusted {
		t.Fatal("1 of 3 roots accepted with threshold 2")
	}
	if d := check(t, s, packSite(t, 1, signer, same)); d.Trusted {
		t.Fatal("a repeated signature counted twice")
	}
	if d := check(t, s, packSite(t, 1, signer, two)); !d.Trusted {
		t.Fatalf("2 of 3 roots refused: %+v", d)
	}
	// A single root signing an archive directly is not enough either.
	if d := check(t, s, packSite(t, 1, r2)); d.Trusted {
		t.Fatal("one root of a 2-of-3 anchor trusted on its own")
	}
	revOne, _ := Revoke(signer.Public(), "", r2)
	revTwo, _ := Revoke(signer.Public(), "", r2, r1)
	if d := check(t, s, packSite(t, 2, signer, two, revOne)); !d.Trusted || len(d.NewRevocations) != 0 {
		t.Fatalf("revocation by 1 of 3 roots honoured: %+v", d)
	}
	if d := check(t, s, packSite(t, 2, signer, two, revTwo)); d.Trusted {
		t.Fatalf("revocation by 2 of 3 roots ignored: %+v", d)
	}
	if err := s.Add(Anchor{Label: "x", Keys: []key.Public{r1.Public()}, Threshold: 1}); err == nil {
		t.Fatal("a key trusted twice")
	}
}

// TestDomainSeparation: a signature over the body for another purpose (or
// with no prefix) does not make a valid statement.
func TestDomainSeparation(t *testing.T) {
	root, signer := newKey(t), newKey(t)
	a := Anchor{Keys: []key.Public{root.Public()}, Threshold: 1}
	c, _ := Certify(signer.Public(), "", root)
	bare := Statement{Body: c.Body, body: c.body, Sigs: []Sig{{root.Public(), root.Sign(c.Body)}}}
	if bare.ValidUnder(a) {
		t.Fatal("signature without the domain prefix accepted")
	}
	asRev := Statement{Body: c.Body, body: c.body, Sigs: []Sig{{root.Public(), root.Sign(append([]byte(revokePrefix), c.Body...))}}}
	if asRev.ValidUnder(a) {
		t.Fatal("revocation-prefixed signature accepted on a certificate")
	}
	if !c.ValidUnder(a) {
		t.Fatal("good certificate refused")
	}
	// Any change to the body breaks it.
	b, _ := json.Marshal(c)
	var back Statement
	if err := json.Unmarshal(b, &back); err != nil || !back.ValidUnder(a) {
		t.Fatalf("round trip: %v", err)
	}
	back.Body = bytes.Replace(back.Body, []byte(`"type"`), []byte(`"type" `), 1)
	if back.ValidUnder(a) {
		t.Fatal("changed body accepted")
	}
}

func TestBadExtra(t *testing.T) {
	s := &Store{}
	for _, raw := range []string{`{"certificates": 5}`, `{"certificates": [{"body": "!!", "signatures": []}]}`,
		`{"revocations": [{"body": "e30=", "signatures": [{"key": "x", "sig": ""}]}]}`} {
		var extra map[string]json.RawMessage
		if err := json.Unmarshal([]byte(raw), &extra); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Check(nil, extra); err == nil {
			t.Errorf("%s: accepted", raw)
		}
	}
}

func FuzzFromExtra(f *testing.F) {
	root, signer := newKey(f), newKey(f)
	c, _ := Certify(signer.Public(), "label", root)
	r, _ := Revoke(signer.Public(), "reason", root)
	extra, _ := Extra(c, r)
	for _, v := range extra {
		f.Add([]byte(v))
	}
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		s := &Store{Anchors: []Anchor{{Keys: []key.Public{root.Public()}, Threshold: 1}}}
		for _, name := range []string{ExtraCertificates, ExtraRevocations} {
			d, err := s.Check([]key.Public{signer.Public()}, map[string]json.RawMessage{name: b})
			if err != nil && d.Trusted {
				t.Fatal("trusted with an error")
			}
		}
	})
}
