// Package source defines what every content source hands to the packer: a
// stream of entries with a path, a MIME type, a title and their bytes.
//
// Each source format lives in a sub-package (ingest/folder, ingest/zim,
// ingest/warc, ingest/feed, ingest/epub) and implements Source. The packer
// never knows which format an entry came from.
package source

import (
	"context"
	"io"
)

// Entry is one item a source yields: an article, an image, a style sheet, a
// video, or a redirect to another entry.
type Entry struct {
	// Path is the entry's path inside the archive: slash-separated, relative,
	// clean (no "." or ".." elements, no leading slash), valid UTF-8.
	Path string
	// MIME is the media type, e.g. "text/html; charset=utf-8" or "image/png".
	MIME string
	// Title is the human title; empty for non-articles.
	Title string
	// Redirect, when set, makes this entry a redirect to the entry at that
	// path; Open and Size are then unused.
	Redirect string
	// Article marks entries a reader browses and searches (HTML pages with
	// text), as opposed to resources such as images, scripts and styles.
	Article bool
	// Size is the content length in bytes, or -1 when unknown.
	Size int64
	// Open returns the content. It may be called more than once.
	Open func() (io.ReadCloser, error)
}

// Source yields entries. Walk calls fn for every entry, in any order, and
// stops at the first error fn returns. Paths a source yields are unique.
type Source interface {
	Walk(ctx context.Context, fn func(Entry) error) error
}

// Metadata is what a source knows about itself (a ZIM's title, language,
// main page...). Sources that have it implement Describer.
type Metadata struct {
	Title        string
	Description  string
	Language     string // BCP 47, e.g. "ko" or "en"
	Creator      string
	Publisher    string
	Date         string
	MainPage     string // path of the main page, relative to the source
	Illustration []byte // PNG, if any
}

// Counter is implemented by sources that can tell cheaply, before Walk,
// how many entries it will yield (a folder counts its files, a ZIM reads
// its header), so progress can show a total. An estimate is fine.
type Counter interface {
	Count(ctx context.Context) (int, error)
}

// Warner is implemented by sources that can say, once Walk has run (some
// already when opened), what they changed or left out: one sentence per
// problem, naming the entry or record (a ZIM entry whose path ends in a
// slash, a WARC record resynchronised, a feed without items). Pack passes
// each to its Warn. docs/ingest.md lists what each source reports.
type Warner interface {
	Warnings() []string
}

// Describer is implemented by sources that carry their own metadata.
type Describer interface {
	Metadata() Metadata
}
