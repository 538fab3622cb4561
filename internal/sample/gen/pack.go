package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"ferry/internal/archive"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
)

// Edition and date of the sample library; raise the edition when the
// content changes in a way readers should notice.
const (
	sampleEdition = 1
	sampleDate    = "2026-11-27T00:00:00Z"
)

// packSample packs dir/content into dir/sample.ferry, signed with
// dir/sample.key (made on first run; its public half is dir/sample.pub).
func packSample(dir string) error {
	keyPath := filepath.Join(dir, "sample")
	sk, err := key.LoadSecret(keyPath + ".key")
	if errors.Is(err, fs.ErrNotExist) {
		if sk, err = key.Generate(); err != nil {
			return err
		}
		if err := key.WriteFiles(keyPath, sk, "ferry sample publisher"); err != nil {
			return err
		}
		fmt.Println("made the sample key", keyPath+".key")
	} else if err != nil {
		return err
	}
	created, _ := time.Parse(time.RFC3339, sampleDate)
	src, err := folder.New(filepath.Join(dir, "content"))
	if err != nil {
		return err
	}
	out := filepath.Join(dir, "sample.ferry")
	sum, err := pack.PackFile(context.Background(), out, pack.Options{
		Info: archive.Info{
			Channel:     "ferry-sample",
			Edition:     sampleEdition,
			Title:       "ferry 견본 서고 · ferry sample library",
			Description: "How to read, search and stay safe with ferry, in Korean and English.",
			Languages:   []string{"ko", "en"},
			Created:     created,
			Publisher:   "ferry sample publisher",
			MainPage:    "index.html",
		},
		Signers: []*key.Secret{sk},
		Sources: []pack.Source{{Source: src}},
		Warn:    func(s string) { fmt.Fprintln(os.Stderr, "warning:", s) },
	})
	if err != nil {
		return fmt.Errorf("packing the sample: %w", err)
	}
	// PackFile makes a private file; the sample is public and committed.
	if err := os.Chmod(out, 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d entries, %d articles, %d bytes\n", out, sum.Entries, sum.Articles, sum.ArchiveBytes)
	return nil
}
