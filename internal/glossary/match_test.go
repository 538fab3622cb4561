package glossary

import (
	"strings"
	"testing"
)

// testTSV is a small glossary for matcher tests, independent of the data.
const testTSV = "# test glossary\n" + Header + `
스마트폰	en	it	smartphone	여러 가지 일을 하는 손전화기	손전화기	c
스마트	en	gen	smart	똑똑한
인터넷	en	it	internet	세계의 통신망	인터네트	c
컴퓨터	en	it	computer	전자계산기	콤퓨터	c
서버	en	it	server	자료를 내주는 기계	봉사기	a
메뉴	en	food	menu	음식 차림을 적은 표	차림표	c
카드	en	econ	card	네모난 조각
게임	en	cult	game	놀이
쇼	en	cult	show	구경거리
쇼핑	en	econ	shopping	물건 사기
레이저	en	sci	laser	한 방향으로 모은 빛
골	en	sport	goal	득점	꼴	c
비자	en	pol	visa	입국 허가 증명
파이	en	food	pie	밀가루 반죽 과자
IT	abbr	it	information technology	정보 기술
TV	abbr	it	television	텔레비죤	텔레비죤	c
PC방	sk	life	PC room	돈을 내고 콤퓨터를 쓰는 가게
클릭	en	it	click	누르기
업데이트	en	it	update	새것으로 고침
수능	abbr	edu	대학수학능력시험	대학 입학 시험
`

func testGlossary(t testing.TB) *Glossary {
	t.Helper()
	// Pad short lines with empty fields, so the table above stays readable.
	var b strings.Builder
	for _, l := range strings.Split(testTSV, "\n") {
		if l != "" && l[0] != '#' {
			l += strings.Repeat("\t", 6-strings.Count(l, "\t"))
		}
		b.WriteString(l + "\n")
	}
	g, err := Parse(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// found renders the matches as "headword" list for comparison.
func found(g *Glossary, text string) string {
	var out []string
	for _, m := range g.Find([]byte(text), nil) {
		w := text[m.Start:m.End]
		if g.Entry(m.Entry).Headword != w {
			return "MISMATCH " + w
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

func TestFind(t *testing.T) {
	g := testGlossary(t)
	for _, c := range []struct{ text, want string }{
		{"스마트폰으로 인터넷에서 컴퓨터를 쓴다", "스마트폰 인터넷 컴퓨터"},
		{"서버가 멈추자 메뉴는 사라졌다", "서버 메뉴"},
		{"스마트한 사람", "스마트"},               // verb-forming 하
		{"스마트폰", "스마트폰"},                 // longest match
		{"인터넷쇼핑을 했다", "인터넷 쇼핑"},          // compound of two headwords
		{"교통카드로 냈다", "카드"},               // Sino-Korean part before
		{"스마트폰업체들이", "스마트폰"},             // Sino-Korean part after, then particles
		{"게임기를 샀다", "게임"},                // listed noun tail
		{"블레이저를 입었다", ""},                // 레이저 inside a longer word
		{"산골에서 골을 넣었다", "골"},             // 골 only as a word of its own
		{"비자금을", ""},                     // a Sino-looking loanword takes no compound part (秘資金)
		{"쇼핑쇼를", "쇼핑 쇼"},                 // a listed one-syllable word may end a compound
		{"몰라도 골을", "골"},                  // nor takes verb-like endings (몰 is no headword here anyway)
		{"골이다", ""},                      // only listed particles after one syllable
		{"쇼핑골목", "쇼핑"},                   // but not with more after it
		{"연 락 처 골 을", ""},                // letters spaced out are no words
		{"골목길", ""},                      // not 골
		{"소비자가 늘었다", ""},                 // 비자 inside a Sino-Korean word
		{"일반소비자", ""},                    // nor after a Sino-Korean part (비 can be Sino-Korean)
		{"비자를 받았다", "비자"},                // but as a word
		{"파이어폭스", ""},                    // 파이 followed by more of a foreign word
		{"파이로트", ""},                     //
		{"IT업계와 PC방에서 TV를", "IT PC방 TV"}, // Latin headwords with Hangul after
		{"ITX 열차와 CCTV", ""},             // not inside Latin words
		{"Apple TV 광고", ""},              // part of a capitalised name
		{"TV Asahi 방송", ""},              //
		{"LG TV 광고", "TV"},               // an all-capital word beside is no name
		{"클릭하면 업데이트된다", "클릭 업데이트"},       // verbal endings
		{"수능을 본 뒤", "수능"},                //
		{"고3수능", "수능"},                   // after a digit: script change
		{"신메뉴를", "메뉴"},                   // prefix
		{"컴퓨터였던", "컴퓨터"},                 // copula
		{"서버에서부터의", "서버"},                // several particles
		{"서버투스", ""},                     // unknown continuation
		{"스마트폰&amp;컴퓨터", "스마트폰 컴퓨터"},     // plain text: & is just a separator
	} {
		if got := found(g, c.text); got != c.want {
			t.Errorf("Find(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

func TestFindLatinNeedsHangul(t *testing.T) {
	g := testGlossary(t)
	if got := found(g, "The TV and the PC"); got != "" {
		t.Errorf("Latin headwords in English text: %q", got)
	}
}

func TestFindRawEntities(t *testing.T) {
	g := testGlossary(t)
	var s scanner
	text := []byte("&TV; &#IT; TV&amp;IT 컴퓨터")
	var got []string
	for _, m := range s.find(g, text, true, nil) {
		got = append(got, string(text[m.Start:m.End]))
	}
	if strings.Join(got, " ") != "TV IT 컴퓨터" {
		t.Errorf("raw find = %q", got)
	}
}

func TestFindNoAlloc(t *testing.T) {
	g := testGlossary(t)
	text := []byte(strings.Repeat("스마트폰으로 인터넷에서 컴퓨터를 쓰는 사람들이 늘었다. ", 20))
	dst := make([]Match, 0, 100)
	if n := testing.AllocsPerRun(10, func() { dst = g.Find(text, dst[:0]) }); n != 0 {
		t.Errorf("Find allocates %v times", n)
	}
}

// TestFindBatch29 pins the rules added with batch 29 on the real data:
// 기타 only before 를, 가, 는 or 와; 몇 like a
// number; the plural before particles of a one-syllable word; question
// endings of the copula; 수 and 때 as compound parts.
func TestFindBatch29(t *testing.T) {
	g := Default()
	for text, want := range map[string]string{
		"기타를 쳤다":        "기타",
		"기타 지역과 기타의 경우": "",
		"기타에 해당하는":      "",
		"몇골을 넣었나":       "골",
		"몇홈런을":          "홈런",
		"팬들과의 만남":       "팬",
		"몇 퍼센트였는가":      "퍼센트",
		"팔로워수를":         "팔로워",
		"월드컵때":          "월드컵",
	} {
		var got []string
		for _, m := range g.Find([]byte(text), nil) {
			got = append(got, text[m.Start:m.End])
		}
		if strings.Join(got, " ") != want {
			t.Errorf("%q: found %q, want %q", text, got, want)
		}
	}
}
