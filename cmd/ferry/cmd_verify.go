package main

import (
	"context"
	"fmt"
	"strings"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/key"
	"ferry/internal/progress"
)

func init() {
	register(&command{name: "verify", summary: "check every byte and the signature of an archive", run: runVerify})
}

func runVerify(ctx context.Context, args []string) error {
	fs := newFlags("verify", "[--trust NAME.pub]... ARCHIVE...", `
Reads every byte of each ARCHIVE and checks it against the publisher's
signed manifest. Exits 0 only if everything is intact (and, with --trust,
signed by one of the trusted keys); otherwise names what is wrong:
3 for a damaged, truncated or tampered archive, 4 for an unknown signer.`)
	var trust stringList
	fs.Var(&trust, "trust", "public key file (NAME.pub) the archive must be signed by (repeatable)")
	quiet := fs.Bool("q", false, "print nothing on success")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return usagef("give the ARCHIVE to verify")
	}
	var keys []key.Public
	for _, t := range trust {
		p, _, err := key.LoadPublic(t)
		if err != nil {
			return err
		}
		keys = append(keys, p)
	}
	for _, path := range pos {
		if err := verifyOne(ctx, path, keys, *quiet); err != nil {
			return err
		}
	}
	return nil
}

func verifyOne(ctx context.Context, path string, trusted []key.Public, quiet bool) error {
	r, err := archive.OpenFile(path)
	if err != nil {
		return err
	}
	defer r.Close()
	bar := progress.New("verifying "+path, true)
	err = edition.Verify(ctx, r, bar.Update)
	bar.Done()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(trusted) > 0 {
		ok := false
		for _, k := range trusted {
			ok = ok || r.SignedBy(k)
		}
		if !ok {
			var fps []string
			for _, s := range r.Signers() {
				fps = append(fps, s.Fingerprint())
			}
			return fmt.Errorf("%s: %w: signed by %s; if you trust this publisher, pass its .pub file with --trust",
				path, errUntrusted, strings.Join(fps, ", "))
		}
	}
	if !quiet {
		m := r.Manifest()
		fmt.Printf("%s: OK — %s edition %d, %d entries, signed by %s\n", path, m.Channel, m.Edition, m.Counts.Entries, signerList(r))
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
