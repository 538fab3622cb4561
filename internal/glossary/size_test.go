package glossary

import (
	"strings"
	"testing"
)

// TestMarkedSize: MarkedSize is at least AppendMarked's output on the
// real Korean pages, with and without the list, and not far above it.
func TestMarkedSize(t *testing.T) {
	g := Default()
	_, pages := realPages(t)
	for _, opt := range []Options{{}, {NoList: true}, {NKLabel: "북"}, {NKLabel: "북", NoList: true}, {NoList: true, NoStyle: true}} {
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
			if l := g.MarkedLen(p, m, opt); opt.NoList && l != len(out) || l < len(out) {
				t.Fatalf("page %d, %+v: MarkedLen %d, output %d bytes", i, opt, l, len(out))
			}
			over += n - len(out)
		}
		if avg := over / len(pages); avg > 4096 {
			t.Errorf("%+v: MarkedSize is %d bytes a page above the output", opt, avg)
		}
	}
}

// TestMarkedOffset: MarkedOffset finds a place of the page in
// AppendMarked's output on the real Korean pages: the page's own bytes
// on both sides of a place where nothing is inserted, the start of the
// inserted markup at a place where something is.
func TestMarkedOffset(t *testing.T) {
	g := Default()
	_, pages := realPages(t)
	for _, opt := range []Options{{}, {NoList: true}, {NKLabel: "북", NoList: true}, {NoStyle: true}} {
		for i, p := range pages {
			m := g.FindMarks(p, opt)
			out, err := g.AppendMarked(nil, p, m, opt)
			if err != nil {
				t.Fatal(err)
			}
			at := map[int]bool{} // places where markup goes
			if !opt.NoStyle && m.HeadAt >= 0 {
				at[m.HeadAt] = true
			}
			if !opt.NoList && m.ListAt >= 0 {
				at[m.ListAt] = true
			}
			var offs []int
			for _, w := range m.Words {
				at[int(w.Start)], at[int(w.End)] = true, true
				offs = append(offs, int(w.Start)-1, int(w.Start), int(w.Start)+1, int(w.End)-1, int(w.End), int(w.End)+1)
			}
			if len(m.Words) > 0 && opt.NoList && m.HeadAt < 0 && !opt.NoStyle {
				at[int(m.Words[0].Start)] = true
			}
			for off := 0; off <= len(p); off += 97 {
				offs = append(offs, off)
			}
			offs = append(offs, len(p), m.HeadAt, m.HeadAt+1)
			for _, off := range offs {
				if off < 0 || off > len(p) {
					continue
				}
				o := g.MarkedOffset(m, opt, off)
				if o < 0 {
					if opt.NoList || m.ListAt < 0 || off <= m.ListAt {
						t.Fatalf("page %d, %+v: no offset for %d", i, opt, off)
					}
					continue
				}
				if o < off || o > len(out) {
					t.Fatalf("page %d, %+v: offset %d -> %d of %d", i, opt, off, o, len(out))
				}
				if len(m.Words) > 0 && at[off] {
					rest := string(out[o:])
					if !strings.HasPrefix(rest, "<abbr class=\"fg\"") && !strings.HasPrefix(rest, "</abbr>") && !strings.HasPrefix(rest, "<style>") && !strings.HasPrefix(rest, "\n<aside") {
						t.Fatalf("page %d, %+v: offset %d -> %d is not at inserted markup: %q", i, opt, off, o, out[o:min(o+20, len(out))])
					}
					continue
				}
				if off > 0 && out[o-1] != p[off-1] || off < len(p) && out[o] != p[off] {
					t.Fatalf("page %d, %+v: offset %d -> %d: %q in the output, %q in the page", i, opt, off, o,
						out[max(o-10, 0):min(o+10, len(out))], p[max(off-10, 0):min(off+10, len(p))])
				}
			}
		}
	}
}
