package glossary

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"unicode/utf8"

	"ferry/internal/testkit/shared"
)

func TestMarksRoundTrip(t *testing.T) {
	g := Default()
	page := []byte("<html><head><title>x</title></head><body><p>스마트폰으로 인터넷에서 컴퓨터를 쓴다. 서버가 멈췄다.</p></body></html>")
	want, n := g.Annotate(page, Options{})
	if n == 0 {
		t.Fatal("no marks")
	}
	m := g.FindMarks(page, Options{})
	b := g.AppendMarks(nil, m)
	m2, err := g.ParseMarks(b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.AppendMarked(nil, page, m2, Options{})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("round trip: %v\n%s\n%s", err, got, want)
	}
	// The same marks on a changed page are refused, not applied.
	changed := bytes.Replace(page, []byte("스마트폰"), []byte("휴대전화"), 1)
	if _, err := g.AppendMarked(nil, changed, m2, Options{}); !errors.Is(err, ErrMarks) {
		t.Errorf("stale marks: %v", err)
	}
	if _, err := g.AppendMarked(nil, page[:10], m2, Options{}); !errors.Is(err, ErrMarks) {
		t.Errorf("marks beyond the page: %v", err)
	}
	// Marks of another glossary are refused.
	other := testGlossary(t)
	if _, err := other.ParseMarks(b); !errors.Is(err, ErrMarks) {
		t.Errorf("other glossary: %v", err)
	}
	for _, bad := range [][]byte{nil, []byte("fg2"), b[:len(b)-1], append(append([]byte{}, b...), 0)} {
		if _, err := g.ParseMarks(bad); !errors.Is(err, ErrMarks) {
			t.Errorf("ParseMarks(%q) = %v", bad, err)
		}
	}
}

// annotateSeeds are small pages for the fuzz targets, made up and real.
func annotateSeeds(f *testing.F) {
	for _, s := range []string{
		"", "<p>스마트폰으로 인터넷에서</p>", "<a href=x>서버</a> 메뉴", "<table>스마트폰<tr><td>게임</table>",
		"<select><option>카드<option>게임</select>", "<svg><text>게임</text></svg>게임", "<p>IT업계 &amp; PC방</p>",
		"<head>스마트폰</head><body>인터넷</body>", "</body>컴퓨터</html>게임", "<plaintext>게임", "<!-- 게임 -->게임",
		"<div translate=no>게임<div>쇼핑</div></div>쇼핑", "<p>골라 골을</p>", "\x00<p>\r\n메뉴", "<math><mi>게임</math>",
	} {
		f.Add([]byte(s))
	}
	if root := shared.Root(); root != "" {
		for _, p := range []string{"udhr/kor.html"} {
			if b, err := os.ReadFile(root + "/" + p); err == nil {
				f.Add(b[:min(len(b), 4096)])
			}
		}
	}
}

// FuzzAnnotate: any bytes in, no panic, and the output is the input plus
// the marks: removing them gives the input back byte for byte, and the
// parsed page has the same elements and text.
func FuzzAnnotate(f *testing.F) {
	annotateSeeds(f)
	g := Default()
	f.Fuzz(func(t *testing.T, page []byte) {
		if len(page) > 1<<16 {
			return
		}
		out, n := g.Annotate(page, Options{})
		if n == 0 {
			if !bytes.Equal(out, page) {
				t.Fatalf("no marks but the page changed")
			}
			return
		}
		if got := stripMarks(t, out); !bytes.Equal(got, page) {
			t.Fatalf("outside the marks the page changed:\n%q\n%q", got, page)
		}
		if utf8.Valid(page) {
			checkSameTree(t, page, out)
		}
		// Marks survive their binary form.
		m := g.FindMarks(page, Options{})
		m2, err := g.ParseMarks(g.AppendMarks(nil, m))
		if err != nil {
			t.Fatal(err)
		}
		again, err := g.AppendMarked(nil, page, m2, Options{})
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("marks round trip: %v", err)
		}
	})
}

// FuzzParseMarks: any bytes as marks: no panic, and marks that parse are
// either applied or refused with ErrMarks.
func FuzzParseMarks(f *testing.F) {
	g := Default()
	page := []byte("<html><head></head><body><p>스마트폰으로 인터넷에서 컴퓨터를</p></body></html>")
	good := g.AppendMarks(nil, g.FindMarks(page, Options{}))
	f.Add(good)
	f.Add(good[:len(good)-2])
	f.Add([]byte("fg2"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := g.ParseMarks(b)
		if err != nil {
			if !errors.Is(err, ErrMarks) {
				t.Fatalf("error without ErrMarks: %v", err)
			}
			return
		}
		out, err := g.AppendMarked(nil, page, m, Options{})
		if err != nil {
			if !errors.Is(err, ErrMarks) {
				t.Fatalf("error without ErrMarks: %v", err)
			}
			return
		}
		if got := stripMarks(t, out); !bytes.Equal(got, page) {
			t.Fatalf("applied marks changed the page outside them")
		}
	})
}
