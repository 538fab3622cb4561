package glossary

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// storedSeeds are pages with marks in every kind of place.
var storedSeeds = []string{
	"<html><head><title>스마트폰</title></head><body><p>스마트폰으로 인터넷에서 컴퓨터를 쓴다. 서버가 멈췄다.</p></body></html>",
	`<p title="스마트폰">x</p><!-- 스마트폰 --><script>var a="스마트폰"</script><p>스마트폰이 <a href="/스마트폰">스마트폰</a> 인터넷</p>`,
	"<p>인터넷 &amp; 스마트폰 a<b 스마트폰</p><textarea>인터넷</textarea><p>인터넷에서</p>",
	"<html><head></head><body><p>컴퓨터</p></body></html><!-- 끝",
}

// TestPageMarksRoundTrip: the compact form gives back the marks FindMarks
// found, on made-up pages and on every real Korean test page, and the
// stored form is reported in size.
func TestPageMarksRoundTrip(t *testing.T) {
	g := Default()
	var pages [][]byte
	for _, s := range storedSeeds {
		pages = append(pages, []byte(s))
	}
	real := 0
	if testing.Short() {
		t.Log("short: the real test pages are not read")
	} else if names, rp := realPagesIfAny(t); len(names) > 0 {
		pages = append(pages, rp...)
		real = len(rp)
	}
	// Version 2 (what is written now), and version 1 (older archives),
	// whose tables differ in their magic and records only.
	for _, version := range []int{2, 1} {
		var words, size, stored int
		tab := g.NewMarksTable()
		for i, p := range pages {
			m := g.FindMarks(p, Options{})
			rec, ok := g.AppendPageMarks(nil, p, m)
			if version == 1 {
				rec, ok = g.appendPageMarksV1(nil, p, m)
			}
			if !ok {
				t.Errorf("page %d: fresh marks not storable", i)
				continue
			}
			got, err := g.parsePageMarks(rec, p, version)
			if err != nil {
				t.Fatalf("v%d page %d: %v", version, i, err)
			}
			if !slices.Equal(got.Words, m.Words) || got.HeadAt != m.HeadAt || got.ListAt != m.ListAt {
				t.Fatalf("v%d page %d: round trip\n%+v\n%+v", version, i, got, m)
			}
			if version == 2 && !bytes.Equal(appendRecord(nil, len(p), got), rec) {
				t.Fatalf("page %d: the record written again differs", i)
			}
			words += len(m.Words)
			size += len(rec)
			stored++
			tab.Add(fmt.Sprintf("A/page%d", i), rec)
		}
		b := tab.Bytes()
		if version == 1 {
			copy(b, tableMagicV1)
		}
		s, err := g.OpenStoredMarks(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range pages {
			m, ok, err := s.Marks(fmt.Sprintf("A/page%d", i), p)
			if err != nil || !ok {
				t.Fatalf("v%d page %d from the table: %v %v", version, i, ok, err)
			}
			want, _ := g.Annotate(p, Options{})
			got, err := g.AppendMarked(nil, p, m, Options{})
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("v%d page %d: stored marks give another page: %v", version, i, err)
			}
		}
		if _, ok, err := s.Marks("A/none", nil); ok || err != nil {
			t.Errorf("a page not in the table: %v %v", ok, err)
		}
		t.Logf("version %d: %d pages (%d real): %d marks in %d bytes of records (%.2f bytes a mark), table %d bytes",
			version, stored, real, words, size, float64(size)/float64(max(words, 1)), len(b))
	}
}

// realPagesIfAny is realPages, or nothing when the shared test data is
// missing (realPages fails the test then).
func realPagesIfAny(t *testing.T) ([]string, [][]byte) {
	var names []string
	var pages [][]byte
	ok := t.Run("load", func(t *testing.T) {
		defer func() {
			if recover() != nil {
				t.SkipNow()
			}
		}()
		names, pages = realPages(t)
	})
	if !ok {
		return nil, nil
	}
	return names, pages
}

// TestPageMarksRefused: records that would mark outside the text, or do
// not fit the page, are refused, in both versions of the record.
func TestPageMarksRefused(t *testing.T) {
	g := Default()
	e, ok := g.index["스마트폰"]
	if !ok {
		t.Fatal("스마트폰 not in the glossary")
	}
	page := []byte(storedSeeds[1])
	// Each occurrence of 스마트폰 in page order: in an attribute, a
	// comment, a script, text, a link's URL, a link's text.
	var at []int
	for p := 0; ; {
		i := bytes.Index(page[p:], []byte("스마트폰"))
		if i < 0 {
			break
		}
		at = append(at, p+i)
		p += i + 1
	}
	if len(at) != 6 {
		t.Fatalf("%d occurrences in the page, the test wants 6", len(at))
	}
	for _, version := range []int{1, 2} {
		parse := func(rec, page []byte) (Marks, error) { return g.parsePageMarks(rec, page, version) }
		// One mark at occurrence k, list at the end, no style.
		mark := func(k int) []byte {
			rec := []byte{1, 0, 1}
			if version == 2 {
				rec = binary.AppendUvarint(rec, uint64(e))
				return binary.AppendUvarint(rec, uint64(at[k]))
			}
			if k == 0 {
				return binary.AppendUvarint(rec, uint64(e)<<1)
			}
			rec = binary.AppendUvarint(rec, uint64(e)<<1|1)
			return binary.AppendUvarint(rec, uint64(k))
		}
		for k, where := range []string{"attribute", "comment", "script", "", "URL"} {
			if where == "" {
				continue
			}
			_, err := parse(mark(k), page)
			if !errors.Is(err, ErrMarks) {
				t.Errorf("v%d: a mark in the %s: %v", version, where, err)
			}
		}
		// In text, also a link's (Annotate does not mark there, but it is
		// text: the mark is well-formed HTML).
		for _, k := range []int{3, 5} {
			if m, err := parse(mark(k), page); err != nil || len(m.Words) != 1 || int(m.Words[0].Start) != at[k] {
				t.Errorf("v%d: a mark in the text (%d): %v %v", version, k, m, err)
			}
		}
		// A character reference, and the style or list in the wrong place.
		amp := []byte("<p>&amp; 스마트폰</p>")
		ampE, ok := g.index["amp"]
		if ok {
			rec := binary.AppendUvarint([]byte{1, 0, 1}, uint64(ampE)<<1)
			if version == 2 {
				rec = binary.AppendUvarint(binary.AppendUvarint([]byte{1, 0, 1}, uint64(ampE)), 4)
			}
			if _, err := parse(rec, amp); !errors.Is(err, ErrMarks) {
				t.Errorf("v%d: a mark in a character reference: %v", version, err)
			}
		}
		// With one good mark (the one in text), places that are wrong.
		good := mark(3)[3:]
		with := func(head, list byte) []byte { return append([]byte{1, head, list}, good...) }
		if _, err := parse(with(0, 1), page); err != nil {
			t.Fatalf("v%d: the good mark: %v", version, err)
		}
		bad := [][]byte{
			with(3, 1),         // style at byte 2: not </head>
			with(0, 3),         // list 2 bytes before the end: not before a tag
			with(0, 200),       // list before the page
			{1, 0, 1},          // a mark missing
			{0, 0, 1, 0},       // a byte too many
			{1, 0, 1, 0xff, 1}, // no such entry
		}
		if version == 2 {
			off := func(o int) []byte {
				return binary.AppendUvarint(binary.AppendUvarint([]byte{1, 0, 1}, uint64(e)), uint64(o))
			}
			two := append(binary.AppendUvarint(append([]byte{2, 0, 1}, good...), uint64(e)), 0)
			bad = append(bad,
				off(at[3]+1),     // not at the headword
				off(len(page)),   // past the page's end
				off(len(page)-2), // the headword runs past the end
				off(1<<40),       // far past
				two,              // the second at the first's end: not its headword
				[]byte{1, 0, 1, byte(e&0x7f) | 0x80, byte(e >> 7)}, // no offset
			)
		}
		for _, rec := range bad {
			if _, err := parse(rec, page); !errors.Is(err, ErrMarks) {
				t.Errorf("v%d: parsePageMarks(%v) = %v", version, rec, err)
			}
		}
	}
}

// TestStoredMarksRefused: damaged tables and tables of another glossary
// are refused with ErrMarks.
func TestStoredMarksRefused(t *testing.T) {
	g := Default()
	tab := g.NewMarksTable()
	page := []byte(storedSeeds[0])
	rec, _ := g.AppendPageMarks(nil, page, g.FindMarks(page, Options{}))
	for i := range 200 {
		tab.Add(fmt.Sprint("p", i), rec)
	}
	// Two paths of one hash are both left out.
	b := tab.Bytes()
	s, err := g.OpenStoredMarks(bytes.NewReader(b), int64(len(b)))
	if err != nil || s.Pages() != 200 {
		t.Fatalf("%v, %d pages", err, s.Pages())
	}
	if _, err := testGlossary(t).OpenStoredMarks(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrOtherGlossary) || !errors.Is(err, ErrMarks) {
		t.Errorf("another glossary: %v", err)
	}
	for _, bad := range [][]byte{nil, b[:10], append([]byte("xxxx"), b[4:]...)} {
		if _, err := g.OpenStoredMarks(bytes.NewReader(bad), int64(len(bad))); !errors.Is(err, ErrMarks) {
			t.Errorf("OpenStoredMarks(%d bytes) = %v", len(bad), err)
		}
	}
	// Cut short: the directory or a block no longer fits.
	cut := b[:len(b)-len(rec)]
	if s, err := g.OpenStoredMarks(bytes.NewReader(cut), int64(len(cut))); err == nil {
		for i := range 200 {
			if _, _, err := s.Marks(fmt.Sprint("p", i), page); err != nil && !errors.Is(err, ErrMarks) {
				t.Fatalf("error without ErrMarks: %v", err)
			}
		}
	}
}

// TestMarksTableCollision: pages whose path hashes collide are left out.
func TestMarksTableCollision(t *testing.T) {
	g := Default()
	a, b := "A/64625", "A/1809980" // found by trying "A/0", "A/1", …
	if PathHash(a) != PathHash(b) {
		t.Fatal("the two paths no longer collide")
	}
	tab := g.NewMarksTable()
	tab.Add(a, []byte{0, 0, 0})
	tab.Add(b, []byte{0, 0, 0})
	tab.Add("A/other", []byte{0, 0, 0})
	out := tab.Bytes()
	s, err := g.OpenStoredMarks(bytes.NewReader(out), int64(len(out)))
	if err != nil {
		t.Fatal(err)
	}
	if s.Pages() != 1 {
		t.Errorf("%d pages kept, want 1", s.Pages())
	}
	if _, ok, _ := s.Marks(a, []byte("<p>x</p>")); ok {
		t.Errorf("%s kept despite the collision with %s", a, b)
	}
}

// FuzzParsePageMarks: any bytes as a page's stored marks, on any page, read
// as a record of either version: no panic; marks that parse apply and
// leave the page as it was outside them.
func FuzzParsePageMarks(f *testing.F) {
	g := Default()
	for _, s := range storedSeeds {
		p := []byte(s)
		rec, _ := g.AppendPageMarks(nil, p, g.FindMarks(p, Options{}))
		f.Add(rec, p)
		rec, _ = g.appendPageMarksV1(nil, p, g.FindMarks(p, Options{}))
		f.Add(rec, p)
	}
	f.Add([]byte{1, 0, 1, 3, 1}, []byte("<p>x"))
	f.Fuzz(func(t *testing.T, rec, page []byte) {
		for _, version := range []int{1, 2} {
			m, err := g.parsePageMarks(rec, page, version)
			if err != nil {
				if !errors.Is(err, ErrMarks) {
					t.Fatalf("v%d: error without ErrMarks: %v", version, err)
				}
				continue
			}
			out, err := g.AppendMarked(nil, page, m, Options{})
			if err != nil {
				t.Fatalf("v%d: parsed marks refused: %v", version, err)
			}
			if got := stripMarks(t, out); !bytes.Equal(got, page) {
				t.Fatalf("v%d: applied marks changed the page outside them", version)
			}
		}
	})
}

// FuzzStoredMarks: any bytes as a marks table: no panic, errors wrap
// ErrMarks.
func FuzzStoredMarks(f *testing.F) {
	g := Default()
	page := []byte(storedSeeds[0])
	rec, _ := g.AppendPageMarks(nil, page, g.FindMarks(page, Options{}))
	tab := g.NewMarksTable()
	for i := range 70 {
		tab.Add(fmt.Sprint("p", i), rec)
	}
	f.Add(tab.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := g.OpenStoredMarks(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if !errors.Is(err, ErrMarks) {
				t.Fatalf("error without ErrMarks: %v", err)
			}
			return
		}
		for i := range 70 {
			m, ok, err := s.Marks(fmt.Sprint("p", i), page)
			if err != nil && !errors.Is(err, ErrMarks) {
				t.Fatalf("error without ErrMarks: %v", err)
			}
			if ok {
				if _, err := g.AppendMarked(nil, page, m, Options{}); err != nil {
					t.Fatalf("parsed marks refused: %v", err)
				}
			}
		}
	})
}

// appendPageMarksV1 appends marks m of page in the form of a version 1
// table (docs/glossary.md), whose marks are found by a headword search:
//
//	uvarint count | uvarint HeadAt+1 | uvarint list code
//	| count × (uvarint Entry<<1 | skipped>0 [, uvarint skipped])
//
// A mark's position is the first place at or after the previous mark's
// end where the entry's headword occurs, after skipping "skipped" such
// places (almost always 0). ferry no longer writes it; archives of older
// packers hold it.
func (g *Glossary) appendPageMarksV1(dst, page []byte, m Marks) (out []byte, ok bool) {
	if g.checkMarks(page, m) != nil || checkInText(page, m) != nil {
		return dst, false
	}
	dst = binary.AppendUvarint(dst, uint64(len(m.Words)))
	dst = binary.AppendUvarint(dst, uint64(m.HeadAt+1))
	if m.ListAt < 0 {
		dst = append(dst, 0)
	} else {
		dst = binary.AppendUvarint(dst, uint64(len(page)-m.ListAt+1))
	}
	prev := 0
	probe := g.probes()
	for _, w := range m.Words {
		hw := g.entries[w.Entry].Headword
		skipped := 0
		for p := prev; ; {
			i := indexWord(page[p:], hw, int(probe[w.Entry]))
			if i < 0 || p+i >= int(w.Start) {
				break
			}
			skipped++
			p += i + 1
		}
		if skipped == 0 {
			dst = binary.AppendUvarint(dst, uint64(w.Entry)<<1)
		} else {
			dst = binary.AppendUvarint(dst, uint64(w.Entry)<<1|1)
			dst = binary.AppendUvarint(dst, uint64(skipped))
		}
		prev = int(w.End)
	}
	return dst, true
}
