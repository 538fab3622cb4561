package main

import (
	"fmt"
	"os"
	"path/filepath"

	"ferry/internal/key"
	"ferry/internal/library"
	"ferry/internal/reader"
)

// readerLibraries opens what 'ferry serve' and 'ferry open' show: library
// folders (made by 'ferry import') as their channels, newest edition with
// deltas applied and trust decided by the library; other files and
// folders as plain archives. It returns the keys to show as trusted and a
// function that closes everything.
func readerLibraries(paths []string, allowUntrusted bool) ([]reader.Library, []key.Public, func(), error) {
	var libs []reader.Library
	var trusted []key.Public
	var closers []func() error
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	var plain []string
	for _, p := range paths {
		if _, err := os.Stat(filepath.Join(p, library.StateFile)); err != nil {
			plain = append(plain, p)
			continue
		}
		o, err := library.Open(p, library.OpenOptions{AllowUntrusted: allowUntrusted})
		if err != nil {
			closeAll()
			return nil, nil, nil, err
		}
		closers = append(closers, o.Close)
		for _, ch := range o.Channels {
			l := reader.Library{Name: ch.Name, Path: filepath.Join(p, ch.Name)}
			switch {
			case ch.Err != nil:
				l.Err = ch.Err
			case ch.View == nil:
				l.Err = fmt.Errorf("not shown: %s; to trust its publisher run: %s (or serve with --allow-untrusted)", ch.Reason, ch.TrustCommand)
			default:
				l.Edition = ch.View
				if ch.Trusted {
					trusted = append(trusted, ch.Signers...)
				}
			}
			libs = append(libs, l)
		}
	}
	if len(plain) > 0 {
		more, err := reader.OpenPaths(plain)
		if err != nil {
			reader.Close(more)
			closeAll()
			return nil, nil, nil, err
		}
		libs = append(libs, more...)
		closers = append(closers, func() error { return reader.Close(more) })
	}
	return libs, trusted, closeAll, nil
}
