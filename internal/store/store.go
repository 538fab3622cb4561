// Package store keeps a publisher's objects (editions, deltas, WARCs, the
// channel index) in a folder or in an S3-compatible object store, behind one
// small interface with the same guarantees on both, as specified in
// docs/publish.md ("The store").
//
// The guarantees the publisher builds on:
//
//   - An object appears under its key whole or not at all: a writer that
//     crashes or fails mid-upload leaves nothing visible under the final key.
//   - Put with Cond{IfNoneMatch: true} creates an object only if the key is
//     absent; of several writers racing to create one key, exactly one wins
//     and the others get ErrExists. This is how two workers never publish the
//     same edition number twice.
//   - Put with Cond{IfMatch: etag} replaces an object only if its current ETag
//     is etag, else ErrPreconditionFailed. A read-modify-write loop on this
//     (read, change, replace if unchanged, retry on ErrPreconditionFailed)
//     loses no update however many workers race.
//   - A successful Put is durable: on a folder store the file and its folder
//     are synced before Put returns.
//
// ETags are opaque: compare them, never parse them. A folder store's ETag is
// the SHA-256 of the content; an S3 store's is what the server says (the MD5
// of the content for a single-part upload, something else for multipart).
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Errors a Store returns, checked with errors.Is.
var (
	// ErrNotFound: no object has that key.
	ErrNotFound = errors.New("store: object not found")
	// ErrPreconditionFailed: a Put's IfMatch condition did not hold (the
	// object changed since it was read, or is gone). Read it again and retry.
	ErrPreconditionFailed = errors.New("store: precondition failed (the object changed since it was read)")
	// ErrExists: a Put's IfNoneMatch condition did not hold because the key is
	// taken. errors.Is(ErrExists, ErrPreconditionFailed) is true.
	ErrExists = fmt.Errorf("%w: an object with that key already exists", ErrPreconditionFailed)
	// ErrRange: a byte range starts past the end of the object.
	ErrRange = errors.New("store: range starts past the end of the object")
	// ErrInvalidKey: a key that this package refuses (see ValidKey).
	ErrInvalidKey = errors.New("store: invalid key")
)

// Info describes one stored object.
type Info struct {
	Key     string
	Size    int64     // size of the whole object, also for a range read
	ETag    string    // opaque; without quotes
	ModTime time.Time // when it was last written, as the backend knows it
}

// Cond is the precondition of a Put. The zero Cond writes unconditionally.
// Setting both fields is an error.
type Cond struct {
	// IfNoneMatch: create only; fail with ErrExists if the key exists
	// (HTTP If-None-Match: *).
	IfNoneMatch bool
	// IfMatch: replace only; fail with ErrPreconditionFailed unless the
	// object exists and its ETag is this (HTTP If-Match).
	IfMatch string
}

// Store is an object store. Every method is safe for concurrent use, also by
// several processes or machines sharing one store.
type Store interface {
	// Get opens a whole object. The Info is that of the bytes returned.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// GetRange opens length bytes from offset off (length < 0: to the end).
	// A range past the end is cut at the end; one starting past it is ErrRange.
	// Info.Size is the whole object's size; Info.ETag says which version the
	// bytes are from, so a caller resuming a download can tell it changed.
	GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, Info, error)
	// Put stores exactly size bytes read from r under key if cond holds.
	// A reader that ends early is an error and stores nothing.
	Put(ctx context.Context, key string, r io.Reader, size int64, cond Cond) (Info, error)
	// Stat describes an object without reading it.
	Stat(ctx context.Context, key string) (Info, error)
	// List calls fn for each object whose key starts with prefix, in
	// byte-wise key order, until fn returns an error (which List returns).
	List(ctx context.Context, prefix string, fn func(Info) error) error
	// Delete removes an object; deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error
	// String names the store for messages (a folder path or s3:// URL).
	String() string
}

// Options configures Open. Empty fields fall back to the environment.
type Options struct {
	S3 S3Options
}

// Open opens the store a channel config names: "s3://BUCKET/PREFIX" for an
// S3-compatible store, anything else a folder path (which must exist).
func Open(ctx context.Context, location string, opts Options) (Store, error) {
	if strings.HasPrefix(location, "s3://") {
		u, err := url.Parse(location)
		if err != nil {
			return nil, fmt.Errorf("store %q: %w", location, err)
		}
		if u.Host == "" {
			return nil, fmt.Errorf("store %q: no bucket; write s3://BUCKET/PREFIX", location)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return nil, fmt.Errorf("store %q: an s3:// URL has only a bucket and a prefix; put the endpoint and keys in AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", location)
		}
		o := opts.S3
		o.Bucket = u.Host
		o.Prefix = strings.Trim(u.Path, "/")
		return NewS3(ctx, o)
	}
	if strings.Contains(location, "://") {
		return nil, fmt.Errorf("store %q: unknown scheme; use a folder path or s3://BUCKET/PREFIX", location)
	}
	return NewFolder(location)
}

// MaxKeyLen is the longest key accepted, in bytes (S3's limit).
const MaxKeyLen = 1024

// ValidKey reports whether key is one that both backends store the same way:
// slash-separated segments of letters, digits and "-_.~+=,@", none empty, none
// starting with "." (a folder store keeps its own files under such names).
// The folder store also cannot hold both "a" and "a/b".
func ValidKey(key string) error {
	if key == "" || len(key) > MaxKeyLen || !utf8.ValidString(key) {
		return fmt.Errorf("%w %q: empty, longer than %d bytes or not UTF-8", ErrInvalidKey, key, MaxKeyLen)
	}
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" {
			return fmt.Errorf("%w %q: empty segment (leading, trailing or doubled slash)", ErrInvalidKey, key)
		}
		if seg[0] == '.' {
			return fmt.Errorf("%w %q: a segment starts with a dot", ErrInvalidKey, key)
		}
		for _, r := range seg {
			if !keyRune(r) {
				return fmt.Errorf("%w %q: character %q not allowed", ErrInvalidKey, key, r)
			}
		}
	}
	return nil
}

func keyRune(r rune) bool {
	switch {
	case r < utf8.RuneSelf:
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
			strings.ContainsRune("-_.~+=,@", r)
	default:
		return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r)
	}
}

// validPrefix accepts "" or anything a key may start with.
func validPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	// A prefix ending in "/" or mid-segment is fine; check it as a key with
	// a dummy last segment appended.
	p := prefix
	if strings.HasSuffix(p, "/") {
		p += "x"
	}
	if err := ValidKey(p); err != nil {
		return fmt.Errorf("prefix: %w", err)
	}
	return nil
}

func (c Cond) check() error {
	if c.IfNoneMatch && c.IfMatch != "" {
		return errors.New("store: Cond with both IfNoneMatch and IfMatch")
	}
	return nil
}

// errShort is what Put returns when its reader ends before size bytes.
func errShort(got, want int64) error {
	return fmt.Errorf("store: the data ended after %d of %d bytes; nothing was stored", got, want)
}

// emptyReader is a ReadCloser with nothing in it.
type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyReader) Close() error             { return nil }
