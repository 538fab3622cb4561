package store

import (
	"bytes"
	"context"
	"errors"
	"ferry/internal/progress"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Options configures an S3 store. Empty fields are taken from the usual AWS
// environment variables.
type S3Options struct {
	// Endpoint is the server's URL, e.g. "http://127.0.0.1:8333" or
	// "https://s3.example.org". Default: AWS_ENDPOINT_URL_S3, then
	// AWS_ENDPOINT_URL, then AWS S3 itself.
	Endpoint string
	// AccessKey, SecretKey and SessionToken sign requests. Default:
	// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, then the
	// default profile of ~/.aws/credentials. None at all: unsigned requests.
	AccessKey, SecretKey, SessionToken string
	// Region: default AWS_REGION, then AWS_DEFAULT_REGION, then "us-east-1".
	Region string
	// Bucket and Prefix say where the objects are; Open fills them from an
	// s3://BUCKET/PREFIX URL. Every key is stored as PREFIX/KEY.
	Bucket, Prefix string
	// PathStyle forces https://host/BUCKET/KEY requests. By default AWS gets
	// virtual-host requests and every other endpoint path style.
	PathStyle bool
	// PartSize is the multipart upload part size for large objects; 0 lets
	// minio-go choose (at least 16 MiB).
	PartSize uint64
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
}

// S3 is a Store in a bucket of an S3-compatible object store, using the
// server's conditional writes (If-None-Match: *, If-Match) for Cond. The
// server must support them on PutObject and CompleteMultipartUpload: AWS S3
// (since 2024), SeaweedFS, MinIO and Ceph RGW do.
//
// A failed or interrupted upload is never visible: a single PUT is atomic, and
// a multipart upload's object appears only when it completes. A crashed
// writer can leave an unfinished multipart upload behind, invisible but
// billed; a bucket lifecycle rule (AbortIncompleteMultipartUpload) cleans
// those up.
type S3 struct {
	client *minio.Client // retries failed requests
	once   *minio.Client // never retries: for conditional writes
	bucket string
	prefix string // "" or ending in "/"
	opts   S3Options
	name   string
}

var _ Store = (*S3)(nil)

// NewS3 connects to the bucket opts names and checks that it exists.
func NewS3(ctx context.Context, opts S3Options) (*S3, error) {
	if opts.Bucket == "" {
		return nil, errors.New("store: S3 store without a bucket")
	}
	name := "s3://" + opts.Bucket
	if p := strings.Trim(opts.Prefix, "/"); p != "" {
		name += "/" + p
		if err := validPrefix(p + "/"); err != nil {
			return nil, fmt.Errorf("store %s: %w", name, err)
		}
	}
	endpoint := firstOf(opts.Endpoint, os.Getenv("AWS_ENDPOINT_URL_S3"), os.Getenv("AWS_ENDPOINT_URL"), "https://s3.amazonaws.com")
	if !strings.Contains(endpoint, "://") {
		endpoint = "https://" + endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("store %s: endpoint %q is not an http(s)://HOST[:PORT] URL", name, endpoint)
	}
	var creds *credentials.Credentials
	switch {
	case opts.AccessKey != "":
		creds = credentials.NewStaticV4(opts.AccessKey, opts.SecretKey, opts.SessionToken)
	case os.Getenv("AWS_ACCESS_KEY_ID") != "":
		creds = credentials.NewStaticV4(os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN"))
	default:
		// The shared credentials file if there is one, else anonymous.
		// Deliberately no instance-metadata lookup: it would send requests to
		// an address the user did not name.
		creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.FileAWSCredentials{},
		})
	}
	region := firstOf(opts.Region, os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"), "us-east-1")
	lookup := minio.BucketLookupAuto
	if opts.PathStyle || !strings.HasSuffix(u.Hostname(), "amazonaws.com") {
		lookup = minio.BucketLookupPath
	}
	mk := func(retries int) (*minio.Client, error) {
		return minio.New(u.Host, &minio.Options{
			Creds:        creds,
			Secure:       u.Scheme == "https",
			Region:       region,
			BucketLookup: lookup,
			Transport:    opts.Transport,
			MaxRetries:   retries,
		})
	}
	s := &S3{bucket: opts.Bucket, opts: opts, name: name}
	if s.client, err = mk(0); err != nil {
		return nil, fmt.Errorf("store %s: %w", name, err)
	}
	// A conditional PUT that succeeded but whose answer was lost would, if
	// retried, fail its own condition: never retry those.
	if s.once, err = mk(1); err != nil {
		return nil, fmt.Errorf("store %s: %w", name, err)
	}
	if p := strings.Trim(opts.Prefix, "/"); p != "" {
		s.prefix = p + "/"
	}
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return nil, fmt.Errorf("store %s at %s: %w (check AWS_ENDPOINT_URL and the credentials)", name, u.Host, err)
	}
	if !ok {
		return nil, fmt.Errorf("store %s at %s: bucket %q does not exist; create it first", name, u.Host, s.bucket)
	}
	return s, nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

func (s *S3) String() string { return s.name }

// mapErr turns S3 error responses into this package's errors.
func (s *S3) mapErr(key string, err error, cond Cond) error {
	if err == nil {
		return nil
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.StatusCode == http.StatusPreconditionFailed || resp.Code == minio.PreconditionFailed:
		if cond.IfNoneMatch {
			return fmt.Errorf("%s: %w", key, ErrExists)
		}
		return fmt.Errorf("%s: %w", key, ErrPreconditionFailed)
	case resp.StatusCode == http.StatusConflict && (cond.IfNoneMatch || cond.IfMatch != ""):
		// AWS: another conditional write to the key was in progress.
		return fmt.Errorf("%s: %w: a concurrent write to the same key won; read it again", key, ErrPreconditionFailed)
	case resp.Code == minio.NoSuchKey || resp.StatusCode == http.StatusNotFound && resp.Code != minio.NoSuchBucket:
		if cond.IfMatch != "" {
			return fmt.Errorf("%s: %w (it no longer exists)", key, ErrPreconditionFailed)
		}
		return fmt.Errorf("%s: %w", key, ErrNotFound)
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable || resp.Code == minio.InvalidRange:
		return fmt.Errorf("%s: %w", key, ErrRange)
	}
	return fmt.Errorf("%s %s: %w", s.name, key, err)
}

func (s *S3) info(key string, oi minio.ObjectInfo) Info {
	return Info{Key: key, Size: oi.Size, ETag: strings.Trim(oi.ETag, `"`), ModTime: oi.LastModified}
}

// Get implements Store.
func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	return s.GetRange(ctx, key, 0, -1)
}

// GetRange implements Store.
func (s *S3) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, Info, error) {
	if err := ValidKey(key); err != nil {
		return nil, Info{}, err
	}
	if off < 0 {
		return nil, Info{}, fmt.Errorf("store: negative offset %d", off)
	}
	if length == 0 {
		// HTTP cannot ask for zero bytes.
		info, err := s.Stat(ctx, key)
		if err != nil {
			return nil, Info{}, err
		}
		if off > info.Size {
			return nil, Info{}, fmt.Errorf("%s: offset %d of %d bytes: %w", key, off, info.Size, ErrRange)
		}
		return emptyReader{}, info, nil
	}
	var o minio.GetObjectOptions
	switch {
	case length > 0:
		o.SetRange(off, off+length-1)
	case off > 0:
		o.SetRange(off, 0)
	}
	core := minio.Core{Client: s.client}
	body, oi, h, err := core.GetObject(ctx, s.bucket, s.prefix+key, o)
	if err != nil {
		err = s.mapErr(key, err, Cond{})
		if errors.Is(err, ErrRange) {
			// S3 refuses a range that starts at the very end; we give
			// an empty read there, as a file would.
			info, serr := s.Stat(ctx, key)
			if serr == nil && off == info.Size {
				return emptyReader{}, info, nil
			}
			if serr == nil {
				err = fmt.Errorf("%s: offset %d of %d bytes: %w", key, off, info.Size, ErrRange)
			}
		}
		return nil, Info{}, err
	}
	info := s.info(key, oi)
	if cr := h.Get("Content-Range"); cr != "" {
		// "bytes A-B/TOTAL": the whole object's size.
		if i := strings.LastIndexByte(cr, '/'); i >= 0 {
			if n, err := strconv.ParseInt(cr[i+1:], 10, 64); err == nil {
				info.Size = n
			}
		}
	}
	return body, info, nil
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if err := ValidKey(key); err != nil {
		return Info{}, err
	}
	oi, err := s.client.StatObject(ctx, s.bucket, s.prefix+key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, s.mapErr(key, err, Cond{})
	}
	return s.info(key, oi), nil
}

// Put implements Store.
//
// An object of up to one part size goes up in one PUT; a larger one as a
// multipart upload whose parts are read into memory one at a time (so memory
// stays at one part). The condition goes on the PUT or on the request that
// completes the multipart upload, where S3 checks it. (minio-go's PutObject
// drops it from that request, which is why this does its own multipart.)
func (s *S3) Put(ctx context.Context, key string, r io.Reader, size int64, cond Cond) (Info, error) {
	if err := ValidKey(key); err != nil {
		return Info{}, err
	}
	if err := cond.check(); err != nil {
		return Info{}, err
	}
	if size < 0 {
		return Info{}, fmt.Errorf("store: negative size %d", size)
	}
	if size > maxObjectSize {
		return Info{}, fmt.Errorf("%s: %d bytes is more than S3's limit of 5 TiB", key, size)
	}
	o := minio.PutObjectOptions{ContentType: "application/octet-stream"}
	c := s.client
	switch {
	case cond.IfNoneMatch:
		o.SetMatchETagExcept("*")
		c = s.once
	case cond.IfMatch != "":
		o.SetMatchETag(cond.IfMatch)
		c = s.once
	}
	part := s.partSize(size)
	buf := make([]byte, min(part, size))
	cr := &progress.Reader{R: ctxReader{ctx, r}}
	readPart := func(n int64) ([]byte, error) {
		b := buf[:n]
		if _, err := io.ReadFull(cr, b); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%s: %w", key, errShort(cr.N, size))
			}
			return nil, fmt.Errorf("%s: reading the data: %w", key, err)
		}
		return b, nil
	}

	var ui minio.UploadInfo
	if size <= part {
		b, err := readPart(size)
		if err != nil {
			return Info{}, err
		}
		ui, err = minio.Core{Client: c}.PutObject(ctx, s.bucket, s.prefix+key, bytes.NewReader(b), size, "", "", o)
		if err != nil {
			return Info{}, s.mapErr(key, err, cond)
		}
	} else {
		var err error
		ui, err = s.multipart(ctx, c, key, size, part, readPart, o, cond)
		if err != nil {
			return Info{}, err
		}
	}
	info := Info{Key: key, Size: size, ETag: strings.Trim(ui.ETag, `"`), ModTime: ui.LastModified}
	if info.ModTime.IsZero() || info.ETag == "" {
		// A PUT's answer has no Last-Modified (and some servers leave out
		// the ETag).
		if st, err := s.Stat(ctx, key); err == nil && (info.ETag == "" || st.ETag == info.ETag) {
			info.ModTime, info.ETag = st.ModTime, st.ETag
		}
	}
	return info, nil
}

// maxObjectSize and maxParts are S3's limits.
const (
	maxObjectSize = 5 << 40
	maxParts      = 10000
)

// partSize is the configured part size (16 MiB by default, at least 5 MiB)
// grown in MiB steps until size fits in maxParts parts.
func (s *S3) partSize(size int64) int64 {
	p := int64(s.opts.PartSize)
	if p == 0 {
		p = 16 << 20
	}
	p = max(p, 5<<20)
	if need := (size + maxParts - 1) / maxParts; need > p {
		p = (need + 1<<20 - 1) &^ (1<<20 - 1)
	}
	return p
}

func (s *S3) multipart(ctx context.Context, c *minio.Client, key string, size, part int64,
	readPart func(int64) ([]byte, error), o minio.PutObjectOptions, cond Cond) (minio.UploadInfo, error) {
	core := minio.Core{Client: s.client}
	// The condition is checked when the upload completes; servers differ on
	// whether they also check it on initiation, so it is not sent there.
	uploadID, err := core.NewMultipartUpload(ctx, s.bucket, s.prefix+key, minio.PutObjectOptions{ContentType: o.ContentType})
	if err != nil {
		return minio.UploadInfo{}, s.mapErr(key, err, Cond{})
	}
	abort := func() {
		// Without the caller's context: a cancelled upload is still aborted.
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		core.AbortMultipartUpload(actx, s.bucket, s.prefix+key, uploadID)
	}
	var parts []minio.CompletePart
	for n, off := 1, int64(0); off < size; n, off = n+1, off+part {
		b, err := readPart(min(part, size-off))
		if err != nil {
			abort()
			return minio.UploadInfo{}, err
		}
		p, err := core.PutObjectPart(ctx, s.bucket, s.prefix+key, uploadID, n, bytes.NewReader(b), int64(len(b)), minio.PutObjectPartOptions{})
		if err != nil {
			abort()
			return minio.UploadInfo{}, s.mapErr(key, err, Cond{})
		}
		parts = append(parts, minio.CompletePart{PartNumber: n, ETag: p.ETag})
	}
	ui, err := minio.Core{Client: c}.CompleteMultipartUpload(ctx, s.bucket, s.prefix+key, uploadID, parts, o)
	if err != nil {
		abort()
		return minio.UploadInfo{}, s.mapErr(key, err, cond)
	}
	return ui, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{})
	if err = s.mapErr(key, err, Cond{}); errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// List implements Store. Objects under the prefix whose names are not valid
// keys (written by other tools) are left out.
func (s *S3) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validPrefix(prefix); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops minio-go's listing goroutine on an early return
	for oi := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if oi.Err != nil {
			return fmt.Errorf("store %s: listing %q: %w", s.name, prefix, oi.Err)
		}
		key, ok := strings.CutPrefix(oi.Key, s.prefix)
		if !ok || ValidKey(key) != nil {
			continue
		}
		if err := fn(s.info(key, oi)); err != nil {
			return err
		}
	}
	return ctx.Err()
}
