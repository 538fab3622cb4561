package glossary

import "strings"

// What may follow a headword inside an eojeol (a space-separated word) and
// what may come before one. docs/glossary.md explains the rules; the lists
// were compiled for this project from Korean grammar.

// particleUnits are case and auxiliary particles (조사) and the plural 들.
// Up to maxUnits of these and of copulaUnits may follow a noun in any
// order (에서는, 들에게도, 으로부터의); the matcher does not check that a
// sequence is grammatical or fits the noun's last sound (이/가), which
// costs little: the sequence must still fill the rest of the eojeol.
const particleUnits = `
이 가 을 를 은 는 의 에 에서 에게 에게서 께 께서 한테 한테서 더러
로 으로 로서 으로서 로써 으로써 부터 로부터 으로부터 와 과 하고 랑 이랑
도 만 까지 조차 마저 마다 밖에 뿐 처럼 같이 보다 만큼 대로 씩 쯤 끼리
이나 나 이나마 나마 이든 든 이든지 든지 이라도 라도 이야말로 야말로 커녕
에선 에겐 한텐 으론 뿐만
요 이요 들
`

// copulaUnits are forms of the copula 이다 and endings that attach to a
// noun (스마트폰이다, 컴퓨터였던, 서버인지).
const copulaUnits = `
이다 다 이며 며 이고 고 인 이던 던 일 임 이라 라 이라고 라고 이라는 라는
이란 란 이라면 라면 이라서 라서 이지만 지만 이지 지 이므로 므로 이니 니
이었다 였다 이었으며 였으며 이었던 였던 이었고 였고 이었으나 였으나 이었지만
였지만 이었는데 였는데 이었을 였을 이었기 였기 이어서 여서 이어 이었다고
였다고 입니다 이었습니다 였습니다 이에요 예요 이었어요 였어요 인데 이면 면
이면서 면서 이자 자 인가 인지 이냐 냐 이든가 든가 이기 기 이기도 기도
이라며 라며 이라서 이랑은 이었음 였음 이래 래 이래서 이었다는 였다는
였는가 이었는가 였나 이었나 인가요 일까 일까요 입니까 였습니까 이었습니까
였을까 이었을까 인데요 였던가 이었던가 인지요
`

// verbalStems turn a noun into a verb or adjective (클릭하다, 업데이트된,
// 로맨틱한, 글로벌화되는): whatever follows one of them is accepted as an
// ending, since Korean endings are too many to list.
const verbalStems = `
하 한 할 함 합 해 했 했었 하였 되 된 될 됨 됩 돼 됐 되었 시키 시킨 시킬
시켜 시켰 시킴 스러 스럽 스런 스러운 답 다운 당하 당한 당했 당해 당할
같 같았
`

// nounTails are short nouns and suffixes that form compounds with the word
// before them (게임기, 스마트폰용, 피시방, 팬층, 인터넷상). After one, the rule
// starts again (스마트폰용으로). Longer Sino-Korean nouns need no list:
// any run of two or more syllables that can be Sino-Korean (업체, 시장,
// 요금, 사용자) is taken as a compound part.
const nounTails = `
적 화 성 상 용 형 식 풍 계 권 급 층 족 별 산 제 판 값 집 점 장 실 사 업
자 비 료 물 품 기 가 인 원 관 소 국 청 과 부 회 학 론 법 선 차 병 내 외
간 전 후 중 말 초 쪽 측 류 파 방 통 표 역 단 대 군 명 건 개 곳 씨 님 감
길 맛 빛 옷 짓 꾼 질 보 등 곡 작 어 쟁이 가게 거리 놀이 사람 나라 노래 모음 묶음 따위
끝 속 밖 안 앞 뒤 옆 위 밑 틀 감 판 돈 값 빵 국 떡 밥 술 차 물 병 수 때
분 날 밤
`

// compoundPrefixes are one-syllable prefixes that may stand before a
// loanword in one eojeol (탈플라스틱, 신메뉴, 초미니, 새메뉴), and the
// number words and the counter 점 before units and scores (46억달러,
// 5천만유로, 3점홈런).
const compoundPrefixes = `
초 반 비 탈 친 신 구 대 소 미 재 무 전 총 고 저 역 준 범 다 가 부 원 극 최
양 외 내 중 매 각 본 당 현 후 새 헌 맨 왕 옛 첫 순 생 급 노 여 남
만 억 조 천 백 십 점
`

// compoundHeads are the two-syllable loanwords that may end a compound
// after a Sino-Korean part or a prefix (교통카드, 전략게임, 고객센터,
// 신메뉴, 만달러). Loanwords of three syllables or more need no list.
const compoundHeads = `
카드 게임 센터 쇼핑 뉴스 버스 마트 클럽 파크 타운 빌딩 타워 코너 펀드 포럼
캠프 투어 센서 로봇 모델 그룹 밴드 스타 패션 디자인 메뉴 머니 택시 트럭 오일
파티 링크 서버 게이트 리그 시즌 코스 모텔 레저 보트 요트 램프 펌프 모터 엔진
로켓 탱크 드론 버그 쿠폰 포인트 파일 카페 마켓 플랜 쇼크 컬러 사이즈 스타일
패턴 라인 모드 코드 레벨 타입 세트 키트 마크 로고 오일 가스 센서 코스 포트
허브 캠핑 모뎀 버전 필름 테마 랭킹 멤버 앨범 차트 렌즈 칩셋 코어 모니터 캡슐
달러 유로 미터 마일 인치 그램 리터 와트 피트 야드 온스 갤런 배럴 바이트 비트
홈런 벤처 듀오 호텔 매너 블록 액션 프로 클럭 코치 채널 저널 클립 스프
`

// oneSyllableTails are the one-syllable loanwords that may end a compound
// after another headword (데뷔골, 하드록) or, if they cannot be
// Sino-Korean, after a Sino-Korean part (조사팀, 결승전샷).
const oneSyllableTails = "팀톤쇼컵폰샷룸숍펜팬존캡팩씬컷웹앱붐링칩골슛킥캔홈탭팝록랩"

// notWords are eojeol stems that look like a headword with a particle
// but are names (쇼와 is the Japanese era Shōwa, not 쇼 "show" + 와).
// An eojeol that is one of them, with particles or not, is never glossed.
const notWords = `
쇼와 타이완 타이거즈 브라운 라테란 라면서 라면서도 베드로 수시로 인디아 서울대공원
시드니 카스트로 인디애나 인디애나폴리스
`

// afterParticle are the stems of the commonest words that follow a
// particle; when the space before them is left out (뷰를가진, 호텔에대한,
// 서버가있는), a headword of two syllables or more with particles and one of
// these, with anything after it, still ends the eojeol.
const afterParticle = `
가진 가지 가져 가졌 대한 대해 위한 위해 통한 통해 관한 관해 되 된 될 됐 돼
있 없 같 받 보 본 봤 쓰 썼 만들 만든 넣 찾 좋 싫 사용
`

// numberWords are the native number words and the Sino-Korean digits'
// readings that stand before a counter in one eojeol (두캔, 한팀, 세컵).
const numberWords = `
한 두 세 네 다섯 여섯 일곱 여덟 아홉 열 스무 서른 마흔 쉰 석 넉 서너 두세 몇
`

// spacedFunction are one-syllable words that stand alone between spaces in
// ordinary text (한 팀 당, 두 팀 간): a run of one-syllable eojeols counts
// as letter-spaced only by its other members.
const spacedFunction = "한두세네열몇당씩및등중간수것때번분개명곳"

// needsNext are headwords whose Hangul is more often another word, taken
// only when one of the listed syllables follows at once (compounds that
// hold them are headwords of their own: 일렉기타): 기타 is far more often 其他 "other"
// (기타 지역, 및 기타, 기타에 해당) than guitar, but 其他 rarely takes 를, 가, 는 or 와
// (기타를 치다, 기타가 울리다).
var needsNext = map[string]string{
	"기타": "를가는와",
}

// maxUnits bounds the particle and copula units after one noun.
const maxUnits = 4

// Classes of tail units.
const (
	unitParticle int32 = 1 << iota
	unitCopula
	unitVerbal
	unitNoun
)

// tails holds the units above, each with the OR of its classes;
// prefixes the compound prefixes.
var tails, prefixes = func() (t, p trie) {
	t = newTrie()
	cls := map[string]int32{}
	for _, l := range []struct {
		s string
		c int32
	}{{particleUnits, unitParticle}, {copulaUnits, unitCopula}, {verbalStems, unitVerbal}, {nounTails, unitNoun}} {
		for _, f := range strings.Fields(l.s) {
			cls[f] |= l.c
		}
	}
	for s, c := range cls {
		t.add(s, c)
	}
	t.freeze()
	p = newTrie()
	for _, f := range strings.Fields(compoundPrefixes) {
		p.add(f, 1)
	}
	p.freeze()
	return
}()

var notWordTrie = func() trie {
	t := newTrie()
	for _, f := range strings.Fields(notWords) {
		t.add(f, 1)
	}
	t.freeze()
	return t
}()

var afterParticleTrie = func() trie {
	t := newTrie()
	for _, f := range strings.Fields(afterParticle) {
		t.add(f, 1)
	}
	t.freeze()
	return t
}()

var numberWordTrie = func() trie {
	t := newTrie()
	for _, f := range strings.Fields(numberWords) {
		t.add(f, 1)
	}
	t.freeze()
	return t
}()

var compoundHeadTrie = func() trie {
	t := newTrie()
	for _, f := range strings.Fields(compoundHeads) {
		t.add(f, 1)
	}
	t.freeze()
	return t
}()
