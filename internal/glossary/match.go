package glossary

import (
	"strings"
	"unicode/utf8"
)

// Match is a glossary word found in a text: text[Start:End] is the
// headword of entry Entry (its particles and endings are not included).
type Match struct {
	Start, End int // byte offsets
	Entry      int // index for Glossary.Entry
}

// maxRun bounds the characters of one eojeol the matcher looks into;
// longer runs of letters without a space are left alone.
const maxRun = 64

// scanner holds one eojeol (a run of Hangul syllables, ASCII letters and
// digits) while it is matched; it lives on the caller's stack.
type scanner struct {
	g    *Glossary
	rs   [maxRun]rune
	off  [maxRun + 1]int    // byte offset of rs[i] in the text
	cls  [maxRun]uint8      // clsLatin, clsSino bits of rs[i]
	hits [maxHits]hit       // run's trie results
	memo [maxRun + 1]uint32 // see ok
	gen  uint32
	n    int
}

// Find appends to dst the glossary words in text, in order, and returns
// the extended slice. A word is found where it starts an eojeol (a
// space-separated word) or a compound part, and the rest of the eojeol is
// particles, endings or further compound parts (docs/glossary.md, "Matching").
// Find allocates only to grow dst.
func (g *Glossary) Find(text []byte, dst []Match) []Match {
	var s scanner
	return s.find(g, text, false, dst)
}

// find scans text; when raw is set the text is undecoded HTML text, whose
// character references (&amp; &#xAC00;) are taken as separators.
func (s *scanner) find(g *Glossary, text []byte, raw bool, dst []Match) []Match {
	s.g = g
	hasHangul := -1 // unknown; Latin headwords (GDP, PC) are glossed only in Korean text
	// prevEnd/prevName: where the eojeol before ended and whether it was a
	// capitalised Latin word (Galaxy); a Latin headword one space away from
	// one is part of a name.
	prevEnd, prevName := -2, false
	n, start := 0, -1
	any := uint8(0) // OR of the classes in the current eojeol
	for i := 0; i <= len(text); {
		var r rune
		size := 1
		if i < len(text) {
			c := text[i]
			switch {
			case c < 0x80:
				r = rune(c)
				if c == '&' && raw {
					// A character reference separates words and is never matched.
					j := i + 1
					for j < len(text) && (text[j] == '#' || isLatin(rune(text[j]))) {
						j++
					}
					if j < len(text) && text[j] == ';' {
						j++
					}
					size = j - i
				}
			case c&0xF0 == 0xE0 && i+2 < len(text) && text[i+1]&0xC0 == 0x80 && text[i+2]&0xC0 == 0x80:
				r, size = rune(c&0x0F)<<12|rune(text[i+1]&0x3F)<<6|rune(text[i+2]&0x3F), 3
			default:
				r, size = utf8.DecodeRune(text[i:])
			}
		} else {
			r = -1
		}
		if isHangul(r) || isLatin(r) {
			if n == 0 {
				start = i
			}
			if n < maxRun {
				s.rs[n], s.off[n] = r, i
				if r < 0x80 {
					s.cls[n] = g.class[nHangul+int(r)]
				} else {
					s.cls[n] = g.class[r-hangulFirst]
				}
				any |= s.cls[n]
			}
			n++
			i += size
			continue
		}
		if n > 0 {
			if n <= maxRun && any&clsRoot != 0 {
				s.n = n
				s.off[n] = i
				before := len(dst)
				dst = s.run(dst)
				if n == 1 && len(dst) > before && spacedOut(text, start, i) {
					// A one-syllable eojeol in a run of three or more
					// (연 락 처): text spaced out letter by letter, not a word.
					dst = dst[:before]
				}
				if len(dst) > before && isLatin(rune(text[start])) {
					if hasHangul < 0 {
						hasHangul = 0
						if containsHangul(text) {
							hasHangul = 1
						}
					}
					nearName := prevName && prevEnd == start-1 && text[prevEnd] == ' ' ||
						i+1 < len(text) && text[i] == ' ' && isTitleWordAt(text, i+1)
					dst = s.dropLatin(text, dst, before, hasHangul == 0, nearName, start, i)
				}
			}
			prevEnd, prevName = i, isTitleWord(text[start:i])
			n, any = 0, 0
		}
		i += size
	}
	return dst
}

// dropLatin removes from dst[before:] the Latin headwords that must not be
// marked: all of them in text without Hangul, and those at either end of
// the eojeol text[start:end] when a capitalised name stands beside it.
func (s *scanner) dropLatin(text []byte, dst []Match, before int, all, nearName bool, start, end int) []Match {
	k := before
	for _, m := range dst[before:] {
		latin := isLatin(rune(text[m.Start]))
		if latin && (all || nearName && (m.Start == start || m.End == end || !isHangul(s.runeAt(text, m.End)))) {
			continue
		}
		dst[k] = m
		k++
	}
	return dst[:k]
}

func (s *scanner) runeAt(text []byte, i int) rune {
	if i >= len(text) {
		return -1
	}
	r, _ := utf8.DecodeRune(text[i:])
	return r
}

// run finds the headwords in s.rs[:s.n].
func (s *scanner) run(dst []Match) []Match {
	n := s.n
	s.gen++
	if s.gen >= 1<<30 {
		s.memo = [maxRun + 1]uint32{}
		s.gen = 1
	}
	if s.cls[0]&clsNotWord != 0 {
		if nh := notWordTrie.prefixes(s.rs[:], 0, n, &s.hits); nh > 0 && s.particles(s.hits[nh-1].end, 0) {
			return dst
		}
	}
	seg := 0        // where the current compound part began
	sinoFrom := 0   // rs[sinoFrom:i] can all be Sino-Korean
	hangulFrom := 0 // rs[hangulFrom:i] are all Hangul
	for i := 0; i < n; {
		cl := s.cls[i]
		latin := cl&clsLatin != 0
		if i > 0 && latin && s.cls[i-1]&clsLatin != 0 {
			i++ // never inside a Latin word
			continue
		}
		if cl&clsRoot != 0 {
			// A headword may start the eojeol or follow a change of script
			// (fresh), follow another headword (chained: 인터넷쇼핑), or
			// follow a prefix (신메뉴) or a Sino-Korean part (교통카드)
			// inside the eojeol (mid); longest says which words each allows.
			mode := modeNone
			switch {
			case i == 0 || latin != (s.cls[i-1]&clsLatin != 0) || i == 1 && s.rs[0] == '몇':
				// 몇 "how many" stands for a number (몇골, 몇홈런).
				mode = modeFresh
			case seg == 0 && s.isNumberWord(i):
				mode = modeNumber // 두캔, 한팀
			case i == seg:
				mode = modeChained
			case cl&clsMid != 0 && (i-seg == 1 && s.isPrefix(seg) || sinoFrom <= seg && i-seg >= 2):
				mode = modeMid
			}
			end, v, ok := 0, int32(0), false
			if mode != modeNone {
				end, v, ok = s.longest(i, n, mode, seg)
			}
			if !ok && cl&clsMid != 0 && i-hangulFrom >= 2 && (i == seg && seg > hangulFrom || i-seg >= 2 && sinoFrom <= seg) {
				// A Sino-looking loanword ending a compound after another
				// headword or two or more syllables that can be Sino-Korean
				// (녹음파일, 금호타이어, 청년유니온, 포켓와이파이).
				end, v, ok = s.longest(i, n, modeLast, seg)
			}
			if ok {
				dst = append(dst, Match{Start: s.off[i], End: s.off[end], Entry: int(v)})
				i, seg, sinoFrom = end, end, end
				continue
			}
		}
		if latin {
			for i < n && s.cls[i]&clsLatin != 0 {
				i++
			}
			seg, sinoFrom, hangulFrom = i, i, i
			continue
		}
		if cl&clsSino == 0 {
			sinoFrom = i + 1
		}
		i++
	}
	return dst
}

// Where a headword starts, as run finds it.
const (
	modeNone    = iota
	modeFresh   // at the eojeol's start, or after digits or Latin letters
	modeChained // right after another headword
	modeMid     // after a prefix or a Sino-Korean part of the eojeol
	modeNumber  // after a native number word at the eojeol's start
	modeLast    // ending the eojeol after two or more other syllables
)

// longest returns the longest headword at rs[i:] that its place (mode)
// and the rest of the eojeol allow.
func (s *scanner) longest(i, n, mode, seg int) (end int, val int32, ok bool) {
	nh := s.g.words.prefixes(s.rs[:], i, n, &s.hits)
	for h := nh - 1; h >= 0; h-- {
		end, val = s.hits[h].end, s.hits[h].val
		e := &s.g.entries[val]
		size := end - i
		if s.cls[end-1]&clsLatin != 0 && end < n && s.cls[end]&clsLatin != 0 {
			continue // never inside a Latin word
		}
		if next, ok := s.g.needNext[val]; ok && (end >= n || !strings.ContainsRune(next, s.rs[end])) {
			continue
		}
		allSino := s.allSino(i, end)
		firstSino := s.cls[i]&clsSino != 0
		switch mode {
		case modeNumber:
			// A one-syllable counter after a number word (두캔, 세컵,
			// 한팀); longer words are more often the rest of another word
			// (세멘트 is no 세 + 멘트, 두바이 no 두 + 바이).
			if size >= 2 {
				continue
			}
		case modeLast:
			// An all Sino-looking loanword ending the eojeol, with
			// particles only after it: three syllables or more or a listed
			// compound head (녹음파일, but 일반소비자 is no 일반소 + 비자),
			// and not ending in a syllable that can be a particle or the
			// copula unless a headword stands before it (출판사이다 is
			// 출판사 + 이다, 구속사유로 사유 + 로, 나라인지 나라 + 인지; but
			// 포켓와이파이로).
			if !e.Kind.loan() || !allSino || size == 1 || size == 2 && !s.isCompoundHead(i) || !s.particles(end, 0) ||
				i != seg && strings.ContainsRune(endsLikeParticle, s.rs[end-1]) {
				continue
			}
		case modeChained:
			// A next part reads unlike Sino-Korean or is a loanword that
			// is not all Sino-looking: 결선투표제로 is not 결선투표 + 제로,
			// 장교여야 not 장교 + 여야, but 주상복합아파트 is + 아파트.
			if size == 1 {
				if !s.isOneSyllableTail(i) {
					continue
				}
			} else if firstSino && (!e.Kind.loan() || allSino) {
				continue
			}
		case modeMid:
			// Inside a compound only loanwords are taken, and only those
			// that hide rarely in other words: three syllables or more
			// not all Sino-looking, listed two-syllable compound heads
			// (교통카드), listed one-syllable ones that cannot be
			// Sino-Korean after a Sino-Korean part (조사팀, but 재팬 is
			// no 재 + 팬): 앙투아네트 is no 네트.
			if !e.Kind.loan() || allSino {
				continue
			}
			if size == 2 && !s.isCompoundHead(i) || size == 1 && (firstSino || !s.isOneSyllableTail(i) || i-seg < 2) {
				continue
			}
		}
		switch {
		case size == 1:
			// A one-syllable word (골, 팀) is too often a piece of another
			// word (골목, 골라): only listed particles may follow, or a
			// loanword of two syllables or more that cannot start a
			// Sino-Korean word (풀컬러, 핫소스).
			if end < n && isHangul(s.rs[end]) && !s.caseParticles(end, 0) && !s.loanChainAt(end) && !s.counterTailAt(i, end) {
				continue
			}
		case size == 2 && allSino:
			// A two-syllable word of Sino-looking syllables (비전, 비자,
			// 재수, 전세) takes no compound part after it: 비전문적 is
			// 非專門的, 비자금 秘資金, 재수사 再搜査, 전세계 全世界.
			if end < n && isHangul(s.rs[end]) && !s.tailAt(end, false) {
				continue
			}
		default:
			if !s.ok(end) {
				continue
			}
		}
		return end, val, true
	}
	return 0, 0, false
}

// endsLikeParticle are the last syllables that make an all Sino-looking
// loanword at the end of a compound more likely a Sino-Korean word and a
// particle or the copula.
const endsLikeParticle = "이가을를은는의에로와과도다며고인라"

// afterParticleAt reports whether one of the afterParticle stems starts
// at rs[k:] after a particle: those of two syllables or more after any, the
// one-syllable ones (있, 된) only of at least min syllables, and even then
// only after a case particle (서버가있는, but 한국일보 is no 한국 + 일 + 보).
func (s *scanner) afterParticleAt(k, min int) bool {
	var hits [maxHits]hit
	nh := afterParticleTrie.prefixes(s.rs[:], k, s.n, &hits)
	for h := nh - 1; h >= 0; h-- {
		size := hits[h].end - k
		if size >= 2 || size >= min && strings.ContainsRune("을를이가에의은는도", s.rs[k-1]) {
			return true
		}
	}
	return false
}

// isNumberWord reports whether rs[:i] is a native number word.
func (s *scanner) isNumberWord(i int) bool {
	var hits [maxHits]hit
	nh := numberWordTrie.prefixes(s.rs[:], 0, i, &hits)
	return nh > 0 && hits[nh-1].end == i
}

// counterTailAt reports whether the one-syllable headword rs[i:end] is a
// counter after digits or a number word (500톤급, 두캔당) followed by 급,
// 당 or 짜리 and the particles a one-syllable word may take.
func (s *scanner) counterTailAt(i, end int) bool {
	if i == 0 || !isDigit(s.rs[i-1]) && !s.isNumberWord(i) {
		return false
	}
	switch {
	case s.rs[end] == '급' || s.rs[end] == '당':
		return s.caseParticles(end+1, 0)
	case s.rs[end] == '짜' && end+1 < s.n && s.rs[end+1] == '리':
		return s.caseParticles(end+2, 0)
	}
	return false
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// loanChainAt reports whether a loanword of two syllables or more that
// starts with a syllable that cannot be Sino-Korean begins at rs[k:] and
// the eojeol may end after it.
func (s *scanner) loanChainAt(k int) bool {
	if s.cls[k]&clsSino != 0 {
		return false
	}
	var hits [maxHits]hit
	nh := s.g.words.prefixes(s.rs[:], k, s.n, &hits)
	for h := nh - 1; h >= 0; h-- {
		end := hits[h].end
		if end-k >= 2 && s.g.entries[hits[h].val].Kind.loan() && s.ok(end) {
			return true
		}
	}
	return false
}

// isOneSyllableTail reports whether rs[i] is a one-syllable loanword that
// may end a compound (데뷔골, 조사팀, 클린톤).
func (s *scanner) isOneSyllableTail(i int) bool {
	return strings.ContainsRune(oneSyllableTails, s.rs[i])
}

// Classes of a rune, precomputed per glossary (Glossary.class).
const (
	clsLatin   uint8 = 1 << iota // ASCII letter or digit
	clsSino                      // a syllable that can be Sino-Korean
	clsRoot                      // a headword starts with it
	clsMid                       // a loanword headword starts with it
	clsNotWord                   // a notWords stem starts with it
)

// classes computes the class of every root rune for glossary g.
func classes(g *Glossary) []uint8 {
	c := make([]uint8, nHangul+128)
	for i := range c {
		var r rune
		if i < nHangul {
			r = rune(hangulFirst + i)
		} else {
			r = rune(i - nHangul)
		}
		if isLatin(r) {
			c[i] |= clsLatin
		}
		if isSino(r) {
			c[i] |= clsSino
		}
		if g.words.root[i] != 0 {
			c[i] |= clsRoot
		}
		if g.midStart[i] {
			c[i] |= clsMid
		}
		if notWordTrie.root[i] != 0 {
			c[i] |= clsNotWord
		}
	}
	return c
}

// isPrefix reports whether rs[seg] is a compound prefix.
func (s *scanner) isPrefix(seg int) bool {
	c := prefixes.child(-1, s.rs[seg])
	return c >= 0 && prefixes.nodes[c].val >= 0
}

// ok reports whether the eojeol may end as rs[k:] does after a headword:
// nothing, particles and endings, a verb-forming stem, or further
// compound parts (a headword, a listed noun tail, or a Sino-Korean run of
// two or more syllables), each followed by what may end the eojeol.
func (s *scanner) ok(k int) bool {
	if k >= s.n || !isHangul(s.rs[k]) {
		return true
	}
	// memo[k] is 2·gen when rs[k:] was found good in this run, 2·gen+1 when bad.
	switch s.memo[k] {
	case 2 * s.gen:
		return true
	case 2*s.gen + 1:
		return false
	}
	s.memo[k] = 2*s.gen + 1 // every step advances, so no cycle; but be safe
	res := s.tailAt(k, true) || s.chainAt(k) || s.sinoRunAt(k)
	if res {
		s.memo[k] = 2 * s.gen
	}
	return res
}

// tailAt reports whether rs[k:] is particles and endings, a verb-forming
// stem with anything after it, or (when nouns is set) a noun tail followed
// by what ok accepts.
func (s *scanner) tailAt(k int, nouns bool) bool {
	var hits [maxHits]hit
	nh := tails.prefixes(s.rs[:], k, s.n, &hits)
	for h := nh - 1; h >= 0; h-- {
		c, e := hits[h].val, hits[h].end
		if c&unitVerbal != 0 {
			return true
		}
		if c&(unitParticle|unitCopula) != 0 && s.particles(e, 1) {
			return true
		}
		if nouns && c&unitNoun != 0 && s.ok(e) {
			return true
		}
	}
	return false
}

// particles reports whether rs[k:] is at most maxUnits-used particle or
// copula units.
func (s *scanner) particles(k, used int) bool {
	if k >= s.n || !isHangul(s.rs[k]) {
		return true
	}
	if used >= maxUnits {
		return false
	}
	var hits [maxHits]hit
	if used > 0 && s.afterParticleAt(k, 1) {
		return true // a space left out: 호텔에대한, 서버가있는
	}
	nh := tails.prefixes(s.rs[:], k, s.n, &hits)
	for h := nh - 1; h >= 0; h-- {
		if hits[h].val&(unitParticle|unitCopula) != 0 && s.particles(hits[h].end, used+1) {
			return true
		}
	}
	return false
}

// caseParticles reports whether rs[k:] is at most two of the particles
// in afterOneSyllable (and the plural 들), which are no common verb
// endings (골라, 몰라도 are verbs, not 골 and 몰 with particles).
func (s *scanner) caseParticles(k, used int) bool {
	if k >= s.n || !isHangul(s.rs[k]) {
		return true
	}
	var hits [maxHits]hit
	if used > 0 && strings.ContainsRune("을를에", s.rs[k-1]) && s.afterParticleAt(k, 2) {
		return true // a space left out: 뷰를가진, 룸에대한
	}
	if used >= 2 {
		return false
	}
	nh := afterOneSyllable.prefixes(s.rs[:], k, s.n, &hits)
	for h := nh - 1; h >= 0; h-- {
		e := hits[h].end
		n := used + 1
		if e == k+1 && s.rs[k] == '들' {
			n = used // the plural does not count: 팬들과의
		}
		if s.caseParticles(e, n) {
			return true
		}
	}
	return false
}

// safeOneSyllable are one-syllable particles that cannot also be the
// second syllable of a Sino-Korean word part in sinoRunAt.
const safeOneSyllable = "을를이가은는의에로와과도만들"

// afterOneSyllable are the particles a one-syllable headword may take.
var afterOneSyllable = func() trie {
	t := newTrie()
	for _, f := range strings.Fields(`을 를 이 가 은 는 의 에 로 와 과 도 만 들 에서 에게 으로 까지 부터 처럼 보다 마다 조차 이나 에는 에도 으로는 에서는 에서도 내 간 별 내에서 한 해 하게`) {
		t.add(f, 1)
	}
	t.freeze()
	return t
}()

func (s *scanner) chainAt(k int) bool {
	var hits [maxHits]hit
	nh := s.g.words.prefixes(s.rs[:], k, s.n, &hits)
	for h := nh - 1; h >= 0; h-- {
		end := hits[h].end
		if end-k == 1 {
			if !s.isOneSyllableTail(k) {
				continue // as in longest
			}
		} else if s.cls[k]&clsSino != 0 && (!s.g.entries[hits[h].val].Kind.loan() || s.allSino(k, end)) {
			continue
		}
		if isLatin(s.rs[end-1]) && end < s.n && isLatin(s.rs[end]) {
			continue
		}
		if s.ok(end) {
			return true
		}
	}
	return false
}

func (s *scanner) sinoRunAt(k int) bool {
	for j := k; j < s.n && s.cls[j]&clsSino != 0; j++ {
		e := j + 1
		if e-k < 2 || e-k == 2 && e == s.n && strings.ContainsRune(safeOneSyllable, s.rs[j]) {
			// Two syllables ending the eojeol in a particle (완은, 라이) are
			// one syllable and a particle, too little for a compound part.
			continue
		}
		if s.ok(e) {
			return true
		}
	}
	return false
}

// allSino reports whether rs[i:end] are all syllables that can be Sino-Korean.
func (s *scanner) allSino(i, end int) bool {
	for k := i; k < end; k++ {
		if s.cls[k]&clsSino == 0 {
			return false
		}
	}
	return true
}

// isCompoundHead reports whether the two syllables at rs[i:] are a listed
// compound head.
func (s *scanner) isCompoundHead(i int) bool {
	c := compoundHeadTrie.child(-1, s.rs[i])
	if c < 0 {
		return false
	}
	c = compoundHeadTrie.child(c, s.rs[i+1])
	return c >= 0 && compoundHeadTrie.nodes[c].val >= 0
}

// spacedOut reports whether the one-syllable eojeol text[start:end] is part
// of a run of one-syllable eojeols one space apart with at least three
// members that are not spacedFunction words (연 락 처, but not 한 팀 당):
// text spaced out letter by letter.
func spacedOut(text []byte, start, end int) bool {
	count := 0
	if r, _ := utf8.DecodeRune(text[start:end]); !strings.ContainsRune(spacedFunction, r) {
		count++
	}
	for i := start; ; {
		j, r := prevSingle(text, i)
		if j < 0 {
			break
		}
		if !strings.ContainsRune(spacedFunction, r) {
			count++
		}
		i = j
	}
	for i := end; ; {
		j, r := nextSingle(text, i)
		if j < 0 {
			break
		}
		if !strings.ContainsRune(spacedFunction, r) {
			count++
		}
		i = j
	}
	return count >= 3
}

// nextSingle returns the end of the eojeol after text[i:] and its syllable
// when text[i:] is one space and an eojeol of one Hangul syllable, else -1.
func nextSingle(text []byte, i int) (int, rune) {
	if i+4 > len(text) || text[i] != ' ' {
		return -1, 0
	}
	r, size := utf8.DecodeRune(text[i+1:])
	if !isHangul(r) {
		return -1, 0
	}
	j := i + 1 + size
	if j == len(text) {
		return j, r
	}
	if q, _ := utf8.DecodeRune(text[j:]); isHangul(q) || isLatin(q) {
		return -1, 0
	}
	return j, r
}

// prevSingle returns the start of the eojeol before text[:i] and its
// syllable when it is an eojeol of one Hangul syllable and one space, else -1.
func prevSingle(text []byte, i int) (int, rune) {
	if i < 4 || text[i-1] != ' ' {
		return -1, 0
	}
	r, size := utf8.DecodeLastRune(text[:i-1])
	if !isHangul(r) {
		return -1, 0
	}
	j := i - 1 - size
	if q, _ := utf8.DecodeLastRune(text[:j]); j > 0 && (isHangul(q) || isLatin(q)) {
		return -1, 0
	}
	return j, r
}

// isTitleWord reports whether w is a Latin word with a capital first
// letter and a lower-case letter after it (Galaxy, Microsoft): a name.
// All-capital words (LG, KBS) are not counted, they are often headwords.
func isTitleWord(w []byte) bool {
	if len(w) < 2 || w[0] < 'A' || w[0] > 'Z' {
		return false
	}
	for _, c := range w[1:] {
		if c >= 'a' && c <= 'z' {
			return true
		}
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return false
}

func isTitleWordAt(text []byte, i int) bool {
	j := i
	for j < len(text) && text[j] < 128 && isLatin(rune(text[j])) {
		j++
	}
	return isTitleWord(text[i:j])
}

func containsHangul(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if isHangul(r) {
			return true
		}
		i += size
	}
	return false
}
