package scrub

import (
	"bytes"
	"fmt"
	"sort"
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
	// The ranges are in file order and do not overlap: a binary search
	// keeps a file with many keys and many streams linear-logarithmic.
	inStream := func(i int) bool {
		k := sort.Search(len(streams), func(k int) bool { return streams[k][1] > i })
		return k < len(streams) && i >= streams[k][0]
	}
	// A value is looked for at most maxPDFValue bytes ahead, and all the
	// looking together may read the file at most four times over: author
	// fields are short, and an unbounded look from every "/Author (" of a
	// file with no closing bracket would make the work quadratic.
	window := func(j int) []byte { return data[j:min(len(data), j+maxPDFValue)] }
	budget := int64(1<<20) + 4*int64(len(data))
	var out []byte
	var fs []Finding
	warned := map[string]bool{}
	warn := func(msg string) {
		if !warned[msg] {
			warned[msg] = true
			fs = append(fs, Finding{Kind: KindWarning, Detail: msg})
		}
	}
	edit := func() []byte {
		if out == nil {
			out = append([]byte(nil), data...)
		}
		return out
	}
keys:
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
			if data[j] == '<' && j+1 < len(data) && data[j+1] == '<' {
				continue // a dictionary, not a string
			}
			if data[j] != '(' && data[j] != '<' {
				if data[j] >= '0' && data[j] <= '9' {
					warn(fmt.Sprintf("PDF %s is an indirect reference; left in place", key))
				}
				continue
			}
			w := window(j)
			var end int
			if data[j] == '(' {
				end = pdfLiteralEnd(w)
			} else if end = bytes.IndexByte(w, '>'); end >= 0 {
				end++
			}
			if end < 0 {
				budget -= int64(len(w))
			} else {
				budget -= int64(end)
			}
			if budget < 0 {
				warn("PDF has too many unclosed strings to look through; the remaining author fields were left in place")
				break keys
			}
			if end < 0 {
				warn(fmt.Sprintf("PDF %s value longer than %d KiB or not closed; left in place", key, maxPDFValue>>10))
				continue
			}
			end += j
			if end-j <= 2 {
				continue // already empty
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

// maxPDFValue bounds the length of a document-information value scrub
// blanks.
const maxPDFValue = 64 << 10

// pdfLiteralEnd returns the offset after the ')' closing the literal string
// that opens at data[0], honouring escapes and nested parentheses, or -1.
func pdfLiteralEnd(data []byte) int {
	depth := 0
	for k := 0; k < len(data); k++ {
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
