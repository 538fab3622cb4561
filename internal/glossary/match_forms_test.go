package glossary

import (
	"strings"
	"testing"
)

// foundAll renders the matches of g in text as a list of the matched words.
func foundAll(g *Glossary, text string) string {
	var out []string
	for _, m := range g.Find([]byte(text), nil) {
		out = append(out, text[m.Start:m.End])
	}
	return strings.Join(out, " ")
}

// TestFindForms pins the forms of real text added for issue 19 on the real
// data, each with cases that must still not match (docs/glossary.md,
// "Matching").
func TestFindForms(t *testing.T) {
	g := Default()
	for _, c := range []struct{ name, text, want string }{
		// The honorific 분 and 같은 after a word.
		{"분", "호스트분이 친절했다", "호스트"},
		{"분 plural", "호스트분들도 좋았다", "호스트"},
		{"같은", "호텔같은 숙소", "호텔"},
		{"분 not after one syllable", "골분을 뿌렸다", ""},
		// A space left out after a particle.
		{"after 를", "멋진 뷰를가진 숙소", "뷰"},
		{"after 에", "모터스포츠에대한 관심", "모터스포츠"},
		{"after 이", "트램이있고 가깝다", "트램"},
		{"not after the copula", "한국일보", ""},
		{"not any word", "호텔을치워", ""},
		// A number word or digits before a one-syllable counter.
		{"number word", "맥주 두캔 콜라 두캔", "캔 콜라 캔"},
		{"number word 한", "한팀에서", "팀"},
		{"digits and 당", "10캔당 얼마", "캔"},
		{"no longer word after a number word", "세멘트를", ""},
		{"두바이", "두바이에서", ""},
		// A Sino-looking loanword ending a compound.
		{"compound head", "녹음파일이 공개됐다", "파일"},
		{"three syllables", "금호타이어가", "타이어"},
		{"three syllables 2", "청년유니온은", "유니온"},
		{"after a headword", "포켓와이파이로", "포켓 와이파이"},
		{"not a two-syllable word outside the list", "일반소비자", ""},
		{"not ending like the copula", "출판사이다", ""},
		{"not ending like a particle", "구속사유로", ""},
		{"not ending like 인지", "잔인한나라인지", ""},
		{"not after a non-Sino part", "앙투아네트", ""},
		// A one-syllable noun after a word.
		{"날", "체크아웃날 아침", "체크아웃"},
		// Letter spacing.
		{"not letter-spaced", "한 팀 당 8개", "팀"},
		{"letter-spaced", "연 락 처 팀 을", ""},
		{"letter-spaced 2", "가 나 팀", ""},
		// The known wrong matches stay away.
		{"소나기", "소나기가 내렸다", ""},
		{"커서", "방대하게 커서", ""},
		{"쇼와", "쇼와 시대", ""},
		{"verb 드리다", "보여드릴 사과드립니다", ""},
	} {
		if got := foundAll(g, c.text); got != c.want {
			t.Errorf("%s: Find(%q) = %q, want %q", c.name, c.text, got, c.want)
		}
	}
}

// TestAnnotateFormsSkipped checks that the new forms are still never
// marked inside links, code or text marked as not to be translated.
func TestAnnotateFormsSkipped(t *testing.T) {
	g := Default()
	page := `<p><a href="/호스트분이">호스트분이</a> <code>두캔</code> <span translate="no">녹음파일이</span> ` +
		`<span class="notranslate">뷰를가진</span> 호텔같은</p>`
	out, n := g.Annotate([]byte(page), Options{})
	s := string(out)
	if n != 1 || !strings.Contains(s, `>호텔</abbr>같은`) {
		t.Errorf("%d marks, want only 호텔: %s", n, s)
	}
	for _, bad := range []string{">호스트</abbr>", ">캔</abbr>", ">파일</abbr>", ">뷰</abbr>"} {
		if strings.Contains(s, bad) {
			t.Errorf("marked inside a link, code or a name: %s", bad)
		}
	}
}
