package zim

import (
	"errors"
	"slices"
	"testing"

	"ferry/internal/testkit/shared"
)

// TestTitleListings: small.zim has both the header's title pointer list and
// X/listing/titleOrdered/v0; libzim writes the same list to both, so the v0
// fallback (used when the header has none) must read the same indexes. Its
// v1 listing names only the front article.
func TestTitleListings(t *testing.T) {
	a, err := OpenFile(shared.Path(t, "zim/small.zim"))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if !a.hdr.HasTitleList() {
		t.Fatal("small.zim should have a title pointer list")
	}
	fromHeader, err := a.TitleOrder()
	if err != nil {
		t.Fatal(err)
	}
	fromV0, err := a.listing(listingAll)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fromHeader, fromV0) || len(fromV0) != int(a.hdr.EntryCount) {
		t.Errorf("header title list %v, v0 listing %v", fromHeader, fromV0)
	}
	front, err := a.FrontArticles()
	if err != nil {
		t.Fatal(err)
	}
	if len(front) != 1 {
		t.Fatalf("front articles %v", front)
	}
	if e, _ := a.EntryAt(front[0]); e.Path() != "C/main.html" {
		t.Errorf("front article %q", e.Path())
	}
	if _, err := a.listing("listing/none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing listing: %v", err)
	}
}
