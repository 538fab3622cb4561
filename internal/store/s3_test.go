package store_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"ferry/internal/store"
	"ferry/internal/store/s3test"
)

// TestS3 runs everything S3 on one SeaweedFS (it takes seconds to start).
func TestS3(t *testing.T) {
	srv := s3test.Start(t)
	var n atomic.Int64
	open := func(t *testing.T) store.Store {
		s, err := store.NewS3(ctx, store.S3Options{
			Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey,
			Bucket: srv.Bucket, Prefix: fmt.Sprintf("t%d/p", n.Add(1)),
			PartSize: 5 << 20, // so that 12 MiB objects are multipart uploads
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	t.Run("Conformance", func(t *testing.T) { conformance(t, open) })
	t.Run("RawConditional", func(t *testing.T) { testRawConditional(t, srv) })
	t.Run("OpenFromEnvironment", func(t *testing.T) { testOpenFromEnv(t, srv) })
	t.Run("OpenErrors", func(t *testing.T) { testS3OpenErrors(t, srv) })
}

// testRawConditional checks the server itself: a PUT with If-None-Match: *
// on an existing key gets 412, and If-Match compares the ETag.
func testRawConditional(t *testing.T, srv *s3test.Server) {
	c, err := minio.NewCore(strings.TrimPrefix(srv.Endpoint, "http://"), &minio.Options{
		Creds: credentials.NewStaticV4(srv.AccessKey, srv.SecretKey, ""), BucketLookup: minio.BucketLookupPath, MaxRetries: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	putRaw := func(data string, hdr, val string) (minio.UploadInfo, int, error) {
		o := minio.PutObjectOptions{}
		switch hdr {
		case "If-None-Match":
			o.SetMatchETagExcept(val)
		case "If-Match":
			o.SetMatchETag(val)
		}
		ui, err := c.PutObject(ctx, srv.Bucket, "raw/key", strings.NewReader(data), int64(len(data)), "", "", o)
		return ui, minio.ToErrorResponse(err).StatusCode, err
	}
	first, _, err := putRaw("one", "If-None-Match", "*")
	if err != nil {
		t.Fatalf("first PUT If-None-Match: *: %v", err)
	}
	if _, code, err := putRaw("two", "If-None-Match", "*"); code != http.StatusPreconditionFailed {
		t.Errorf("PUT If-None-Match: * on an existing key: status %d (%v), want 412", code, err)
	}
	if _, code, err := putRaw("two", "If-Match", "0123456789abcdef0123456789abcdef"); code != http.StatusPreconditionFailed {
		t.Errorf("PUT If-Match with a wrong ETag: status %d (%v), want 412", code, err)
	}
	if _, _, err := putRaw("two", "If-Match", first.ETag); err != nil {
		t.Errorf("PUT If-Match with the right ETag: %v", err)
	}
}

func testOpenFromEnv(t *testing.T, srv *s3test.Server) {
	t.Setenv("AWS_ENDPOINT_URL", srv.Endpoint)
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	t.Setenv("AWS_ACCESS_KEY_ID", srv.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.SecretKey)
	t.Setenv("AWS_REGION", "us-east-1")
	s, err := store.Open(ctx, srv.URL("env/prefix"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.String() != "s3://ferry-test/env/prefix" {
		t.Errorf("String() = %q", s.String())
	}
	mustPut(t, s, "a/b", "via env")
	// The key is stored under the prefix.
	whole, err := store.Open(ctx, srv.URL(""), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := get(t, whole, "env/prefix/a/b"); got != "via env" {
		t.Errorf("object under the prefix: %q", got)
	}
}

func testS3OpenErrors(t *testing.T, srv *s3test.Server) {
	_, err := store.NewS3(ctx, store.S3Options{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, Bucket: "no-such-bucket"})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing bucket: %v", err)
	}
	_, err = store.NewS3(ctx, store.S3Options{Endpoint: srv.Endpoint, AccessKey: srv.AccessKey, SecretKey: "wrong", Bucket: srv.Bucket})
	if err == nil || !strings.Contains(err.Error(), "credentials") {
		t.Errorf("wrong secret key: %v", err)
	}
	_, err = store.NewS3(ctx, store.S3Options{Endpoint: "ftp://x", Bucket: "b"})
	if err == nil {
		t.Error("ftp endpoint accepted")
	}
}
