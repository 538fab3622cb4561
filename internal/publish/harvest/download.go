package harvest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"ferry/internal/atomicfile"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// defaultMaxDownload is a File source's size limit unless it sets one.
const defaultMaxDownload = 8_000_000_000

// downloadTask fetches a File source: streamed to a temporary file and
// renamed into the cache whole, conditional on the last download.
func (r *run) downloadTask(s *sourceRun) {
	u := s.start
	r.claim(u.String())
	max := s.MaxSize
	if max <= 0 {
		max = defaultMaxDownload
	}
	resp, err := r.fetch(r.ctx, fetchReq{url: u, what: "download", source: s.URL, maxSize: max, robots: true, cond: true})
	r.result(u.String(), s.URL, "download", resp, err)
	if err != nil {
		return
	}
	r.addItem(&item{url: resp.url.String(), what: "download", ctype: resp.entry.Type, cache: resp.entry.Cache, source: s.URL, changed: !resp.notModified})
}

// idleReader fails a read that waits longer than the idle limit: a large
// download has no limit on its whole time, only on silence.
type idleReader struct {
	r     io.Reader
	timer *time.Timer
	idle  time.Duration
	mu    sync.Mutex
	fired bool
}

func (ir *idleReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	ir.mu.Lock()
	fired := ir.fired
	ir.mu.Unlock()
	if fired {
		return n, fmt.Errorf("%w (no data for %s)", ErrTimeout, ir.idle)
	}
	ir.timer.Reset(ir.idle)
	return n, err
}

// downloadOnce is once for large files: no decompression (identity is asked
// for), the body streamed to disk with its SHA-256, Timeout applying to each
// silence rather than the whole transfer. The WARC gets the request, the
// response headers (WARC-Truncated: length, since the payload is kept as a
// file, not in the WARC) and a metadata record with the file's size and
// SHA-256, so an audit can check the file it has.
func (r *run) downloadOnce(ctx context.Context, u *url.URL, fr fetchReq) (*response, time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("User-Agent", r.h.ua)
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Accept-Encoding", "identity")
	var prev *entry
	if e := r.state.get(u.String()); e != nil && e.Cache != "" && r.cacheExists(e.Cache) {
		prev = e
		if e.ETag != "" {
			req.Header.Set("If-None-Match", e.ETag)
		}
		if e.LastModified != "" {
			req.Header.Set("If-Modified-Since", e.LastModified)
		}
	}
	r.countRequest()
	started := time.Now()
	ir := &idleReader{idle: r.o.Timeout}
	ir.timer = time.AfterFunc(r.o.Timeout, func() {
		ir.mu.Lock()
		ir.fired = true
		ir.mu.Unlock()
		cancel()
	})
	defer ir.timer.Stop()
	resp, err := r.h.client.Do(req)
	if err != nil {
		if ir.fired {
			return nil, 0, fmt.Errorf("%w (%s, no answer)", ErrTimeout, r.o.Timeout)
		}
		return nil, 0, err
	}
	defer resp.Body.Close()
	out := &response{url: u, status: resp.StatusCode, header: resp.Header}
	if resp.StatusCode != http.StatusOK {
		// Redirects, 304 and errors have small bodies: the usual path.
		body, truncated, _ := readLimited(resp.Body, 64<<10)
		out.raw = int64(len(body))
		r.addBytes(out.raw)
		r.warc.exchange(req, resp, body, truncated, started, prev)
		switch {
		case resp.StatusCode == http.StatusNotModified && prev != nil:
			out.notModified, out.entry = true, prev
			r.state.seen(u.String())
			return out, 0, nil
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			return out, 0, nil
		}
		return out, retryAfter(resp.Header), &statusError{resp.StatusCode}
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && ce != "identity" {
		r.warc.exchange(req, resp, nil, "length", started, nil)
		return out, 0, fmt.Errorf("%w %q (identity was asked for)", ErrEncoding, ce)
	}
	if resp.ContentLength > fr.maxSize {
		r.warc.exchange(req, resp, nil, "length", started, nil)
		return out, 0, fmt.Errorf("%w (%d bytes announced, the limit is %d)", ErrTooLarge, resp.ContentLength, fr.maxSize)
	}
	name := cacheName(u.String())
	dst := r.cachePath(name)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return out, 0, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".download-*")
	if err != nil {
		return out, 0, err
	}
	defer os.Remove(tmp.Name()) // gone after the rename
	ir.r = resp.Body
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(ir, fr.maxSize+1))
	out.raw = n
	r.addBytes(n)
	truncated := ""
	switch {
	case err != nil:
		truncated = "disconnect"
		if ir.fired {
			truncated = "time"
		}
	case n > fr.maxSize:
		truncated = "length"
		err = fmt.Errorf("%w (more than %d bytes)", ErrTooLarge, fr.maxSize)
	case resp.ContentLength >= 0 && n != resp.ContentLength:
		err = fmt.Errorf("the server announced %d bytes and sent %d", resp.ContentLength, n)
	}
	r.warc.exchange(req, resp, nil, "length", started, nil)
	sum := hex.EncodeToString(h.Sum(nil))
	r.warc.metadata(u.String(), started, map[string]string{
		"ferry-download-size": fmt.Sprint(n), "ferry-download-sha256": sum, "ferry-download-truncated": truncated,
	})
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err == nil {
		err = atomicfile.SyncDir(filepath.Dir(dst)) // the rename itself survives a power cut
	}
	if err != nil {
		return out, 0, err
	}
	e := &entry{
		ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"),
		Type: resp.Header.Get("Content-Type"), Cache: name, Date: time.Now().UTC(), Seen: time.Now().UTC(),
	}
	r.state.put(u.String(), e)
	out.entry = e
	return out, 0, nil
}
