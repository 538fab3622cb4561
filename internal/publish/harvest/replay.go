package harvest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/nlnwa/gowarc/v3"
)

// ErrNotCaptured: a replayed harvest asked for a URL that the WARCs hold no
// usable capture of (never fetched, or fetched with no answer).
var ErrNotCaptured = errors.New("harvest: not in the WARCs")

// errCutCapture: the harvest that made the WARC stopped reading this
// response (too large, too slow, cut off); replaying it fails again.
var errCutCapture = errors.New("harvest: the capture in the WARC was cut off when harvested")

// MaxReplayBytes limits the HTTP messages a Replay keeps in memory.
const MaxReplayBytes = 4 << 30

// Replay answers a harvest's requests from WARC files instead of the web,
// so an edition can be made again offline from the WARCs published with it
// and those before (a 304 in one run's WARC refers to a capture in an
// earlier one). Give it as Options.Transport, with a fresh state folder.
//
// Each URL is answered with its newest response record as it was recorded
// (status, headers and body as received, so decompression and limits
// apply again; a revisit record, a 304, says only that this response was
// still current); a response the harvest had stopped reading
// (WARC-Truncated: too large, too slow, cut off) fails again. Request
// headers are ignored.
type Replay struct {
	caps map[string]*capture
	// Responses counts the response records read, Revisits the revisits.
	Responses, Revisits int
}

// capture is what the WARCs hold of one URL: its newest full response (a
// newer revisit says only that it had not changed).
type capture struct {
	msg       []byte // the HTTP message
	date      time.Time
	truncated string
}

// NewReplay reads the WARC files in order (oldest first: of two records of
// one URL with the same date the later one wins).
func NewReplay(paths ...string) (*Replay, error) {
	r := &Replay{caps: map[string]*capture{}}
	var kept int64
	for _, p := range paths {
		if err := r.read(p, &kept); err != nil {
			return nil, fmt.Errorf("harvest: replay: %s: %w", p, err)
		}
	}
	return r, nil
}

func (r *Replay) read(path string, kept *int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return r.readFrom(f, kept)
}

// readFrom reads one WARC file's records.
func (r *Replay) readFrom(f io.Reader, kept *int64) error {
	wr, err := gowarc.NewWarcFileReaderFromStream(f, 0)
	if err != nil {
		return err
	}
	defer wr.Close()
	for {
		rec, err := wr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		err = r.record(rec.WarcRecord, kept)
		rec.Close()
		if err != nil {
			return err
		}
	}
}

func (r *Replay) record(rec gowarc.WarcRecord, kept *int64) error {
	typ := rec.Type()
	if typ != gowarc.Response && typ != gowarc.Revisit {
		return nil
	}
	h := rec.WarcHeader()
	target := h.Get(gowarc.WarcTargetURI)
	date, err := rec.Date()
	if target == "" || err != nil {
		return fmt.Errorf("a %s record without a target URI or date", typ)
	}
	c := r.caps[target]
	if c == nil {
		c = &capture{}
		r.caps[target] = c
	}
	if typ == gowarc.Revisit {
		r.Revisits++
		return nil
	}
	r.Responses++
	if date.Before(c.date) {
		return nil
	}
	raw, err := rec.Block().RawBytes()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(raw, MaxReplayBytes-*kept+1)); err != nil {
		return err
	}
	*kept += int64(buf.Len()) - int64(len(c.msg))
	if *kept > MaxReplayBytes {
		return fmt.Errorf("more than %d bytes of captures", int64(MaxReplayBytes))
	}
	c.msg, c.date, c.truncated = buf.Bytes(), date, h.Get(gowarc.WarcTruncated)
	return nil
}

// URLs is how many URLs the WARCs hold captures of.
func (r *Replay) URLs() int { return len(r.caps) }

// RoundTrip implements http.RoundTripper.
func (r *Replay) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	u := req.URL.String()
	c := r.caps[u]
	if c == nil || c.msg == nil {
		why := "never fetched"
		if c != nil {
			why = "only a revisit, whose capture is in an earlier WARC not given"
		}
		return nil, fmt.Errorf("%w: %s (%s)", ErrNotCaptured, u, why)
	}
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(c.msg)), req)
	if err != nil {
		return nil, fmt.Errorf("harvest: replay: the capture of %s: %w", u, err)
	}
	if c.truncated != "" {
		resp.Body = cutBody{resp.Body, c.truncated}
	}
	return resp, nil
}

// cutBody gives a cut capture's bytes, then fails as the harvest did.
type cutBody struct {
	io.ReadCloser
	why string
}

func (b cutBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		err = fmt.Errorf("%w (WARC-Truncated: %s)", errCutCapture, b.why)
	}
	return n, err
}
