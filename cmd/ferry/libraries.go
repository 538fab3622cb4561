package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"ferry/internal/key"
	"ferry/internal/library"
	"ferry/internal/reader"
	"ferry/internal/source"
)

// readerLibraries opens what 'ferry serve' and 'ferry open' show: library
// folders (made by 'ferry import') as their channels, newest edition with
// deltas applied and trust decided by the library; other files and
// folders as plain archives. Files in those folders that are not archives
// but could become one (a ZIM, an EPUB) are named, with how to pack them.
// It returns the keys to show as trusted and a function that closes
// everything.
func readerLibraries(t *terminal, paths []string, allowUntrusted bool) ([]reader.Library, []key.Public, func(), error) {
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
			sayUnpacked(t, p)
			continue
		}
		o, err := library.Open(p, library.OpenOptions{AllowUntrusted: allowUntrusted})
		if err != nil {
			closeAll()
			return nil, nil, nil, err
		}
		closers = append(closers, o.Close)
		for _, ch := range o.Channels {
			l := reader.Library{Name: ch.Name, Path: filepath.Join(p, ch.Name), LibraryDir: p}
			switch {
			case ch.Err != nil:
				l.Err = ch.Err
			case ch.View == nil:
				// Not damaged: the home page says so and shows the
				// signers' fingerprints to compare with the publisher's.
				l.Err = fmt.Errorf("not shown: %s; to trust its publisher run: %s (or serve with --allow-untrusted)", ch.Reason, ch.TrustCommand)
				l.Untrusted, l.Signers = true, ch.Signers
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

// sayUnpacked names the files of a served folder that are sources, not
// archives: the reader shows only archives, whose every byte is checked
// against a publisher's signature, so a ZIM dropped in is not shown.
func sayUnpacked(t *terminal, dir string) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	var found []string
	for _, e := range ents {
		if e.IsDir() || strings.HasSuffix(e.Name(), ".ferry") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if f, err := source.Detect(p); err == nil && f != source.FormatUnknown && f != source.FormatFolder {
			found = append(found, fmt.Sprintf("%s (%s)", e.Name(), strings.ToUpper(f.String())))
		}
	}
	sort.Strings(found)
	for _, f := range found {
		t.warnf("%s in %s is not shown: ferry shows only signed archives; make one with 'ferry pack -k KEY.key -o NAME.ferry FILE'", f, dir)
	}
}
