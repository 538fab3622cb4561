package library

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"ferry/internal/archive"
	"ferry/internal/atomicfile"
	"ferry/internal/edition"
	"ferry/internal/progress"
)

const (
	copyChunk = 1 << 20
	// syncEvery bounds what a power cut can lose of a partial copy.
	syncEvery = 32 << 20
	// resumeBackoff is dropped from the end of a partial copy before
	// resuming: after a power cut a file's tail may hold zeros or stale
	// blocks even though its length says otherwise.
	resumeBackoff = 1 << 20
)

// CopyOptions tune a copy.
type CopyOptions struct {
	// Progress receives bytes written of the total (resumed bytes count as done).
	Progress progress.Func
	// VerifyProgress receives bytes read back while verifying.
	VerifyProgress progress.Func

	// wrap, in tests, wraps the destination writer to inject faults.
	wrap func(io.Writer) io.Writer
	// backoff, in tests, replaces resumeBackoff so that small test
	// archives are resumed too.
	backoff int64
}

// CopyArchive copies the archive src (size bytes, id its archive id) into
// dir as ID.ferry without ever leaving a broken file under that name: it
// writes .ID.part, fsyncs, reads it back and verifies every byte against
// the signed manifest, renames it and fsyncs dir. A .ID.part left by an
// interrupted copy is resumed (its last MiB is rewritten, the 64 KiB before
// that compared with the source; the final check covers the rest). It checks the free space first. It returns the final
// path and whether it was already there.
func CopyArchive(ctx context.Context, src io.ReaderAt, size int64, id, dir string, opts CopyOptions) (string, bool, error) {
	final, part, held, err := prepareCopy(dir, id, size)
	if err != nil || held {
		return final, held, err
	}
	var have int64
	if st, err := os.Lstat(part); err == nil {
		have = st.Size()
		if have > size || links(st) > 1 {
			// A part with other names is a link linkArchive made and did
			// not finish: writing into it would write into the carrier's
			// file.
			have = 0
		}
		back := int64(resumeBackoff)
		if opts.backoff > 0 {
			back = opts.backoff
		}
		have = max(0, have-back)
		if have > 0 && !samePrefixTail(src, part, have) {
			have = 0
		}
	}
	if free, ok := freeSpaceOf(dir); ok && free < size-have {
		return "", false, fmt.Errorf("%w on %s: %s to write, %s free: %s missing (free space or use a bigger card)",
			ErrNoSpace, dir, progress.Bytes(size-have), progress.Bytes(free), progress.Bytes(size-have-free))
	}
	if err := copyTail(ctx, src, size, part, have, opts); err != nil {
		return "", false, err
	}
	err = verifyCopy(ctx, part, id, size, opts.VerifyProgress)
	if err != nil && have > 0 && errors.Is(err, ErrCopy) {
		// The kept part of an interrupted copy was damaged: copy it all again.
		if err = copyTail(ctx, src, size, part, 0, opts); err == nil {
			err = verifyCopy(ctx, part, id, size, opts.VerifyProgress)
		}
	}
	if err != nil {
		if errors.Is(err, ErrCopy) {
			os.Remove(part) // a copy that does not verify is no use to resume
		}
		return "", false, err
	}
	if err := os.Rename(part, final); err != nil {
		return "", false, err
	}
	return final, false, atomicfile.SyncDir(dir)
}

// prepareCopy checks the names a copy of archive id into dir uses: it
// makes dir a real folder, removes anything but regular files under them,
// and reports whether dir already holds the archive.
func prepareCopy(dir, id string, size int64) (final, part string, held bool, err error) {
	if !validID(id) {
		return "", "", false, fmt.Errorf("library: bad archive id %q", id)
	}
	// Write only into a real folder, and only to regular files: a card may
	// hold symbolic links (or FIFOs) under these names that lead elsewhere.
	if err := atomicfile.MkdirReal(dir); err != nil {
		return "", "", false, fmt.Errorf("library: %w", err)
	}
	final = filepath.Join(dir, id+archiveExt)
	part = filepath.Join(dir, "."+id+partExt)
	for _, p := range []string{final, part} {
		if st, err := os.Lstat(p); err == nil && !st.Mode().IsRegular() {
			if err := os.Remove(p); err != nil {
				return "", "", false, fmt.Errorf("library: %s is not a regular file and cannot be removed: %w", p, err)
			}
		}
	}
	if st, err := os.Stat(final); err == nil && st.Size() == size {
		// Only a verified copy is ever renamed to this name; check that
		// it is the same archive.
		if r, err := archive.OpenFile(final); err == nil {
			same := r.ID() == id
			r.Close()
			if same {
				return final, part, true, nil
			}
		}
	}
	return final, part, false, nil
}

// linkFile makes a hard link; tests replace it to act as a library on
// another filesystem.
var linkFile = os.Link

// linkArchive puts the archive file at path (size bytes, id its archive
// id; src reads the same bytes) into dir as ID.ferry with the guarantees
// of CopyArchive, but without copying when it can: it hard-links path as
// .ID.part, syncs it, reads it back and verifies every byte against the
// signed manifest, and renames it. When no link can be made (path is on
// another filesystem, or this one has no hard links) it copies from src
// with CopyArchive. It never writes to or removes the file at path; a
// link that fails its check is removed. It returns the final path and
// whether it was already there.
func linkArchive(ctx context.Context, path string, src io.ReaderAt, size int64, id, dir string, opts CopyOptions) (string, bool, error) {
	final, part, held, err := prepareCopy(dir, id, size)
	if err != nil || held {
		return final, held, err
	}
	st, err := os.Lstat(path)
	if err != nil {
		return "", false, err
	}
	if !st.Mode().IsRegular() || st.Size() != size {
		return "", false, fmt.Errorf("library: %s is not a regular file of %d bytes", path, size)
	}
	err = linkFile(path, part)
	if errors.Is(err, fs.ErrExist) {
		// An interrupted copy or link of the same archive: start again.
		if err = os.Remove(part); err == nil {
			err = linkFile(path, part)
		}
	}
	if err != nil {
		return CopyArchive(ctx, src, size, id, dir, opts)
	}
	if err := placeLink(ctx, st, part, id, size, opts); err != nil {
		os.Remove(part)
		return "", false, err
	}
	if opts.Progress != nil {
		opts.Progress(size, size)
	}
	if err := os.Rename(part, final); err != nil {
		os.Remove(part)
		return "", false, err
	}
	return final, false, atomicfile.SyncDir(dir)
}

// placeLink checks that the link part is the file first seen (st), gives
// it the mode of a copy, makes it durable and verifies it.
func placeLink(ctx context.Context, st os.FileInfo, part, id string, size int64, opts CopyOptions) error {
	f, err := os.Open(part)
	if err != nil {
		return err
	}
	defer f.Close()
	lst, err := f.Stat()
	if err != nil {
		return err
	}
	if !os.SameFile(st, lst) || lst.Size() != size {
		return fmt.Errorf("library: %s changed while it was being added", part)
	}
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	// Add wrote none of these bytes, so there is no copy of its own to
	// read back from the medium: the file is checked as the system reads
	// it, which may be from memory (docs/library.md, "Linked arrivals").
	// That check does not depend on the bytes having reached the medium,
	// so it runs while the fsync waits for the disk; the link is renamed
	// only once both have succeeded.
	synced := make(chan error, 1)
	go func() { synced <- f.Sync() }()
	verr := verifyFile(ctx, part, id, size, false, opts.VerifyProgress)
	if serr := <-synced; serr != nil {
		return serr
	}
	return verr
}

func copyTail(ctx context.Context, src io.ReaderAt, size int64, part string, have int64, opts CopyOptions) error {
	flags := os.O_WRONLY
	if have == 0 {
		// A fresh file: whatever was under the name goes, and O_EXCL
		// makes sure no link put there since is followed.
		if err := os.Remove(part); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		flags |= os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return fmt.Errorf("library: %s is not a regular file; refusing to write to it", part)
	}
	defer f.Close()
	if err := f.Truncate(have); err != nil {
		return err
	}
	if _, err := f.Seek(have, io.SeekStart); err != nil {
		return err
	}
	var w io.Writer = f
	if opts.wrap != nil {
		w = opts.wrap(f)
	}
	buf := make([]byte, copyChunk)
	off, sinceSync := have, int64(0)
	for off < size {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := int(min(int64(len(buf)), size-off))
		if _, err := src.ReadAt(buf[:n], off); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
			return fmt.Errorf("reading the source: %w", err)
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return fmt.Errorf("writing %s: %w", part, err)
		}
		off += int64(n)
		sinceSync += int64(n)
		if sinceSync >= syncEvery {
			if err := f.Sync(); err != nil {
				return err
			}
			sinceSync = 0
		}
		if opts.Progress != nil {
			opts.Progress(off, size)
		}
	}
	if err := f.Sync(); err != nil {
		return err
	}
	return f.Close()
}

// verifyCopy reads the written file back from the medium and checks
// every byte.
func verifyCopy(ctx context.Context, path, id string, size int64, prog progress.Func) error {
	return verifyFile(ctx, path, id, size, true, prog)
}

// verifyFile checks every byte of the archive file at path; fromMedium
// first drops its cached pages, so that what is read is what the medium
// holds.
func verifyFile(ctx context.Context, path, id string, size int64, fromMedium bool, prog progress.Func) error {
	if fromMedium {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		dropCache(f)
		f.Close()
	}
	r, err := archive.OpenFile(path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCopy, err)
	}
	defer r.Close()
	if r.ID() != id || r.Size() != size {
		return fmt.Errorf("%w: it is archive %s, expected %s", ErrCopy, r.ID(), id)
	}
	if err := edition.Verify(ctx, r, prog); err != nil {
		return fmt.Errorf("%w: %w", ErrCopy, err)
	}
	return nil
}

// samePrefixTail spot-checks a partial copy before resuming it: its last
// 64 KiB before n must equal the source's. The full check after the copy
// covers every byte; this only avoids resuming a file that is plainly
// different.
func samePrefixTail(src io.ReaderAt, part string, n int64) bool {
	f, err := os.Open(part)
	if err != nil {
		return false
	}
	defer f.Close()
	k := min(n, 64<<10)
	a, b := make([]byte, k), make([]byte, k)
	if _, err := f.ReadAt(a, n-k); err != nil {
		return false
	}
	if _, err := src.ReadAt(b, n-k); err != nil {
		return false
	}
	return string(a) == string(b)
}
