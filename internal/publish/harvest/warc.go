package harvest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nlnwa/gowarc/v3"
)

// warcWriter appends records to one .warc.gz of a run, one gzip member per
// record (as WARC readers expect, so a record can be read from its offset).
// The file is named *.warc.gz.open until Close, so a crashed run's WARC is
// recognisable; its complete records still read.
type warcWriter struct {
	mu     sync.Mutex
	f      *os.File
	w      *bufio.Writer
	path   string
	m      gowarc.Marshaler
	gz     *gzip.Writer
	infoID string
	err    error // first write error: sticky, reported by close
}

func newWARC(dir, software string) (*warcWriter, error) {
	// Two runs in one second must not share a name: the second would be
	// renamed over the first's WARC when it closes.
	stamp := fmt.Sprintf("ferry-harvest-%s-%d", time.Now().UTC().Format("20060102T150405Z"), os.Getpid())
	var name, path string
	var f *os.File
	for i := 1; ; i++ {
		name = stamp + ".warc.gz"
		if i > 1 {
			name = fmt.Sprintf("%s-%d.warc.gz", stamp, i)
		}
		path = filepath.Join(dir, name)
		if _, err := os.Lstat(path); err == nil {
			continue
		}
		var err error
		f, err = os.OpenFile(path+".open", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if errors.Is(err, fs.ErrExist) && i < 1000 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("harvest: WARC: %w", err)
		}
		break
	}
	gowarcMu.Lock()
	defer gowarcMu.Unlock()
	w := &warcWriter{f: f, w: bufio.NewWriterSize(f, 256<<10), path: path, m: gowarc.NewMarshaler()}
	rb := gowarc.NewRecordBuilder(gowarc.Warcinfo, recOpts...)
	rb.AddWarcHeader(gowarc.WarcFilename, name)
	rb.AddWarcHeader(gowarc.ContentType, gowarc.ApplicationWarcFields)
	rb.AddWarcHeaderTime(gowarc.WarcDate, time.Now())
	fmt.Fprintf(rb, "software: %s\r\nformat: WARC File Format 1.1\r\nconformsTo: https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/\r\n", software)
	rec, _, err := rb.Build()
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("harvest: WARC info record: %w", err)
	}
	w.infoID = rec.WarcHeader().Get(gowarc.WarcRecordID)
	w.write(rec)
	return w, w.err
}

// gowarcMu serializes gowarc calls (see exchange).
var gowarcMu sync.Mutex

var recOpts = []gowarc.WarcRecordOption{
	gowarc.WithAddMissingRecordId(true),
	gowarc.WithAddMissingContentLength(true),
	gowarc.WithAddMissingDigest(true),
	gowarc.WithFixContentLength(true),
	gowarc.WithFixDigest(true),
	gowarc.WithBufferMaxMemBytes(16 << 20),
}

// write marshals records; the caller holds w.mu.
func (w *warcWriter) write(recs ...gowarc.WarcRecord) {
	for _, rec := range recs {
		if w.err == nil {
			// One gzip writer, reset for each member: a new one costs
			// about a megabyte of compressor state.
			if w.gz == nil {
				w.gz, _ = gzip.NewWriterLevel(w.w, gzip.BestSpeed)
			} else {
				w.gz.Reset(w.w)
			}
			_, _, err := w.m.Marshal(w.gz, rec, 0)
			if err == nil {
				err = w.gz.Close()
			}
			w.err = err
		}
		rec.Close()
	}
}

// exchange records a request and its response. prev, if set, is the cached
// capture a 304 refers to; the 304 then becomes a revisit record.
func (w *warcWriter) exchange(req *http.Request, resp *http.Response, body []byte, truncated string, at time.Time, prev *entry) {
	target := req.URL.String()
	var reqBlock bytes.Buffer
	fmt.Fprintf(&reqBlock, "%s %s HTTP/1.1\r\nHost: %s\r\n", req.Method, req.URL.RequestURI(), req.URL.Host)
	writeHeader(&reqBlock, req.Header)
	reqBlock.WriteString("\r\n")

	var respBlock bytes.Buffer
	fmt.Fprintf(&respBlock, "HTTP/%d.%d %s\r\n", resp.ProtoMajor, resp.ProtoMinor, resp.Status)
	h := resp.Header.Clone()
	if len(resp.TransferEncoding) > 0 {
		// Go removed the chunking; the body below is the de-chunked one.
		h.Set("X-Ferry-Transfer-Encoding", strings.Join(resp.TransferEncoding, ", "))
	}
	writeHeader(&respBlock, h)
	respBlock.WriteString("\r\n")

	// gowarc's record builder writes a package global of google/uuid each
	// time one is made (EnableRandPool), a data race between goroutines:
	// build and write records one at a time, in all of this process.
	gowarcMu.Lock()
	defer gowarcMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	typ := gowarc.Response
	if resp.StatusCode == http.StatusNotModified && prev != nil {
		typ = gowarc.Revisit
	} else {
		respBlock.Write(body)
	}
	rb := gowarc.NewRecordBuilder(typ, recOpts...)
	rb.AddWarcHeader(gowarc.WarcTargetURI, target)
	rb.AddWarcHeaderTime(gowarc.WarcDate, at)
	rb.AddWarcHeader(gowarc.ContentType, "application/http;msgtype=response")
	if w.infoID != "" {
		rb.AddWarcHeader(gowarc.WarcWarcinfoID, w.infoID)
	}
	if truncated != "" {
		rb.AddWarcHeader(gowarc.WarcTruncated, truncated)
	}
	if typ == gowarc.Revisit {
		rb.AddWarcHeader(gowarc.WarcProfile, gowarc.ProfileServerNotModifiedV1_1)
		rb.AddWarcHeader(gowarc.WarcRefersToTargetURI, target)
		rb.AddWarcHeaderTime(gowarc.WarcRefersToDate, prev.Date)
	}
	rb.Write(respBlock.Bytes())
	respRec, _, err := rb.Build()
	if err != nil {
		if w.err == nil {
			w.err = fmt.Errorf("building a WARC record for %s: %w", target, err)
		}
		return
	}
	qb := gowarc.NewRecordBuilder(gowarc.Request, recOpts...)
	qb.AddWarcHeader(gowarc.WarcTargetURI, target)
	qb.AddWarcHeaderTime(gowarc.WarcDate, at)
	qb.AddWarcHeader(gowarc.ContentType, "application/http;msgtype=request")
	qb.AddWarcHeader(gowarc.WarcConcurrentTo, respRec.WarcHeader().Get(gowarc.WarcRecordID))
	if w.infoID != "" {
		qb.AddWarcHeader(gowarc.WarcWarcinfoID, w.infoID)
	}
	qb.Write(reqBlock.Bytes())
	reqRec, _, err := qb.Build()
	if err != nil {
		respRec.Close()
		return
	}
	w.write(respRec, reqRec)
}

func writeHeader(b *bytes.Buffer, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			// Header values cannot hold line breaks after net/http, but be sure.
			v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
			fmt.Fprintf(b, "%s: %s\r\n", k, v)
		}
	}
}

// close flushes, syncs and gives the file its final name.
func (w *warcWriter) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.err
	if ferr := w.w.Flush(); err == nil {
		err = ferr
	}
	if serr := w.f.Sync(); err == nil {
		err = serr
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if rerr := os.Rename(w.f.Name(), w.path); err == nil {
		err = rerr
	}
	if err != nil {
		return fmt.Errorf("harvest: WARC %s: %w", w.path, err)
	}
	return nil
}

// metadata records warc-fields about a capture whose payload is kept
// outside the WARC (a download's size and digest).
func (w *warcWriter) metadata(target string, at time.Time, fields map[string]string) {
	gowarcMu.Lock()
	defer gowarcMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	rb := gowarc.NewRecordBuilder(gowarc.Metadata, recOpts...)
	rb.AddWarcHeader(gowarc.WarcTargetURI, target)
	rb.AddWarcHeaderTime(gowarc.WarcDate, at)
	rb.AddWarcHeader(gowarc.ContentType, gowarc.ApplicationWarcFields)
	if w.infoID != "" {
		rb.AddWarcHeader(gowarc.WarcWarcinfoID, w.infoID)
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(rb, "%s: %s\r\n", k, fields[k])
	}
	rec, _, err := rb.Build()
	if err != nil {
		if w.err == nil {
			w.err = fmt.Errorf("building a WARC metadata record for %s: %w", target, err)
		}
		return
	}
	w.write(rec)
}
