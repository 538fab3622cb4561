package scrub

import (
	"bytes"
	"fmt"
)

// pdfInfoKeys are the document-information keys whose values are blanked.
var pdfInfoKeys = []string{"/Author", "/Creator", "/Producer"}

// pdfXMPElems are XMP elements whose content is blanked in uncompressed
// metadata streams.
var pdfXMPElems = []string{"dc:creator", "xmp:CreatorTool", "pdf:Producer", "xmpMM:DocumentID", "xmpMM:InstanceID",
	"xmpMM:OriginalDocumentID", "stRef:documentID", "stRef:instanceID", "stEvt:instanceID", "stEvt:softwareAgent"}

// scrubPDF blanks Author, Creator and Producer values in place, keeping the
// file length and every byte offset (so the cross-reference table stays
// valid): a literal string (Kim) becomes () followed by spaces, a hex
// string <FEFF…> becomes <> followed by spaces. Keys inside streams are not
// touched; compressed object streams are reported as a limit.
func scrubPDF(data []byte) ([]byte, []Finding) {
	streams := pdfStreams(data)
	inStream := func(i int) bool {
		for _, s := range streams {
			if i >= s[0] && i < s[1] {
				return true
			}
		}
		return false
	}
	var out []byte
	var fs []Finding
	edit := func() []byte {
		if out == nil {
			out = append([]byte(nil), data...)
		}
		return out
	}
	for _, key := range pdfInfoKeys {
		for from := 0; ; {
			i := bytes.Index(data[from:], []byte(key))
			if i < 0 {
				break
			}
			i += from
			from = i + len(key)
			if inStream(i) {
				continue
			}
			j := from
			for j < len(data) && isPDFSpace(data[j]) {
				j++
			}
			if j >= len(data) {
				break
			}
			if j == from && data[j] != '(' && data[j] != '<' {
				continue // a longer key such as /CreatorInfo
			}
			var end int
			switch data[j] {
			case '(':
				end = pdfLiteralEnd(data, j)
			case '<':
				if j+1 < len(data) && data[j+1] == '<' {
					continue
				}
				end = bytes.IndexByte(data[j:], '>')
				if end >= 0 {
					end += j + 1
				}
			default:
				if data[j] >= '0' && data[j] <= '9' {
					fs = append(fs, Finding{Kind: KindWarning, Detail: fmt.Sprintf("PDF %s is an indirect reference; left in place", key)})
				}
				continue
			}
			if end < 0 || end-j <= 2 {
				continue // unterminated, or already empty
			}
			b := edit()
			b[j+1] = closingOf(data[j])
			for k := j + 2; k < end; k++ {
				b[k] = ' '
			}
			fs = append(fs, Finding{Kind: KindMetadata, Removed: true, Detail: fmt.Sprintf("PDF document info %s %q", key, shorten(data[j:end]))})
			from = end
		}
	}
	// blankXMP replaces a non-empty XMP value data[s:e] by as many spaces.
	blankXMP := func(s, e int, name string) {
		if len(bytes.TrimSpace(data[s:e])) == 0 {
			return
		}
		b := edit()
		for x := s; x < e; x++ {
			b[x] = ' '
		}
		fs = append(fs, Finding{Kind: KindMetadata, Removed: true, Detail: fmt.Sprintf("PDF XMP %s", name)})
	}
	for _, name := range pdfXMPElems {
		open, closeTag := []byte("<"+name+">"), []byte("</"+name+">")
		for from := 0; ; {
			i := bytes.Index(data[from:], open)
			if i < 0 {
				break
			}
			s := from + i + len(open)
			k := bytes.Index(data[s:], closeTag)
			if k < 0 {
				break
			}
			e := s + k
			from = e + len(closeTag)
			blankXMP(s, e, name)
		}
		// The attribute form, name="value" (or '…'), after white space.
		attr := []byte(name + "=")
		for from := 0; ; {
			i := bytes.Index(data[from:], attr)
			if i < 0 {
				break
			}
			a := from + i
			from = a + len(attr)
			if a == 0 || !isPDFSpace(data[a-1]) || from >= len(data) || (data[from] != '"' && data[from] != '\'') {
				continue
			}
			s := from + 1
			k := bytes.IndexByte(data[s:], data[from])
			if k < 0 {
				break
			}
			e := s + k
			from = e + 1
			blankXMP(s, e, name)
		}
	}
	if bytes.Contains(data, []byte("/ObjStm")) {
		fs = append(fs, Finding{Kind: KindWarning, Detail: "PDF has compressed object streams: author fields inside them are not checked"})
	}
	if out == nil {
		return data, fs
	}
	return out, fs
}

func closingOf(open byte) byte {
	if open == '(' {
		return ')'
	}
	return '>'
}

func isPDFSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == 0
}

// pdfLiteralEnd returns the offset after the ')' closing the literal string
// that opens at data[i], honouring escapes and nested parentheses, or -1.
func pdfLiteralEnd(data []byte, i int) int {
	depth := 0
	for k := i; k < len(data); k++ {
		switch data[k] {
		case '\\':
			k++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return k + 1
			}
		}
	}
	return -1
}

// pdfStreams returns the [start, end) ranges of stream bodies, found by the
// "stream" keyword at the end of a line and the next "endstream".
func pdfStreams(data []byte) [][2]int {
	var r [][2]int
	for from := 0; ; {
		i := bytes.Index(data[from:], []byte("stream"))
		if i < 0 {
			return r
		}
		i += from
		from = i + 6
		if i >= 3 && string(data[i-3:i]) == "end" {
			continue
		}
		s := i + 6
		if s < len(data) && data[s] == '\r' {
			s++
		}
		if s >= len(data) || data[s] != '\n' {
			continue
		}
		e := bytes.Index(data[s:], []byte("endstream"))
		if e < 0 {
			r = append(r, [2]int{s, len(data)})
			return r
		}
		r = append(r, [2]int{s, s + e})
		from = s + e + 9
	}
}
