package glossary

import "testing"

// TestMarkedSize: MarkedSize is at least AppendMarked's output on the
// real Korean pages, with and without the list, and not far above it.
func TestMarkedSize(t *testing.T) {
	g := Default()
	_, pages := realPages(t)
	for _, opt := range []Options{{}, {NoList: true}, {NKLabel: "북"}} {
		over := 0
		for i, p := range pages {
			m := g.FindMarks(p, opt)
			out, err := g.AppendMarked(nil, p, m, opt)
			if err != nil {
				t.Fatal(err)
			}
			n := g.MarkedSize(p, m, opt)
			if n < len(out) {
				t.Fatalf("page %d, %+v: MarkedSize %d, output %d bytes", i, opt, n, len(out))
			}
			over += n - len(out)
		}
		if avg := over / len(pages); avg > 4096 {
			t.Errorf("%+v: MarkedSize is %d bytes a page above the output", opt, avg)
		}
	}
}
