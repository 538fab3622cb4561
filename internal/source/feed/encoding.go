package feed

import (
	"bytes"
	"encoding/xml"
	"io"
	"regexp"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// toUTF8 turns a feed written in UTF-16 or UTF-32 (with or without a byte
// order mark, as XML 1.0 Appendix F tells them apart by the first four
// bytes) into UTF-8, and says so in its XML declaration, which the XML
// parser would otherwise take at its word. Other input is returned as it
// is (a UTF-8 byte order mark removed): single-byte and legacy multi-byte
// encodings are left to the parser, which reads the declaration.
func toUTF8(b []byte) []byte {
	var enc encoding.Encoding
	switch {
	case bytes.HasPrefix(b, []byte{0xef, 0xbb, 0xbf}):
		return b[3:]
	case bytes.HasPrefix(b, []byte{0x00, 0x00, 0xfe, 0xff}):
		enc = utf32.UTF32(utf32.BigEndian, utf32.ExpectBOM)
	case bytes.HasPrefix(b, []byte{0xff, 0xfe, 0x00, 0x00}):
		enc = utf32.UTF32(utf32.LittleEndian, utf32.ExpectBOM)
	case bytes.HasPrefix(b, []byte{0xfe, 0xff}):
		enc = unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM)
	case bytes.HasPrefix(b, []byte{0xff, 0xfe}):
		enc = unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)
	case len(b) >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] != 0:
		enc = utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM)
	case len(b) >= 4 && b[0] != 0 && b[1] == 0 && b[2] == 0 && b[3] == 0:
		enc = utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM)
	case len(b) >= 2 && b[0] == 0 && b[1] != 0:
		enc = unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	case len(b) >= 2 && b[0] != 0 && b[1] == 0:
		enc = unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	default:
		return b
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return b // not what it looked like: let the parser say so
	}
	return xmlDeclEncoding.ReplaceAll(out, []byte("${1}utf-8${2}"))
}

// xmlDeclEncoding finds the encoding pseudo-attribute of an XML
// declaration at the start of a document.
var xmlDeclEncoding = regexp.MustCompile(`^(\s*<\?xml[^>]*?encoding\s*=\s*["'])[^"']*(["'])`)

// Sniff reports whether head (the first bytes of a file; 64 KiB is
// plenty) looks like a feed this package reads: XML whose first element is
// rss, feed or RDF, in UTF-8, UTF-16 or UTF-32, or a JSON Feed object.
// It is what format detection should ask (docs/ingest.md, "Format
// detection"); a cut-off multi-byte character at the end of head is fine.
func Sniff(head []byte) bool {
	b := toUTF8(trimPartial(head))
	t := bytes.TrimLeft(b, " \t\r\n")
	if len(t) > 0 && t[0] == '{' {
		return jsonFeedVersion.Match(t[:min(len(t), 4096)])
	}
	if len(t) == 0 || t[0] != '<' {
		return false
	}
	d := xml.NewDecoder(bytes.NewReader(t))
	d.Strict = false
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	for i := 0; i < 1000; i++ {
		tok, err := d.RawToken()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "rss", "feed", "RDF":
				return true
			}
			return false
		}
	}
	return false
}

// jsonFeedVersion finds a JSON Feed version member near the start.
var jsonFeedVersion = regexp.MustCompile(`"version"\s*:\s*"https?://jsonfeed\.org/version/1(\.1)?/?"`)

// trimPartial drops a trailing odd byte or an incomplete UTF-32 unit from a
// UTF-16/32 head, so its decoding does not fail on the cut.
func trimPartial(b []byte) []byte {
	if len(b) >= 4 && (b[0] == 0 || b[1] == 0 || bytes.HasPrefix(b, []byte{0xff, 0xfe}) || bytes.HasPrefix(b, []byte{0xfe, 0xff})) {
		return b[:len(b)&^3]
	}
	return b
}
