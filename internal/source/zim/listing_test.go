package zim

import (
	"errors"
	"slices"
	"testing"
)

// TestTitleListings: our v6.3 vector has both the header's title pointer
// list and X/listing/titleOrdered/v0, as libzim writes them (the same list
// twice), so the v0 fallback (used when the header has none) must read the
// same indexes; its v1 listing names only the front articles.
func TestTitleListings(t *testing.T) {
	CheckTitleListings(t, "testdata/v6.3-new-xz-listings.zim", "C/index.html", "C/ko/산.html", "C/notes/plain.html")
}

// CheckTitleListings checks the title listings of the file at name, whose
// front articles are front (in title order). TestRealFiles runs it on
// libzim's small.zim.
func CheckTitleListings(t *testing.T, name string, front ...string) {
	a, err := OpenFile(name)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if !a.hdr.HasTitleList() {
		t.Fatalf("%s should have a title pointer list", name)
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
	list, err := a.FrontArticles()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range list {
		e, err := a.EntryAt(i)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Path())
	}
	// Title order: "A plain page" < "Welcome" < "산".
	slices.Sort(got)
	want := slices.Sorted(slices.Values(front))
	if !slices.Equal(got, want) {
		t.Errorf("front articles %v, want %v", got, want)
	}
	if _, err := a.listing("listing/none"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing listing: %v", err)
	}
}
