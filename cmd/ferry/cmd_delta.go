package main

import (
	"context"
	"fmt"

	"ferry/internal/archive"
	"ferry/internal/delta"
	"ferry/internal/edition"
	"ferry/internal/key"
	"ferry/internal/progress"
	"ferry/internal/trust"
)

func init() {
	register(&command{name: "delta", summary: "make a delta archive: only what changed since a base edition", run: runDelta})
}

func runDelta(ctx context.Context, args []string) error {
	fs := newFlags("delta", "OLD [DELTA...] NEW -o OUT -k NAME.key [--cert FILE]...", `
Writes OUT, a signed delta archive holding the entries of NEW that are new
or changed since OLD, and the paths NEW removed. OLD may be followed by the
deltas already published on top of it (oldest first); OUT then builds on
the last of them. A library with the base and OUT presents NEW.`)
	var keys, certs stringList
	fs.Var(&keys, "k", "secret key file (repeat to add signatures)")
	fs.Var(&certs, "cert", "certificate or revocation file to carry (default: NEW's)")
	out := fs.String("o", "", "delta archive to write (required)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 || *out == "" || len(keys) == 0 {
		return usagef("give OLD and NEW archives, -o OUT and -k NAME.key")
	}
	signers, err := loadSecrets(keys)
	if err != nil {
		return err
	}
	base, closeBase, err := openChain(pos[:len(pos)-1])
	if err != nil {
		return err
	}
	defer closeBase()
	next, closeNext, err := openChain(pos[len(pos)-1:])
	if err != nil {
		return err
	}
	defer closeNext()
	opts := delta.Options{Signers: signers}
	if len(certs) > 0 {
		if opts.Extra, err = trust.ExtraFromFiles(certs...); err != nil {
			return err
		}
	}
	sum, err := delta.MakeFile(ctx, base, next, *out, opts)
	if err != nil {
		return err
	}
	fmt.Printf("wrote %s: %s edition %d on edition %d: %d added, %d changed, %d removed, %d unchanged; %s\n",
		*out, sum.Manifest.Channel, sum.Manifest.Edition, sum.Manifest.Base.Edition, sum.Added, sum.Changed,
		sum.Removed, sum.Unchanged, progress.Bytes(sum.ArchiveBytes))
	return nil
}

func loadSecrets(files []string) ([]*key.Secret, error) {
	var out []*key.Secret
	for _, f := range files {
		s, err := key.LoadSecret(f)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// openChain opens archive files (a full edition and its deltas) as a view.
func openChain(paths []string) (*edition.View, func(), error) {
	var rs []*archive.Reader
	closeAll := func() {
		for _, r := range rs {
			r.Close()
		}
	}
	for _, p := range paths {
		r, err := archive.OpenFile(p)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		rs = append(rs, r)
	}
	v, err := edition.Open(rs...)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return v, closeAll, nil
}
