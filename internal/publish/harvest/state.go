package harvest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"ferry/internal/atomicfile"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// entry is what the state keeps about one URL between runs.
type entry struct {
	ETag         string    `json:"etag,omitempty"`
	LastModified string    `json:"last_modified,omitempty"`
	Type         string    `json:"type,omitempty"` // Content-Type as sent
	Cache        string    `json:"cache"`          // name of the body's file under cache/
	Date         time.Time `json:"date"`           // when the cached body was fetched
	Seen         time.Time `json:"seen"`           // last run that fetched or revalidated it
}

// state is state.json: {"version": 1, "urls": {URL: entry}}.
type state struct {
	mu      sync.Mutex
	path    string
	URLs    map[string]*entry `json:"urls"`
	Version int               `json:"version"`
}

func loadState(path string) (*state, error) {
	s := &state{path: path, URLs: map[string]*entry{}, Version: 1}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("harvest state: %w", err)
	}
	if err := json.Unmarshal(b, s); err != nil || s.Version != 1 {
		// A damaged state only costs one full (unconditional) harvest.
		return &state{path: path, URLs: map[string]*entry{}, Version: 1}, nil
	}
	if s.URLs == nil {
		s.URLs = map[string]*entry{}
	}
	return s, nil
}

func (s *state) get(u string) *entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.URLs[u]; e != nil {
		c := *e
		return &c
	}
	return nil
}

func (s *state) drop(u string) {
	s.mu.Lock()
	delete(s.URLs, u)
	s.mu.Unlock()
}

func (s *state) seen(u string) {
	s.mu.Lock()
	if e := s.URLs[u]; e != nil {
		e.Seen = time.Now().UTC()
	}
	s.mu.Unlock()
}

func (s *state) put(u string, e *entry) {
	s.mu.Lock()
	c := *e
	s.URLs[u] = &c
	s.mu.Unlock()
}

// save writes the state by rename, so a crash leaves the old or the new one.
func (s *state) save() error {
	s.mu.Lock()
	b, err := json.Marshal(s)
	s.mu.Unlock()
	if err != nil {
		return err
	}
	return writeFileAtomic(s.path, b, true)
}

func writeFileAtomic(path string, b []byte, durable bool) error {
	if durable {
		return atomicfile.WriteFile(path, b, 0o600) // fsyncs the file and its folder
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(b)
	if err == nil && durable {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

func cacheName(u string) string {
	h := sha256.Sum256([]byte(u))
	return hex.EncodeToString(h[:16])
}

func (r *run) cachePath(name string) string {
	return filepath.Join(r.o.StateDir, "cache", name[:2], name)
}

func (r *run) cacheExists(name string) bool {
	_, err := os.Stat(r.cachePath(name))
	return err == nil
}

func (r *run) readCache(name string) ([]byte, error) {
	return os.ReadFile(r.cachePath(name))
}

// store keeps a fetched body for the next run's conditional GET.
func (r *run) store(u string, resp *http.Response, body []byte) *entry {
	e := &entry{
		ETag: resp.Header.Get("ETag"), LastModified: resp.Header.Get("Last-Modified"),
		Type: resp.Header.Get("Content-Type"), Cache: cacheName(u),
		Date: time.Now().UTC(), Seen: time.Now().UTC(),
	}
	p := r.cachePath(e.Cache)
	err := os.MkdirAll(filepath.Dir(p), 0o755)
	if err == nil {
		err = writeFileAtomic(p, body, false) // a lost cache file costs one full fetch
	}
	if err != nil {
		// Without a cached copy the next run fetches it whole; no harm.
		e.ETag, e.LastModified = "", ""
	}
	r.state.put(u, e)
	return e
}

// writeCache keeps a page ferry made (an article, a feed's index) in the
// cache, where render reads it from.
func (r *run) writeCache(name string, b []byte) error {
	p := r.cachePath(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(p, b, false)
}
