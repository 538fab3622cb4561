package corpus

import (
	"path"
	"sort"

	"ferry/internal/htmltext"
	"ferry/internal/sample"
)

// Page is one HTML page of the built-in sample library.
type Page struct {
	Path  string // in the sample archive, e.g. "ko/cards.html"
	Lang  string // "ko" or "en"
	Title string // from its <title>
	Text  string // as htmltext.Extract gives it
	HTML  []byte
}

// SamplePages returns the sample library's Korean and English articles
// (the ko/ and en/ pages, the two contents pages included) in path order.
func SamplePages() ([]Page, error) {
	r, err := sample.Open()
	if err != nil {
		return nil, err
	}
	var out []Page
	for i := 0; i < r.NumEntries(); i++ {
		e, err := r.EntryAt(i)
		if err != nil {
			return nil, err
		}
		lang := path.Dir(e.Path)
		if !htmltext.IsHTML(e.MIME) || (lang != "ko" && lang != "en") {
			continue
		}
		b, err := r.ReadAll(e)
		if err != nil {
			return nil, err
		}
		title, text := htmltext.Extract(b)
		out = append(out, Page{Path: e.Path, Lang: lang, Title: title, Text: text, HTML: b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// Question is a question written by hand about the sample library, in
// the way a reader would type it (with particles and question words), and
// the page that answers it.
type Question struct {
	Text string
	Path string // the sample page holding the answer
}

// Questions returns the hand-written questions: most in Korean, some in
// English, each answered by exactly one sample page (the Korean ones by a
// ko/ page). Search tests use them as a small KorQuAD of our own.
func Questions() []Question {
	return append([]Question(nil), questions...)
}

var questions = []Question{
	{"세계인권선언 제19조는 무엇에 대한 것인가?", "ko/rights.html"},
	{"유엔의 나라들이 세계인권선언에 뜻을 모은 해는 언제인가?", "ko/rights.html"},
	{"국경은 생각을 막을 리유가 되는가?", "ko/rights.html"},
	{"정부는 인터네트를 어떤 방법으로 끊는가?", "ko/cutoff.html"},
	{"시위나 선거 때에 망을 통째로 끄는 것", "ko/cutoff.html"},
	{"허락된 싸이트만 있는 나라 안의 망을 무엇이라고 하나?", "ko/cutoff.html"},
	{"판의 번호가 클수록 무엇을 뜻하는가?", "ko/editions.html"},
	{"보충 자료묶음에는 어떤 페지가 담기는가?", "ko/editions.html"},
	{"조각이 넉넉히 모이면 무엇이 다시 만들어지나?", "ko/editions.html"},
	{"견본 생성기가 만든 소리에서 똑딱 소리는 몇 번 울리나?", "ko/radio.html"},
	{"진짜 ferry 방송은 어떻게 들리는가?", "ko/radio.html"},
	{"출판자는 자료묶음에 무엇으로 서명하는가?", "ko/trust.html"},
	{"열쇠 지문은 어떻게 생겼는가?", "ko/trust.html"},
	{"믿지 않는 서고도 읽을 수 있는가?", "ko/trust.html"},
	{"마이크로SD 기억카드는 얼마나 작은가?", "ko/cards.html"},
	{"붉은별 조작체계는 기억카드에 꽂힌 그림에 무엇을 덧붙이는가?", "ko/cards.html"},
	{"기억카드에 어떤 이름을 주어야 눈길을 덜 끄는가?", "ko/cards.html"},
	{"감추기 단추는 화면의 어디에 있는가?", "ko/hide.html"},
	{"감춘 페지는 창의 방문 기록에 남는가?", "ko/hide.html"},
	{"인터네트는 몇 대의 콤퓨터와 손전화를 잇는 망인가?", "ko/internet.html"},
	{"인터네트에는 주인이 있는가?", "ko/internet.html"},
	{"파란색 글자는 무엇인가?", "ko/reading.html"},
	{"손전화에서 글자를 크게 하려면 어떻게 하나?", "ko/reading.html"},
	{"ferry는 읽은 페지나 검색한 낱말을 어디에 적어 두는가?", "ko/safety.html"},
	{"어깨 너머로 보는 사람이나 촬영기를 막을 수 있는가?", "ko/safety.html"},
	{"지속가능발전목표는 몇 가지인가?", "ko/sdg.html"},
	{"세부목표 9.c는 나라들에게 무엇을 요구하는가?", "ko/sdg.html"},
	{"조선말 낱말은 붙은 토가 달라도 찾아지는가?", "ko/search.html"},
	{"검색 결과마다 무엇이 나오는가?", "ko/search.html"},
	{"ferry는 출판자가 모은 소식과 백과사전 글을 무엇으로 묶는가?", "ko/ferry.html"},
	{"What does Article 19 of the Declaration say?", "en/rights.html"},
	{"How do governments cut off the internet?", "en/cutoff.html"},
	{"Can an interrupted copy be continued later?", "en/editions.html"},
	{"Where is the red Hide button?", "en/hide.html"},
	{"What is a publisher's fingerprint?", "en/trust.html"},
	{"How many goals did the United Nations adopt in 2015?", "en/sdg.html"},
	{"How small is a microSD card?", "en/cards.html"},
	{"How do I make the letters larger on a phone?", "en/reading.html"},
}
