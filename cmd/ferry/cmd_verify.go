package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/key"
)

func init() {
	register(&command{name: "verify", usage: "[-q] [--trust NAME.pub]... ARCHIVE...",
		summary: "check every byte and the signature of archives",
		about: `
Reads every byte of each ARCHIVE and checks it against the publisher's
signed manifest, going on past a bad one so every ARCHIVE gets its verdict.
Exits 0 only if all are intact (and, with --trust, signed by one of the
trusted keys); otherwise 3 if any is damaged, truncated or tampered with,
4 if any has an unknown signer.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o verifyOptions
			trustFlag(fs, &o.Trust, "public key file (NAME.pub) the archives must be signed by (repeatable)")
			fs.BoolVar(&o.Quiet, "q", false, "print nothing but problems: no progress, no OK lines")
			return func(ctx context.Context, t *terminal, args []string) error { return runVerify(ctx, t, o, args) }
		}})
}

type verifyOptions struct {
	Trust stringList
	Quiet bool
}

func runVerify(ctx context.Context, t *terminal, o verifyOptions, args []string) error {
	if len(args) == 0 {
		return usagef("give the ARCHIVE to verify")
	}
	keys, err := key.LoadPublicFiles(o.Trust)
	if err != nil {
		return err
	}
	var errs []error
	for _, path := range args {
		err := verifyOne(ctx, t, path, keys, o.Quiet)
		if errors.Is(err, context.Canceled) {
			return err
		}
		if err != nil {
			if len(args) > 1 {
				fmt.Fprintf(t.err, "%s\n", oneLine(err))
			}
			errs = append(errs, err)
		}
	}
	switch {
	case len(errs) == 1 && len(args) == 1:
		return errs[0]
	case len(errs) > 0:
		// The worst verdict decides the exit status: damage over trust.
		joined := errors.Join(errs...)
		return fmt.Errorf("%d of %s failed: %w", len(errs), count(len(args), "archive"), firstOf(joined))
	}
	return nil
}

// firstOf keeps the class of the worst error of a joined list (damaged
// archives over unknown signers), for the exit status.
func firstOf(err error) error {
	var j interface{ Unwrap() []error }
	if !errors.As(err, &j) {
		return err
	}
	for _, e := range j.Unwrap() {
		if !errors.Is(e, errUntrusted) {
			return e
		}
	}
	return j.Unwrap()[0]
}

func verifyOne(ctx context.Context, t *terminal, path string, trusted []key.Public, quiet bool) error {
	r, err := openArchive(path)
	if err != nil {
		return err
	}
	defer r.Close()
	progress := func(done, total int64) {}
	if !quiet {
		bar := t.bar("verifying "+path, true)
		defer bar.Done()
		progress = bar.Update
	}
	if err := edition.Verify(ctx, r, progress); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(trusted) > 0 {
		ok := false
		for _, k := range trusted {
			ok = ok || r.SignedBy(k)
		}
		if !ok {
			return fmt.Errorf("%s: %w: signed by %s; if you trust this publisher, pass its .pub file with --trust",
				path, errUntrusted, signerList(r))
		}
	}
	if !quiet {
		m := r.Manifest()
		t.printf("%s: OK — %s edition %d, %s, signed by %s\n", path, m.Channel, m.Edition, count(m.Counts.Entries, "entry"), signerList(r))
	}
	return nil
}

func signerList(r *archive.Reader) string {
	var fps []string
	for _, s := range r.Signers() {
		fps = append(fps, s.Fingerprint())
	}
	return strings.Join(fps, ", ")
}
