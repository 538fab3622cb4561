package main

import (
	"context"
	"flag"

	"ferry/internal/delta"
	"ferry/internal/progress"
	"ferry/internal/trust"
)

func init() {
	register(&command{name: "delta", usage: "OLD [DELTA...] NEW -o OUT -k NAME.key [--cert FILE]...",
		summary: "make a delta archive: only what changed since a base edition",
		about: `
Writes OUT, a signed delta archive holding the entries of NEW that are new
or changed since OLD, and the paths NEW removed. OLD may be followed by the
deltas already published on top of it (oldest first); OUT then builds on
the last of them. A library with the base and OUT presents NEW.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o deltaOptions
			fs.Var(&o.Keys, "k", "secret key file (repeat to add signatures)")
			fs.Var(&o.Certs, "cert", "certificate or revocation file to carry (default: NEW's)")
			fs.BoolVar(&o.Force, "force", false, "replace OUT if it exists")
			fs.StringVar(&o.Out, "o", "", "delta archive to write (required)")
			return func(ctx context.Context, t *terminal, args []string) error { return runDelta(ctx, t, o, args) }
		}})
}

type deltaOptions struct {
	Keys  stringList
	Certs stringList
	Out   string
	Force bool
}

func runDelta(ctx context.Context, t *terminal, o deltaOptions, args []string) error {
	if len(args) < 2 || o.Out == "" || len(o.Keys) == 0 {
		return usagef("give OLD and NEW archives, -o OUT and -k NAME.key")
	}
	if err := checkOutput(o.Out, o.Force); err != nil {
		return err
	}
	signers, err := loadSecrets(o.Keys)
	if err != nil {
		return err
	}
	base, closeBase, err := openChain(args[:len(args)-1])
	if err != nil {
		return err
	}
	defer closeBase()
	next, closeNext, err := openChain(args[len(args)-1:])
	if err != nil {
		return err
	}
	defer closeNext()
	opts := delta.Options{Signers: signers}
	if len(o.Certs) > 0 {
		if opts.Extra, err = trust.ExtraFromFiles(o.Certs...); err != nil {
			return err
		}
	}
	sum, err := delta.MakeFile(ctx, base, next, o.Out, opts)
	if err != nil {
		return err
	}
	t.printf("wrote %s: %s edition %d on edition %d: %d added, %d changed, %d removed, %d unchanged; %s\n",
		o.Out, sum.Manifest.Channel, sum.Manifest.Edition, sum.Manifest.Base.Edition, sum.Added, sum.Changed,
		sum.Removed, sum.Unchanged, progress.Bytes(sum.ArchiveBytes))
	if sum.MarksPages > 0 {
		t.printf("glossary marks of %d pages kept (%s; %d found again)\n", sum.MarksPages, progress.Bytes(int64(sum.MarksBytes)), sum.MarksFound)
	}
	return nil
}
