// Package scrub finds and removes the tracking watermarks that Red Star OS 3.0
// appends to files, and identifying metadata (EXIF, XMP, IPTC, PNG text
// chunks, document author fields), before content is packed or passed on.
//
// The formats it understands, the sources they were taken from, and what is
// deliberately left alone are written down in docs/scrub.md.
//
// # Safety rule
//
// Scrubbing never guesses. A Red Star trailer is only cut when its length
// field, its "EOF" tag and every DES-decrypted mark agree; then exactly its
// bytes are cut, whatever comes before them (a Motion Photo's video after a
// JPEG, say). Metadata is removed by dropping whole, well-delimited
// segments, chunks or fields and copying every other byte unchanged. When a
// structure is not understood that part is left as it is and a [Finding]
// of kind [KindWarning] says so.
//
// # Hostile files
//
// Every parser bounds its work and memory by the size of its input (see
// docs/scrub.md), and a panic that a bug might still cause is returned as
// [ErrInternal] naming the file, so that a crafted file on a card cannot
// stop the scrubbing of the files after it.
package scrub
