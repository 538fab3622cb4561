package static

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Style sheets of exported pages are rewritten token by token, with a
// tokenizer that follows CSS Syntax Level 3 (escapes decoded in names,
// strings and URLs, comments, url() read as one token however it is
// spelled, \75 rl( included): a regular expression over the bytes let
// image-set("http://H/x" 1x) and escaped url() through.
//
//   - a url() whose address names an entry of the archive is pointed at
//     its file; one that is outside (see outside) becomes url("");
//   - a string inside any function (url("..."), image-set("..." 1x),
//     src("..."), and functions to come) or after @import is read as an
//     address by the same rules;
//   - properties that bind script to an element in old browsers
//     (behavior, -moz-binding) and IE's expression() are renamed, so no
//     browser reads them.

type cssTok struct {
	kind       cssKind
	start, end int    // the token's bytes
	val        string // decoded value of strings, URLs, names
}

type cssKind uint8

const (
	cssOther cssKind = iota
	cssSpace
	cssComment
	cssString
	cssBadString
	cssURL
	cssBadURL
	cssIdent
	cssFunction
	cssAtKeyword
	cssOpen  // ( [ {
	cssClose // ) ] }
	cssColon
	cssSemicolon
)

// cssTokenizer reads tokens from b.
type cssTokenizer struct {
	b []byte
	i int
}

func isNameStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isNameChar(c byte) bool { return isNameStart(c) || c >= '0' && c <= '9' || c == '-' }

func isHexDigit(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func cssSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' }

// validEscape reports a backslash at i that starts an escape.
func (t *cssTokenizer) validEscape(i int) bool {
	return i < len(t.b) && t.b[i] == '\\' && (i+1 >= len(t.b) || t.b[i+1] != '\n' && t.b[i+1] != '\r' && t.b[i+1] != '\f')
}

// startsName reports whether an identifier starts at i.
func (t *cssTokenizer) startsName(i int) bool {
	if i >= len(t.b) {
		return false
	}
	switch c := t.b[i]; {
	case c == '-':
		return i+1 < len(t.b) && (isNameStart(t.b[i+1]) || t.b[i+1] == '-') || t.validEscape(i+1)
	case isNameStart(c):
		return true
	case c == '\\':
		return t.validEscape(i)
	}
	return false
}

// escape decodes the escape after a backslash at t.i (already past it).
func (t *cssTokenizer) escape(out *strings.Builder) {
	if t.i >= len(t.b) {
		out.WriteRune(utf8.RuneError)
		return
	}
	if isHexDigit(t.b[t.i]) {
		j := t.i
		for j < len(t.b) && j-t.i < 6 && isHexDigit(t.b[j]) {
			j++
		}
		n, _ := strconv.ParseUint(string(t.b[t.i:j]), 16, 32)
		t.i = j
		if t.i < len(t.b) && cssSpaceByte(t.b[t.i]) {
			if t.b[t.i] == '\r' && t.i+1 < len(t.b) && t.b[t.i+1] == '\n' {
				t.i++
			}
			t.i++
		}
		r := rune(n)
		if n == 0 || n > utf8.MaxRune || r >= 0xD800 && r <= 0xDFFF {
			r = utf8.RuneError
		}
		out.WriteRune(r)
		return
	}
	r, size := utf8.DecodeRune(t.b[t.i:])
	t.i += size
	out.WriteRune(r)
}

// name reads an identifier's characters from t.i.
func (t *cssTokenizer) name() string {
	var out strings.Builder
	for t.i < len(t.b) {
		c := t.b[t.i]
		switch {
		case isNameChar(c):
			out.WriteByte(c)
			t.i++
		case t.validEscape(t.i):
			t.i++
			t.escape(&out)
		default:
			return out.String()
		}
	}
	return out.String()
}

func (t *cssTokenizer) next() (cssTok, bool) {
	if t.i >= len(t.b) {
		return cssTok{}, false
	}
	start := t.i
	c := t.b[t.i]
	tok := cssTok{kind: cssOther, start: start}
	switch {
	case c == '/' && t.i+1 < len(t.b) && t.b[t.i+1] == '*':
		end := bytes.Index(t.b[t.i+2:], []byte("*/"))
		if end < 0 {
			t.i = len(t.b)
		} else {
			t.i += end + 4
		}
		tok.kind = cssComment
	case cssSpaceByte(c):
		for t.i < len(t.b) && cssSpaceByte(t.b[t.i]) {
			t.i++
		}
		tok.kind = cssSpace
	case c == '"' || c == '\'':
		tok.kind, tok.val = t.str(c)
	case c == '@' && t.startsName(t.i+1):
		t.i++
		tok.kind, tok.val = cssAtKeyword, t.name()
	case t.startsName(t.i):
		n := t.name()
		tok.val = n
		if t.i < len(t.b) && t.b[t.i] == '(' {
			t.i++
			if strings.EqualFold(n, "url") {
				// url( followed by a quote is a function; otherwise the
				// whole url(...) is one token.
				j := t.i
				for j < len(t.b) && cssSpaceByte(t.b[j]) {
					j++
				}
				if j >= len(t.b) || t.b[j] != '"' && t.b[j] != '\'' {
					tok.kind, tok.val = t.url()
					break
				}
			}
			tok.kind = cssFunction
		} else {
			tok.kind = cssIdent
		}
	case c == '(' || c == '[' || c == '{':
		t.i++
		tok.kind = cssOpen
	case c == ')' || c == ']' || c == '}':
		t.i++
		tok.kind = cssClose
	case c == ':':
		t.i++
		tok.kind = cssColon
	case c == ';':
		t.i++
		tok.kind = cssSemicolon
	case c == '\\':
		// An invalid escape: a delimiter.
		t.i++
	default:
		_, size := utf8.DecodeRune(t.b[t.i:])
		t.i += size
	}
	tok.end = t.i
	return tok, true
}

// str reads a string token from t.i (the opening quote q).
func (t *cssTokenizer) str(q byte) (cssKind, string) {
	t.i++
	var out strings.Builder
	for t.i < len(t.b) {
		c := t.b[t.i]
		switch {
		case c == q:
			t.i++
			return cssString, out.String()
		case c == '\n' || c == '\r' || c == '\f':
			return cssBadString, out.String() // not consumed, as the standard says
		case c == '\\':
			if t.i+1 >= len(t.b) {
				t.i++
				continue
			}
			if n := t.b[t.i+1]; n == '\n' || n == '\f' || n == '\r' {
				t.i += 2
				if n == '\r' && t.i < len(t.b) && t.b[t.i] == '\n' {
					t.i++
				}
				continue
			}
			t.i++
			t.escape(&out)
		default:
			out.WriteByte(c)
			t.i++
		}
	}
	return cssString, out.String()
}

// url reads an unquoted url( token's rest from t.i.
func (t *cssTokenizer) url() (cssKind, string) {
	for t.i < len(t.b) && cssSpaceByte(t.b[t.i]) {
		t.i++
	}
	var out strings.Builder
	for t.i < len(t.b) {
		c := t.b[t.i]
		switch {
		case c == ')':
			t.i++
			return cssURL, out.String()
		case cssSpaceByte(c):
			for t.i < len(t.b) && cssSpaceByte(t.b[t.i]) {
				t.i++
			}
			if t.i >= len(t.b) || t.b[t.i] == ')' {
				if t.i < len(t.b) {
					t.i++
				}
				return cssURL, out.String()
			}
			t.badURL()
			return cssBadURL, ""
		case c == '"' || c == '\'' || c == '(' || c < 0x20 && c != '\t' || c == 0x7f:
			t.badURL()
			return cssBadURL, ""
		case c == '\\':
			if !t.validEscape(t.i) {
				t.badURL()
				return cssBadURL, ""
			}
			t.i++
			t.escape(&out)
		default:
			out.WriteByte(c)
			t.i++
		}
	}
	return cssURL, out.String()
}

// badURL consumes the rest of a bad url( token.
func (t *cssTokenizer) badURL() {
	for t.i < len(t.b) {
		switch t.b[t.i] {
		case ')':
			t.i++
			return
		case '\\':
			if t.validEscape(t.i) {
				t.i += 2
				continue
			}
		}
		t.i++
	}
}

// cssQuote writes s as a CSS string that no tokenizer reads otherwise.
func cssQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\' || r < 0x20 || r == 0x7f:
			b.WriteString(`\` + strconv.FormatInt(int64(r), 16) + " ")
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// rewriteCSS rewrites the references of a style sheet (see above).
func rewriteCSS(css []byte, link func(string) (string, bool)) []byte {
	t := cssTokenizer{b: css}
	var out bytes.Buffer
	out.Grow(len(css))
	// Function nesting: a string anywhere inside one is an address.
	depth := 0
	var stack []bool // open brackets: true for a function's
	afterImport := false
	address := func(v, raw string, quoted bool) string {
		if nu, ok := link(v); ok {
			if quoted {
				return cssQuote(nu)
			}
			return "url(" + cssQuote(nu) + ")"
		}
		if outside(v) || scriptURL(v) {
			if quoted {
				return `""`
			}
			return `url("")`
		}
		return raw
	}
	for {
		tok, ok := t.next()
		if !ok {
			return out.Bytes()
		}
		raw := string(css[tok.start:tok.end])
		switch tok.kind {
		case cssURL:
			out.WriteString(address(tok.val, raw, false))
			afterImport = false
			continue
		case cssString:
			if depth > 0 || afterImport {
				out.WriteString(address(tok.val, raw, true))
				afterImport = false
				continue
			}
		case cssBadString:
			// A string cut by a newline: the browser drops the declaration.
			out.WriteString(`""`)
			continue
		case cssFunction:
			if strings.EqualFold(tok.val, "expression") {
				out.WriteString("x-" + raw)
				depth++
				stack = append(stack, true)
				continue
			}
			depth++
			stack = append(stack, true)
		case cssOpen:
			stack = append(stack, false)
		case cssClose:
			if len(stack) > 0 {
				if stack[len(stack)-1] {
					depth--
				}
				stack = stack[:len(stack)-1]
			}
		case cssAtKeyword:
			afterImport = strings.EqualFold(tok.val, "import")
		case cssIdent:
			if n := strings.ToLower(tok.val); n == "behavior" || n == "-moz-binding" || n == "-ms-behavior" {
				out.WriteString("x-" + raw)
				continue
			}
		case cssSemicolon:
			afterImport = false
		}
		out.WriteString(raw)
	}
}
