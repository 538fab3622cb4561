package main

import (
	"context"
	"flag"
	"fmt"

	"ferry/internal/delta"
	"ferry/internal/edition"
	"ferry/internal/library"
	"ferry/internal/progress"
	"ferry/internal/trust"
)

func init() {
	register(&command{name: "compact", usage: "(BASE DELTA... | --library DIR --channel C) -o OUT -k NAME.key",
		summary: "fold a full edition and its deltas into one full edition",
		about: `
Writes OUT, one signed full edition equal to BASE with every DELTA applied
(oldest first), or to the newest edition of channel C in a library.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o compactOptions
			fs.Var(&o.Keys, "k", "secret key file (repeat to add signatures)")
			fs.Var(&o.Certs, "cert", "certificate or revocation file to carry (default: the newest archive's)")
			fs.BoolVar(&o.Force, "force", false, "replace OUT if it exists")
			fs.StringVar(&o.Out, "o", "", "archive to write (required)")
			fs.StringVar(&o.Lib, "library", "", "compact a channel of this library instead of files")
			fs.StringVar(&o.Channel, "channel", "", "with --library: the channel")
			return func(ctx context.Context, t *terminal, args []string) error { return runCompact(ctx, t, o, args) }
		}})
}

type compactOptions struct {
	Keys    stringList
	Certs   stringList
	Out     string
	Force   bool
	Lib     string
	Channel string
}

func runCompact(ctx context.Context, t *terminal, o compactOptions, args []string) error {
	if o.Out == "" || len(o.Keys) == 0 || (len(args) == 0) == (o.Lib == "") {
		return usagef("give BASE and DELTA files (or --library DIR --channel C), -o OUT and -k NAME.key")
	}
	if err := checkOutput(o.Out, o.Force); err != nil {
		return err
	}
	signers, err := loadSecrets(o.Keys)
	if err != nil {
		return err
	}
	var v *edition.View
	if o.Lib != "" {
		op, err := library.Open(o.Lib, library.OpenOptions{})
		if err != nil {
			return err
		}
		defer op.Close()
		c := op.Channel(o.Channel)
		if c == nil || c.View == nil {
			return fmt.Errorf("channel %q is not served by %s ('ferry library list' says why)", o.Channel, o.Lib)
		}
		v = c.View
	} else {
		var closeAll func()
		if v, closeAll, err = openChain(args); err != nil {
			return err
		}
		defer closeAll()
	}
	opts := delta.Options{Signers: signers}
	if len(o.Certs) > 0 {
		if opts.Extra, err = trust.ExtraFromFiles(o.Certs...); err != nil {
			return err
		}
	}
	sum, err := delta.CompactFile(ctx, v, o.Out, opts)
	if err != nil {
		return err
	}
	t.printf("wrote %s: %s edition %d, %d entries, %s\n", o.Out, sum.Manifest.Channel, sum.Manifest.Edition,
		sum.Entries, progress.Bytes(sum.ArchiveBytes))
	if sum.MarksPages > 0 {
		t.printf("glossary marks of %d pages kept (%s; %d found again)\n", sum.MarksPages, progress.Bytes(int64(sum.MarksBytes)), sum.MarksFound)
	}
	return nil
}
