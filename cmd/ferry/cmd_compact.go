package main

import (
	"context"
	"fmt"

	"ferry/internal/delta"
	"ferry/internal/edition"
	"ferry/internal/library"
	"ferry/internal/progress"
	"ferry/internal/trust"
)

func init() {
	register(&command{name: "compact", summary: "fold a full edition and its deltas into one full edition", run: runCompact})
}

func runCompact(ctx context.Context, args []string) error {
	fs := newFlags("compact", "(BASE DELTA... | --library DIR --channel C) -o OUT -k NAME.key", `
Writes OUT, one signed full edition equal to BASE with every DELTA applied
(oldest first), or to the newest edition of channel C in a library.`)
	var keys, certs stringList
	fs.Var(&keys, "k", "secret key file (repeat to add signatures)")
	fs.Var(&certs, "cert", "certificate or revocation file to carry (default: the newest archive's)")
	out := fs.String("o", "", "archive to write (required)")
	lib := fs.String("library", "", "compact a channel of this library instead of files")
	channel := fs.String("channel", "", "with --library: the channel")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *out == "" || len(keys) == 0 || (len(pos) == 0) == (*lib == "") {
		return usagef("give BASE and DELTA files (or --library DIR --channel C), -o OUT and -k NAME.key")
	}
	signers, err := loadSecrets(keys)
	if err != nil {
		return err
	}
	var v *edition.View
	if *lib != "" {
		o, err := library.Open(*lib, library.OpenOptions{})
		if err != nil {
			return err
		}
		defer o.Close()
		c := o.Channel(*channel)
		if c == nil || c.View == nil {
			return fmt.Errorf("channel %q is not served by %s ('ferry library list' says why)", *channel, *lib)
		}
		v = c.View
	} else {
		var closeAll func()
		if v, closeAll, err = openChain(pos); err != nil {
			return err
		}
		defer closeAll()
	}
	opts := delta.Options{Signers: signers}
	if len(certs) > 0 {
		if opts.Extra, err = trust.ExtraFromFiles(certs...); err != nil {
			return err
		}
	}
	sum, err := delta.CompactFile(ctx, v, *out, opts)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s: %s edition %d, %d entries, %s\n", *out, sum.Manifest.Channel, sum.Manifest.Edition,
		sum.Entries, progress.Bytes(sum.ArchiveBytes))
	return nil
}
