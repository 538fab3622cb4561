// Package sample is ferry's built-in sample library: a small signed archive
// of original Korean and English pages (what ferry is, how to read, search
// and stay safe) with drawn pictures and a synthesized sound, embedded in
// the binary so that `ferry serve` shows real content with no files at hand.
//
// The archive is built from content/ by `go run ./internal/sample/gen -dir internal/sample`, which also
// draws the pictures and the sound; its outputs are committed. The secret
// sample key (sample.key) is public on purpose: it proves nothing about who
// made an archive, and readers are shown its archives as coming from the
// "sample publisher", never as trusted.
package sample

import (
	"bytes"
	_ "embed"
	"fmt"

	"ferry/internal/archive"
	"ferry/internal/key"
)

//go:embed sample.ferry
var archiveBytes []byte

//go:embed sample.pub
var publicLine string

// Name is the short name the reader shows for the sample library.
const Name = "sample"

// Bytes returns the embedded archive. Callers must not modify it.
func Bytes() []byte { return archiveBytes }

// PublicKey returns the sample publisher's public key.
func PublicKey() key.Public {
	p, _, err := key.ParsePublic(publicLine)
	if err != nil {
		panic("sample: internal error: embedded sample.pub: " + err.Error())
	}
	return p
}

// Open opens the embedded archive and checks that the sample key signed it.
func Open() (*archive.Reader, error) {
	r, err := archive.Open(bytes.NewReader(archiveBytes), int64(len(archiveBytes)))
	if err != nil {
		return nil, fmt.Errorf("sample: %w", err)
	}
	if !r.SignedBy(PublicKey()) {
		return nil, fmt.Errorf("sample: %w: not signed by the sample key", archive.ErrSignature)
	}
	return r, nil
}
