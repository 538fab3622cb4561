package reader

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"regexp"
	"testing"
	"testing/fstest"

	"ferry/internal/archive"
	"ferry/internal/delta"
	"ferry/internal/edition"
	"ferry/internal/glossary"
	"ferry/internal/key"
	"ferry/internal/pack"
	"ferry/internal/source/folder"
	"ferry/internal/testkit/korquad"
	"ferry/internal/testkit/shared"
)

// TestChainMarksServed: editions 41 and 42 of a Korean channel (the
// KorQuAD pages, every 20th changed, three added), served as 41 + the
// delta to 42, give every page byte for byte as the full edition 42 does
// with word notes on, and every page's marks come from a stored table
// (the delta's for its pages, the base's for the rest), none found again.
func TestChainMarksServed(t *testing.T) {
	if st, err := os.Stat(shared.Root()); shared.Root() == "" || err != nil || !st.IsDir() {
		t.Skip("shared test data not found (../shared/testdata or FERRY_TESTDATA): a delta chain's glossed pages were not checked")
	}
	set := korquad.Load(t)
	baseFS, nextFS := fstest.MapFS{}, fstest.MapFS{}
	var paths []string
	for i, a := range set.Articles {
		p := korquad.Path(a.Title)
		paths = append(paths, p)
		baseFS[p] = &fstest.MapFile{Data: set.HTML(i, 0)}
		nextFS[p] = &fstest.MapFile{Data: set.HTML(i, 0)}
		if i%20 == 7 {
			nextFS[p] = &fstest.MapFile{Data: set.HTML(i, 3)}
		}
	}
	for _, i := range []int{1, 2, 3} {
		p := korquad.Path(set.Articles[i].Title) + "_(new)"
		nextFS[p] = &fstest.MapFile{Data: set.HTML(i, 5)}
		paths = append(paths, p)
	}
	ctx := context.Background()
	k, _ := key.Generate()
	packed := func(fsys fstest.MapFS, ed uint64) *edition.View {
		var buf bytes.Buffer
		info := archive.Info{Channel: "kq", Edition: ed, Title: "KorQuAD", Languages: []string{"ko"}}
		if _, err := pack.Pack(ctx, &buf, pack.Options{Info: info, Signers: []*key.Secret{k}, Sources: []pack.Source{{Source: folder.NewFS(fsys)}}}); err != nil {
			t.Fatal(err)
		}
		return viewOf(t, buf.Bytes())
	}
	base, next := packed(baseFS, 41), packed(nextFS, 42)
	var d bytes.Buffer
	if _, err := delta.Make(ctx, base, next, &d, delta.Options{Signers: []*key.Secret{k}}); err != nil {
		t.Fatal(err)
	}
	dr, err := archive.Open(bytes.NewReader(d.Bytes()), int64(d.Len()))
	if err != nil {
		t.Fatal(err)
	}
	chain, err := edition.Open(base.Top(), dr)
	if err != nil {
		t.Fatal(err)
	}
	hFull := New([]Library{{Name: "kq", Path: "kq.ferry", Edition: next}}, Options{})
	hChain := New([]Library{{Name: "kq", Path: "kq.ferry", Edition: chain}}, Options{})
	nonce := regexp.MustCompile(`nonce="[^"]*"`)
	glossed := 0
	for _, p := range paths {
		target := "/ko/a/kq/" + (&url.URL{Path: p}).EscapedPath()
		rf, rc := do(hFull, "GET", target), do(hChain, "GET", target)
		if rf.Code != 200 || rc.Code != 200 {
			t.Fatalf("%s: %d from the full edition, %d from the chain", p, rf.Code, rc.Code)
		}
		f, c := nonce.ReplaceAllString(rf.Body.String(), ""), nonce.ReplaceAllString(rc.Body.String(), "")
		if f != c {
			t.Fatalf("%s: the chain serves another page than the full edition 42", p)
		}
		if bytes.Contains(rc.Body.Bytes(), []byte(`<abbr class="fg"`)) {
			glossed++
		}
		// The marks came from a table kept in the chain.
		e, err := chain.Lookup(p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := chain.ReadAll(e)
		if _, ok := hChain.storedMarks(hChain.libs[0], e, b); !ok && glossary.HasHangul(b) {
			t.Errorf("%s: no stored marks through the chain", p)
		}
	}
	if glossed < len(paths)/2 {
		t.Errorf("only %d of %d pages glossed", glossed, len(paths))
	}
}

func viewOf(tb testing.TB, b []byte) *edition.View {
	tb.Helper()
	r, err := archive.Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		tb.Fatal(err)
	}
	v, err := edition.Of(r)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}
