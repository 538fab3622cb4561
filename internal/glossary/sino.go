package glossary

import "strings"

// sinoSyllables lists the syllables that are readings of Chinese
// characters in Korean (with both forms of the initial-sound rule: 녀/여,
// 리/이), compiled for this project from the standard readings. A syllable
// outside the list (스, 트, 컴, 폰, 레, 케…) cannot be Sino-Korean, so it
// marks a borrowed or native word; the matcher uses this to tell a
// compound's Sino-Korean part (교통카드, 스마트폰업체) from the inside of a
// longer foreign word (블레이저 is not 레이저). Native words use many of
// these syllables too (우리, 아이): the list is a test for "can be
// Sino-Korean", not "is".
const sinoSyllables = `
가 각 간 갈 감 갑 강 개 객 갱 갹 거 건 걸 검 겁 격 견 결 겸 경 계 고 곡 곤 골 공 과 곽 관 괄 광 괘 괴 굉 교 구 국 군 굴 궁 권 궐 궤 귀 규 균 귤 극 근 금 급 긍 기 긴 길 김 끽
나 낙 난 날 남 납 낭 내 냉 녀 녁 년 념 녕 노 녹 논 농 뇌 뇨 누 눈 눌 뉴 뉵 늑 늠 능 니 닉 닐
다 단 달 담 답 당 대 댁 덕 도 독 돈 돌 동 두 둔 득 등
라 락 란 랄 람 랍 랑 래 랭 략 량 려 력 련 렬 렴 렵 령 례 로 록 론 롱 뢰 료 룡 루 류 륙 륜 률 륭 륵 름 릉 리 린 림 립
마 막 만 말 망 매 맥 맹 멱 면 멸 명 몌 모 목 몰 몽 묘 무 묵 문 물 미 민 밀
박 반 발 방 배 백 번 벌 범 법 벽 변 별 병 보 복 본 봉 부 북 분 불 붕 비 빈 빙
사 삭 산 살 삼 삽 상 새 색 생 서 석 선 설 섬 섭 성 세 소 속 손 솔 송 쇄 쇠 수 숙 순 술 숭 슬 습 승 시 식 신 실 심 십 쌍 씨
아 악 안 알 암 압 앙 애 액 앵 야 약 양 어 억 언 얼 엄 업 여 역 연 열 염 엽 영 예 오 옥 온 올 옹 와 완 왈 왕 왜 외 요 욕 용 우 욱 운 울 웅 원 월 위 유 육 윤 율 융 은 을 음 읍 응 의 이 익 인 일 임 입 잉
자 작 잔 잠 잡 장 재 쟁 저 적 전 절 점 접 정 제 조 족 존 졸 종 좌 죄 주 죽 준 줄 중 즉 즐 즙 증 지 직 진 질 짐 집 징
차 착 찬 찰 참 창 채 책 처 척 천 철 첨 첩 청 체 초 촉 촌 총 촬 최 추 축 춘 출 충 췌 취 측 층 치 칙 친 칠 침 칩 칭
쾌 타 탁 탄 탈 탐 탑 탕 태 택 탱 토 통 퇴 투 특
파 판 팔 패 팽 퍅 편 폄 평 폐 포 폭 표 품 풍 피 필 핍
하 학 한 할 함 합 항 해 핵 행 향 허 헌 헐 험 혁 현 혈 혐 협 형 혜 호 혹 혼 홀 홍 화 확 환 활 황 홰 회 획 횡 효 후 훈 훙 훤 훼 휘 휴 휼 흉 흑 흔 흘 흠 흡 흥 희 힐
`

// sinoBits has bit (r-가) set for every syllable r of sinoSyllables.
var sinoBits = func() (b [nHangul/64 + 1]uint64) {
	for _, f := range strings.Fields(sinoSyllables) {
		for _, r := range f {
			i := r - hangulFirst
			b[i>>6] |= 1 << (i & 63)
		}
	}
	return
}()

// isSino reports whether r is a Hangul syllable that can be Sino-Korean.
func isSino(r rune) bool {
	if !isHangul(r) {
		return false
	}
	i := r - hangulFirst
	return sinoBits[i>>6]&(1<<(i&63)) != 0
}
