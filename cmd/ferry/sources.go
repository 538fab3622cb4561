package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"ferry/internal/pack"
	"ferry/internal/source"
	"ferry/internal/source/epub"
	"ferry/internal/source/feed"
	"ferry/internal/source/folder"
	"ferry/internal/source/warc"
	"ferry/internal/source/zim"
)

// openSources turns SOURCE arguments into pack sources with prefixes: none
// for a single source, else the source's file name without extensions.
func openSources(args []string) ([]pack.Source, error) {
	var out []pack.Source
	seen := map[string]bool{}
	for _, a := range args {
		p, prefix, explicit := a, "", false
		if _, err := os.Stat(a); err != nil {
			if i := strings.Index(a, "="); i >= 0 {
				prefix, p, explicit = a[:i], a[i+1:], true
			}
		}
		if !explicit && len(args) > 1 {
			prefix = sanitizePrefix(stem(filepath.Base(p)))
		}
		if seen[prefix] {
			return nil, usagef("two sources would share the prefix %q: name them with PREFIX=SOURCE", prefix)
		}
		seen[prefix] = true
		src, err := openSource(p)
		if err != nil {
			return nil, err
		}
		out = append(out, pack.Source{Prefix: prefix, Source: src})
	}
	return out, nil
}

func sanitizePrefix(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '/' || r == '\\' || r < ' ':
			b.WriteRune('_')
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 || s == "." || s == ".." {
		return "source"
	}
	return b.String()
}

// openSource recognises a source by its content (not only its name).
func openSource(p string) (source.Source, error) {
	f, err := source.Detect(p)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w (ferry packs folders, ZIM, WARC, RSS/Atom feeds and EPUB books)", p, err)
	}
	switch f {
	case source.FormatFolder:
		return folder.New(p)
	case source.FormatZIM:
		a, err := zim.OpenFile(p)
		if err != nil {
			return nil, err
		}
		// The ZIM's own checksum: refuse a damaged file before packing it.
		if err := a.Verify(context.Background()); err != nil {
			return nil, fmt.Errorf("%s: %w (the file is damaged: get a good copy)", p, err)
		}
		return zim.NewSource(a)
	case source.FormatWARC:
		return warc.Open(p)
	case source.FormatFeed:
		return feed.Open(p)
	case source.FormatEPUB:
		return epub.Open(p)
	}
	return nil, fmt.Errorf("source %s: %s files are not supported yet", p, f)
}

// describes reports whether a source carries its own title (e.g. a ZIM).
func describes(srcs []pack.Source) bool {
	for _, s := range srcs {
		if d, ok := s.Source.(source.Describer); ok && d.Metadata().Title != "" {
			return true
		}
	}
	return false
}

// stem drops known extensions: "iana.warc.gz" → "iana".
func stem(name string) string {
	for _, ext := range []string{".gz", ".warc", ".zim", ".epub", ".atom", ".rss", ".xml", ".ferry"} {
		name = strings.TrimSuffix(name, ext)
	}
	return name
}
