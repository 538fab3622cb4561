package source

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// Format is a kind of source that Detect recognises.
type Format int

// The source formats Detect knows. FormatUnknown is returned with an error.
const (
	FormatUnknown Format = iota
	FormatFolder         // a directory of HTML, Markdown and resources
	FormatZIM            // a Kiwix/openZIM file
	FormatWARC           // a WARC web archive, plain or gzip-compressed
	FormatFeed           // an RSS 0.9x/1.0/2.0 or Atom feed
	FormatEPUB           // an EPUB 2 or 3 book
)

// String returns the lower-case name of the format ("warc", "epub", ...).
func (f Format) String() string {
	switch f {
	case FormatFolder:
		return "folder"
	case FormatZIM:
		return "zim"
	case FormatWARC:
		return "warc"
	case FormatFeed:
		return "feed"
	case FormatEPUB:
		return "epub"
	}
	return "unknown"
}

// ErrUnknownFormat is returned by Detect for content it does not recognise.
var ErrUnknownFormat = errors.New("source: unknown source format")

// sniffLen is how much of a file Detect looks at. XML feeds may carry long
// comments or DOCTYPEs before the root element; 64 KiB covers real ones.
const sniffLen = 64 << 10

// zimMagic is the ZIM header's magic number 0x044D495A, stored little-endian
// (the bytes "ZIM\x04").
const zimMagic = 0x044D495A

// Detect tells which source format path holds by looking at its content, not
// its name, so that a renamed or extension-less file still imports and a
// mislabelled one is not fed to the wrong reader.
func Detect(path string) (Format, error) {
	st, err := os.Stat(path)
	if err != nil {
		return FormatUnknown, fmt.Errorf("source: detecting format: %w", err)
	}
	if st.IsDir() {
		return FormatFolder, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return FormatUnknown, fmt.Errorf("source: detecting format: %w", err)
	}
	defer f.Close()
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return FormatUnknown, fmt.Errorf("source: detecting format of %s: %w", path, err)
	}
	if ft := DetectBytes(head[:n]); ft != FormatUnknown {
		return ft, nil
	}
	return FormatUnknown, fmt.Errorf("%w: %s is not a folder, ZIM, WARC, RSS/Atom feed or EPUB file (checked its content, not its name)", ErrUnknownFormat, path)
}

// DetectBytes classifies the first bytes of a file (Detect reads 64 KiB). It
// returns FormatUnknown when none of the known signatures match.
func DetectBytes(head []byte) Format {
	switch {
	case len(head) >= 4 && binary.LittleEndian.Uint32(head) == zimMagic:
		return FormatZIM
	case bytes.HasPrefix(head, []byte("WARC/")):
		return FormatWARC
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		if gzipStartsWithWARC(head) {
			return FormatWARC
		}
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		if isEPUB(head) {
			return FormatEPUB
		}
	default:
		if isFeed(head) {
			return FormatFeed
		}
	}
	return FormatUnknown
}

// gzipStartsWithWARC reports whether the first gzip member decompresses to
// something starting with "WARC/".
func gzipStartsWithWARC(head []byte) bool {
	z, err := gzip.NewReader(bytes.NewReader(head))
	if err != nil {
		return false
	}
	z.Multistream(false)
	var magic [5]byte
	if _, err := io.ReadFull(z, magic[:]); err != nil {
		return false
	}
	return string(magic[:]) == "WARC/"
}

// isEPUB checks the OCF rule that the first zip entry is an entry named
// "mimetype" holding exactly "application/epub+zip" (stored; deflated
// entries from sloppy writers are accepted too).
func isEPUB(head []byte) bool {
	const want = "application/epub+zip"
	if len(head) < 30 {
		return false
	}
	method := binary.LittleEndian.Uint16(head[8:])
	csize := int(binary.LittleEndian.Uint32(head[18:]))
	nameLen := int(binary.LittleEndian.Uint16(head[26:]))
	extraLen := int(binary.LittleEndian.Uint16(head[28:]))
	if 30+nameLen > len(head) || string(head[30:30+nameLen]) != "mimetype" {
		return false
	}
	data := head[30+nameLen:]
	if extraLen > len(data) {
		return false
	}
	data = data[extraLen:]
	switch method {
	case 0: // stored
		if csize == 0 && head[6]&0x08 != 0 { // streaming writers (Go's zip.Writer) give the size in a data descriptor after the data
			csize = len(want)
		}
		if csize > len(data) {
			csize = len(data)
		}
		return strings.TrimSpace(string(data[:csize])) == want
	case 8: // deflate
		b, _ := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(data)), 64))
		return strings.TrimSpace(string(b)) == want
	}
	return false
}

// isFeed reports whether head is XML whose root element is <rss>, <feed> or
// <rdf:RDF>, or a JSON Feed, in UTF-8, UTF-16 or UTF-32 (with or without a
// byte order mark).
func isFeed(head []byte) bool {
	head = toUTF8(head)
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return isJSONFeed(trimmed)
	}
	if len(trimmed) == 0 || trimmed[0] != '<' {
		return false
	}
	d := xml.NewDecoder(bufio.NewReader(bytes.NewReader(head)))
	d.Strict = false
	// Only the root element's name matters, so any declared encoding is
	// read as if it were ASCII-compatible.
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	for i := 0; i < 1000; i++ {
		tok, err := d.RawToken()
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch se.Name.Local {
			case "rss", "feed":
				return true
			case "RDF":
				return true
			}
			return false
		}
	}
	return false
}

// isJSONFeed reports whether a JSON object's first 64 KiB name a JSON Feed
// version ("version": "https://jsonfeed.org/version/1.1").
func isJSONFeed(head []byte) bool {
	i := bytes.Index(head, []byte(`"version"`))
	if i < 0 {
		return false
	}
	rest := bytes.TrimLeft(head[i+len(`"version"`):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return false
	}
	rest = bytes.TrimLeft(rest[1:], " \t\r\n")
	return bytes.HasPrefix(rest, []byte(`"https://jsonfeed.org/version/`)) || bytes.HasPrefix(rest, []byte(`"http://jsonfeed.org/version/`))
}

// toUTF8 turns the start of a UTF-16 or UTF-32 file into UTF-8, telling
// the encoding by its byte order mark or, without one, by where the zero
// bytes of a leading '<' or '{' fall (XML 1.0 appendix F). Other bytes are
// returned as they are. A unit cut at the end of head is dropped.
func toUTF8(head []byte) []byte {
	var enc encoding.Encoding
	unit := 4
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE, 0, 0}), len(head) >= 4 && head[0] != 0 && head[1] == 0 && head[2] == 0 && head[3] == 0:
		enc = utf32.UTF32(utf32.LittleEndian, utf32.UseBOM)
	case bytes.HasPrefix(head, []byte{0, 0, 0xFE, 0xFF}), len(head) >= 4 && head[0] == 0 && head[1] == 0 && head[2] == 0 && head[3] != 0:
		enc = utf32.UTF32(utf32.BigEndian, utf32.UseBOM)
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), len(head) >= 2 && head[0] != 0 && head[1] == 0:
		enc, unit = unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), 2
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}), len(head) >= 2 && head[0] == 0 && head[1] != 0:
		enc, unit = unicode.UTF16(unicode.BigEndian, unicode.UseBOM), 2
	default:
		return head
	}
	out, err := enc.NewDecoder().Bytes(head[:len(head)/unit*unit])
	if err != nil {
		return head
	}
	return out
}
