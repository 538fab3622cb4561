package scrub

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// pngChunk is one chunk: data[start:end] is length, type, data and CRC.
type pngChunk struct {
	typ        string
	start, end int
	body       []byte
}

// walkPNG splits a PNG into chunks up to and including IEND.
func walkPNG(data []byte) (chunks []pngChunk, iend int, err error) {
	if !bytes.HasPrefix(data, pngSig) {
		return nil, 0, fmt.Errorf("%w: PNG signature missing", errMalformed)
	}
	pos := len(pngSig)
	for {
		if len(data)-pos < 12 {
			return nil, 0, fmt.Errorf("%w: PNG ends without IEND (truncated at offset %d)", errMalformed, pos)
		}
		n := int64(binary.BigEndian.Uint32(data[pos:]))
		if n > 1<<31-1 || n > int64(len(data)-pos-12) {
			return nil, 0, fmt.Errorf("%w: PNG chunk at offset %d claims %d bytes, %d left", errMalformed, pos, n, len(data)-pos-12)
		}
		typ := data[pos+4 : pos+8]
		for _, c := range typ {
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
				return nil, 0, fmt.Errorf("%w: PNG chunk type %q at offset %d is not letters", errMalformed, typ, pos)
			}
		}
		end := pos + 12 + int(n)
		chunks = append(chunks, pngChunk{typ: string(typ), start: pos, end: end, body: data[pos+8 : pos+8+int(n)]})
		pos = end
		if string(typ) == "IEND" {
			return chunks, pos, nil
		}
	}
}

// scrubPNG drops tEXt, zTXt, iTXt (author, comments, XMP), eXIf and tIME
// chunks and copies every other chunk byte for byte.
func scrubPNG(data []byte) ([]byte, []Finding) {
	chunks, iend, err := walkPNG(data)
	if err != nil {
		return data, []Finding{{Kind: KindWarning, Detail: "PNG structure not understood, metadata left in place: " + err.Error()}}
	}
	var fs []Finding
	out := make([]byte, 0, len(data))
	out = append(out, pngSig...)
	dropped := false
	for _, c := range chunks {
		var what string
		switch c.typ {
		case "tEXt", "zTXt", "iTXt":
			kw := c.body
			if i := bytes.IndexByte(kw, 0); i >= 0 {
				kw = kw[:i]
			}
			if len(kw) > 79 {
				kw = kw[:79]
			}
			what = fmt.Sprintf("PNG text chunk %s %q, %d bytes", c.typ, kw, len(c.body))
			if string(kw) == "XML:com.adobe.xmp" {
				what += " (XMP)"
			}
		case "eXIf":
			what = "PNG EXIF chunk"
			if rep := readExif(c.body); len(rep.found) > 0 {
				what += " (" + joinFound(rep.found) + ")"
			}
		case "tIME":
			what = "PNG last-modification time"
		default:
			out = append(out, data[c.start:c.end]...)
			continue
		}
		dropped = true
		fs = append(fs, Finding{Kind: KindMetadata, Detail: what, Removed: true})
	}
	out = append(out, data[iend:]...)
	if iend < len(data) {
		fs = append(fs, Finding{Kind: KindWarning, Detail: fmt.Sprintf("%d bytes after the PNG IEND chunk, kept as they are", len(data)-iend)})
	}
	if !dropped {
		return data, fs
	}
	return out, fs
}
