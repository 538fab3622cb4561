package main

import (
	"context"
	"fmt"

	"ferry/internal/key"
)

func init() {
	register(&command{name: "keygen", summary: "make a publisher signing key pair", run: runKeygen})
}

func runKeygen(ctx context.Context, args []string) error {
	fs := newFlags("keygen", "-o NAME [--label TEXT]", `
Writes NAME.key (the secret key, mode 0600: keep it safe and never share it)
and NAME.pub (one line, safe to publish: readers trust archives signed by it),
and prints the public key and its fingerprint.`)
	out := fs.String("o", "", "base name of the key files to write (required)")
	label := fs.String("label", "", "a name for the publisher, stored in NAME.pub")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *out == "" || len(pos) > 0 {
		return usagef("give the key name with -o NAME")
	}
	s, err := key.Generate()
	if err != nil {
		return err
	}
	if err := key.WriteFiles(*out, s, *label); err != nil {
		return err
	}
	p := s.Public()
	fmt.Println(p.String())
	fmt.Printf("fingerprint %s\nwrote %s.key (secret, keep it safe) and %s.pub (public)\n", p.Fingerprint(), *out, *out)
	return nil
}
