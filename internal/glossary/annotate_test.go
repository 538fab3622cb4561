package glossary

import (
	"bytes"
	"strings"
	"testing"

	xhtml "golang.org/x/net/html"
)

// stripMarks removes what Annotate inserts: abbr.fg wrappers, the style
// element and the list, so that the rest can be compared with the input.
func stripMarks(t testing.TB, out []byte) []byte {
	t.Helper()
	s := string(out)
	s = strings.Replace(s, "<style>"+Style+"</style>\n", "", 1)
	s = strings.Replace(s, "<style>"+Style+"</style>", "", 1)
	if i := strings.Index(s, "\n<aside class=\"fg-list\""); i >= 0 {
		j := strings.Index(s[i:], "</dl></aside>\n")
		if j < 0 {
			t.Fatalf("list not closed")
		}
		s = s[:i] + s[i+j+len("</dl></aside>\n"):]
	}
	var b strings.Builder
	for {
		i := strings.Index(s, `<abbr class="fg" tabindex="0" title="`)
		if i < 0 {
			break
		}
		b.WriteString(s[:i])
		j := strings.Index(s[i:], `">`)
		k := strings.Index(s[i:], `</abbr>`)
		if j < 0 || k < j {
			t.Fatalf("bad mark at %d", i)
		}
		b.WriteString(s[i+j+2 : i+k])
		s = s[i+k+len("</abbr>"):]
	}
	b.WriteString(s)
	return []byte(b.String())
}

func TestAnnotate(t *testing.T) {
	g := testGlossary(t)
	page := `<!DOCTYPE html><html><head><title>스마트폰</title></head><body>` +
		`<p>스마트폰으로 인터넷에서 <b>컴퓨터</b>를 &amp; 서버가 스마트폰을</p>` +
		`<p><a href="/스마트폰">메뉴</a> <code>메뉴</code> <span title="게임">카드</span>` +
		`<span translate="no">게임 <span>쇼핑</span> 클릭</span> 게임 <div class="x notranslate">수능</div>` +
		`<svg><text>수능</text></svg> 수능</p>` + "\n</body></html>\n"
	out, n := g.Annotate([]byte(page), Options{})
	s := string(out)
	for _, want := range []string{
		`<abbr class="fg" tabindex="0" title="여러 가지 일을 하는 손전화기 (조선말: 손전화기)" id="fg-w1">스마트폰</abbr>으로`,
		`<abbr class="fg" tabindex="0" title="세계의 통신망 (조선말: 인터네트)" id="fg-w2">인터넷</abbr>에서`,
		`<b><abbr class="fg" tabindex="0" title="전자계산기 (조선말: 콤퓨터)" id="fg-w3">컴퓨터</abbr></b>`,
		`<span title="게임"><abbr class="fg" tabindex="0" title="네모난 조각" id="fg-w5">카드</abbr></span>`,
		`</span> <abbr class="fg" tabindex="0" title="놀이" id="fg-w6">게임</abbr> <div`,
		`</svg> <abbr class="fg" tabindex="0" title="대학 입학 시험" id="fg-w7">수능</abbr></p>`,
		"<style>" + Style + "</style>\n</head>",
		`<dt><a href="#fg-w1">스마트폰</a> <small>영어 smartphone</small></dt><dd>여러 가지 일을 하는 손전화기. 조선말: 손전화기</dd>`,
		"</dl></aside>\n</body>",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %s", want)
		}
	}
	if n != 7 {
		t.Errorf("%d marks, want 7 (스마트폰 인터넷 컴퓨터 서버 카드 게임 수능)", n)
	}
	if strings.Count(s, ">스마트폰</abbr>") != 1 {
		t.Errorf("스마트폰 marked more than once")
	}
	for _, bad := range []string{`<a href="/<abbr`, `">메뉴</abbr>`, `<title><abbr`, `>쇼핑</abbr>`, `>클릭</abbr>`} {
		if strings.Contains(s, bad) {
			t.Errorf("output has %s", bad)
		}
	}
	if got := stripMarks(t, out); !bytes.Equal(got, []byte(page)) {
		t.Errorf("outside the marks the page changed:\n%s\n%s", got, page)
	}
}

func TestAnnotateOptions(t *testing.T) {
	g := testGlossary(t)
	page := "<p>게임 게임 게임 카드</p>"
	out, n := g.Annotate([]byte(page), Options{PerWord: 2, NoList: true, NoStyle: true})
	want := `<p><abbr class="fg" tabindex="0" title="놀이">게임</abbr> <abbr class="fg" tabindex="0" title="놀이">게임</abbr> 게임 <abbr class="fg" tabindex="0" title="네모난 조각">카드</abbr></p>`
	if string(out) != want || n != 3 {
		t.Errorf("got %d marks\n%s\nwant\n%s", n, out, want)
	}
	out, n = g.Annotate([]byte(page), Options{MaxPerPage: 1, NoList: true, NKLabel: "북"})
	if n != 1 || !strings.HasPrefix(string(out), "<p><style>") {
		t.Errorf("MaxPerPage 1: %d marks, %s", n, out)
	}
	// No head, no body: the style goes with the list at the end.
	out, _ = g.Annotate([]byte(page), Options{})
	if !strings.HasSuffix(string(out), "</dl></aside>\n") || !strings.Contains(string(out), "<aside class=\"fg-list\" lang=\"ko\"><style>"+Style+"</style><h2>") {
		t.Errorf("fragment: %s", out)
	}
	if got := stripMarks(t, out); string(got) != page {
		t.Errorf("fragment changed: %s", got)
	}
	out, _ = g.Annotate([]byte("<p>서버 (북: 봉사기)</p>"), Options{NKLabel: "북", NoList: true, NoStyle: true})
	if !strings.Contains(string(out), `title="자료를 내주는 기계 (북: 봉사기)"`) {
		t.Errorf("NKLabel: %s", out)
	}
}

func TestAnnotateUnchanged(t *testing.T) {
	g := testGlossary(t)
	for _, page := range []string{
		"", "<p>Hello</p>", "<p>한국어 문장</p>", "<scr", "<p>스마트폰", "<!-- 스마트폰 -->",
		"<script>var a='스마트폰';</script>", "<a href=x>스마트폰</a>", "<pre>\n서버</pre>",
		"<textarea>서버</textarea>", "<p title=\"서버\">x</p>", "\x00<p>\r\n",
	} {
		out, n := g.Annotate([]byte(page), Options{})
		if page == "<p>스마트폰" {
			if n != 1 {
				t.Errorf("%q: %d marks", page, n)
			}
			continue
		}
		if n != 0 || string(out) != page {
			t.Errorf("%q → %q (%d marks)", page, out, n)
		}
	}
}

// TestAnnotateParses checks that a marked page parses to the same text
// and the same elements as before, plus the marks.
func TestAnnotateParses(t *testing.T) {
	g := testGlossary(t)
	page := "<table><tr><td>스마트폰</td></tr>서버</table><ul><li>메뉴<li>카드</ul><p>게임<p>클릭"
	out, _ := g.Annotate([]byte(page), Options{NoList: true, NoStyle: true})
	checkSameTree(t, []byte(page), out)
}

// checkSameTree parses both pages and compares their text and their
// element names, ignoring abbr.fg wrappers, the style and the list.
func checkSameTree(t testing.TB, in, out []byte) {
	t.Helper()
	a, b := treeSummary(t, in, false), treeSummary(t, out, true)
	if a != b {
		t.Errorf("parse trees differ:\nin:  %q\nout: %q", a, b)
	}
}

func treeSummary(t testing.TB, page []byte, strip bool) string {
	doc, err := xhtml.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var text, tags strings.Builder
	var walk func(n *xhtml.Node)
	walk = func(n *xhtml.Node) {
		if strip && n.Type == xhtml.ElementNode {
			if n.Data == "style" && n.FirstChild != nil && n.FirstChild.Data == Style {
				return
			}
			if n.Data == "aside" && len(n.Attr) > 0 && n.Attr[0].Val == "fg-list" {
				return
			}
		}
		isMark := strip && n.Type == xhtml.ElementNode && n.Data == "abbr" && len(n.Attr) > 0 && n.Attr[0].Val == "fg"
		switch {
		case n.Type == xhtml.TextNode:
			// Whitespace aside: the inserted style adds a line break.
			text.WriteString(strings.Join(strings.Fields(n.Data), ""))
		case n.Type == xhtml.ElementNode && !isMark:
			tags.WriteString(n.Data + " ")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return tags.String() + "|" + text.String()
}

// TestAnnotateRealPages marks every real Korean test page (KorQuAD as
// Wikipedia-like pages, the UDHR, the Constitution and bills): the output
// is the input outside the marks, parses to the same elements and text,
// marks each word at most once, and marks nothing in links or the title.
func TestAnnotateRealPages(t *testing.T) {
	g := Default()
	names, pages := realPages(t)
	total := 0
	for i, page := range pages {
		out, n := g.Annotate(page, Options{})
		total += n
		if got := stripMarks(t, out); !bytes.Equal(got, page) {
			t.Fatalf("%s: outside the marks the page changed", names[i])
		}
		checkSameTree(t, page, out)
		s := string(out)
		for _, bad := range []string{`<a href="./<abbr`, `<title><abbr`} {
			if strings.Contains(s, bad) {
				t.Errorf("%s: a mark in a link or the title", names[i])
			}
		}
		if c := strings.Count(s, `id="fg-w`); c != strings.Count(s, `<dt>`) {
			t.Errorf("%s: %d first marks, %d list entries", names[i], c, strings.Count(s, "<dt>"))
		}
	}
	if total < 1000 {
		t.Errorf("only %d marks in %d real pages", total, len(pages))
	}
	t.Logf("%d marks in %d pages", total, len(pages))
}
