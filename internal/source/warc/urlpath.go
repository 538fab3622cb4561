package warc

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxSegment is the longest path segment kept as is. Longer ones (tracking
// query strings, base64 blobs) are cut and given a hash suffix, so they stay
// unique yet fit file systems that allow 255 bytes per name.
const maxSegment = 200

// IndexName is the file name given to URLs whose path ends in "/".
const IndexName = "index.html"

// URLPath maps an http or https URL to its entry path, as documented in
// docs/ingest.md: host (lower case, plus "_port" for a non-default port),
// then the percent-decoded, dot-resolved path segments; a path ending in "/"
// gets IndexName; a query is appended to the last segment after "@" in a
// safe encoded form. The scheme and fragment are dropped, so http and https
// captures of a page share one path. ok is false for other schemes and for
// URLs without a host.
func URLPath(u *url.URL) (p string, ok bool) {
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host := safeHost(u.Hostname())
	if host == "" {
		return "", false
	}
	if port := u.Port(); port != "" && !(scheme == "http" && port == "80") && !(scheme == "https" && port == "443") {
		host += "_" + safeHost(port)
	}
	raw := u.EscapedPath()
	var segs []string
	for _, s := range strings.Split(raw, "/") {
		switch seg := decodeSegment(s); seg {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, seg)
		}
	}
	// A path ending in "/", "/." or "/.." names a directory.
	if len(segs) == 0 || strings.HasSuffix(raw, "/") || strings.HasSuffix(raw, "/.") || strings.HasSuffix(raw, "/..") {
		segs = append(segs, IndexName)
	}
	if u.RawQuery != "" || u.ForceQuery {
		segs[len(segs)-1] += "@" + encodeQuery(u.RawQuery)
	}
	for i, s := range segs {
		segs[i] = shorten(s)
	}
	return host + "/" + strings.Join(segs, "/"), true
}

// safeHost keeps letters, digits, '.', '-' and '_' of a host name (lower
// case) and replaces anything else (the colons of an IPv6 literal, say) by
// '_'. A host made only of dots is refused.
func safeHost(h string) string {
	h = strings.ToLower(h)
	var b strings.Builder
	for _, r := range h {
		switch {
		case r == '.' || r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if strings.Trim(out, ".") == "" {
		return ""
	}
	return shorten(out)
}

// decodeSegment percent-decodes one escaped path segment. A segment that
// does not decode to valid UTF-8 without '/' or control characters keeps
// its escaped form (with upper-case hex), so the mapping stays one-to-one.
func decodeSegment(s string) string {
	d, err := url.PathUnescape(s)
	if err == nil && utf8.ValidString(d) && !strings.ContainsAny(d, "/\\") && !hasControl(d) {
		return d
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]) {
			b.WriteByte('%')
			b.WriteString(strings.ToUpper(s[i+1 : i+3]))
			i += 2
			continue
		}
		if c < 0x21 || c >= 0x7f || c == '%' || c == '\\' {
			writeEscaped(&b, c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// encodeQuery keeps a raw query's unreserved and sub-delim characters and
// existing %XX escapes, and escapes everything else ('/', '\\', '#',
// spaces, control and non-ASCII bytes, stray '%'), so the result is one
// path segment of printable ASCII.
func encodeQuery(q string) string {
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '%' && i+2 < len(q) && ishex(q[i+1]) && ishex(q[i+2]):
			b.WriteByte('%')
			b.WriteString(strings.ToUpper(q[i+1 : i+3]))
			i += 2
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("-._~!$&'()*+,;=:@", c) >= 0:
			b.WriteByte(c)
		default:
			writeEscaped(&b, c)
		}
	}
	return b.String()
}

func writeEscaped(b *strings.Builder, c byte) {
	const hexdig = "0123456789ABCDEF"
	b.WriteByte('%')
	b.WriteByte(hexdig[c>>4])
	b.WriteByte(hexdig[c&15])
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

// shorten cuts a segment longer than maxSegment bytes at a rune boundary
// and appends "~" and 16 hex digits of its SHA-256.
func shorten(s string) string {
	if len(s) <= maxSegment {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	cut := maxSegment - 17
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "~" + hex.EncodeToString(sum[:8])
}
