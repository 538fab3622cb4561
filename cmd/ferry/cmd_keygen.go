package main

import (
	"context"
	"flag"

	"ferry/internal/key"
)

func init() {
	register(&command{name: "keygen", usage: "-o NAME [--label TEXT]",
		summary: "make a publisher signing key pair",
		about: `
Writes NAME.key (the secret key, mode 0600: keep it safe and never share it)
and NAME.pub (one line, safe to publish: readers trust archives signed by it),
and prints the public key and its fingerprint. It never overwrites a key.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o keygenOptions
			fs.StringVar(&o.Out, "o", "", "base name of the key files to write (required)")
			fs.StringVar(&o.Label, "label", "", "a name for the publisher, stored in NAME.pub")
			return func(ctx context.Context, t *terminal, args []string) error { return runKeygen(ctx, t, o, args) }
		}})
}

type keygenOptions struct {
	Out, Label string
}

func runKeygen(ctx context.Context, t *terminal, o keygenOptions, args []string) error {
	if o.Out == "" || len(args) > 0 {
		return usagef("give the key name with -o NAME")
	}
	s, err := key.Generate()
	if err != nil {
		return err
	}
	if err := key.WriteFiles(o.Out, s, o.Label); err != nil {
		return err
	}
	p := s.Public()
	t.printf("%s\nfingerprint %s\nwrote %s.key (secret, keep it safe) and %s.pub (public)\n", p.String(), p.Fingerprint(), o.Out, o.Out)
	return nil
}
