// Package s3test starts a real S3-compatible server, SeaweedFS, on loopback
// for tests of code that uses an S3 store. There is deliberately no in-memory
// fake: conditional writes, multipart uploads and listing order are exactly
// where fakes and servers differ.
//
// The SeaweedFS binary ("weed") is built outside the repository by
// `bash .ci/seaweedfs.sh`; tests that need it skip with a message saying so
// when it is missing. Start finds it at $FERRY_WEED or in the cache folder
// the script builds into.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Version is the SeaweedFS module version .ci/seaweedfs.sh builds.
const Version = "v0.0.0-20261109003541-7506e5f91cd6"

// Server is a running SeaweedFS with one bucket.
type Server struct {
	Endpoint  string // "http://127.0.0.1:PORT"
	Bucket    string
	AccessKey string
	SecretKey string
	Dir       string // its data folder

	cmd  *exec.Cmd
	log  *bytes.Buffer
	done chan struct{}
}

// URL is the s3:// URL of prefix in the server's bucket.
func (s *Server) URL(prefix string) string {
	if prefix == "" {
		return "s3://" + s.Bucket
	}
	return "s3://" + s.Bucket + "/" + prefix
}

// Binary returns the path of the weed binary, or an error that says how to
// build it.
func Binary() (string, error) {
	if p := os.Getenv("FERRY_WEED"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("FERRY_WEED=%s: %w", p, err)
		}
		return p, nil
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", err
		}
		cache = filepath.Join(home, ".cache")
	}
	p := filepath.Join(cache, "ferry", "weed-"+Version)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("no SeaweedFS binary at %s: run `bash .ci/seaweedfs.sh` to build it (about 14 CPU-minutes from cold caches), or set FERRY_WEED", p)
	}
	return p, nil
}

// Start starts a server for the test and stops it when the test ends; it
// skips the test when the binary is missing.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Skip(err)
	}
	s, err := start(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// StartServer starts a server with its data in dir, for programs (the
// benchmarks) rather than tests; call Stop when done.
func StartServer(dir string) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	return start(bin, dir)
}

// freePorts finds n distinct free TCP ports on 127.0.0.1. Another process
// could take one before weed binds it; then weed exits, and start tries
// again on other ports.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// pickPorts is freePorts; a test replaces it.
var pickPorts = freePorts

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// errExited: weed ended before it answered, most often because another
// process took one of its ports between freePorts and its start.
var errExited = errors.New("weed exited")

// start starts weed, again on other ports (up to three times) if it
// exits before it answers.
func start(bin, dir string) (*Server, error) {
	for try := 1; ; try++ {
		s, err := startOnce(bin, dir)
		if err == nil || try == 3 || !errors.Is(err, errExited) {
			return s, err
		}
		if err := os.RemoveAll(filepath.Join(dir, "data")); err != nil {
			return nil, err
		}
	}
}

func startOnce(bin, dir string) (*Server, error) {
	s := &Server{
		Bucket:    "ferry-test",
		AccessKey: "ferry" + randHex(6),
		SecretKey: randHex(20),
		Dir:       dir,
		log:       new(bytes.Buffer),
		done:      make(chan struct{}),
	}
	// One identity, so that requests are really signed and checked.
	cfg, _ := json.Marshal(map[string]any{"identities": []any{map[string]any{
		"name":        "ferry",
		"credentials": []any{map[string]string{"accessKey": s.AccessKey, "secretKey": s.SecretKey}},
		"actions":     []string{"Admin", "Read", "Write", "List", "Tagging"},
	}}})
	cfgPath := filepath.Join(dir, "s3.json")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		return nil, err
	}
	p, err := pickPorts(8)
	if err != nil {
		return nil, err
	}
	port := strconv.Itoa
	args := []string{"server",
		"-dir=" + data, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
		"-master.port=" + port(p[0]), "-master.port.grpc=" + port(p[1]),
		"-volume.port=" + port(p[2]), "-volume.port.grpc=" + port(p[3]),
		"-filer.port=" + port(p[4]), "-filer.port.grpc=" + port(p[5]),
		"-s3", "-s3.port=" + port(p[6]), "-s3.port.grpc=" + port(p[7]),
		"-s3.port.iceberg=0", "-s3.port.lance=0",
		"-s3.config=" + cfgPath,
		"-filer.localSocket=" + filepath.Join(dir, "filer.sock"),
		"-s3.localSocket=" + filepath.Join(dir, "s3.sock"),
		"-master.telemetry=false", "-master.volumeSizeLimitMB=64", "-volume.max=16",
	}
	s.Endpoint = "http://127.0.0.1:" + port(p[6])
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout = lockedWriter{s}
	s.cmd.Stderr = lockedWriter{s}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting SeaweedFS: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }()
	if err := s.waitReady(); err != nil {
		s.Stop()
		return nil, fmt.Errorf("SeaweedFS did not come up: %w\n--- its log (last 4 KiB):\n%s", err, s.tail())
	}
	return s, nil
}

var logMu sync.Mutex

type lockedWriter struct{ s *Server }

func (w lockedWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return w.s.log.Write(p)
}

func (s *Server) tail() string {
	logMu.Lock()
	defer logMu.Unlock()
	b := s.log.Bytes()
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}

// waitReady waits until S3 answers and the bucket can be made (the filer
// behind S3 comes up a little after the S3 port opens).
func (s *Server) waitReady() error {
	c, err := minio.New(s.Endpoint[len("http://"):], &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		BucketLookup: minio.BucketLookupPath,
		Region:       "us-east-1",
		MaxRetries:   1,
	})
	if err != nil {
		return err
	}
	deadline := time.Now().Add(90 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return errExited
		case <-time.After(200 * time.Millisecond):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := c.MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{})
		if err == nil {
			var ok bool
			ok, err = c.BucketExists(ctx, s.Bucket)
			if err == nil && !ok {
				err = errors.New("bucket made but not there")
			}
		}
		cancel()
		if err == nil {
			return nil
		}
		last = err
	}
	return fmt.Errorf("no working S3 at %s after 90 s: %v", s.Endpoint, last)
}

// Stop kills the server this package started (and nothing else) and waits
// for it to exit.
func (s *Server) Stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	<-s.done
}
