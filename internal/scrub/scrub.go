package scrub

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Finding kinds.
const (
	// KindWatermark is a verified Red Star OS watermark; Detail names the
	// decrypted disk serials.
	KindWatermark = "watermark"
	// KindSuspicious is data in a place Red Star is reported to use that
	// could not be verified as a watermark (e.g. a non-empty ZIP 0xA220
	// field, or an "EOF" trailer whose marks do not decrypt).
	KindSuspicious = "suspicious"
	// KindMetadata is identifying metadata (EXIF, XMP, author fields...).
	KindMetadata = "metadata"
	// KindWarning says a part of the file was not understood and was left
	// as it is; the file may still carry metadata.
	KindWarning = "warning"
)

// A Finding is one thing found in a file: what kind it is, a human-readable
// detail, and whether Scrub removed it (always false from Check).
type Finding struct {
	Kind    string
	Detail  string
	Removed bool
}

// String formats a finding for a report line: "kind: detail (removed)".
func (f Finding) String() string {
	s := f.Kind + ": " + f.Detail
	if f.Removed {
		s += " (removed)"
	}
	return s
}

// MaxInMemory is the largest file that Check and ScrubFile load whole to look
// for metadata. Larger files (videos, disk images) are only checked for the
// appended Red Star trailer, which is read from the end of the file.
const MaxInMemory = 256 << 20

// inMemoryLimit is MaxInMemory, lowered by tests of the large-file path.
var inMemoryLimit int64 = MaxInMemory

var (
	// ErrTooLarge is returned by Scrub for inputs over MaxInMemory.
	ErrTooLarge = errors.New("scrub: file too large to scrub in memory")
	// ErrNotRegular is returned by ScrubFile for anything but a regular file.
	ErrNotRegular = errors.New("scrub: not a regular file")
	// ErrInternal is returned, with the file's name, when scrubbing a file
	// hit a bug in this package (a panic). The file is left as it is, and
	// a caller walking many files goes on to the next: a crafted file must
	// not stop the scrubbing of the files after it.
	ErrInternal = errors.New("scrub: internal error (please report it with the file); file left as it is")
)

// recovered turns a panic in the function it is deferred in into an error
// wrapping ErrInternal and naming the file.
func recovered(name string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: %w: %v", name, ErrInternal, r)
	}
}

// maxFindings bounds the findings reported for one file; a crafted file
// with a million author fields gets one line saying how many more.
const maxFindings = 200

func capFindings(fs []Finding) []Finding {
	if len(fs) <= maxFindings {
		return fs
	}
	removed := 0
	for _, f := range fs[maxFindings-1:] {
		if f.Removed {
			removed++
		}
	}
	more := Finding{Kind: KindWarning, Detail: fmt.Sprintf("%d more findings not listed (%d of them removed)", len(fs)-maxFindings+1, removed)}
	return append(fs[:maxFindings-1:maxFindings-1], more)
}

// format is the container format sniffed from a file's first bytes.
type format int

const (
	fmtOther format = iota
	fmtJPEG
	fmtPNG
	fmtZIP
	fmtPDF
)

var pngSig = []byte("\x89PNG\r\n\x1a\n")

func sniff(head []byte) format {
	switch {
	case len(head) >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF:
		return fmtJPEG
	case bytes.HasPrefix(head, pngSig):
		return fmtPNG
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return fmtZIP
	case bytes.HasPrefix(head, []byte(archiveMagic)):
		// A ferry archive: only an appended trailer is removed; its stored
		// entries (a PDF, say) must keep the bytes its signature covers.
		return fmtOther
	case isPDF(head):
		return fmtPDF
	}
	return fmtOther
}

// archiveMagic starts every ferry archive (docs/format.md).
const archiveMagic = "FERRYAR1"

// isPDF reports a PDF: "%PDF-" in the first KiB (readers accept leading
// junk) with no NUL byte before it, so that a binary file that merely
// carries a PDF inside is not taken for one.
func isPDF(head []byte) bool {
	i := bytes.Index(head[:min(len(head), 1024)], []byte("%PDF-"))
	return i >= 0 && bytes.IndexByte(head[:i], 0) < 0
}

// Check reports the watermarks and metadata in a file without changing it.
// name is used only in messages. JPEG, PNG, ZIP and PDF files up to
// MaxInMemory are read whole to look for metadata; any other file, and any
// larger one, is only checked for the appended Red Star trailer, which is
// read from the end of the file.
func Check(name string, r io.ReaderAt, size int64) (fs []Finding, err error) {
	defer recovered(name, &err)
	if size < 0 {
		return nil, fmt.Errorf("scrub: %s: negative size %d", name, size)
	}
	f, err := sniffAt(r, size)
	if err != nil {
		return nil, fmt.Errorf("scrub: reading %s: %w", name, err)
	}
	if f != fmtOther && size <= inMemoryLimit {
		data := make([]byte, size)
		if _, err := r.ReadAt(data, 0); err != nil && !(errors.Is(err, io.EOF) && size == 0) {
			return nil, fmt.Errorf("scrub: reading %s: %w", name, err)
		}
		_, fs, err := Scrub(name, data)
		for i := range fs {
			fs[i].Removed = false
		}
		return fs, err
	}
	_, fs, err = findTrailers(r, size)
	if err != nil {
		return nil, fmt.Errorf("scrub: %s: %w", name, err)
	}
	for i := range fs {
		fs[i].Removed = false
	}
	if f != fmtOther {
		fs = append(fs, tooLargeWarning)
	}
	return fs, nil
}

var tooLargeWarning = Finding{Kind: KindWarning, Detail: fmt.Sprintf(
	"file larger than %d MiB: only the appended watermark was handled, not embedded metadata", MaxInMemory>>20)}

// sniffAt reads the first KiB of r to tell its format.
func sniffAt(r io.ReaderAt, size int64) (format, error) {
	head := make([]byte, min(size, 1024))
	if _, err := r.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return fmtOther, err
	}
	return sniff(head), nil
}

// Scrub returns data without Red Star watermarks and identifying metadata,
// and what it found. When nothing was found, clean is data itself (the same
// slice). data is never modified.
func Scrub(name string, data []byte) (clean []byte, findings []Finding, err error) {
	defer func() {
		if err != nil {
			clean, findings = nil, nil
		}
	}()
	defer recovered(name, &err)
	if int64(len(data)) > inMemoryLimit {
		return nil, nil, fmt.Errorf("%s: %w (%d bytes; limit %d)", name, ErrTooLarge, len(data), inMemoryLimit)
	}
	cut, findings, err := findTrailers(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, nil, fmt.Errorf("scrub: %s: %w", name, err)
	}
	clean = data[:cut]
	if scrubFormat := scrubbers[sniff(clean)]; scrubFormat != nil {
		var more []Finding
		clean, more = scrubFormat(clean)
		findings = append(findings, more...)
	}
	if len(findings) == 0 || bytes.Equal(clean, data) {
		clean = data
	}
	return clean, capFindings(findings), nil
}

// scrubbers removes the metadata of each format it knows (after the
// trailer is cut).
var scrubbers = map[format]func([]byte) ([]byte, []Finding){
	fmtJPEG: scrubJPEG,
	fmtPNG:  scrubPNG,
	fmtZIP:  scrubZIP,
	fmtPDF:  scrubPDF,
}

// HasWatermark reports whether any finding is a verified watermark.
func HasWatermark(fs []Finding) bool {
	for _, f := range fs {
		if f.Kind == KindWatermark {
			return true
		}
	}
	return false
}
