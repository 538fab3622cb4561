package mirror

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"ferry/internal/publish/index"
	"ferry/internal/publish/opds"
	"ferry/internal/store"
)

// ServeOptions tune Handler.
type ServeOptions struct {
	// BaseURL is the mirror's public URL, for the absolute links of the
	// OPDS catalogue (Kiwix's clients do not resolve relative ones).
	// Default: from each request's Host header.
	BaseURL string
	// Log receives one line per failed request (never the client's address).
	Log func(string)
}

// Handler serves st read-only over HTTP: GET and HEAD of
//
//	/ and /catalog.opds.xml   the OPDS 1.2 acquisition feed (absolute links)
//	/channels.json            the channel list
//	/CHANNEL/index.json       the signed channel index
//	/KEY                      an archive or WARC the channel's index names
//
// with byte ranges, ETags (the SHA-256 of the object, the same on every
// mirror) and conditional requests. Objects no index names (left by a
// worker that failed) are not served.
func Handler(st store.Store, opts ServeOptions) http.Handler {
	return &server{st: st, opts: opts, idx: map[string]*cachedIndex{}}
}

type server struct {
	st   store.Store
	opts ServeOptions
	mu   sync.Mutex
	idx  map[string]*cachedIndex
}

type cachedIndex struct {
	ix   *index.Signed
	etag string
	at   time.Time
}

// indexTTL is how long a channel's index is trusted to be current.
const indexTTL = 2 * time.Second

func (s *server) logf(format string, a ...any) {
	if s.opts.Log != nil {
		s.opts.Log(fmt.Sprintf(format, a...))
	}
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "read only", http.StatusMethodNotAllowed)
		return
	}
	k := strings.TrimPrefix(r.URL.Path, "/")
	switch {
	case k == "" || k == index.CatalogKey:
		s.catalog(w, r)
	case k == index.ChannelsKey:
		s.small(w, r, k, index.MaxChannelsSize, "application/json")
	case strings.HasSuffix(k, "/index.json") && strings.Count(k, "/") == 1:
		s.small(w, r, k, index.MaxIndexSize, "application/json")
	default:
		s.object(w, r, k)
	}
}

func (s *server) fail(w http.ResponseWriter, k string, err error) {
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, nil)
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	s.logf("mirror: %s: %v", k, err)
	// The store's error may name paths and hosts: not for clients.
	http.Error(w, "the store could not be read", http.StatusBadGateway)
}

// catalog builds the feed from the channel list with this mirror's links.
func (s *server) catalog(w http.ResponseWriter, r *http.Request) {
	b, _, err := readSmall(r.Context(), s.st, index.ChannelsKey, index.MaxChannelsSize)
	list := &index.Channels{}
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		s.fail(w, index.ChannelsKey, err)
		return
	default:
		if list, err = index.ParseChannels(b); err != nil {
			s.fail(w, index.ChannelsKey, err)
			return
		}
	}
	base := s.opts.BaseURL
	if base == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base = scheme + "://" + r.Host + "/"
	} else if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	feed := opds.Feed(base, opds.Title, list.Channels, list.Updated)
	serveBytes(w, r, feed, opds.FeedType, "no-cache")
}

func serveBytes(w http.ResponseWriter, r *http.Request, b []byte, ctype, cache string) {
	sum := sha256.Sum256(b)
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Cache-Control", cache)
	h.Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

// small serves the channel list or an index as it is in the store.
func (s *server) small(w http.ResponseWriter, r *http.Request, k string, limit int64, ctype string) {
	if store.ValidKey(k) != nil {
		http.NotFound(w, r)
		return
	}
	b, _, err := readSmall(r.Context(), s.st, k, limit)
	if err != nil {
		s.fail(w, k, err)
		return
	}
	serveBytes(w, r, b, ctype, "no-cache")
}

// index returns the channel's index, read at most indexTTL ago. With
// fresh, the stored index's ETag is asked for and a changed index read
// again at once (an object published a moment ago is then found), while
// requests for names that do not exist cost only that small question.
func (s *server) index(ctx context.Context, channel string, fresh bool) (*index.Signed, error) {
	s.mu.Lock()
	c := s.idx[channel]
	s.mu.Unlock()
	if c != nil && time.Since(c.at) < indexTTL {
		if !fresh {
			return c.ix, nil
		}
		if info, err := s.st.Stat(ctx, index.IndexKey(channel)); err == nil && info.ETag == c.etag {
			return c.ix, nil
		}
	}
	b, info, err := readSmall(ctx, s.st, index.IndexKey(channel), index.MaxIndexSize)
	if err != nil {
		return nil, err
	}
	ix, err := index.Parse(b)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.idx[channel] = &cachedIndex{ix: ix, etag: info.ETag, at: time.Now()}
	s.mu.Unlock()
	return ix, nil
}

// object serves an archive or WARC that its channel's index names.
func (s *server) object(w http.ResponseWriter, r *http.Request, k string) {
	channel, _, ok := strings.Cut(k, "/")
	if !ok || index.ValidChannel(channel) != nil || store.ValidKey(k) != nil {
		http.NotFound(w, r)
		return
	}
	ix, err := s.index(r.Context(), channel, false)
	if err != nil {
		s.fail(w, index.IndexKey(channel), err)
		return
	}
	o, ok := ix.Names(k)
	if !ok {
		// Perhaps published since the index was read.
		if ix, err = s.index(r.Context(), channel, true); err == nil {
			o, ok = ix.Names(k)
		}
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	switch {
	case strings.HasSuffix(k, ".ferry"):
		h.Set("Content-Type", opds.ArchiveType)
	default:
		// A gzipped WARC is served as stored: no Content-Encoding, so no
		// client unpacks it on the way.
		h.Set("Content-Type", "application/warc")
	}
	h.Set("Cache-Control", "public, max-age=86400, immutable")
	h.Set("ETag", `"`+o.SHA256+`"`)
	if of, ok := s.st.(fileOpener); ok {
		// A folder store's file goes out with sendfile.
		fh, info, err := of.OpenFile(r.Context(), k)
		if err == nil && info.Size != o.Size {
			fh.Close()
			err = fmt.Errorf("the store holds %d bytes, the index says %d", info.Size, o.Size)
		}
		if err != nil {
			s.fail(w, k, err)
			return
		}
		defer fh.Close()
		http.ServeContent(w, r, "", time.Time{}, fh)
		return
	}
	rs := &rangeReader{ctx: r.Context(), st: s.st, key: k, size: o.Size}
	defer rs.Close()
	http.ServeContent(w, r, "", time.Time{}, rs)
	if rs.err != nil && !errors.Is(rs.err, context.Canceled) {
		s.logf("mirror: %s: %v", k, rs.err)
	}
}

// fileOpener is a store whose objects are files (store.Folder).
type fileOpener interface {
	OpenFile(ctx context.Context, key string) (*os.File, store.Info, error)
}

var _ fileOpener = (*store.Folder)(nil)

// rangeReader is an io.ReadSeeker over a stored object that opens a ranged
// read where it is read, so http.ServeContent reads only the ranges a
// client asks for.
type rangeReader struct {
	ctx  context.Context
	st   store.Store
	key  string
	size int64
	off  int64
	body io.ReadCloser
	err  error
}

func (r *rangeReader) Seek(offset int64, whence int) (int64, error) {
	var n int64
	switch whence {
	case io.SeekStart:
		n = offset
	case io.SeekCurrent:
		n = r.off + offset
	case io.SeekEnd:
		n = r.size + offset
	}
	if n < 0 {
		return 0, errors.New("seek before the start")
	}
	if n != r.off && r.body != nil {
		r.body.Close()
		r.body = nil
	}
	r.off = n
	return n, nil
}

func (r *rangeReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if r.body == nil {
		body, info, err := r.st.GetRange(r.ctx, r.key, r.off, -1)
		if err == nil && info.Size != r.size {
			body.Close()
			err = fmt.Errorf("the store holds %d bytes, the index says %d", info.Size, r.size)
		}
		if err != nil {
			r.err = err
			return 0, err
		}
		r.body = body
	}
	if int64(len(p)) > r.size-r.off {
		p = p[:r.size-r.off]
	}
	n, err := r.body.Read(p)
	r.off += int64(n)
	if err == io.EOF && r.off < r.size {
		err = io.ErrUnexpectedEOF
	}
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

func (r *rangeReader) Close() error {
	if r.body != nil {
		return r.body.Close()
	}
	return nil
}
