package feed

import (
	"bytes"
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
