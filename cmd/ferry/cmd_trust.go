package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"ferry/internal/atomicfile"
	"ferry/internal/key"
	"ferry/internal/library"
	"ferry/internal/trust"
)

func init() {
	registerGroup(&group{name: "trust", summary: "choose which publisher keys the library trusts; certify and revoke signing keys",
		about: `Readers choose whom to trust; publishers certify and revoke their signing
keys. Put certificates and revocations into archives with 'ferry pack --cert FILE'.`})
	register(&command{name: "trust add", usage: "KEY... [--name LABEL] [--threshold K] [--library DIR]",
		summary: "trust a publisher key (NAME.pub file or ferry-pub-v1:... text)",
		about: `
Trusts a publisher: archives signed by KEY (a NAME.pub file or the
ferry-pub-v1:... text an untrusted archive is listed with), or by a signing
key KEY certified, are served. Several KEYs are root keys of one publisher
of which --threshold must sign a certificate or revocation.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o trustAddOptions
			libraryFlag(fs, &o.Library)
			fs.StringVar(&o.Name, "name", "", "label for this publisher (default: the key file's label or fingerprint)")
			fs.IntVar(&o.Threshold, "threshold", 1, "with several keys: how many must agree")
			return func(ctx context.Context, t *terminal, args []string) error { return runTrustAdd(ctx, t, o, args) }
		}})
	register(&command{name: "trust list", usage: "[--library DIR]",
		summary: "list trusted keys and revoked keys",
		about:   "Lists the trusted publishers and the revoked signing keys.",
		flags: func(fs *flag.FlagSet) runFunc {
			var dir string
			libraryFlag(fs, &dir)
			return func(ctx context.Context, t *terminal, args []string) error { return runTrustList(ctx, t, dir, args) }
		}})
	register(&command{name: "trust remove", usage: "FINGERPRINT|LABEL [--library DIR]",
		summary: "stop trusting a publisher",
		about:   "Stops trusting a publisher.",
		flags: func(fs *flag.FlagSet) runFunc {
			var dir string
			libraryFlag(fs, &dir)
			return func(ctx context.Context, t *terminal, args []string) error { return runTrustRemove(ctx, t, dir, args) }
		}})
	for _, what := range []string{"certify", "revoke"} {
		register(&command{name: "trust " + what, usage: "-k ROOT.key... -o FILE SIGNING.pub",
			summary: map[string]string{"certify": "(publisher) certify a new signing key", "revoke": "(publisher) revoke a signing key"}[what],
			about: `
For publishers: signs, with the root key(s), a statement that SIGNING.pub is
one of your signing keys (certify) or must no longer be trusted (revoke).
Put FILE into every archive with 'ferry pack --cert FILE': readers who
trust your root keys then accept (or refuse) that signing key offline.`,
			flags: func(fs *flag.FlagSet) runFunc {
				var o trustSignOptions
				o.What = what
				keyFlag(fs, &o.Roots)
				fs.StringVar(&o.Out, "o", "", "statement file to write (required)")
				fs.StringVar(&o.Label, "name", "", "certify: a label for the signing key")
				fs.StringVar(&o.Reason, "reason", "", "revoke: why (e.g. stolen)")
				return func(ctx context.Context, t *terminal, args []string) error { return runTrustSign(ctx, t, o, args) }
			}})
	}
}

// loadKeyArg reads a public key from a NAME.pub file or its text form.
func loadKeyArg(arg string) (key.Public, string, error) {
	if strings.HasPrefix(arg, "ferry-pub-v1:") {
		return key.ParsePublic(arg)
	}
	return key.LoadPublic(arg)
}

type trustAddOptions struct {
	Library, Name string
	Threshold     int
}

func runTrustAdd(ctx context.Context, t *terminal, o trustAddOptions, args []string) error {
	if len(args) == 0 {
		return usagef("give the publisher key to trust (NAME.pub)")
	}
	a := trust.Anchor{Label: o.Name, Threshold: o.Threshold}
	for _, p := range args {
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
	l, unlock, err := lockLibrary(ctx, t, o.Library, true)
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
	t.printf("trusting %q (%d of %d keys): %s\n", a.Label, a.Threshold, len(a.Keys), fingerprints(a.Keys))
	return nil
}

func fingerprints(ks []key.Public) string {
	var s []string
	for _, k := range ks {
		s = append(s, k.Fingerprint())
	}
	return strings.Join(s, ", ")
}

func runTrustList(ctx context.Context, t *terminal, dir string, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	l, err := library.Load(dir, false)
	if err != nil {
		return err
	}
	if len(l.State.Trust.Anchors) == 0 {
		t.printf("no trusted keys; add one with 'ferry trust add NAME.pub'\n")
	}
	for _, a := range l.State.Trust.Anchors {
		t.printf("%s\t%d of %d\t%s\n", a.Label, a.Threshold, len(a.Keys), fingerprints(a.Keys))
	}
	for _, r := range l.State.Trust.Revoked {
		if l.State.Trust.IsRevoked(r.Subject()) {
			t.printf("revoked\t%s\t%s\n", r.Subject().Fingerprint(), r.Reason())
		}
	}
	return nil
}

func runTrustRemove(ctx context.Context, t *terminal, dir string, args []string) error {
	if len(args) != 1 {
		return usagef("give one fingerprint or label")
	}
	l, unlock, err := lockLibrary(ctx, t, dir, false)
	if err != nil {
		return err
	}
	defer unlock()
	gone := l.State.Trust.Remove(args[0])
	if len(gone) == 0 {
		return fmt.Errorf("no trusted key has fingerprint or label %q ('ferry trust list' shows them)", args[0])
	}
	if err := l.Save(); err != nil {
		return err
	}
	for _, a := range gone {
		t.printf("no longer trusting %q: %s\n", a.Label, fingerprints(a.Keys))
	}
	return nil
}

type trustSignOptions struct {
	What, Out, Label, Reason string
	Roots                    stringList
}

func runTrustSign(ctx context.Context, t *terminal, o trustSignOptions, args []string) error {
	if len(args) != 1 || o.Out == "" || len(o.Roots) == 0 {
		return usagef("give -k ROOT.key, -o FILE and one SIGNING.pub")
	}
	sub, _, err := loadKeyArg(args[0])
	if err != nil {
		return err
	}
	secs, err := loadSecrets(o.Roots)
	if err != nil {
		return err
	}
	var st trust.Statement
	if o.What == "certify" {
		st, err = trust.Certify(sub, o.Label, secs...)
	} else {
		st, err = trust.Revoke(sub, o.Reason, secs...)
	}
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if _, err := os.Stat(o.Out); err == nil {
		return errors.New(o.Out + " exists; choose another name")
	}
	if err := atomicfile.WriteFile(o.Out, append(b, '\n'), 0o644); err != nil {
		return err
	}
	t.printf("wrote %s: %s of %s signed by %s\n", o.Out, st.Kind(), sub.Fingerprint(), fingerprints(publics(secs)))
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
