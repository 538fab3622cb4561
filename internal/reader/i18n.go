package reader

import (
	"net/http"

	"golang.org/x/text/language"
)

// The UI speaks Korean and English. Korean words are chosen for a North
// Korean reader: plain words, no South Korean English loanwords (검색, not
// 서치; 단추, not 버튼; 페지 and 콤퓨터 are the northern forms).
var messages = map[string]map[string]string{
	"ko": {
		"langName":     "조선말",
		"home":         "서고 목록",
		"search":       "검색",
		"searchHint":   "찾을 낱말",
		"random":       "아무 글",
		"hide":         "감추기",
		"hideTitle":    "화면을 곧바로 비웁니다 (Esc 두 번)",
		"libraries":    "가지고 있는 서고",
		"intro":        "이 콤퓨터에 있는 서고입니다. 읽은 것은 어디에도 남거나 보내지지 않습니다.",
		"open":         "열기",
		"searchIn":     "이 서고에서 검색",
		"edition":      "판",
		"date":         "날짜",
		"size":         "크기",
		"articles":     "글",
		"language":     "말",
		"key":          "열쇠 지문",
		"trusted":      "믿음: 당신이 고른 출판자 열쇠로 서명되었습니다",
		"untrusted":    "믿지 않음: 누가 만들었는지 확인할 수 없습니다",
		"samplePub":    "견본 출판자: ferry를 보여 주기 위한 견본 열쇠입니다",
		"broken":       "이 서고를 열 수 없습니다",
		"brokenHelp":   "파일이 망가졌거나 다 복사되지 않았을 수 있습니다. 성한 복사본을 다시 받으십시오. 다른 서고는 그대로 읽을 수 있습니다.",
		"results":      "검색 결과",
		"resultsFor":   "%q 검색 결과: %d개",
		"noResults":    "%q에 맞는 페지를 찾지 못했습니다. 다른 낱말이나 더 짧은 낱말로 찾아보십시오.",
		"allLibs":      "모든 서고",
		"prev":         "이전",
		"next":         "다음",
		"page":         "%d / %d 페지",
		"titles":       "제목이 맞는 페지",
		"notFound":     "페지를 찾지 못했습니다",
		"notFoundHelp": "이 서고에 그런 페지가 없습니다. 련결이 틀렸거나 새 판에서 빠졌을 수 있습니다.",
		"noLib":        "그런 서고가 없습니다",
		"damaged":      "서고가 망가졌습니다",
		"damagedHelp":  "이 페지를 확인하다가 문제를 찾았습니다. 보여 드리지 않습니다. 성한 복사본을 다시 받으십시오.",
		"backHome":     "서고 목록으로 돌아가기",
		"contents":     "차례",
		"noSearch":     "이 서고에는 검색 색인이 없습니다.",
		"empty":        "서고가 없습니다. ferry serve 뒤에 자료묶음 파일이나 폴더를 적어 주십시오.",
		"badRequest":   "잘못된 요청입니다",
		"entries":      "모든 글",
		"suggestLabel": "제목 제안",
	},
	"en": {
		"langName":     "English",
		"home":         "Libraries",
		"search":       "Search",
		"searchHint":   "Words to find",
		"random":       "Random page",
		"hide":         "Hide",
		"hideTitle":    "Blank the screen at once (Esc twice)",
		"libraries":    "Your libraries",
		"intro":        "These libraries are on this device. Nothing you read is kept or sent anywhere.",
		"open":         "Open",
		"searchIn":     "Search this library",
		"edition":      "Edition",
		"date":         "Date",
		"size":         "Size",
		"articles":     "Articles",
		"language":     "Language",
		"key":          "Key fingerprint",
		"trusted":      "Trusted: signed by a publisher key you chose",
		"untrusted":    "Not trusted: who made it cannot be confirmed",
		"samplePub":    "Sample publisher: a sample key that shows how ferry works",
		"broken":       "This library cannot be opened",
		"brokenHelp":   "The file may be damaged or incompletely copied. Get a good copy again. Your other libraries still work.",
		"results":      "Search results",
		"resultsFor":   "%d results for %q",
		"noResults":    "No page matches %q. Try other or shorter words.",
		"allLibs":      "All libraries",
		"prev":         "Previous",
		"next":         "Next",
		"page":         "Page %d of %d",
		"titles":       "Pages with a matching title",
		"notFound":     "Page not found",
		"notFoundHelp": "This library has no such page. The link may be wrong, or the page was left out of this edition.",
		"noLib":        "No such library",
		"damaged":      "This library is damaged",
		"damagedHelp":  "A problem was found while checking this page, so it is not shown. Get a good copy of the library again.",
		"backHome":     "Back to the libraries",
		"contents":     "Contents",
		"noSearch":     "This library has no search index.",
		"empty":        "No libraries. Give ferry serve archive files or folders.",
		"badRequest":   "Bad request",
		"entries":      "All pages",
		"suggestLabel": "Title suggestions",
	},
}

var langMatcher = language.NewMatcher([]language.Tag{language.Korean, language.English})

// pickLang returns "ko" or "en": the lang query parameter if valid, else
// the best match of Accept-Language, else Korean.
func pickLang(r *http.Request) (lang string, explicit bool) {
	switch q := r.URL.Query().Get("lang"); q {
	case "ko", "en":
		return q, true
	}
	h := r.Header.Get("Accept-Language")
	if h == "" || len(h) > 512 {
		return "ko", false
	}
	tags, _, err := language.ParseAcceptLanguage(h)
	if err != nil || len(tags) == 0 {
		return "ko", false
	}
	_, i, conf := langMatcher.Match(tags...)
	if conf == language.No || i == 0 {
		return "ko", false
	}
	return "en", false
}

func other(lang string) string {
	if lang == "ko" {
		return "en"
	}
	return "ko"
}
