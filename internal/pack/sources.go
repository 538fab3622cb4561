package pack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"ferry/internal/source"
	"ferry/internal/source/epub"
	"ferry/internal/source/feed"
	"ferry/internal/source/folder"
	"ferry/internal/source/warc"
	"ferry/internal/source/zim"
)

// ErrSources reports source arguments that cannot be packed together
// (two with the same prefix, the same source twice).
var ErrSources = errors.New("pack: sources")

// OpenSources turns SOURCE arguments — paths of folders and of ZIM, WARC,
// feed and EPUB files, each optionally written PREFIX=PATH — into pack
// sources: the format of each is recognised by its content (source.Detect)
// and opened by its package. A single source goes at the archive's root;
// with several, each goes under a prefix named after its file (PREFIX=
// chooses it, "=PATH" puts it at the root). A ZIM's checksum is checked
// first, so a damaged file is refused before anything is packed; ctx
// interrupts that check.
func OpenSources(ctx context.Context, args []string) ([]Source, error) {
	var out []Source
	prefixes := map[string]string{}
	paths := map[string]string{}
	for _, a := range args {
		p, prefix, explicit := a, "", false
		if _, err := os.Stat(a); err != nil {
			if i := strings.Index(a, "="); i >= 0 {
				prefix, p, explicit = a[:i], a[i+1:], true
			}
		}
		if !explicit && len(args) > 1 {
			prefix = sanitizePrefix(stem(filepath.Base(filepath.Clean(p))))
		}
		if abs, err := filepath.Abs(p); err == nil {
			if first, ok := paths[abs]; ok {
				return nil, fmt.Errorf("%w: %s is given twice (also as %s): it would be packed as two copies", ErrSources, p, first)
			}
			paths[abs] = p
		}
		if other, ok := prefixes[prefix]; ok {
			return nil, fmt.Errorf("%w: %s and %s would share the prefix %q: name them with PREFIX=SOURCE", ErrSources, other, p, prefix)
		}
		prefixes[prefix] = p
		src, err := Open(ctx, p)
		if err != nil {
			return nil, err
		}
		out = append(out, Source{Prefix: prefix, Source: src})
	}
	return out, nil
}

// Open recognises the source at path by its content and opens it.
func Open(ctx context.Context, path string) (source.Source, error) {
	f, err := source.Detect(path)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w (ferry packs folders, ZIM, WARC, RSS/Atom/JSON feeds and EPUB books)", path, err)
	}
	switch f {
	case source.FormatFolder:
		return folder.New(path)
	case source.FormatZIM:
		a, err := zim.OpenFile(path)
		if err != nil {
			return nil, err
		}
		// The ZIM's own checksum: refuse a damaged file before packing it.
		if err := a.Verify(ctx); err != nil {
			a.Close()
			if errors.Is(err, context.Canceled) {
				return nil, err
			}
			return nil, fmt.Errorf("%s: %w (the file is damaged: get a good copy)", path, err)
		}
		return zim.NewSource(a)
	case source.FormatWARC:
		return warc.Open(path)
	case source.FormatFeed:
		return feed.Open(path)
	case source.FormatEPUB:
		return epub.Open(path)
	}
	return nil, fmt.Errorf("source %s: %s files are not supported yet", path, f)
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

// stem drops known extensions: "iana.warc.gz" → "iana".
func stem(name string) string {
	for _, ext := range []string{".gz", ".warc", ".zim", ".epub", ".atom", ".rss", ".xml", ".json", ".ferry"} {
		name = strings.TrimSuffix(name, ext)
	}
	return name
}

// Describes reports whether a source carries its own title (e.g. a ZIM).
func Describes(srcs []Source) bool {
	for _, s := range srcs {
		if d, ok := s.Source.(source.Describer); ok && d.Metadata().Title != "" {
			return true
		}
	}
	return false
}
