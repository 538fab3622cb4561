package reader

import (
	"bytes"
	"html"
	"strings"
)

// Content security policy does not cover navigation, nor the DNS look-ups
// and connections a page may ask for ahead of time. So before an archive's
// page (HTML, XHTML, SVG or other XML) is served, neutralize makes inert:
//
//   - every <meta http-equiv="refresh"> that would do more than reload
//     the page or go to a plain relative or root-relative path on this
//     reader (content="0; http://H/x" with no url=, entity-encoded
//     slashes, tabs and colons, and every other way a browser would
//     resolve to another host are refused, not resolved);
//   - every <link rel=dns-prefetch|preconnect|prerender|prefetch|preload>,
//     which reach other hosts outside the policy (or may);
//   - the src of an <iframe> or <frame> that is not a local path: the
//     policy's frame-src blocks the frame, but Chromium opens a
//     connection to its host before it checks; and every srcdoc;
//   - in XML documents, internal entity declarations, through which an
//     XML parser could expand markup that no scan of the bytes sees.
//
// It works on the bytes as a browser's tokenizer would see them at each
// '<' (quoted attribute values, entities in values, a '>' inside quotes,
// duplicated attributes, a prefix such as <h:meta> in XHTML), and it
// changes them in place without changing their length, replacing letters
// of attribute names by other letters or hyphens only, so no tag's extent
// or the page's structure can change: http-equiv becomes x-no-equiv, rel
// becomes x-l, src x-s, srcdoc x-srcd. Every '<' is looked at on its own, so a tag hidden inside
// another tag's attribute (where a browser might yet see it) is checked
// too.
func neutralize(page []byte, xml bool) {
	for from := 0; ; {
		i := bytes.IndexByte(page[from:], '<')
		if i < 0 {
			break
		}
		i += from
		from = i + 1
		name, attrs := scanTag(page, i)
		switch name {
		case "meta":
			if refreshTag(page, attrs) {
				for _, a := range attrs {
					if a.name(page) == "http-equiv" {
						copy(page[a.nameAt:], "x-no-equiv")
					}
				}
			}
		case "link":
			if hintTag(page, attrs) {
				for _, a := range attrs {
					if a.name(page) == "rel" {
						copy(page[a.nameAt:], "x-l")
					}
				}
			}
		case "iframe", "frame":
			// frame-src stops the frame, but Chromium connects to its
			// host first; srcdoc holds markup as an escaped value, which
			// this scan cannot see into.
			for _, a := range attrs {
				switch a.name(page) {
				case "src":
					if !localRef(string(a.val)) || !localRef(decoded(a.val)) {
						copy(page[a.nameAt:], "x-s")
					}
				case "srcdoc":
					copy(page[a.nameAt:], "x-srcd")
				}
			}
		}
	}
	if xml {
		// <!ENTITY becomes <!ENTITZ: the document no longer parses, which
		// is what a page that defines its own markup deserves here.
		for i := 0; ; {
			j := bytes.Index(page[i:], []byte("<!"))
			if j < 0 {
				break
			}
			i += j
			if len(page)-i >= 8 && bytes.EqualFold(page[i:i+8], []byte("<!entity")) {
				page[i+7] = 'Z'
			}
			i += 2
		}
	}
}

// attr is one attribute of a scanned tag: where its name is in the page
// and its raw value.
type attr struct {
	nameAt, nameLen int
	val             []byte
}

// name is the attribute's name, lower-cased in ASCII only (as the HTML
// tokenizer does), so a match always has the length of the name matched.
func (a attr) name(page []byte) string { return asciiLower(page[a.nameAt : a.nameAt+a.nameLen]) }

func asciiLower(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return string(out)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' }

// maxScanAttrs bounds the attributes looked at in one tag.
const maxScanAttrs = 64

// scanTag reads the start tag at page[at] ('<') the way the HTML
// tokenizer does and returns its lower-cased local name (after any
// "prefix:") and attributes; "" when no start tag begins there.
func scanTag(page []byte, at int) (string, []attr) {
	i := at + 1
	if i >= len(page) || !(page[i]|0x20 >= 'a' && page[i]|0x20 <= 'z') {
		return "", nil
	}
	start := i
	for i < len(page) && !isSpace(page[i]) && page[i] != '/' && page[i] != '>' {
		i++
	}
	nb := page[start:i]
	if c := bytes.LastIndexByte(nb, ':'); c >= 0 {
		nb = nb[c+1:]
	}
	if len(nb) < 4 || len(nb) > 6 {
		return "", nil // the common case, without allocating
	}
	name := asciiLower(nb)
	if name != "meta" && name != "link" && name != "iframe" && name != "frame" {
		return "", nil
	}
	var attrs []attr
	for i < len(page) && len(attrs) < maxScanAttrs {
		// Before an attribute name: white space and stray '/' are skipped.
		for i < len(page) && (isSpace(page[i]) || page[i] == '/') {
			i++
		}
		if i >= len(page) || page[i] == '>' {
			break
		}
		a := attr{nameAt: i}
		i++ // the first character is part of the name even if it is '='
		for i < len(page) && !isSpace(page[i]) && page[i] != '/' && page[i] != '>' && page[i] != '=' {
			i++
		}
		a.nameLen = i - a.nameAt
		for i < len(page) && isSpace(page[i]) {
			i++
		}
		if i < len(page) && page[i] == '=' {
			i++
			for i < len(page) && isSpace(page[i]) {
				i++
			}
			if i < len(page) && (page[i] == '"' || page[i] == '\'') {
				q := page[i]
				j := bytes.IndexByte(page[i+1:], q)
				if j < 0 {
					a.val = page[i+1:]
					i = len(page)
				} else {
					a.val = page[i+1 : i+1+j]
					i += j + 2
				}
			} else {
				s := i
				for i < len(page) && !isSpace(page[i]) && page[i] != '>' {
					i++
				}
				a.val = page[s:i]
			}
		}
		attrs = append(attrs, a)
	}
	return name, attrs
}

// decoded is an attribute value as the browser reads it: character
// references decoded, NUL as U+FFFD.
func decoded(v []byte) string {
	return strings.ReplaceAll(html.UnescapeString(string(v)), "\x00", "\uFFFD")
}

// refreshTag reports a meta tag that refreshes to anywhere but this page
// or a plain local path. A tag is a refresh if any of its http-equiv
// attributes says so; it is safe only if every content attribute is.
func refreshTag(page []byte, attrs []attr) bool {
	refresh := false
	for _, a := range attrs {
		if a.name(page) == "http-equiv" {
			for _, v := range []string{string(a.val), decoded(a.val)} {
				if strings.EqualFold(strings.Trim(v, " \t\n\f\r"), "refresh") {
					refresh = true
				}
			}
		}
	}
	if !refresh {
		return false
	}
	for _, a := range attrs {
		if a.name(page) == "content" {
			// Both the raw and the decoded value must be safe, so a
			// reference the browser reads differently from us cannot
			// slip through.
			if !safeRefresh(string(a.val)) || !safeRefresh(decoded(a.val)) {
				return true
			}
		}
	}
	return false
}

// safeRefresh parses a refresh's content as the HTML standard's shared
// declarative refresh steps do, and accepts it if it reloads the page or
// goes to a local path (localRef). Anything the browser would not act on
// is safe too.
func safeRefresh(c string) bool {
	const ws = " \t\n\f\r"
	i := 0
	skip := func(set string) {
		for i < len(c) && strings.IndexByte(set, c[i]) >= 0 {
			i++
		}
	}
	skip(ws)
	j := i
	skip("0123456789")
	if i == j && (i >= len(c) || c[i] != '.') {
		return true // no time: the browser does nothing
	}
	skip("0123456789.")
	if i >= len(c) {
		return true // a reload
	}
	if c[i] != ';' && c[i] != ',' && strings.IndexByte(ws, c[i]) < 0 {
		return true // not a refresh the browser acts on
	}
	skip(ws)
	if i < len(c) && (c[i] == ';' || c[i] == ',') {
		i++
	}
	skip(ws)
	if i >= len(c) {
		return true
	}
	// "url", white space, "=", white space: each optional in turn.
	if k := i; len(c)-k >= 3 && strings.EqualFold(c[k:k+3], "url") {
		k += 3
		for k < len(c) && strings.IndexByte(ws, c[k]) >= 0 {
			k++
		}
		if k < len(c) && c[k] == '=' {
			k++
			for k < len(c) && strings.IndexByte(ws, c[k]) >= 0 {
				k++
			}
			i = k
		}
	}
	u := c[i:]
	if u != "" && (u[0] == '"' || u[0] == '\'') {
		if e := strings.IndexByte(u[1:], u[0]); e >= 0 {
			u = u[1 : 1+e]
		} else {
			u = u[1:]
		}
	}
	return localRef(u)
}

// localRef accepts a URL that every browser resolves to a path on the
// same origin: after trimming what the URL parser trims, only characters
// of a plain path, query or fragment (no white space or control
// characters, which parsers drop or keep in ways that differ; no
// backslash, which special URLs read as a slash), not starting with two
// slashes, and no ':' before the first '/', '?' or '#' (which would make
// it a scheme). An empty URL reloads the page.
func localRef(u string) bool {
	u = strings.Trim(u, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
	if u == "" {
		return true
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c >= 0x80, c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~%!$&()*+,;=:@/?#", c) >= 0:
		default:
			return false
		}
	}
	if strings.HasPrefix(u, "//") {
		return false
	}
	end := strings.IndexAny(u, "/?#")
	if end < 0 {
		end = len(u)
	}
	return !strings.Contains(u[:end], ":")
}

// hintTag reports a <link> that asks the browser to look up or connect to
// a host ahead of time (CSP does not govern these).
func hintTag(page []byte, attrs []attr) bool {
	for _, a := range attrs {
		if a.name(page) != "rel" {
			continue
		}
		for _, v := range []string{string(a.val), decoded(a.val)} {
			for _, t := range strings.Fields(strings.ToLower(v)) {
				switch t {
				case "dns-prefetch", "preconnect", "prerender", "prefetch", "preload", "modulepreload":
					return true
				}
			}
		}
	}
	return false
}
