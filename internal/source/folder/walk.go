package folder

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
)

// walkSorted visits the folder tree at dir as fs.WalkDir does (lexical
// order, the root "." first, fs.SkipDir and fs.SkipAll honoured), holding
// a directory's names in one byte arena with a 4-byte offset each instead
// of an fs.DirEntry each: fs.WalkDir keeps every entry of a directory
// (about 100 bytes each) while it walks it, 32 MB for a folder of 322,000
// pages, which grew a pack's memory with the input (docs/benchmarks.md,
// issue 15). Entries are Lstat'ed one at a time as they are visited.
func walkSorted(dir string, fn fs.WalkDirFunc) error {
	info, err := os.Lstat(dir)
	if err != nil {
		err = fn(".", nil, err)
	} else {
		err = walkSortedDir(dir, ".", fs.FileInfoToDirEntry(info), fn)
	}
	if err == fs.SkipDir || err == fs.SkipAll {
		return nil
	}
	return err
}

func walkSortedDir(dir, p string, d fs.DirEntry, fn fs.WalkDirFunc) error {
	if err := fn(p, d, nil); err != nil || !d.IsDir() {
		if err == fs.SkipDir && d.IsDir() {
			err = nil
		}
		return err
	}
	names, err := readNames(filepath.Join(dir, filepath.FromSlash(p)))
	if err != nil {
		// As fs.WalkDir: the directory again, with the error.
		if err = fn(p, d, err); err == fs.SkipDir {
			err = nil
		}
		return err
	}
	for i := range names.len() {
		name := names.at(i)
		child := name
		if p != "." {
			child = path.Join(p, name)
		}
		info, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(child)))
		if err != nil {
			if err := fn(child, nil, err); err != nil {
				if err == fs.SkipDir {
					return nil
				}
				return err
			}
			continue
		}
		if err := walkSortedDir(dir, child, fs.FileInfoToDirEntry(info), fn); err != nil {
			if err == fs.SkipDir {
				return nil // a file said SkipDir: the rest of this directory
			}
			return err
		}
	}
	return nil
}

// nameList is a directory's entry names, sorted, in one arena.
type nameList struct {
	arena []byte
	offs  []uint32 // start of each name; a name ends where the next starts
}

func (l *nameList) len() int { return len(l.offs) }

func (l *nameList) bytesAt(i int) []byte {
	end := len(l.arena)
	if i+1 < len(l.offs) {
		end = int(l.offs[i+1])
	}
	return l.arena[l.offs[i]:end]
}

func (l *nameList) at(i int) string { return string(l.bytesAt(i)) }

// readNames reads a directory's names in batches and sorts them.
func readNames(dir string) (*nameList, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var arena []byte
	var starts []uint32
	for {
		batch, err := f.Readdirnames(1024)
		for _, n := range batch {
			if int64(len(arena))+int64(len(n)) > 1<<32-1 {
				return nil, errors.New("folder: too many names in one directory")
			}
			starts = append(starts, uint32(len(arena)))
			arena = append(arena, n...)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	// Sort the (start, end) spans, then lay the names out again in order.
	type span struct{ s, e uint32 }
	spans := make([]span, len(starts))
	for i, s := range starts {
		e := uint32(len(arena))
		if i+1 < len(starts) {
			e = starts[i+1]
		}
		spans[i] = span{s, e}
	}
	starts = nil
	slices.SortFunc(spans, func(a, b span) int { return bytes.Compare(arena[a.s:a.e], arena[b.s:b.e]) })
	l := &nameList{arena: make([]byte, 0, len(arena)), offs: make([]uint32, 0, len(spans))}
	for _, sp := range spans {
		l.offs = append(l.offs, uint32(len(l.arena)))
		l.arena = append(l.arena, arena[sp.s:sp.e]...)
	}
	return l, nil
}

// countFiles counts the regular files under dir, reading each directory
// in batches (no order needed, so nothing is held per entry).
func countFiles(dir string, stop func() error) (int, error) {
	f, err := os.Open(dir)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n := 0
	for {
		batch, err := f.ReadDir(1024)
		for _, d := range batch {
			if err := stop(); err != nil {
				return n, err
			}
			switch {
			case d.Type().IsRegular():
				n++
			case d.IsDir():
				k, err := countFiles(filepath.Join(dir, d.Name()), stop)
				if err != nil {
					return n, err
				}
				n += k
			}
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
