package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"

	"ferry/internal/progress"
	"ferry/internal/release"
	"ferry/internal/trust"
)

func init() {
	register(&command{name: "release", usage: "-k NAME.key -o DIR [--cert FILE]... [--target OS/ARCH]... [--version V]",
		summary: "(publisher) build ferry for every platform, reproducibly, with a signed checksum list",
		about: `
Builds ferry from the source tree in the current folder for each release
platform (Linux, Windows and macOS on amd64 and arm64; 32-bit Linux, ARM and
Windows; Android) into DIR, reproducibly: the same source gives the same
bytes on any machine (-trimpath, no build id, no paths, no cgo). Then writes
programs.sha256, the SHA-256 of each program, and programs.sig, its
signature by the publisher key(s), with the certificates given by --cert
(a signing key certified by your root is trusted wherever the root is).
'ferry export --with-programs DIR' puts
them on a card, checked against the signature; 'ferry import' checks them
again on the other side. Needs the Go toolchain. release/build.sh runs it.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o releaseOptions
			keyFlag(fs, &o.Keys)
			fs.StringVar(&o.Out, "o", "", "folder to write the programs to (required; made if missing)")
			fs.Var(&o.Certs, "cert", "key certificate or revocation file ('ferry trust certify/revoke') to carry (repeatable)")
			fs.Var(&o.Targets, "target", "build only this platform, e.g. linux/arm (repeatable; default: all)")
			fs.StringVar(&o.Version, "version", "", "version string the programs print (default: none)")
			return func(ctx context.Context, t *terminal, args []string) error { return runRelease(ctx, t, o, args) }
		}})
}

type releaseOptions struct {
	Keys, Targets, Certs stringList
	Out, Version         string
}

func runRelease(ctx context.Context, t *terminal, o releaseOptions, args []string) error {
	if o.Out == "" || len(o.Keys) == 0 || len(args) > 0 {
		return usagef("give -k NAME.key and -o DIR")
	}
	signers, err := loadSecrets(o.Keys)
	if err != nil {
		return err
	}
	extra, err := trust.ExtraFromFiles(o.Certs...)
	if err != nil {
		return err
	}
	targets := release.Targets
	if len(o.Targets) > 0 {
		targets = nil
		for _, s := range o.Targets {
			tg, err := release.ParseTarget(s)
			if err != nil {
				return usageError{err.Error()}
			}
			targets = append(targets, tg)
		}
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	var files []string
	bar := t.bar("building", false)
	for i, tg := range targets {
		f, err := release.Build(ctx, ".", "./cmd/ferry", o.Out, tg, o.Version)
		if err != nil {
			bar.Done()
			return err
		}
		files = append(files, f)
		bar.Update(int64(i+1), int64(len(targets)))
	}
	bar.Done()
	if err := release.Sign(o.Out, files, extra, signers...); err != nil {
		return err
	}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			return err
		}
		t.printf("%-28s %s\n", filepath.Base(f), progress.Bytes(st.Size()))
	}
	t.printf("wrote %s and %s in %s\n", release.ListFile, release.SigFile, o.Out)
	return nil
}

// releaseVersion is set by 'ferry release --version' through -X.
var releaseVersion string
