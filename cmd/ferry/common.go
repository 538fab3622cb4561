package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"ferry/internal/archive"
	"ferry/internal/edition"
	"ferry/internal/key"
	"ferry/internal/library"
	"ferry/internal/source"
)

// libraryFlag declares --library, the library folder a command works on.
func libraryFlag(fs *flag.FlagSet, dir *string) {
	fs.StringVar(dir, "library", library.DefaultDir(), "library folder ($FERRY_LIBRARY, else ./ferry-library)")
}

// libraryPathsFlag declares --library, repeatable, for the commands that
// take library folders as PATH arguments (serve, open, static): the same
// spelling as the commands that work on one library.
func libraryPathsFlag(fs *flag.FlagSet, dirs *stringList) {
	fs.Var(dirs, "library", "a library folder to open, as if given as a PATH (repeatable)")
}

// trustFlag declares --trust, repeatable: public key files of publishers.
func trustFlag(fs *flag.FlagSet, files *stringList, usage string) {
	fs.Var(files, "trust", usage)
}

// keyFlag declares -k, repeatable: the secret keys that sign.
func keyFlag(fs *flag.FlagSet, files *stringList) {
	fs.Var(files, "k", "secret key file made by 'ferry keygen' (repeat to add signatures)")
}

// loadSecrets reads secret key files.
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

// openChain opens archive files (a full edition and its deltas, oldest
// first) as one edition.
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

// openArchive opens an archive file; a file of another kind (a ZIM, a
// folder, a book) is named as what it is instead of being called damaged.
func openArchive(path string) (*archive.Reader, error) {
	r, err := archive.OpenFile(path)
	if err == nil || !errors.Is(err, archive.ErrNotArchive) {
		return r, err
	}
	if st, serr := os.Stat(path); serr == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a folder, not an archive: give an archive file (a library folder is read with --library)", path)
	}
	if f, derr := source.Detect(path); derr == nil && f != source.FormatUnknown {
		return nil, fmt.Errorf("%s is a %s file, not a ferry archive: make an archive of it with 'ferry pack'", path, strings.ToUpper(f.String()))
	}
	if kind := fileKind(path); kind != "" {
		return nil, fmt.Errorf("%s is %s, not a ferry archive", path, kind)
	}
	// OpenFile's error names the path already.
	return nil, fmt.Errorf("%w (it does not start as a ferry archive: a different file, or one damaged at its start)", err)
}

// fileKind names what a file that is no archive recognisably is (a
// picture, a document, a program), from its first bytes; "" when its
// start says nothing (it may be an archive damaged at its start).
func fileKind(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	if n == 0 {
		return "an empty file"
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")), bytes.HasPrefix(head, []byte("MZ")):
		return "a program"
	case bytes.HasPrefix(head, []byte{0xfe, 0xed, 0xfa}), bytes.HasPrefix(head, []byte{0xcf, 0xfa, 0xed, 0xfe}):
		return "a program"
	}
	ct := http.DetectContentType(head)
	ct, _, _ = strings.Cut(ct, ";")
	switch {
	case ct == "application/octet-stream":
		return ""
	case strings.HasPrefix(ct, "image/"):
		return "a picture (" + ct + ")"
	case strings.HasPrefix(ct, "audio/"), strings.HasPrefix(ct, "video/"):
		return "a recording (" + ct + ")"
	case strings.HasPrefix(ct, "text/"):
		return "a text file (" + ct + ")"
	}
	return "a file of type " + ct
}

// lockLibrary is library.LoadLocked that says so when another ferry holds
// the library (an import running), instead of waiting in silence; Ctrl+C
// ends the wait.
func lockLibrary(ctx context.Context, t *terminal, dir string, create bool) (*library.Library, func(), error) {
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
		case <-time.After(time.Second):
			fmt.Fprintf(t.err, "waiting for another ferry to finish with the library %s (Ctrl+C to stop)…\n", dir)
		}
	}()
	return library.LoadLocked(ctx, dir, create)
}
