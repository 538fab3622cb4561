package source

import "strings"

// Words are the few words a source puts into pages it makes (a book's
// chapter links, a feed's item pages), in the language of the content
// they sit in: Korean words inside an English book would puzzle its
// reader, and the other way round.
type Words struct {
	Prev, Next, Contents, FromStart string // book navigation
	Attachments, Original, List     string // feed item pages
}

var (
	koWords = Words{Prev: "이전", Next: "다음", Contents: "차례", FromStart: "처음부터 읽기",
		Attachments: "첨부 파일", Original: "원문 주소", List: "목록"}
	enWords = Words{Prev: "Previous", Next: "Next", Contents: "Contents", FromStart: "Start reading",
		Attachments: "Attachments", Original: "Original address", List: "All items"}
)

// WordsFor returns the words for a BCP 47 language tag: Korean for ko
// (and for content of no stated language, ferry's first readers' own),
// English for every other language.
func WordsFor(lang string) Words {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if lang == "" || lang == "und" || lang == "ko" || strings.HasPrefix(lang, "ko-") || strings.HasPrefix(lang, "ko_") {
		return koWords
	}
	return enWords
}
