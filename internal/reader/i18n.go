package reader

import (
	"strings"

	"golang.org/x/text/language"
)

// The UI speaks three languages:
//
//   - "ko", standard Korean in plain words: no needless English loanwords
//     (검색, not 서치; 단추, not 버튼; 쪽 or 글, not 페이지; 기기, not 컴퓨터);
//   - "kp", 조선말: the words and spelling a North Korean reads every day
//     (콤퓨터, 손전화기, 봉사기, 차림표, 페지, 련결, 수표; 되였다; 의존명사
//     written together, as in 읽을수 있다);
//   - "en", English.
//
// Every message exists in all three (TestMessagesComplete).
var messages = map[string]map[string]string{
	"ko": {
		"langName":   "한국어",
		"barLabel":   "ferry 도구 줄",
		"home":       "서고 목록",
		"search":     "검색",
		"searchHint": "찾을 낱말",
		"random":     "아무 글",
		"hide":       "감추기",
		"hideTitle":  "화면을 곧바로 비웁니다 (Esc 두 번)",
		"libraries":  "가지고 있는 서고",
		"intro":      "이 기기에 있는 서고입니다. 읽은 것은 어디에도 남거나 보내지지 않습니다.",
		"open":       "열기",
		"searchIn":   "이 서고에서 검색",
		"edition":    "판",
		"date":       "날짜",
		"size":       "크기",
		"articles":   "글",
		"language":   "말",
		"key":        "열쇠 지문",
		"trusted":    "믿음: 당신이 고른 출판자 열쇠로 서명되었습니다",
		"untrusted":  "믿지 않음: 누가 만들었는지 확인할 수 없습니다",
		"samplePub":  "견본 출판자: ferry를 보여 주기 위한 견본 열쇠입니다",
		"broken":     "이 서고를 열 수 없습니다",
		"brokenHelp": "이 서고는 망가졌거나 끝까지 복사되지 않았습니다. 성한 복사본을 다시 받으십시오. 다른 서고는 그대로 읽을 수 있습니다.",
		"notTrusted": "믿는 출판자의 서고가 아닙니다",
		"notTrustedHelp": "이 서고는 당신이 믿기로 고른 출판자 열쇠로 서명되지 않아서 보여 드리지 않습니다. 망가진 것은 아닙니다. " +
			"아래 열쇠 지문이 출판자가 알려 준 지문과 같은지 맞춰 보십시오. 같다면 이 ferry를 차려 준 사람에게 그 출판자를 믿게 해 달라고 하십시오. " +
			"다른 서고는 그대로 읽을 수 있습니다.",
		"damagedParts":   "이 서고에서 망가진 곳을 찾았습니다. 글이나 그림 가운데 일부가 보이지 않습니다. 성한 복사본을 다시 받으십시오.",
		"damagedShort":   "망가진 곳이 있는 서고",
		"results":        "검색 결과",
		"resultsFor":     "%[2]q 검색 결과: %[1]d개",
		"noResults":      "%q에 맞는 글을 찾지 못했습니다. 다른 낱말이나 더 짧은 낱말로 찾아보십시오.",
		"allLibs":        "모든 서고",
		"prev":           "앞",
		"next":           "다음",
		"page":           "%d / %d 쪽",
		"titles":         "제목이 맞는 글",
		"notFound":       "글을 찾지 못했습니다",
		"notFoundHelp":   "이 서고에 그런 글이 없습니다. 연결이 틀렸거나 새 판에서 빠졌을 수 있습니다.",
		"noLib":          "그런 서고가 없습니다",
		"damaged":        "서고가 망가졌습니다",
		"damagedHelp":    "이 글을 확인하다가 망가진 곳을 찾아서 보여 드리지 않습니다. 성한 복사본을 다시 받으십시오.",
		"backHome":       "서고 목록으로 돌아가기",
		"contents":       "차례",
		"noSearch":       "이 서고에는 검색 색인이 없습니다.",
		"empty":          "보여 줄 서고가 없습니다. 이 ferry를 차려 준 사람에게 서고를 더해 달라고 하십시오.",
		"badRequest":     "잘못된 요청입니다",
		"entries":        "모든 글",
		"suggestLabel":   "제목 제안",
		"glossOn":        "낱말 풀이 켜기",
		"glossOff":       "낱말 풀이 끄기",
		"newer":          "제%[1]d판이 나와 있습니다 (마지막 확인 %[2]s, 받을 크기 %[3]s)",
		"newerNoSize":    "제%[1]d판이 나와 있습니다 (마지막 확인 %[2]s)",
		"shareTitle":     "친구와 나누기",
		"shareIntro":     "두 기기가 만나면 서로 없는 판만 암호를 걸어 주고받습니다. 상대 기기는 여기에 나오는 한 번 쓰는 번호를 알아야 연결할 수 있고, 받은 판은 이 서고가 믿는 출판자의 서명이 맞을 때만 남습니다.",
		"shareNoLibrary": "나누기는 'ferry import'로 만든 서고에서만 됩니다. 지금 보여 주는 서고는 그렇게 만든 것이 아닙니다. 그런 서고가 있는 기기의 명령 줄에서 다음을 실행하십시오.",
		"shareDir":       "서고가_있는_곳",
		"shareCode":      "한 번 쓰는 번호",
		"shareScan":      "상대 기기의 사진기로 이 네모 무늬(QR)를 찍거나, 그 기기에서 다음을 실행하십시오.",
		"shareLoopback":  "%s에서 기다립니다. 이 기기 안에서만 연결할 수 있는 주소라서 친구의 기기는 여기에 닿지 못합니다.",
		"shareNetwork":   "%s에서 기다립니다. 같은 망의 기기는 누구나 연결을 시도할 수 있지만, 번호를 아는 기기만 짝을 지을 수 있고 세 번 틀리면 멈춥니다.",
		"shareSameNet":   "두 기기는 같은 망에 있어야 합니다 (같은 무선망, 또는 한 손전화기가 만든 무선망).",
		"shareOthers":    "이 기기의 다른 주소:",
		"shareBusy":      "주고받는 중:",
		"shareWaiting":   "상대 기기를 기다리는 중입니다. 이 쪽은 몇 초마다 새로 고쳐집니다.",
		"shareStart":     "나누기 시작",
		"shareStop":      "멈추기",
		"shareExpired":   "%d분 동안 아무도 연결하지 않아서 멈추었습니다.",
		"shareFailed":    "나누기가 멈추었습니다.",
		"shareDone":      "받은 판 %d개 (%s), 보낸 판 %d개 (%s).",
		"shareRestart":   "받은 판은 ferry를 다시 시작하면 보입니다.",
		"shareWrites":    "시작하면 받은 판을 서고에 써 넣습니다. 그 밖에는 아무것도 쓰지 않고, 아무 데도 먼저 연결하지 않습니다. 번호는 한 번만 쓰이고, 한 번 주고받으면 끝납니다.",
		"shareLocalOnly": "이 ferry는 이 기기 안에서만 듣고 있으므로, 나누기도 이 기기 안(127.0.0.1)에서만 기다립니다. 친구의 기기는 거기에 닿지 못합니다.",
		"shareInstead":   "같은 무선망에 있는 친구와 나누려면, 여기서 시작하지 말고 명령 줄에서 다음을 실행하십시오. 서고를 읽는 곳은 망에 열지 않고 나누기만 엽니다.",
		"shareOnNetwork": "이 ferry는 %s 주소에서 듣고 있으므로, 나누기도 같은 주소에서 기다립니다.",
	},
	"kp": {
		"langName":   "조선말",
		"barLabel":   "ferry 차림표",
		"home":       "서고목록",
		"search":     "검색",
		"searchHint": "찾을 단어",
		"random":     "아무 글",
		"hide":       "감추기",
		"hideTitle":  "화면을 즉시 비웁니다 (Esc 두번)",
		"libraries":  "가지고있는 서고",
		"intro":      "이 콤퓨터나 손전화기에 있는 서고입니다. 읽은것은 어디에도 남거나 보내지지 않습니다.",
		"open":       "열기",
		"searchIn":   "이 서고에서 검색",
		"edition":    "판",
		"date":       "날자",
		"size":       "크기",
		"articles":   "글",
		"language":   "말",
		"key":        "열쇠지문",
		"trusted":    "믿음: 당신이 고른 출판자열쇠로 수표되였습니다",
		"untrusted":  "믿지 않음: 누가 만들었는지 확인할수 없습니다",
		"samplePub":  "견본출판자: ferry를 보여주기 위한 견본열쇠입니다",
		"broken":     "이 서고를 열수 없습니다",
		"brokenHelp": "이 서고는 망가졌거나 끝까지 복사되지 않았습니다. 성한 복사본을 다시 받으십시오. 다른 서고는 그대로 읽을수 있습니다.",
		"notTrusted": "믿는 출판자의 서고가 아닙니다",
		"notTrustedHelp": "이 서고는 당신이 믿기로 고른 출판자열쇠로 수표되지 않았으므로 보여드리지 않습니다. 망가진것은 아닙니다. " +
			"아래의 열쇠지문이 출판자가 알려준 지문과 같은지 맞추어보십시오. 같으면 이 봉사기를 차려준 사람에게 그 출판자를 믿도록 해달라고 하십시오. " +
			"다른 서고는 그대로 읽을수 있습니다.",
		"damagedParts":   "이 서고에서 망가진 곳을 찾았습니다. 글이나 그림가운데 일부가 보이지 않습니다. 성한 복사본을 다시 받으십시오.",
		"damagedShort":   "망가진 곳이 있는 서고",
		"results":        "검색결과",
		"resultsFor":     "%[2]q 검색결과: %[1]d개",
		"noResults":      "%q에 맞는 페지를 찾지 못했습니다. 다른 단어나 더 짧은 단어로 찾아보십시오.",
		"allLibs":        "모든 서고",
		"prev":           "이전",
		"next":           "다음",
		"page":           "%d / %d 페지",
		"titles":         "제목이 맞는 페지",
		"notFound":       "페지를 찾지 못했습니다",
		"notFoundHelp":   "이 서고에 그런 페지가 없습니다. 련결이 틀렸거나 새 판에서 빠졌을수 있습니다.",
		"noLib":          "그런 서고가 없습니다",
		"damaged":        "서고가 망가졌습니다",
		"damagedHelp":    "이 페지를 확인하다가 망가진 곳을 찾았으므로 보여드리지 않습니다. 성한 복사본을 다시 받으십시오.",
		"backHome":       "서고목록으로 돌아가기",
		"contents":       "차례",
		"noSearch":       "이 서고에는 검색색인이 없습니다.",
		"empty":          "보여줄 서고가 없습니다. 이 봉사기를 차려준 사람에게 서고를 더해달라고 하십시오.",
		"badRequest":     "잘못된 요청입니다",
		"entries":        "모든 글",
		"suggestLabel":   "제목 제안",
		"glossOn":        "낱말풀이 켜기",
		"glossOff":       "낱말풀이 끄기",
		"newer":          "제%[1]d판이 나와있습니다 (마지막 확인 %[2]s, 받을 크기 %[3]s)",
		"newerNoSize":    "제%[1]d판이 나와있습니다 (마지막 확인 %[2]s)",
		"shareTitle":     "친구와 나누기",
		"shareIntro":     "두 기기가 만나면 서로 없는 판만 암호를 걸어 주고받습니다. 상대편 기기는 여기에 나오는 한번 쓰는 번호를 알아야 련결할수 있고 받은 판은 이 서고가 믿는 출판자의 수표가 맞을 때에만 남습니다.",
		"shareNoLibrary": "나누기는 'ferry import'로 만든 서고에서만 됩니다. 지금 보여주는 서고는 그렇게 만든것이 아닙니다. 그런 서고가 있는 기기의 명령행에서 다음을 실행하십시오.",
		"shareDir":       "서고가_있는_곳",
		"shareCode":      "한번 쓰는 번호",
		"shareScan":      "상대편 기기의 사진기로 이 네모무늬(QR)를 찍거나 그 기기에서 다음을 실행하십시오.",
		"shareLoopback":  "%s에서 기다립니다. 이 기기안에서만 련결할수 있는 주소이므로 친구의 기기는 여기에 닿지 못합니다.",
		"shareNetwork":   "%s에서 기다립니다. 같은 망의 기기는 누구나 련결을 시도할수 있지만 번호를 아는 기기만 짝을 지을수 있고 세번 틀리면 멈춥니다.",
		"shareSameNet":   "두 기기는 같은 망에 있어야 합니다 (같은 무선망 또는 한 손전화기가 만든 무선망).",
		"shareOthers":    "이 기기의 다른 주소:",
		"shareBusy":      "주고받고있습니다:",
		"shareWaiting":   "상대편 기기를 기다리고있습니다. 이 페지는 몇초마다 새로 고쳐집니다.",
		"shareStart":     "나누기 시작",
		"shareStop":      "멈추기",
		"shareExpired":   "%d분동안 아무도 련결하지 않아서 멈추었습니다.",
		"shareFailed":    "나누기가 멈추었습니다.",
		"shareDone":      "받은 판 %d개 (%s), 보낸 판 %d개 (%s).",
		"shareRestart":   "받은 판은 ferry를 다시 시작하면 보입니다.",
		"shareWrites":    "시작하면 받은 판을 서고에 써넣습니다. 그밖에는 아무것도 쓰지 않고 아무데도 먼저 련결하지 않습니다. 번호는 한번만 쓰이고 한번 주고받으면 끝납니다.",
		"shareLocalOnly": "이 ferry는 이 기기안에서만 듣고있으므로 나누기도 이 기기안(127.0.0.1)에서만 기다립니다. 친구의 기기는 거기에 닿지 못합니다.",
		"shareInstead":   "같은 무선망에 있는 친구와 나누려면 여기서 시작하지 말고 명령행에서 다음을 실행하십시오. 서고를 읽는 곳은 망에 열지 않고 나누기만 엽니다.",
		"shareOnNetwork": "이 ferry는 %s 주소에서 듣고있으므로 나누기도 같은 주소에서 기다립니다.",
	},
	"en": {
		"langName":       "English",
		"barLabel":       "ferry tools",
		"home":           "Libraries",
		"search":         "Search",
		"searchHint":     "Words to find",
		"random":         "Random page",
		"hide":           "Hide",
		"hideTitle":      "Blank the screen at once (Esc twice)",
		"libraries":      "Your libraries",
		"intro":          "These libraries are on this device. Nothing you read is kept or sent anywhere.",
		"open":           "Open",
		"searchIn":       "Search this library",
		"edition":        "Edition",
		"date":           "Date",
		"size":           "Size",
		"articles":       "Articles",
		"language":       "Language",
		"key":            "Key fingerprint",
		"trusted":        "Trusted: signed by a publisher key you chose",
		"untrusted":      "Not trusted: who made it cannot be confirmed",
		"samplePub":      "Sample publisher: a sample key that shows how ferry works",
		"broken":         "This library cannot be opened",
		"brokenHelp":     "This library is damaged or was not copied to the end. Get a good copy again. Your other libraries still work.",
		"notTrusted":     "Not from a publisher you trust",
		"notTrustedHelp": "This library is not signed by a publisher key you chose to trust, so it is not shown. It is not damaged. Compare the key fingerprint below with the one its publisher gave you; if they are the same, ask whoever set up this ferry to trust that publisher. Your other libraries still work.",
		"damagedParts":   "Damage was found in this library: some of its pages or pictures cannot be shown. Get a good copy again.",
		"damagedShort":   "Library with damaged parts",
		"results":        "Search results",
		"resultsFor":     "%d results for %q",
		"noResults":      "No page matches %q. Try other or shorter words.",
		"allLibs":        "All libraries",
		"prev":           "Previous",
		"next":           "Next",
		"page":           "Page %d of %d",
		"titles":         "Pages with a matching title",
		"notFound":       "Page not found",
		"notFoundHelp":   "This library has no such page. The link may be wrong, or the page was left out of this edition.",
		"noLib":          "No such library",
		"damaged":        "This library is damaged",
		"damagedHelp":    "A problem was found while checking this page, so it is not shown. Get a good copy of the library again.",
		"backHome":       "Back to the libraries",
		"contents":       "Contents",
		"noSearch":       "This library has no search index.",
		"empty":          "There are no libraries to show. Ask whoever set up this ferry to add some.",
		"badRequest":     "Bad request",
		"entries":        "All pages",
		"suggestLabel":   "Title suggestions",
		"glossOn":        "Word notes on",
		"glossOff":       "Word notes off",
		"newer":          "Edition %[1]d exists (last checked %[2]s, %[3]s to fetch)",
		"newerNoSize":    "Edition %[1]d exists (last checked %[2]s)",
		"shareTitle":     "Share with a friend",
		"shareIntro":     "When two devices meet, each gets the editions it lacks from the other, encrypted. The other device can connect only with the one-time code shown here, and an edition it sends is kept only if it is signed by a publisher this library trusts.",
		"shareNoLibrary": "Sharing works only with a library made by 'ferry import', and none is shown here. On a device that has one, run this on its command line:",
		"shareDir":       "LIBRARY-FOLDER",
		"shareCode":      "One-time code",
		"shareScan":      "Scan this QR code with the other device's camera, or run this on it:",
		"shareLoopback":  "Waiting on %s: an address inside this device only, so a friend's device cannot reach it.",
		"shareNetwork":   "Waiting on %s: any device on this network can try to connect, but only one with the code can pair, and three wrong tries stop it.",
		"shareSameNet":   "Both devices must be on the same network (the same Wi-Fi, or a phone's hotspot).",
		"shareOthers":    "This device can also be reached at",
		"shareBusy":      "Exchanging:",
		"shareWaiting":   "Waiting for the other device. This page reloads every few seconds.",
		"shareStart":     "Start sharing",
		"shareStop":      "Stop",
		"shareExpired":   "Nobody connected for %d minutes, so sharing stopped.",
		"shareFailed":    "Sharing stopped.",
		"shareDone":      "Received %d editions (%s), sent %d (%s).",
		"shareRestart":   "The editions received show once ferry is started again.",
		"shareWrites":    "Once started, editions received are written into the library; nothing else is written, and nothing connects anywhere by itself. The code works once, for one exchange.",
		"shareLocalOnly": "This ferry listens inside this device only, so sharing waits inside this device only too (127.0.0.1): a friend's device cannot reach it.",
		"shareInstead":   "To share with a friend on the same Wi-Fi, do not start here: run this on the command line instead. It opens only sharing to the network, not reading the library.",
		"shareOnNetwork": "This ferry listens on %s, so sharing waits on that address too.",
	},
}

// uiLangs are the UI languages in the order the switch lists them.
var uiLangs = []string{"ko", "kp", "en"}

// htmlLang is the BCP 47 tag of a UI language, for lang attributes.
func htmlLang(ui string) string {
	if ui == "kp" {
		return "ko-KP"
	}
	return ui
}

// contentLang is the language of pages a UI language reads: both Korean
// UIs read Korean pages.
func contentLang(ui string) string {
	if ui == "en" {
		return "en"
	}
	return "ko"
}

// acceptLang returns the UI language for an Accept-Language header: the
// first Korean or English tag decides (ko-KP gives 조선말, other Korean
// standard Korean); with neither, or no header, Korean.
func acceptLang(h string) string {
	if h == "" || len(h) > 512 {
		return "ko"
	}
	tags, _, err := language.ParseAcceptLanguage(h) // sorted by weight
	if err != nil {
		return "ko"
	}
	for _, t := range tags {
		switch b, _ := t.Base(); b.String() {
		case "ko":
			if r, conf := t.Region(); conf == language.Exact && r.String() == "KP" {
				return "kp"
			}
			return "ko"
		case "en":
			return "en"
		}
	}
	return "ko"
}

// validUI reports a UI language code.
func validUI(s string) bool { return s == "ko" || s == "kp" || s == "en" }

// langNames names content language codes in each UI language.
var langNames = map[string]map[string]string{
	"ko": {"ko": "한국어", "en": "영어", "ja": "일본어", "zh": "중국어", "ru": "러시아어", "ar": "아랍어", "fr": "프랑스어", "de": "독일어"},
	"kp": {"ko": "조선말", "en": "영어", "ja": "일본어", "zh": "중국어", "ru": "로씨야어", "ar": "아랍어", "fr": "프랑스어", "de": "도이췰란드어"},
	"en": {"ko": "Korean", "en": "English", "ja": "Japanese", "zh": "Chinese", "ru": "Russian", "ar": "Arabic", "fr": "French", "de": "German"},
}

// baseLang is the lower-case primary subtag of a language tag.
func baseLang(tag string) string {
	b, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
	b, _, _ = strings.Cut(b, "_")
	switch b {
	case "kor":
		return "ko"
	case "eng":
		return "en"
	}
	return b
}
