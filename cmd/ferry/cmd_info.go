package main

import (
	"context"
	"encoding/json"
	"flag"
	"strings"
	"time"

	"ferry/internal/progress"
)

func init() {
	register(&command{name: "info", usage: "[--json] ARCHIVE",
		summary: "show what an archive is (channel, edition, counts, signers)",
		about:   "Shows the archive's signed manifest: channel, edition, title, languages, counts and signers.",
		flags: func(fs *flag.FlagSet) runFunc {
			var o infoOptions
			fs.BoolVar(&o.JSON, "json", false, "print JSON")
			return func(ctx context.Context, t *terminal, args []string) error { return runInfo(ctx, t, o, args) }
		}})
	register(&command{name: "ls", usage: "[-l] ARCHIVE [PREFIX]",
		summary: "list the entries of an archive",
		about:   "Lists entry paths (in path order), optionally only those under PREFIX.",
		flags: func(fs *flag.FlagSet) runFunc {
			var o lsOptions
			fs.BoolVar(&o.Long, "l", false, "also show size, MIME type and title")
			return func(ctx context.Context, t *terminal, args []string) error { return runLs(ctx, t, o, args) }
		}})
	register(&command{name: "cat", usage: "ARCHIVE PATH",
		summary: "write an entry's verified bytes to standard output",
		about:   "Writes the verified content of the entry at PATH to standard output (redirects are followed).",
		flags: func(fs *flag.FlagSet) runFunc {
			return func(ctx context.Context, t *terminal, args []string) error { return runCat(ctx, t, args) }
		}})
}

type infoOptions struct{ JSON bool }

func runInfo(ctx context.Context, t *terminal, o infoOptions, args []string) error {
	if len(args) != 1 {
		return usagef("give one ARCHIVE")
	}
	r, err := openArchive(args[0])
	if err != nil {
		return err
	}
	defer r.Close()
	m := r.Manifest()
	if o.JSON {
		var signers []map[string]string
		for _, s := range r.Signers() {
			signers = append(signers, map[string]string{"key": s.String(), "fingerprint": s.Fingerprint()})
		}
		out := map[string]any{"id": r.ID(), "size": r.Size(), "manifest": json.RawMessage(r.ManifestBytes()), "signers": signers}
		enc := json.NewEncoder(t.out)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	t.printf("title:       %s\nchannel:     %s\nedition:     %d\n", m.Title, m.Channel, m.Edition)
	if m.Description != "" {
		t.printf("description: %s\n", m.Description)
	}
	t.printf("languages:   %s\ncreated:     %s\n", strings.Join(m.Languages, ", "), m.Created.Format(time.RFC3339))
	if m.Publisher != "" {
		t.printf("publisher:   %s\n", m.Publisher)
	}
	t.printf("main page:   %s\n", m.MainPage)
	t.printf("entries:     %s (%s, %s) in %s\n", count(m.Counts.Entries, "entry"), count(m.Counts.Articles, "article"),
		count(m.Counts.Redirects, "redirect"), count(m.Counts.Clusters, "cluster"))
	t.printf("size:        %s (input %s)\n", progress.Bytes(r.Size()), progress.Bytes(m.Counts.InputBytes))
	if m.Base != nil {
		t.printf("delta of:    %s edition %d (%s), removes %s\n", m.Base.Channel, m.Base.Edition, short(m.Base.ID), count(m.Counts.Removed, "path"))
	}
	t.printf("id:          %s\n", r.ID())
	for _, s := range r.Signers() {
		t.printf("signed by:   %s (%s)\n", s.Fingerprint(), s.String())
	}
	return nil
}

func short(id string) string {
	if len(id) > 16 {
		return id[:16]
	}
	return id
}

type lsOptions struct{ Long bool }

func runLs(ctx context.Context, t *terminal, o lsOptions, args []string) error {
	if len(args) < 1 || len(args) > 2 {
		return usagef("give ARCHIVE and optionally a PREFIX")
	}
	r, err := openArchive(args[0])
	if err != nil {
		return err
	}
	defer r.Close()
	prefix := ""
	if len(args) == 2 {
		prefix = args[1]
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
		if !o.Long {
			t.printf("%s\n", e.Path)
			continue
		}
		if e.Redirect {
			tg, err := r.Target(e)
			if err != nil {
				return err
			}
			t.printf("%10s  %-28s %s -> %s\n", "-", "redirect", e.Path, tg.Path)
			continue
		}
		t.printf("%10d  %-28s %s", e.Size, e.MIME, e.Path)
		if e.Title != "" {
			t.printf("  %q", e.Title)
		}
		t.printf("\n")
	}
	return nil
}

func runCat(ctx context.Context, t *terminal, args []string) error {
	if len(args) != 2 {
		return usagef("give ARCHIVE and PATH")
	}
	r, err := openArchive(args[0])
	if err != nil {
		return err
	}
	defer r.Close()
	e, err := r.Lookup(args[1])
	if err != nil {
		return err
	}
	sr, err := r.Open(e)
	if err != nil {
		return err
	}
	w := t.bytesOut()
	buf := make([]byte, 256<<10)
	for off := int64(0); off < sr.Size(); {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := sr.ReadAt(buf, off)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
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
