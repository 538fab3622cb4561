// Package archive reads and writes ferry archives, as specified in
// docs/format.md.
//
// An archive is one immutable file holding entries (articles, images, media,
// redirects), grouped into zstd-compressed clusters, with a directory sorted
// by path, a title index, a full-text search index and a JSON manifest signed
// with Ed25519 by the publisher. Every byte a Reader hands out has first been
// checked against a hash that the signed manifest covers, directly or through
// a hash list; a Reader never returns content it has not verified.
//
// A Reader works in place on an io.ReaderAt: opening reads only the header,
// the trailer and the manifest; directory blocks, clusters and index blocks
// are read and verified when first needed and kept in bounded caches.
package archive
