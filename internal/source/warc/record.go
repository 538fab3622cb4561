package warc

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"sort"
	"strconv"
	"strings"
)

// Limits on what one record may claim. They bound memory, not file size:
// blocks are streamed, never loaded whole.
const (
	maxLineLen     = 64 << 10 // one header line
	maxHeaderBytes = 1 << 20  // all WARC header lines of one record
	maxHeaderLines = 4096     // header lines of one record
	maxBlockLen    = 1 << 40  // a Content-Length beyond this is nonsense
	maxGapBytes    = 1 << 16  // blank lines tolerated between records
)

// member is one gzip member of a .warc.gz: where it starts in the file and
// at which offset of the uncompressed stream its data begins.
type member struct {
	comp   int64
	decomp int64
}

// stream is the uncompressed byte stream of a WARC file. For gzip input it
// decodes member by member and remembers where each starts, so that a
// payload can later be reopened from its member instead of from the start
// of the file.
type stream struct {
	gz      bool
	fc      countReader
	fbr     *bufio.Reader
	z       *gzip.Reader
	dpos    int64
	members []member
	done    bool
}

func newStream(r io.ReaderAt, size int64) (*stream, error) {
	s := &stream{}
	s.fc.r = io.NewSectionReader(r, 0, size)
	s.fbr = bufio.NewReaderSize(&s.fc, 64<<10)
	magic, _ := s.fbr.Peek(2)
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		s.gz = true
		z, err := gzip.NewReader(s.fbr)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip header at byte 0: %v", ErrCorrupt, err)
		}
		z.Multistream(false)
		s.z = z
		s.members = append(s.members, member{0, 0})
	}
	return s, nil
}

func (s *stream) Read(p []byte) (int, error) {
	if !s.gz {
		n, err := s.fbr.Read(p)
		s.dpos += int64(n)
		return n, err
	}
	for {
		if s.done {
			return 0, io.EOF
		}
		n, err := s.z.Read(p)
		s.dpos += int64(n)
		if err == io.EOF {
			off := s.fc.n - int64(s.fbr.Buffered())
			if _, perr := s.fbr.Peek(1); perr == io.EOF {
				s.done = true
			} else if rerr := s.z.Reset(s.fbr); rerr != nil {
				return n, fmt.Errorf("%w: gzip member at byte %d: %v (the file is damaged or has trailing data)", ErrCorrupt, off, rerr)
			} else {
				s.z.Multistream(false)
				s.members = append(s.members, member{off, s.dpos})
			}
			if n > 0 || s.done {
				if s.done && n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
			continue
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return n, fmt.Errorf("%w: gzip data ends early", ErrTruncated)
		}
		if err != nil {
			return n, fmt.Errorf("%w: gzip data: %v", ErrCorrupt, err)
		}
		return n, nil
	}
}

type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Record is one WARC record as the reader found it: its header fields and
// where its block lies in the uncompressed stream.
type Record struct {
	Version string               // e.g. "WARC/1.0"
	Header  textproto.MIMEHeader // WARC named fields, canonical keys
	Offset  int64                // uncompressed offset of the record's first byte
	// BlockOffset and BlockLen locate the block (Content-Length bytes).
	BlockOffset int64
	BlockLen    int64
	// After is set when bytes that are not a record were skipped before
	// this one: it is the record they followed, whose Content-Length was
	// wrong (so its block is not to be trusted).
	After *Record
}

// Type returns the WARC-Type field in lower case ("response", "revisit"...).
func (r *Record) Type() string { return strings.ToLower(strings.TrimSpace(r.Header.Get("WARC-Type"))) }

// RecordReader reads WARC records one after another from a plain or
// gzip-compressed WARC file. It never holds more than one record's header in
// memory; blocks are exposed as a bounded reader and skipped when unread.
type RecordReader struct {
	s     *stream
	sc    countReader
	br    *bufio.Reader
	block *io.LimitedReader
	cur   *Record
	err   error
	// warnings says what the reader read past (see Warnings).
	warnings []string
}

// Warnings returns what the reader skipped so far: bytes between records
// that are not a record, each naming the record they followed.
func (rr *RecordReader) Warnings() []string { return rr.warnings }

func (rr *RecordReader) warn(w string) {
	if len(rr.warnings) < maxWarnings {
		rr.warnings = append(rr.warnings, w)
	}
}

// maxWarnings caps the warnings kept for one file.
const maxWarnings = 1000

// describe names a record for a warning: its type and target URI.
func describe(r *Record) string {
	d := r.Type()
	if u := r.Header.Get("WARC-Target-URI"); u != "" {
		d += " " + clip(u)
	}
	return d
}

// maxResync bounds how far resync reads for the next record: a wrong
// Content-Length is off by a few bytes, and an unbounded search would let
// a small gzip member of zeros cost gigabytes of decompression.
// (A variable so tests can lower it.)
var maxResync int64 = 16 << 20

// resync reads up to the next line that starts with "WARC/", returning how
// many bytes it skipped.
func (rr *RecordReader) resync() (int64, error) {
	var n int64
	for {
		c, err := rr.br.ReadByte()
		if err != nil {
			return n, err
		}
		if n++; n > maxResync {
			return n, fmt.Errorf("%w: no WARC record within %d bytes after offset %d (the file is damaged)", ErrCorrupt, maxResync, rr.pos()-n)
		}
		if c == '\n' {
			if m, _ := rr.br.Peek(5); string(m) == "WARC/" {
				return n, nil
			}
		}
	}
}

// NewRecordReader starts reading the WARC file held by r (size bytes).
func NewRecordReader(r io.ReaderAt, size int64) (*RecordReader, error) {
	s, err := newStream(r, size)
	if err != nil {
		return nil, err
	}
	rr := &RecordReader{s: s}
	rr.sc.r = s
	rr.br = bufio.NewReaderSize(&rr.sc, 64<<10)
	return rr, nil
}

func (rr *RecordReader) pos() int64 { return rr.sc.n - int64(rr.br.Buffered()) }

// Block returns a reader over the current record's block. Reading it is
// optional: Next skips whatever is left.
func (rr *RecordReader) Block() io.Reader { return rr.block }

// Next advances to the next record. It returns io.EOF after the last one and
// a sticky error wrapping ErrCorrupt or ErrTruncated on damaged input.
func (rr *RecordReader) Next() (*Record, error) {
	if rr.err != nil {
		return nil, rr.err
	}
	rec, err := rr.next()
	if err != nil {
		rr.err = err
		return nil, err
	}
	return rec, nil
}

func (rr *RecordReader) next() (*Record, error) {
	if rr.block != nil {
		if rr.block.N > 0 {
			want := rr.block.N
			n, err := io.Copy(io.Discard, rr.block)
			if err != nil {
				return nil, err
			}
			if n < want {
				return nil, fmt.Errorf("%w: record at offset %d declares a %d-byte block but the data ends %d bytes early", ErrTruncated, rr.cur.Offset, rr.cur.BlockLen, want-n)
			}
		}
		rr.block = nil
	}
	// Records are followed by CRLF CRLF; tolerate any run of blank lines.
	for gap := 0; ; gap++ {
		c, err := rr.br.ReadByte()
		if err == io.EOF {
			return nil, io.EOF
		}
		if err != nil {
			return nil, err
		}
		if c == '\r' || c == '\n' {
			if gap > maxGapBytes {
				return nil, fmt.Errorf("%w: more than %d blank bytes before offset %d", ErrCorrupt, maxGapBytes, rr.pos())
			}
			continue
		}
		_ = rr.br.UnreadByte()
		break
	}
	rec := &Record{Offset: rr.pos(), Header: make(textproto.MIMEHeader)}
	if magic, _ := rr.br.Peek(5); string(magic) != "WARC/" {
		if rr.cur == nil {
			return nil, fmt.Errorf("%w: record at offset %d starts with %q, not a WARC/<version> line", ErrCorrupt, rec.Offset, clip(string(magic)))
		}
		// The previous record's Content-Length was wrong (crawlers have
		// written them a byte short): read on from the next line that
		// starts a record, as warcio and pywb do, and say so.
		at := rec.Offset
		n, err := rr.resync()
		prev := rr.cur
		rr.cur = nil
		if err == io.EOF {
			rr.warn(fmt.Sprintf("%d bytes after the record at offset %d (%s) are not a WARC record; ignored (its Content-Length is probably wrong)", n, prev.Offset, describe(prev)))
			return nil, io.EOF
		}
		if err != nil {
			return nil, err
		}
		rr.warn(fmt.Sprintf("%d bytes at offset %d, after the record at offset %d (%s), are not a WARC record: skipped to the next record (its Content-Length is probably wrong)", n, at, prev.Offset, describe(prev)))
		rec.Offset = rr.pos()
		rec.After = prev
	}
	line, err := rr.readLine()
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(line, "WARC/") {
		return nil, fmt.Errorf("%w: record at offset %d starts with %q, not a WARC/<version> line", ErrCorrupt, rec.Offset, clip(line))
	}
	rec.Version = line
	total, lines := 0, 0
	var last string
	for {
		line, err := rr.readLine()
		if err != nil {
			if err == io.EOF {
				err = fmt.Errorf("%w: header of record at offset %d is not terminated", ErrTruncated, rec.Offset)
			}
			return nil, err
		}
		if line == "" {
			break
		}
		total += len(line)
		lines++
		if total > maxHeaderBytes || lines > maxHeaderLines {
			return nil, fmt.Errorf("%w: header of record at offset %d is larger than %d bytes or %d lines", ErrCorrupt, rec.Offset, maxHeaderBytes, maxHeaderLines)
		}
		if (line[0] == ' ' || line[0] == '\t') && last != "" {
			vals := rec.Header[last]
			vals[len(vals)-1] += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("%w: record at offset %d has a malformed header line %q", ErrCorrupt, rec.Offset, clip(line))
		}
		last = textproto.CanonicalMIMEHeaderKey(name)
		rec.Header[last] = append(rec.Header[last], strings.TrimSpace(value))
	}
	cl := rec.Header.Get("Content-Length")
	if cl == "" {
		return nil, fmt.Errorf("%w: record at offset %d has no Content-Length", ErrCorrupt, rec.Offset)
	}
	n, err := strconv.ParseInt(cl, 10, 64)
	if err != nil || n < 0 || n > maxBlockLen {
		return nil, fmt.Errorf("%w: record at offset %d has an invalid Content-Length %q", ErrCorrupt, rec.Offset, clip(cl))
	}
	rec.BlockOffset = rr.pos()
	rec.BlockLen = n
	rr.block = &io.LimitedReader{R: rr.br, N: n}
	rr.cur = rec
	return rec, nil
}

// readLine reads one CRLF- or LF-terminated line of at most maxLineLen bytes.
func (rr *RecordReader) readLine() (string, error) {
	var buf []byte
	for {
		frag, err := rr.br.ReadSlice('\n')
		buf = append(buf, frag...)
		if len(buf) > maxLineLen {
			return "", fmt.Errorf("%w: header line longer than %d bytes near offset %d", ErrCorrupt, maxLineLen, rr.pos())
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(buf) > 0 {
			return "", fmt.Errorf("%w: file ends inside a header line at offset %d", ErrTruncated, rr.pos())
		}
		if err != nil {
			return "", err
		}
		break
	}
	return string(bytes.TrimRight(buf, "\r\n")), nil
}

// members returns the gzip member map gathered so far (nil for plain WARC).
func (rr *RecordReader) members() []member { return rr.s.members }

// openRange returns a reader over length bytes of the uncompressed stream
// starting at off. For gzip files it decodes from the member holding off.
func openRange(r io.ReaderAt, size int64, members []member, off, length int64) (io.ReadCloser, error) {
	if members == nil {
		return io.NopCloser(io.NewSectionReader(r, off, length)), nil
	}
	i := sort.Search(len(members), func(i int) bool { return members[i].decomp > off }) - 1
	if i < 0 {
		return nil, fmt.Errorf("%w: offset %d before the first gzip member", ErrCorrupt, off)
	}
	m := members[i]
	z, err := gzip.NewReader(bufio.NewReader(io.NewSectionReader(r, m.comp, size-m.comp)))
	if err != nil {
		return nil, fmt.Errorf("%w: reopening gzip member at byte %d: %v", ErrCorrupt, m.comp, err)
	}
	if skip := off - m.decomp; skip > 0 {
		if n, err := io.CopyN(io.Discard, z, skip); err != nil {
			return nil, fmt.Errorf("%w: seeking to offset %d in gzip member at byte %d (got %d of %d bytes): %v", ErrTruncated, off, m.comp, n, skip, err)
		}
	}
	return struct {
		io.Reader
		io.Closer
	}{&truncCheck{r: io.LimitReader(z, length), want: length}, z}, nil
}

// truncCheck turns an early EOF into ErrTruncated, so a payload cut short
// by a damaged file is never mistaken for a complete one.
type truncCheck struct {
	r    io.Reader
	want int64
	got  int64
}

func (t *truncCheck) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.got += int64(n)
	if err == io.EOF && t.got < t.want {
		return n, fmt.Errorf("%w: payload ends after %d of %d bytes", ErrTruncated, t.got, t.want)
	}
	if err != nil && err != io.EOF {
		if !errors.Is(err, ErrTruncated) {
			err = fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}
	return n, err
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
