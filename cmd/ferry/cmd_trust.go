package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"ferry/internal/key"
	"ferry/internal/library"
	"ferry/internal/trust"
)

func init() {
	register(&command{name: "trust", summary: "choose which publisher keys the library trusts; certify and revoke signing keys", run: runTrust})
}

const trustUsage = `Subcommands:
  trust add KEY... [--name LABEL] [--threshold K]   trust a publisher key (NAME.pub file or
                                                     ferry-pub-v1:... text); with several keys,
                                                     they are root keys of which K must agree
  trust list                                        list trusted keys and revoked keys
  trust remove FINGERPRINT|LABEL                    stop trusting a publisher
  trust certify -k ROOT.key... -o CERT SIGNING.pub  (publisher) certify a new signing key
  trust revoke -k ROOT.key... -o NOTICE SIGNING.pub (publisher) revoke a signing key
Put CERT and NOTICE files into archives with 'ferry pack --cert FILE'.`

func runTrust(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(os.Stderr, "Usage: ferry trust SUBCOMMAND [options]\n\n"+trustUsage)
		if len(args) == 0 {
			return usagef("give a subcommand")
		}
		return nil
	}
	switch args[0] {
	case "add":
		return trustAdd(args[1:])
	case "list":
		return trustList(args[1:])
	case "remove":
		return trustRemove(args[1:])
	case "certify", "revoke":
		return trustSign(args[0], args[1:])
	}
	return usagef("unknown trust subcommand %q (add, list, remove, certify, revoke)", args[0])
}

func libraryFlag(fs interface {
	String(name, value, usage string) *string
}) *string {
	return fs.String("library", library.DefaultDir(), "library folder ($FERRY_LIBRARY, else ./ferry-library)")
}

// loadKeyArg reads a public key from a NAME.pub file or its text form.
func loadKeyArg(arg string) (key.Public, string, error) {
	if strings.HasPrefix(arg, "ferry-pub-v1:") {
		return key.ParsePublic(arg)
	}
	return key.LoadPublic(arg)
}

func trustAdd(args []string) error {
	fs := newFlags("trust add", "KEY... [--name LABEL] [--threshold K] [--library DIR]", `
Trusts a publisher: archives signed by KEY (a NAME.pub file or the
ferry-pub-v1:... text an untrusted archive is listed with), or by a signing
key KEY certified, are served. Several KEYs are root keys of one publisher
of which --threshold must sign a certificate or revocation.`)
	lib := libraryFlag(fs)
	name := fs.String("name", "", "label for this publisher (default: the key file's label or fingerprint)")
	threshold := fs.Int("threshold", 1, "with several keys: how many must agree")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("give the publisher key to trust (NAME.pub)")
	}
	a := trust.Anchor{Label: *name, Threshold: *threshold}
	for _, p := range pos {
		k, label, err := loadKeyArg(p)
		if err != nil {
			return err
		}
		if a.Label == "" {
			a.Label = label
		}
		a.Keys = append(a.Keys, k)
	}
	if a.Label == "" {
		a.Label = a.Keys[0].Fingerprint()
	}
	l, unlock, err := library.LoadLocked(*lib, true)
	if err != nil {
		return err
	}
	defer unlock()
	if err := l.State.Trust.Add(a); err != nil {
		return err
	}
	if err := l.Save(); err != nil {
		return err
	}
	fmt.Printf("trusting %q (%d of %d keys): %s\n", a.Label, a.Threshold, len(a.Keys), fingerprints(a.Keys))
	return nil
}

func fingerprints(ks []key.Public) string {
	var s []string
	for _, k := range ks {
		s = append(s, k.Fingerprint())
	}
	return strings.Join(s, ", ")
}

func trustList(args []string) error {
	fs := newFlags("trust list", "[--library DIR]", "Lists the trusted publishers and the revoked signing keys.")
	lib := libraryFlag(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	l, err := library.Load(*lib, false)
	if err != nil {
		return err
	}
	if len(l.State.Trust.Anchors) == 0 {
		fmt.Println("no trusted keys; add one with 'ferry trust add NAME.pub'")
	}
	for _, a := range l.State.Trust.Anchors {
		fmt.Printf("%s\t%d of %d\t%s\n", a.Label, a.Threshold, len(a.Keys), fingerprints(a.Keys))
	}
	for _, r := range l.State.Trust.Revoked {
		if l.State.Trust.IsRevoked(r.Subject()) {
			fmt.Printf("revoked\t%s\t%s\n", r.Subject().Fingerprint(), r.Reason())
		}
	}
	return nil
}

func trustRemove(args []string) error {
	fs := newFlags("trust remove", "FINGERPRINT|LABEL [--library DIR]", "Stops trusting a publisher.")
	lib := libraryFlag(fs)
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give one fingerprint or label")
	}
	l, unlock, err := library.LoadLocked(*lib, false)
	if err != nil {
		return err
	}
	defer unlock()
	gone := l.State.Trust.Remove(pos[0])
	if len(gone) == 0 {
		return fmt.Errorf("no trusted key has fingerprint or label %q ('ferry trust list' shows them)", pos[0])
	}
	if err := l.Save(); err != nil {
		return err
	}
	for _, a := range gone {
		fmt.Printf("no longer trusting %q: %s\n", a.Label, fingerprints(a.Keys))
	}
	return nil
}

func trustSign(what string, args []string) error {
	fs := newFlags("trust "+what, "-k ROOT.key... -o FILE SIGNING.pub", `
For publishers: signs, with the root key(s), a statement that SIGNING.pub is
one of your signing keys (certify) or must no longer be trusted (revoke).
Put FILE into every archive with 'ferry pack --cert FILE': readers who
trust your root keys then accept (or refuse) that signing key offline.`)
	var roots stringList
	fs.Var(&roots, "k", "root secret key file (repeat for k-of-n roots)")
	out := fs.String("o", "", "statement file to write (required)")
	label := fs.String("name", "", "certify: a label for the signing key")
	reason := fs.String("reason", "", "revoke: why (e.g. stolen)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" || len(roots) == 0 {
		return usagef("give -k ROOT.key, -o FILE and one SIGNING.pub")
	}
	sub, _, err := loadKeyArg(pos[0])
	if err != nil {
		return err
	}
	var secs []*key.Secret
	for _, r := range roots {
		s, err := key.LoadSecret(r)
		if err != nil {
			return err
		}
		secs = append(secs, s)
	}
	var st trust.Statement
	if what == "certify" {
		st, err = trust.Certify(sub, *label, secs...)
	} else {
		st, err = trust.Revoke(sub, *reason, secs...)
	}
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if _, err := os.Stat(*out); err == nil {
		return errors.New(*out + " exists; choose another name")
	}
	if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %s of %s signed by %s\n", *out, st.Kind(), sub.Fingerprint(), fingerprints(publics(secs)))
	return nil
}

func publics(s []*key.Secret) []key.Public {
	var out []key.Public
	for _, k := range s {
		out = append(out, k.Public())
	}
	return out
}

// untrustedErr keeps err's message and makes main map it to exit status 4.
type untrustedErr struct{ err error }

func (e untrustedErr) Error() string   { return e.err.Error() }
func (e untrustedErr) Unwrap() []error { return []error{e.err, errUntrusted} }

func markTrust(err error) error {
	if err != nil && errors.Is(err, trust.ErrUntrusted) {
		return untrustedErr{err}
	}
	return err
}
