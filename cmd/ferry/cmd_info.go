package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"ferry/internal/archive"
	"ferry/internal/progress"
)

func init() {
	register(&command{name: "info", summary: "show what an archive is (channel, edition, counts, signers)", run: runInfo})
	register(&command{name: "ls", summary: "list the entries of an archive", run: runLs})
	register(&command{name: "cat", summary: "write an entry's verified bytes to standard output", run: runCat})
}

func runInfo(ctx context.Context, args []string) error {
	fs := newFlags("info", "[--json] ARCHIVE", "Shows the archive's signed manifest: channel, edition, title, languages, counts and signers.")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("give one ARCHIVE")
	}
	r, err := archive.OpenFile(pos[0])
	if err != nil {
		return err
	}
	defer r.Close()
	m := r.Manifest()
	if *asJSON {
		var signers []map[string]string
		for _, s := range r.Signers() {
			signers = append(signers, map[string]string{"key": s.String(), "fingerprint": s.Fingerprint()})
		}
		out := map[string]any{"id": r.ID(), "size": r.Size(), "manifest": json.RawMessage(r.ManifestBytes()), "signers": signers}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Printf("title:       %s\nchannel:     %s\nedition:     %d\n", m.Title, m.Channel, m.Edition)
	if m.Description != "" {
		fmt.Printf("description: %s\n", m.Description)
	}
	fmt.Printf("languages:   %s\ncreated:     %s\n", strings.Join(m.Languages, ", "), m.Created.Format(time.RFC3339))
	if m.Publisher != "" {
		fmt.Printf("publisher:   %s\n", m.Publisher)
	}
	fmt.Printf("main page:   %s\n", m.MainPage)
	fmt.Printf("entries:     %d (%d articles, %d redirects) in %d clusters\n", m.Counts.Entries, m.Counts.Articles, m.Counts.Redirects, m.Counts.Clusters)
	fmt.Printf("size:        %s (input %s)\n", progress.Bytes(r.Size()), progress.Bytes(m.Counts.InputBytes))
	if m.Base != nil {
		fmt.Printf("delta of:    %s edition %d (%s), removes %d paths\n", m.Base.Channel, m.Base.Edition, m.Base.ID[:16], m.Counts.Removed)
	}
	fmt.Printf("id:          %s\n", r.ID())
	for _, s := range r.Signers() {
		fmt.Printf("signed by:   %s (%s)\n", s.Fingerprint(), s.String())
	}
	return nil
}

func runLs(ctx context.Context, args []string) error {
	fs := newFlags("ls", "[-l] ARCHIVE [PREFIX]", "Lists entry paths (in path order), optionally only those under PREFIX.")
	long := fs.Bool("l", false, "also show size, MIME type and title")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) < 1 || len(pos) > 2 {
		return usagef("give ARCHIVE and optionally a PREFIX")
	}
	r, err := archive.OpenFile(pos[0])
	if err != nil {
		return err
	}
	defer r.Close()
	prefix := ""
	if len(pos) == 2 {
		prefix = pos[1]
	}
	for i := 0; i < r.NumEntries(); i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		e, err := r.EntryAt(i)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(e.Path, prefix) {
			continue
		}
		if !*long {
			fmt.Println(e.Path)
			continue
		}
		if e.Redirect {
			t, err := r.Target(e)
			if err != nil {
				return err
			}
			fmt.Printf("%10s  %-28s %s -> %s\n", "-", "redirect", e.Path, t.Path)
			continue
		}
		fmt.Printf("%10d  %-28s %s", e.Size, e.MIME, e.Path)
		if e.Title != "" {
			fmt.Printf("  %q", e.Title)
		}
		fmt.Println()
	}
	return nil
}

func runCat(ctx context.Context, args []string) error {
	fs := newFlags("cat", "ARCHIVE PATH", "Writes the verified content of the entry at PATH to standard output (redirects are followed).")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("give ARCHIVE and PATH")
	}
	r, err := archive.OpenFile(pos[0])
	if err != nil {
		return err
	}
	defer r.Close()
	e, err := r.Lookup(pos[1])
	if err != nil {
		return err
	}
	sr, err := r.Open(e)
	if err != nil {
		return err
	}
	buf := make([]byte, 256<<10)
	for off := int64(0); off < sr.Size(); {
		n, err := sr.ReadAt(buf, off)
		if n > 0 {
			if _, werr := os.Stdout.Write(buf[:n]); werr != nil {
				return werr
			}
			off += int64(n)
		}
		if err != nil && off < sr.Size() {
			return err
		}
	}
	return nil
}
