package store

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// metaDir is the folder store's own folder inside its root. Keys cannot start
// with a dot, so no object can collide with it.
const metaDir = ".ferry-store"

// staleTemp is how old an upload's temporary file must be before NewFolder
// takes it for a crashed writer's leftover and removes it.
const staleTemp = 24 * time.Hour

// Folder is a Store in a folder of ordinary files: the object "a/b.ferry" is
// the file a/b.ferry under the root, so any object can be copied out as it is.
//
// Its own files are under .ferry-store/: tmp/ holds uploads until they are
// complete and synced, lock/ one lock file per key (flock on Unix, LockFileEx
// on Windows) that every change to the key holds, and etag/ a cache of each
// object's SHA-256 keyed by file identity (device, inode, size, mtime), so a
// stat of a large edition does not hash it again. The cache is only a
// shortcut: an entry that does not match the file is ignored and the file is
// hashed, so a crash or a file changed by hand cannot give a wrong ETag.
//
// Creation is link(2) of the synced temporary file to the final name, which
// fails atomically if the name is taken. A conditional replace holds the key's
// lock, compares the current file's hash, and renames the temporary file over
// it, so readers see the old object or the new one, never a gap.
//
// Several processes on one machine may share a Folder. Network file systems
// are not supported: their locks and links are not reliable enough.
type Folder struct {
	root string
}

var _ Store = (*Folder)(nil)

// NewFolder opens the folder store at dir, which must be an existing folder.
// It removes uploads left behind by writers that crashed a day or more ago.
func NewFolder(dir string) (*Folder, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w (create the folder first)", dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("store %s: not a folder", dir)
	}
	f := &Folder{root: abs}
	for _, d := range []string{"tmp", "lock", "etag"} {
		if err := os.MkdirAll(filepath.Join(abs, metaDir, d), 0o755); err != nil {
			return nil, fmt.Errorf("store %s: %w", dir, err)
		}
	}
	f.removeStaleTemps()
	return f, nil
}

func (f *Folder) String() string { return f.root }

func (f *Folder) removeStaleTemps() {
	tmp := filepath.Join(f.root, metaDir, "tmp")
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return
	}
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && time.Since(fi.ModTime()) > staleTemp {
			os.Remove(filepath.Join(tmp, e.Name()))
		}
	}
}

func (f *Folder) path(key string) string {
	return filepath.Join(f.root, filepath.FromSlash(key))
}

// keyName is the name of a key's lock and etag cache files: a hash, so that
// any key maps to one flat, valid file name.
func keyName(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:16])
}

func (f *Folder) lockPath(key string) string {
	return filepath.Join(f.root, metaDir, "lock", keyName(key))
}

func (f *Folder) etagPath(key string) string {
	return filepath.Join(f.root, metaDir, "etag", keyName(key))
}

// open opens key's file for reading, mapping absence (and a folder in its
// place) to ErrNotFound.
func (f *Folder) open(key string) (*os.File, fs.FileInfo, error) {
	if err := ValidKey(key); err != nil {
		return nil, nil, err
	}
	fh, err := os.Open(f.path(key))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || isNotDir(err) {
			return nil, nil, fmt.Errorf("%s: %w", key, ErrNotFound)
		}
		return nil, nil, err
	}
	fi, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		fh.Close()
		return nil, nil, fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	return fh, fi, nil
}

// isNotDir reports whether err says a path component is a file (ENOTDIR).
func isNotDir(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && isENOTDIR(pe.Err)
}

// Get implements Store.
func (f *Folder) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	return f.GetRange(ctx, key, 0, -1)
}

// GetRange implements Store.
func (f *Folder) GetRange(ctx context.Context, key string, off, length int64) (io.ReadCloser, Info, error) {
	if off < 0 {
		return nil, Info{}, fmt.Errorf("store: negative offset %d", off)
	}
	fh, fi, err := f.open(key)
	if err != nil {
		return nil, Info{}, err
	}
	info, err := f.info(key, fh, fi)
	if err != nil {
		fh.Close()
		return nil, Info{}, err
	}
	if off > info.Size {
		fh.Close()
		return nil, Info{}, fmt.Errorf("%s: offset %d of %d bytes: %w", key, off, info.Size, ErrRange)
	}
	n := info.Size - off
	if length >= 0 && length < n {
		n = length
	}
	return &sectionFile{SectionReader: io.NewSectionReader(fh, off, n), f: fh}, info, nil
}

// OpenFile opens the file that holds key, for a server that sends it with
// the system's zero-copy path (http.ServeContent on an *os.File uses
// sendfile). The caller closes it and must not write to it. The Info has
// no ETag: finding it may mean hashing the whole file, which a server that
// knows the object's hash (from a channel index) need not wait for.
func (f *Folder) OpenFile(ctx context.Context, key string) (*os.File, Info, error) {
	fh, fi, err := f.open(key)
	if err != nil {
		return nil, Info{}, err
	}
	return fh, Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

type sectionFile struct {
	*io.SectionReader
	f *os.File
}

func (s *sectionFile) Close() error { return s.f.Close() }

// Stat implements Store.
func (f *Folder) Stat(ctx context.Context, key string) (Info, error) {
	fh, fi, err := f.open(key)
	if err != nil {
		return Info{}, err
	}
	defer fh.Close()
	return f.info(key, fh, fi)
}

// info describes the open file fh of key; the ETag comes from the cache if
// its entry matches this very file, else from hashing fh.
func (f *Folder) info(key string, fh *os.File, fi fs.FileInfo) (Info, error) {
	id, err := identity(fh, fi)
	if err != nil {
		return Info{}, err
	}
	etag, ok := f.cachedETag(key, id)
	if !ok {
		h := sha256.New()
		if _, err := io.Copy(h, io.NewSectionReader(fh, 0, fi.Size())); err != nil {
			return Info{}, fmt.Errorf("%s: hashing: %w", key, err)
		}
		etag = hex.EncodeToString(h.Sum(nil))
		f.cacheETag(key, id, etag)
	}
	return Info{Key: key, Size: fi.Size(), ETag: etag, ModTime: fi.ModTime()}, nil
}

// fileID tells one version of a file from another: every write makes a new
// file (a new inode), and size and mtime guard against a reused inode number.
type fileID struct {
	dev, ino uint64
	size     int64
	mtime    int64
}

func (id fileID) String() string {
	return fmt.Sprintf("%d %d %d %d", id.dev, id.ino, id.size, id.mtime)
}

// The etag cache file holds "ferry-etag 1 DEV INO SIZE MTIME SHA256HEX\n".
func (f *Folder) cachedETag(key string, id fileID) (string, bool) {
	b, err := os.ReadFile(f.etagPath(key))
	if err != nil {
		return "", false
	}
	want := "ferry-etag 1 " + id.String() + " "
	s := string(b)
	if !strings.HasPrefix(s, want) || !strings.HasSuffix(s, "\n") {
		return "", false
	}
	etag := s[len(want) : len(s)-1]
	if len(etag) != 64 {
		return "", false
	}
	if _, err := hex.DecodeString(etag); err != nil {
		return "", false
	}
	return etag, true
}

// cacheETag writes the cache entry by rename, so a reader never sees half of
// one. Failure only costs a hash later.
func (f *Folder) cacheETag(key string, id fileID, etag string) {
	dst := f.etagPath(key)
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".e-*")
	if err != nil {
		return
	}
	_, err = tmp.WriteString("ferry-etag 1 " + id.String() + " " + etag + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
}

// Put implements Store.
func (f *Folder) Put(ctx context.Context, key string, r io.Reader, size int64, cond Cond) (Info, error) {
	if err := ValidKey(key); err != nil {
		return Info{}, err
	}
	if err := cond.check(); err != nil {
		return Info{}, err
	}
	if size < 0 {
		return Info{}, fmt.Errorf("store: negative size %d", size)
	}
	tmp, id, etag, err := f.writeTemp(ctx, r, size)
	if err != nil {
		return Info{}, fmt.Errorf("%s: %w", key, err)
	}
	defer os.Remove(tmp) // gone already after a rename; after a link it is the second name

	unlock, err := lockFile(f.lockPath(key))
	if err != nil {
		return Info{}, fmt.Errorf("%s: locking: %w", key, err)
	}
	defer unlock()
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}

	final := f.path(key)
	if err := f.mkdirs(key); err != nil {
		return Info{}, err
	}
	switch {
	case cond.IfNoneMatch:
		if err := os.Link(tmp, final); err != nil {
			if errors.Is(err, fs.ErrExist) {
				if fi, serr := os.Stat(final); serr == nil && fi.IsDir() {
					return Info{}, fmt.Errorf("%s: %w: a folder store cannot hold both %s and keys under %s/", key, ErrExists, key, key)
				}
				return Info{}, fmt.Errorf("%s: %w", key, ErrExists)
			}
			return Info{}, fmt.Errorf("%s: %w", key, err)
		}
	case cond.IfMatch != "":
		cur, err := f.Stat(ctx, key)
		if errors.Is(err, ErrNotFound) {
			return Info{}, fmt.Errorf("%s: %w (it no longer exists)", key, ErrPreconditionFailed)
		}
		if err != nil {
			return Info{}, err
		}
		if cur.ETag != cond.IfMatch {
			return Info{}, fmt.Errorf("%s: %w", key, ErrPreconditionFailed)
		}
		if err := os.Rename(tmp, final); err != nil {
			return Info{}, fmt.Errorf("%s: %w", key, err)
		}
	default:
		if err := os.Rename(tmp, final); err != nil {
			return Info{}, fmt.Errorf("%s: %w", key, err)
		}
	}
	if err := syncDir(filepath.Dir(final)); err != nil {
		return Info{}, fmt.Errorf("%s: syncing folder: %w", key, err)
	}
	f.cacheETag(key, id, etag)
	return Info{Key: key, Size: size, ETag: etag, ModTime: time.Unix(0, id.mtime)}, nil
}

// writeTemp copies size bytes of r to a new synced file under tmp/ and returns
// its path, identity and SHA-256.
func (f *Folder) writeTemp(ctx context.Context, r io.Reader, size int64) (path string, id fileID, etag string, err error) {
	fh, err := os.CreateTemp(filepath.Join(f.root, metaDir, "tmp"), "up-*")
	if err != nil {
		return "", fileID{}, "", err
	}
	defer func() {
		if err != nil {
			fh.Close()
			os.Remove(fh.Name())
		}
	}()
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(fh, h), 256<<10)
	n, err := io.CopyN(w, ctxReader{ctx, r}, size)
	if err == io.EOF {
		return "", fileID{}, "", errShort(n, size)
	}
	if err != nil {
		return "", fileID{}, "", fmt.Errorf("reading the data: %w", err)
	}
	if err := w.Flush(); err != nil {
		return "", fileID{}, "", err
	}
	if err := fh.Sync(); err != nil {
		return "", fileID{}, "", err
	}
	fi, err := fh.Stat()
	if err != nil {
		return "", fileID{}, "", err
	}
	if id, err = identity(fh, fi); err != nil {
		return "", fileID{}, "", err
	}
	if err := fh.Close(); err != nil {
		return "", fileID{}, "", err
	}
	return fh.Name(), id, hex.EncodeToString(h.Sum(nil)), nil
}

// mkdirs creates the folders above key's file, syncing the parent of each
// one it creates so the new entry survives a crash.
func (f *Folder) mkdirs(key string) error {
	segs := strings.Split(key, "/")
	dir := f.root
	for _, s := range segs[:len(segs)-1] {
		next := filepath.Join(dir, s)
		err := os.Mkdir(next, 0o755)
		switch {
		case err == nil:
			if err := syncDir(dir); err != nil {
				return err
			}
		case errors.Is(err, fs.ErrExist):
			fi, serr := os.Stat(next)
			if serr != nil {
				return serr
			}
			if !fi.IsDir() {
				rel, _ := filepath.Rel(f.root, next)
				return fmt.Errorf("%s: %w: the object %s is in the way (a folder store cannot hold both)", key, ErrExists, filepath.ToSlash(rel))
			}
		default:
			return fmt.Errorf("%s: %w", key, err)
		}
		dir = next
	}
	return nil
}

// Delete implements Store.
func (f *Folder) Delete(ctx context.Context, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	unlock, err := lockFile(f.lockPath(key))
	if err != nil {
		return fmt.Errorf("%s: locking: %w", key, err)
	}
	defer unlock()
	final := f.path(key)
	if fi, err := os.Lstat(final); err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	if err := os.Remove(final); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: %w", key, err)
	}
	os.Remove(f.etagPath(key))
	return syncDir(filepath.Dir(final))
}

// List implements Store. Files whose names are not valid keys (put there by
// hand) are left out.
func (f *Folder) List(ctx context.Context, prefix string, fn func(Info) error) error {
	if err := validPrefix(prefix); err != nil {
		return err
	}
	// Walk only the folder the prefix is inside of.
	start := f.root
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = f.path(prefix[:i])
	}
	var keys []string
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == start && (errors.Is(err, fs.ErrNotExist) || isNotDir(err)) {
				return fs.SkipAll
			}
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking
			}
			return err
		}
		if p == start {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(f.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			// Skip folders that cannot hold a key with the prefix.
			if !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() && strings.HasPrefix(key, prefix) && ValidKey(key) == nil {
			keys = append(keys, key)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store %s: listing %q: %w", f.root, prefix, err)
	}
	// Directory order is not key order ("a-b" sorts before "a/b").
	slices.Sort(keys)
	for _, k := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		info, err := f.Stat(ctx, k)
		if errors.Is(err, ErrNotFound) {
			continue // deleted since the walk
		}
		if err != nil {
			return err
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
