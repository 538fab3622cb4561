package harvest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// fileFor is where a URL's body goes under Out: HOST/PATH, with "index.html"
// for a path ending in '/', ".html" added to HTML pages whose names lack it,
// a short hash of the query before the extension, and an extension from the
// media type for other files that have none. Characters that Windows or
// shells choke on are %XX-escaped, and long segments shortened with a hash.
func fileFor(u *url.URL, html bool, ctype string) string {
	host := safeSegment(strings.ReplaceAll(u.Host, ":", "_"))
	p := u.Path
	if p == "" {
		p = "/"
	}
	dirPart := strings.HasSuffix(p, "/")
	p = path.Clean("/" + p)
	segs := strings.Split(strings.TrimPrefix(p, "/"), "/")
	if segs[0] == "" {
		segs = nil
	}
	if dirPart || len(segs) == 0 {
		segs = append(segs, "index.html")
	}
	for i, s := range segs {
		segs[i] = safeSegment(s)
	}
	name := segs[len(segs)-1]
	ext := path.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	if html {
		if e := strings.ToLower(ext); e != ".html" && e != ".htm" {
			stem, ext = name, ".html"
		}
	} else if ext == "" {
		ext = extFor(ctype)
	}
	if u.RawQuery != "" {
		stem += "_" + shortHash(u.RawQuery)
	}
	segs[len(segs)-1] = stem + ext
	return host + "/" + strings.Join(segs, "/")
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:4])
}

// safeSegment escapes what cannot be in a file name on the systems a card
// is read on, and keeps names short.
func safeSegment(s string) string {
	var sb strings.Builder
	for _, r := range s {
		switch {
		case r < ' ' || r == 0x7f || strings.ContainsRune(`<>:"\|?*%`, r):
			fmt.Fprintf(&sb, "%%%02X", r)
		default:
			sb.WriteRune(r)
		}
	}
	out := sb.String()
	if out == "." || out == ".." || out == "" {
		out = "_" + out
	}
	// Windows does not allow a name ending in a dot or space.
	if strings.HasSuffix(out, ".") || strings.HasSuffix(out, " ") {
		out += "_"
	}
	if len(out) > 120 {
		ext := path.Ext(out)
		if len(ext) > 10 {
			ext = ""
		}
		cut := 100
		for cut > 0 && !utf8Start(out[cut]) {
			cut--
		}
		out = out[:cut] + "_" + shortHash(out) + ext
	}
	return out
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

func extFor(ctype string) string {
	switch mediaType(ctype) {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "image/svg+xml":
		return ".svg"
	case "image/x-icon", "image/vnd.microsoft.icon":
		return ".ico"
	case "image/avif":
		return ".avif"
	case "text/css":
		return ".css"
	case "text/plain":
		return ".txt"
	case "application/pdf":
		return ".pdf"
	case "application/json", "application/feed+json":
		return ".json"
	case "application/xml", "text/xml", "application/rss+xml", "application/atom+xml":
		return ".xml"
	}
	return ""
}

// relPath is the relative URL path from the file from to the file to (both
// slash-separated paths under Out), escaped for an href.
func relPath(from, to string) string {
	f := strings.Split(from, "/")
	t := strings.Split(to, "/")
	f = f[:len(f)-1] // from's folder
	i := 0
	for i < len(f) && i < len(t)-1 && f[i] == t[i] {
		i++
	}
	var parts []string
	for range f[i:] {
		parts = append(parts, "..")
	}
	for _, s := range t[i:] {
		parts = append(parts, url.PathEscape(s))
	}
	rel := strings.Join(parts, "/")
	if strings.Contains(strings.SplitN(rel, "/", 2)[0], ":") {
		rel = "./" + rel // a first segment with ':' would read as a scheme
	}
	return rel
}

// render writes every item of the run to Out: pages, articles and feed
// indexes with their references made local, resources as they came.
func (r *run) render() error {
	// Give each item its file; on a clash the later URL gets a hash.
	taken := map[string]bool{}
	var order []*item
	for _, it := range r.items {
		order = append(order, it)
	}
	sortItems(order)
	for _, it := range order {
		u, _ := url.Parse(it.url)
		html := it.what == "page" || it.what == "article" || it.what == "feed"
		f := fileFor(u, html, it.ctype)
		if it.what == "feed" {
			f = strings.TrimSuffix(f, ".html") + ".feed.html"
		}
		for taken[strings.ToLower(f)] {
			ext := path.Ext(f)
			f = strings.TrimSuffix(f, ext) + "_" + shortHash(it.url+f) + ext
		}
		taken[strings.ToLower(f)] = true
		it.file = f
	}
	local := func(from string) func(*url.URL) (string, bool) {
		return func(u *url.URL) (string, bool) {
			s := u.String()
			for range 10 { // follow aliases (redirect chains), bounded
				if it := r.items[s]; it != nil {
					return relPath(from, it.file), true
				}
				next, ok := r.aliases[s]
				if !ok {
					break
				}
				s = next
			}
			return "", false
		}
	}
	var errs int
	var first error
	for _, it := range order {
		dst := filepath.Join(r.o.Out, filepath.FromSlash(it.file))
		err := os.MkdirAll(filepath.Dir(dst), 0o755)
		if err == nil {
			switch it.what {
			case "page", "article", "feed":
				var body []byte
				body, err = r.readCache(it.cache)
				if err == nil {
					if it.what == "page" {
						body = toUTF8(body, it.ctype)
					}
					u, _ := url.Parse(it.url)
					err = os.WriteFile(dst, rewrite(body, u, local(it.file)), 0o644)
				}
			case "download":
				// Large: a hard link where the file system allows.
				if err = os.Link(r.cachePath(it.cache), dst); err != nil {
					err = copyFile(r.cachePath(it.cache), dst)
				}
			default:
				err = copyFile(r.cachePath(it.cache), dst)
			}
		}
		if err != nil {
			errs++
			if first == nil {
				first = err
			}
			continue
		}
		r.sum.Pages = append(r.sum.Pages, Page{
			URL: it.url, File: it.file, Title: it.title, Type: mediaType(it.ctype),
			What: it.what, Source: it.source, Changed: it.changed,
		})
	}
	if errs > 0 {
		return fmt.Errorf("harvest: writing %d files to %s failed, the first: %w", errs, r.o.Out, first)
	}
	return nil
}

// sortItems orders items so that file names do not depend on fetch order:
// pages before articles before resources, then by URL.
func sortItems(items []*item) {
	rank := map[string]int{"page": 0, "feed": 1, "article": 2, "file": 3, "download": 4, "resource": 5}
	slices.SortFunc(items, func(a, b *item) int {
		if ra, rb := rank[a.what], rank[b.what]; ra != rb {
			return ra - rb
		}
		return strings.Compare(a.url, b.url)
	})
}
