package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/progress"
	"ferry/internal/reader"
	"ferry/internal/seal"
)

func init() {
	registerGroup(&group{name: "seal", summary: "make or fill a sealed container that looks like random bytes"})
	register(&command{name: "seal", usage: "--size SIZE -o FILE",
		summary: "make or fill a sealed container that looks like random bytes (seal add, seal list)",
		about: `
Creates a sealed container: a file of exactly SIZE bytes (e.g. 700MB, 4GiB)
that looks like random noise — no header, no name, nothing that says what
it is. It asks for two passphrases: the outer one opens a decoy library you
can show under pressure; the second (optional: press Enter to skip) opens a
hidden library whose existence nothing in the file reveals.

  ferry serve --sealed FILE        read it in the browser; nothing is written
                                   to disk in plain text

See docs/seal.md for what it protects against and its limits.`,
		flags: func(fs *flag.FlagSet) runFunc {
			var o sealOptions
			fs.StringVar(&o.Size, "size", "", "container size: bytes, or with a unit (KB, MB, GB decimal; KiB, MiB, GiB binary)")
			fs.StringVar(&o.Out, "o", "", "container file to create (must not exist)")
			return func(ctx context.Context, t *terminal, args []string) error { return runSeal(ctx, t, o, args) }
		}})
	register(&command{name: "seal add", usage: "FILE ARCHIVE...",
		summary: "verify archives and add them to the library a passphrase opens",
		about: `
Verifies each ARCHIVE and adds it to the library of the sealed container
FILE that your passphrase opens. It asks for both passphrases so that the
outer library never overwrites the hidden one.`,
		flags: func(fs *flag.FlagSet) runFunc {
			return func(ctx context.Context, t *terminal, args []string) error { return runSealAdd(ctx, t, args) }
		}})
	register(&command{name: "seal list", usage: "FILE",
		summary: "list the library a passphrase opens",
		about:   "Lists the archives in the library of FILE that your passphrase opens.",
		flags: func(fs *flag.FlagSet) runFunc {
			return func(ctx context.Context, t *terminal, args []string) error { return runSealList(ctx, t, args) }
		}})
}

type sealOptions struct{ Size, Out string }

func runSeal(ctx context.Context, t *terminal, o sealOptions, args []string) error {
	if o.Size == "" || o.Out == "" || len(args) > 0 {
		return usagef("give --size SIZE and -o FILE (or a subcommand: seal add, seal list)")
	}
	// Everything that can be checked is checked before a passphrase is asked.
	n, err := parseSize(o.Size)
	if err != nil {
		return usagef("--size: %v", err)
	}
	if err := seal.CheckSize(n); err != nil {
		return usagef("--size %s: a container is between %s and %s", o.Size, progress.Bytes(seal.MinSize), progress.Bytes(seal.MaxSize))
	}
	if _, err := os.Lstat(o.Out); err == nil {
		return fmt.Errorf("%s exists; a container is never written over: choose another name", o.Out)
	}
	if st, err := os.Stat(filepath.Dir(o.Out)); err != nil || !st.IsDir() {
		return fmt.Errorf("cannot create %s: the folder %s does not exist", o.Out, filepath.Dir(o.Out))
	}
	outer, err := readNewPassphrase(t, "outer (decoy) passphrase")
	if err != nil {
		return err
	}
	hidden, err := t.readPassphrase("hidden library passphrase (Enter for none): ")
	if err != nil {
		return err
	}
	if hidden != "" {
		warnWeak(t, hidden, "hidden")
		again, err := t.readPassphrase("hidden library passphrase again: ")
		if err != nil {
			return err
		}
		if again != hidden {
			return errors.New("the two hidden passphrases differ; nothing was created")
		}
	}
	fmt.Fprintf(t.err, "filling %s with random bytes and sealing (this takes a while for large sizes)...\n", progress.Bytes(n))
	if err := seal.Create(ctx, o.Out, n, outer, hidden); err != nil {
		return err
	}
	t.printf("created %s (%s)\n", o.Out, progress.Bytes(n))
	return nil
}

func runSealAdd(ctx context.Context, t *terminal, args []string) error {
	if len(args) < 2 {
		return usagef("give the container FILE and at least one ARCHIVE")
	}
	if err := mustExist(args[0]); err != nil {
		return err
	}
	for _, a := range args[1:] {
		r, err := openArchive(a)
		if err != nil {
			return err
		}
		err = edition.Verify(ctx, r, nil)
		r.Close()
		if err != nil {
			return fmt.Errorf("%s: %w (not added)", a, err)
		}
	}
	v, err := unlockForWriting(t, args[0])
	if err != nil {
		return err
	}
	defer v.Close()
	for _, a := range args[1:] {
		f, err := os.Open(a)
		if err != nil {
			return err
		}
		st, err := f.Stat()
		if err == nil {
			err = v.Add(filepath.Base(a), f, st.Size())
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("adding %s: %w", a, err)
		}
		t.printf("added %s\n", filepath.Base(a))
	}
	return nil
}

// mustExist says clearly that a container file is missing (or a folder),
// before any passphrase is asked.
func mustExist(file string) error { return seal.CheckContainer(file) }

// unlockForWriting asks for the passphrase of the library to write to and,
// whatever library that is, for a second one, so that the question itself
// reveals nothing. A hidden library never writes over the outer one; the
// outer library writes around the hidden one only when both are given.
func unlockForWriting(t *terminal, file string) (*seal.Volume, error) {
	first, err := t.readPassphrase("passphrase: ")
	if err != nil {
		return nil, err
	}
	second, err := t.readPassphrase("second passphrase, if any (Enter for none): ")
	if err != nil {
		return nil, err
	}
	v, err := seal.Unlock(file, first)
	if err == nil && second == "" {
		// Said whichever library opened, so the output reveals nothing.
		fmt.Fprintln(t.err, "note: without the second passphrase, writing to an outer library can overwrite a hidden one, if there is one")
	}
	if err != nil || v.Hidden() || second == "" {
		return v, err
	}
	v.Close()
	return seal.UnlockBoth(file, first, second)
}

func runSealList(ctx context.Context, t *terminal, args []string) error {
	if len(args) != 1 {
		return usagef("give the container FILE")
	}
	if err := mustExist(args[0]); err != nil {
		return err
	}
	pass, err := t.readPassphrase("passphrase: ")
	if err != nil {
		return err
	}
	v, err := seal.Unlock(args[0], pass)
	if err != nil {
		return err
	}
	defer v.Close()
	for _, f := range v.List() {
		t.printf("%12d  %s\n", f.Size, f.Name)
	}
	free, _ := v.Free()
	t.printf("free: %s\n", progress.Bytes(free))
	return nil
}

// sealedLibraries unlocks a sealed container and opens every archive in
// it, reading and decrypting on demand: no plaintext touches the disk.
func sealedLibraries(t *terminal, file string) ([]reader.Library, func(), error) {
	if err := mustExist(file); err != nil {
		return nil, nil, err
	}
	pass, err := t.readPassphrase("passphrase for " + filepath.Base(file) + ": ")
	if err != nil {
		return nil, nil, err
	}
	v, err := seal.Unlock(file, pass)
	if err != nil {
		return nil, nil, err
	}
	var libs []reader.Library
	for _, f := range v.List() {
		ra, size, err := v.Open(f.Name)
		lib := reader.Library{Name: strings.TrimSuffix(f.Name, filepath.Ext(f.Name)), Path: "sealed: " + f.Name, Err: err}
		if err == nil {
			if r, err := archive.Open(ra, size); err != nil {
				lib.Err = err
			} else if lib.Edition, lib.Err = edition.Of(r); lib.Err != nil {
				lib.Edition = nil
			}
		}
		libs = append(libs, lib)
	}
	if len(libs) == 0 {
		v.Close()
		return nil, nil, errors.New("the library this passphrase opens is empty: add archives with 'ferry seal add'")
	}
	return libs, func() { v.Close() }, nil
}

func readNewPassphrase(t *terminal, what string) (string, error) {
	p, err := t.readPassphrase(what + ": ")
	if err != nil {
		return "", err
	}
	if p == "" {
		return "", errors.New("the passphrase must not be empty")
	}
	warnWeak(t, p, what)
	again, err := t.readPassphrase(what + " again: ")
	if err != nil {
		return "", err
	}
	if again != p {
		return "", errors.New("the two passphrases differ; nothing was created")
	}
	return p, nil
}

// parseSize reads "4GiB", "700MB", "65536".
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return int64(f * mult), nil
}

// warnWeak warns about a passphrase that a guessing attack would find
// (seal.RatePassphrase): anyone who takes the file can try passphrases at
// leisure.
func warnWeak(t *terminal, pass, what string) {
	r := seal.RatePassphrase(pass)
	if r.Strength == seal.Strong {
		return
	}
	t.warnf("the %s is %s (about %.0f bits): %s", what, r.Strength, r.Bits, strings.Join(r.Advice, "; "))
}
