package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/term"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/progress"
	"ferry/internal/reader"
	"ferry/internal/seal"
)

func init() {
	register(&command{name: "seal", summary: "make or fill a sealed container that looks like random bytes (seal add, seal list)", run: runSeal})
}

func runSeal(ctx context.Context, args []string) error {
	if len(args) > 0 {
		switch args[0] {
		case "add":
			return runSealAdd(ctx, args[1:])
		case "list":
			return runSealList(ctx, args[1:])
		}
	}
	fs := newFlags("seal", "--size SIZE -o FILE | seal add FILE ARCHIVE... | seal list FILE", `
Creates a sealed container: a file of exactly SIZE bytes (e.g. 700MB, 4GiB)
that looks like random noise — no header, no name, nothing that says what
it is. It asks for two passphrases: the outer one opens a decoy library you
can show under pressure; the second (optional: press Enter to skip) opens a
hidden library whose existence nothing in the file reveals.

  ferry seal add FILE ARCHIVE...   verify archives and add them to the library
                                   a passphrase opens (asks for both passphrases
                                   so that the outer library never overwrites
                                   the hidden one)
  ferry seal list FILE             list the library a passphrase opens
  ferry serve --sealed FILE        read it in the browser; nothing is written
                                   to disk in plain text

See docs/seal.md for what it protects against and its limits.`)
	size := fs.String("size", "", "container size: bytes, or with a unit (KB, MB, GB decimal; KiB, MiB, GiB binary)")
	out := fs.String("o", "", "container file to create (must not exist)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *size == "" || *out == "" || len(pos) > 0 {
		return usagef("give --size SIZE and -o FILE")
	}
	n, err := parseSize(*size)
	if err != nil {
		return usagef("--size: %v", err)
	}
	outer, err := readNewPassphrase("outer (decoy) passphrase")
	if err != nil {
		return err
	}
	hidden, err := readPassphrase("hidden library passphrase (Enter for none): ")
	if err != nil {
		return err
	}
	if hidden != "" {
		again, err := readPassphrase("hidden library passphrase again: ")
		if err != nil {
			return err
		}
		if again != hidden {
			return errors.New("the two hidden passphrases differ; nothing was created")
		}
	}
	fmt.Fprintf(os.Stderr, "filling %s with random bytes and sealing (this takes a while for large sizes)...\n", progress.Bytes(n))
	if err := seal.Create(*out, n, outer, hidden); err != nil {
		return err
	}
	fmt.Printf("created %s (%s)\n", *out, progress.Bytes(n))
	return nil
}

func runSealAdd(ctx context.Context, args []string) error {
	fs := newFlags("seal add", "FILE ARCHIVE...", "Verifies each ARCHIVE and adds it to the library of the sealed container FILE that your passphrase opens.")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usagef("give the container FILE and at least one ARCHIVE")
	}
	for _, a := range pos[1:] {
		r, err := archive.OpenFile(a)
		if err != nil {
			return err
		}
		err = edition.Verify(ctx, r, nil)
		r.Close()
		if err != nil {
			return fmt.Errorf("%s: %w (not added)", a, err)
		}
	}
	v, err := unlockForWriting(pos[0])
	if err != nil {
		return err
	}
	defer v.Close()
	for _, a := range pos[1:] {
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
		fmt.Printf("added %s\n", filepath.Base(a))
	}
	return nil
}

// unlockForWriting asks for the passphrase of the library to write to and,
// whatever library that is, for a second one, so that the question itself
// reveals nothing. A hidden library never writes over the outer one; the
// outer library writes around the hidden one only when both are given.
func unlockForWriting(file string) (*seal.Volume, error) {
	first, err := readPassphrase("passphrase: ")
	if err != nil {
		return nil, err
	}
	second, err := readPassphrase("second passphrase, if any (Enter for none): ")
	if err != nil {
		return nil, err
	}
	v, err := seal.Unlock(file, first)
	if err == nil && second == "" {
		// Said whichever library opened, so the output reveals nothing.
		fmt.Fprintln(os.Stderr, "note: without the second passphrase, writing to an outer library can overwrite a hidden one, if there is one")
	}
	if err != nil || v.Hidden() || second == "" {
		return v, err
	}
	v.Close()
	return seal.UnlockBoth(file, first, second)
}

func runSealList(ctx context.Context, args []string) error {
	fs := newFlags("seal list", "FILE", "Lists the archives in the library of FILE that your passphrase opens.")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give the container FILE")
	}
	pass, err := readPassphrase("passphrase: ")
	if err != nil {
		return err
	}
	v, err := seal.Unlock(pos[0], pass)
	if err != nil {
		return err
	}
	defer v.Close()
	for _, f := range v.List() {
		fmt.Printf("%12d  %s\n", f.Size, f.Name)
	}
	free, _ := v.Free()
	fmt.Printf("free: %s\n", progress.Bytes(free))
	return nil
}

// sealedLibraries unlocks a sealed container and opens every archive in
// it, reading and decrypting on demand: no plaintext touches the disk.
func sealedLibraries(file string) ([]reader.Library, func(), error) {
	pass, err := readPassphrase("passphrase for " + filepath.Base(file) + ": ")
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

var (
	stdinOnce sync.Once
	stdinBuf  *bufio.Reader
)

// readPassphrase reads one passphrase without echo on a terminal, or one
// line of standard input otherwise (for scripts).
func readPassphrase(prompt string) (string, error) {
	fd := int(os.Stdin.Fd())
	if term.IsTerminal(fd) {
		fmt.Fprint(os.Stderr, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		return string(b), err
	}
	stdinOnce.Do(func() { stdinBuf = bufio.NewReader(os.Stdin) })
	line, err := stdinBuf.ReadString('\n')
	if err != nil && line == "" {
		return "", fmt.Errorf("reading passphrase: %w", err)
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func readNewPassphrase(what string) (string, error) {
	p, err := readPassphrase(what + ": ")
	if err != nil {
		return "", err
	}
	if p == "" {
		return "", errors.New("the passphrase must not be empty")
	}
	again, err := readPassphrase(what + " again: ")
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
